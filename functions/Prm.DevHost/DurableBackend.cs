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

    public async ValueTask DisposeAsync()
    {
        // Best effort at shutdown: one part failing to stop must not keep the others (or Azurite) running.
        // Stopping the sidecar host stops the provider too (its ApplicationStopping handler); stopping it twice would throw.
        await StopQuietlyAsync(() => Channel.ShutdownAsync());
        Channel.Dispose();
        await StopQuietlyAsync(() => sidecar.StopAsync(TimeSpan.FromSeconds(10)));
        sidecar.Dispose();
        ownedLogs?.Dispose();
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
