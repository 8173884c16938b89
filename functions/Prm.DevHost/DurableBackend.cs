using DurableTask.AzureStorage;
using DurableTask.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask.Testing.Sidecar;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;

namespace Prm.DevHost;

/// <summary>
/// The Durable Task backend of the local host: a gRPC task-hub sidecar (the one the Durable test host uses) over the Azure Storage
/// provider on Azurite, so orchestrations waiting on timers or events survive a restart of the host; or in memory for quick loops.
/// The app's Durable worker and client connect to it over gRPC, as the Functions worker connects to the Functions host.
/// </summary>
public sealed class DurableBackend : IAsyncDisposable
{
    private readonly IHost sidecar;
    private readonly IOrchestrationService service;
    private ILoggerFactory? ownedLogs;

    private DurableBackend(IHost sidecar, IOrchestrationService service, string address, string kind)
    {
        this.sidecar = sidecar;
        this.service = service;
        Address = address;
        Kind = kind;
        Channel = GrpcChannel.ForAddress(address);
    }

    public string Address { get; }

    /// <summary>"AzureStorage (task hub X)" or "InMemory".</summary>
    public string Kind { get; }

    public GrpcChannel Channel { get; }

    /// <summary>Starts the backend: Azure Storage on the given connection string, or in memory when it is null. Takes ownership of the logger factory.</summary>
    public static async Task<DurableBackend> StartAsync(string? storageConnectionString, string taskHub, ILoggerFactory loggerFactory, CancellationToken ct)
    {
        IOrchestrationService service;
        string kind;
        if (storageConnectionString is null)
        {
            service = new InMemoryOrchestrationService(loggerFactory);
            kind = "InMemory";
        }
        else
        {
            var azureStorage = new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
            {
                TaskHubName = taskHub,
                StorageAccountClientProvider = new StorageAccountClientProvider(storageConnectionString),
                MaxQueuePollingInterval = TimeSpan.FromSeconds(1),
                PartitionCount = 1,
                // A host that was killed (or stopped) leaves its dequeued messages invisible and its partition lease held: the next
                // host takes them over after these, not after the defaults' 5 minutes. One app runs locally: no app lease to wait out.
                ControlQueueVisibilityTimeout = TimeSpan.FromSeconds(30),
                WorkItemQueueVisibilityTimeout = TimeSpan.FromSeconds(30),
                LeaseInterval = TimeSpan.FromSeconds(15),
                LeaseRenewInterval = TimeSpan.FromSeconds(5),
                LeaseAcquireInterval = TimeSpan.FromSeconds(5),
                UseAppLease = false,
                // A loaded laptop (or CI machine) takes longer than the 2 s default to read and write the partition table: that is
                // not a failure worth a warning.
                PartitionTableOperationTimeout = TimeSpan.FromSeconds(15),
                LoggerFactory = loggerFactory,
            });
            await azureStorage.CreateIfNotExistsAsync();
            service = azureStorage;
            kind = $"AzureStorage (task hub {taskHub})";
        }
        // Port 0: the operating system picks a free port at bind time. A port picked free beforehand can be taken by another process
        // before the sidecar binds it (seen with two test suites side by side), and the host then fails to start.
        var sidecar = Host.CreateDefaultBuilder()
            .ConfigureLogging(logging => logging.ClearProviders().Services.AddSingleton(loggerFactory))
            .ConfigureWebHostDefaults(web =>
            {
                web.UseUrls("http://127.0.0.1:0");
                web.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2));
                web.ConfigureServices(services =>
                {
                    // Stopped by its owner only (DisposeAsync, after the app's worker): not by Ctrl+C or SIGTERM beside the app.
                    services.AddSingleton<IHostLifetime, OwnerStoppedLifetime>();
                    services.AddGrpc();
                    services.AddSingleton(service);
                    services.AddSingleton((IOrchestrationServiceClient)service);
                    services.AddSingleton<TaskHubGrpcServer>();
                });
                web.Configure(app =>
                {
                    app.UseRouting();
                    app.UseEndpoints(endpoints => endpoints.MapGrpcService<TaskHubGrpcServer>());
                });
            })
            .Build();
        await sidecar.StartAsync(ct);
        // The gRPC server starts the provider from an async-void ApplicationStarted handler, which runs when the server is built (the
        // host has started): built here, under a context that catches and logs, so a provider that fails to start (the emulator gone)
        // does not end the process.
        var logs = loggerFactory;
        HandlerContext.Run(new HandlerContext(ex => LogFailure(logs, ex, "The Durable provider did not start")), () => sidecar.Services.GetRequiredService<TaskHubGrpcServer>());
        var address = sidecar.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        if (address is null)
        {
            await sidecar.StopAsync(CancellationToken.None);
            sidecar.Dispose();
            throw new InvalidOperationException("The Durable sidecar started without reporting the address it listens on.");
        }
        return new DurableBackend(sidecar, service, address, kind) { ownedLogs = loggerFactory };
    }

    /// <summary>
    /// The sidecar starts the provider when the worker first connects and stops it from an async-void ApplicationStopping handler;
    /// the Azure Storage provider's StopAsync throws (and so crashes the process) when it runs before StartAsync has finished.
    /// The local host therefore waits here, after its worker started, until the provider reports itself started (its private
    /// flag, read by reflection: the provider is sealed and offers no public state; the package version is pinned).
    /// </summary>
    public async Task WaitUntilStartedAsync(TimeSpan timeout, CancellationToken ct)
    {
        var started = service.GetType().GetField("isStarted", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance);
        if (started is null || started.FieldType != typeof(bool)) return;
        var deadline = DateTime.UtcNow + timeout;
        while (!(bool)started.GetValue(service)! && DateTime.UtcNow < deadline) await Task.Delay(50, ct);
    }

    /// <summary>How long disposal waits for the provider to stop (release its partition lease) before it goes on regardless.</summary>
    public static readonly TimeSpan ProviderStopWait = TimeSpan.FromSeconds(30);

    public async ValueTask DisposeAsync()
    {
        // Best effort at shutdown: one part failing to stop must not keep the others (or Azurite) running.
        // Stopping the sidecar host stops the provider too (its ApplicationStopping handler); stopping it twice would throw.
        await StopQuietlyAsync(() => Channel.ShutdownAsync());
        Channel.Dispose();
        // The sidecar stops the provider from an async-void ApplicationStopping handler. The Azure Storage provider waits up to 10 minutes
        // to release its partition lease and then throws a TimeoutException, which an async-void method rethrows on the thread pool: the
        // process ends (a test run was aborted that way when a host's own Azurite had stopped before the lease was released). The
        // handlers therefore run under a context that catches and logs their failures, and disposal waits for them (bounded), so the
        // storage they need is still there while they finish (measured: 1-4 s).
        var logs = ownedLogs;
        var stopping = new HandlerContext(ex => LogFailure(logs, ex, "The Durable provider did not stop cleanly"));
        HandlerContext.Run(stopping, () => sidecar.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication());
        if (!await stopping.WaitIdleAsync(ProviderStopWait))
        {
            LogFailure(logs, new TimeoutException($"The Durable provider had not stopped {ProviderStopWait.TotalSeconds:0} s after the host asked it to; the host goes on stopping."),
                "The Durable provider did not stop in time");
        }
        await StopQuietlyAsync(() => sidecar.StopAsync(TimeSpan.FromSeconds(10)));
        sidecar.Dispose();
        ownedLogs = null;
        logs?.Dispose();
    }

    /// <summary>Logs a failure of the sidecar's handlers; once the host's logging is gone (a failure after disposal), to standard error.</summary>
    private static void LogFailure(ILoggerFactory? logs, Exception failure, string what)
    {
        try
        {
            if (logs is not null)
            {
                logs.CreateLogger("Prm.DevHost.Durable").LogWarning(failure, "{What}", what);
                return;
            }
        }
        catch (ObjectDisposedException)
        {
        }
        Console.Error.WriteLine($"{what}: {failure.GetType().Name}: {failure.Message}");
    }

    /// <summary>The sidecar's host lifetime: no console signal handling (the local host's app has it and disposes the sidecar after its worker).</summary>
    private sealed class OwnerStoppedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>
    /// A synchronization context for stop handlers written as async-void methods: their continuations run on the thread pool under it,
    /// a failure is handed to <c>failed</c> instead of being rethrown on the thread pool (which ends the process), and
    /// <see cref="WaitIdleAsync"/> tells when every such method started under it has finished (OperationStarted/OperationCompleted,
    /// which the async-void builder calls on the context it captured).
    /// </summary>
    internal sealed class HandlerContext(Action<Exception> onFailure) : SynchronizationContext
    {
        private readonly Action<Exception> failed = onFailure;
        private int running;
        private readonly TaskCompletionSource idle = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Runs <paramref name="action"/> on this thread with <paramref name="context"/> current (what it starts captures it).</summary>
        public static void Run(HandlerContext context, Action action)
        {
            var previous = Current;
            SetSynchronizationContext(context);
            context.OperationStarted(); // the action counts as running: what it posts before a handler starts cannot make the context idle
            try
            {
                action();
            }
            catch (Exception ex)
            {
                context.failed(ex);
            }
            finally
            {
                SetSynchronizationContext(previous);
                context.OperationCompleted();
            }
        }

        /// <summary>True when every async-void method started under this context finished within <paramref name="timeout"/>.</summary>
        public async Task<bool> WaitIdleAsync(TimeSpan timeout)
        {
            if (Volatile.Read(ref running) == 0) return true;
            try
            {
                await idle.Task.WaitAsync(timeout);
                return true;
            }
            catch (TimeoutException)
            {
                return Volatile.Read(ref running) == 0;
            }
        }

        public override void OperationStarted() => Interlocked.Increment(ref running);

        public override void OperationCompleted()
        {
            if (Interlocked.Decrement(ref running) == 0) idle.TrySetResult();
        }

        public override void Post(SendOrPostCallback d, object? state)
        {
            // A posted callback counts as running until it has run: a failure posted by a finishing method is reported before idle.
            OperationStarted();
            ThreadPool.UnsafeQueueUserWorkItem(_ =>
            {
                try
                {
                    Execute(d, state);
                }
                finally
                {
                    OperationCompleted();
                }
            }, null);
        }

        public override void Send(SendOrPostCallback d, object? state) => Execute(d, state);

        public override SynchronizationContext CreateCopy() => this;

        private void Execute(SendOrPostCallback d, object? state)
        {
            var previous = Current;
            SetSynchronizationContext(this);
            try
            {
                d(state);
            }
            catch (Exception ex)
            {
                try { failed(ex); } catch (Exception) { /* a failing logger must not end the process either */ }
            }
            finally
            {
                SetSynchronizationContext(previous);
            }
        }
    }

    private static async Task StopQuietlyAsync(Func<Task> stop)
    {
        try
        {
            await stop();
        }
        catch (Exception ex) when (ex is OperationCanceledException or NullReferenceException or InvalidOperationException or ObjectDisposedException or AggregateException)
        {
            // The provider may not have started (no worker connected yet) or is already stopping.
        }
    }
}
