using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Prm.Core.Identity;
using Prm.Functions;
using Prm.Functions.Http;
using Prm.Storage;
using Prm.Workflows;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Worker;

namespace Prm.DevHost;

/// <summary>Settings of the local host (section "LocalHost").</summary>
public sealed class LocalHostOptions
{
    public const string SectionName = "LocalHost";

    public string Url { get; set; } = "http://localhost:7071";
    public int AzuriteBlobPort { get; set; } = 10000;
    public int AzuriteQueuePort { get; set; } = 10001;
    public int AzuriteTablePort { get; set; } = 10002;

    /// <summary>Where Azurite keeps its data, relative to the repository root; empty keeps it in memory.</summary>
    public string? AzuriteLocation { get; set; } = ".azurite";

    /// <summary>Seed the demo program at start (idempotent).</summary>
    public bool Seed { get; set; } = true;

    /// <summary>Durable backend: AzureStorage (on Azurite, survives restarts) or InMemory (quick loops).</summary>
    public string DurableBackend { get; set; } = "AzureStorage";

    /// <summary>Task hub of the Azure Storage backend.</summary>
    public string TaskHub { get; set; } = "PrmLocalHub";
}

/// <summary>
/// The one-command local host: Azurite, every HTTP function of the Functions app on http://localhost:7071/api through the same
/// request gate, its queue and timer functions (outbox delivery and sweep) on Azurite's queues, the outbox dispatcher, development sign-in and mail outbox, and the demo seed.
/// </summary>
public sealed class LocalHost : IAsyncDisposable
{
    public const string StorageCallsHeader = "x-prm-storage-calls";

    /// <summary>The longest chain of the request's round trips that waited for each other (calls made side by side count once).</summary>
    public const string StorageCriticalPathHeader = "x-prm-storage-critical-path";

    /// <summary>Sent with any value, the response lists the request's round trips with their timing (a development aid).</summary>
    public const string StorageTraceHeader = "x-prm-storage-trace";

    private LocalHost(WebApplication app, Azurite? azurite, DurableBackend durable, string baseUrl)
    {
        App = app;
        Azurite = azurite;
        Durable = durable;
        configuredUrl = baseUrl;
    }

    private readonly string configuredUrl;
    private string? boundUrl;

    public WebApplication App { get; }

    /// <summary>The emulator this host started or reused (null when storage was configured explicitly).</summary>
    public Azurite? Azurite { get; }

    /// <summary>Base URL of the API, e.g. http://localhost:7071/api (the bound port when the configured one is 0).</summary>
    public string BaseUrl => boundUrl ?? configuredUrl;

    public IServiceProvider Services => App.Services;

    /// <summary>The Durable Task backend the app's worker and client use.</summary>
    public DurableBackend Durable { get; }

    /// <summary>
    /// The worker's stream to the sidecar of this process is never recycled for silence. The worker (Microsoft.DurableTask.Worker.Grpc
    /// 1.28) treats a work-item stream with no message for 120 s as silently disconnected and reconnects; the backend is expected to send
    /// health pings, but the in-process sidecar (Microsoft.DurableTask.InProcessTestHost) sends none, so every idle spell of two minutes
    /// recycled the stream. A work item the sidecar writes while the stream is recycled is lost, and the sidecar waits for its answer
    /// without a timeout (its own TODO in <c>TaskHubGrpcServer.ExecuteOrchestrator</c>): that orchestration instance stays locked and
    /// takes no event again. The channel is a loopback one inside this process, so there is no silent disconnect to detect.
    /// </summary>
    internal static void WithoutSilentDisconnect(Microsoft.DurableTask.Worker.Grpc.GrpcDurableTaskWorkerOptions grpc) =>
        Microsoft.DurableTask.Worker.Grpc.Internal.InternalOptionsExtensions.SetSilentDisconnectTimeout(grpc, TimeSpan.Zero);

    /// <summary>Builds and starts the host. <paramref name="configure"/> lets tests override configuration before services are built.</summary>
    public static async Task<LocalHost> StartAsync(string[] args, Action<WebApplicationBuilder>? configure = null, Action<string>? log = null, string? environment = null, CancellationToken ct = default)
    {
        log ??= Console.WriteLine;
        var phases = System.Diagnostics.Stopwatch.StartNew();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            EnvironmentName = environment ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") ?? Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? Environments.Development,
            ContentRootPath = AppContext.BaseDirectory,
        });
        configure?.Invoke(builder);
        var options = builder.Configuration.GetSection(LocalHostOptions.SectionName).Get<LocalHostOptions>() ?? new LocalHostOptions();

        Azurite? azurite = null;
        if (string.IsNullOrWhiteSpace(builder.Configuration["Storage:ConnectionString"]) && string.IsNullOrWhiteSpace(builder.Configuration["Storage:TableServiceUri"]))
        {
            var location = string.IsNullOrWhiteSpace(options.AzuriteLocation) ? null : Path.Combine(Azurite.RepositoryRoot(), options.AzuriteLocation);
            azurite = await Azurite.StartAsync(options.AzuriteBlobPort, options.AzuriteQueuePort, options.AzuriteTablePort, location, log, ct);
            builder.Configuration["Storage:ConnectionString"] = azurite.ConnectionString;
        }
        var azuriteReady = phases.Elapsed;

        // What local.settings.json spells out for the Functions host: the outbox queue (one per table prefix, so hosts sharing an
        // Azurite never take each other's messages) and the sweep schedule, read by the trigger functions' %Outbox:...% expressions.
        var outboxDefaults = new Prm.Storage.Outbox.OutboxOptions();
        if (string.IsNullOrWhiteSpace(builder.Configuration["Outbox:QueueName"]))
        {
            var prefix = (builder.Configuration["Storage:TablePrefix"] ?? "prm").ToLowerInvariant();
            builder.Configuration["Outbox:QueueName"] = prefix == "prm" ? outboxDefaults.QueueName : prefix + "-outbox";
        }
        if (string.IsNullOrWhiteSpace(builder.Configuration["Outbox:SweepSchedule"])) builder.Configuration["Outbox:SweepSchedule"] = outboxDefaults.SweepSchedule;
        if (string.IsNullOrWhiteSpace(builder.Configuration["Webhooks:SweepSchedule"])) builder.Configuration["Webhooks:SweepSchedule"] = new Prm.Core.Integration.WebhookOptions().SweepSchedule;

        // Emailed links point where this host listens, unless Prm:ApiBaseUrl is set explicitly (e.g. behind a tunnel).
        if (string.IsNullOrWhiteSpace(builder.Configuration["Prm:ApiBaseUrl"]) && Uri.TryCreate(options.Url, UriKind.Absolute, out var listen) && listen.Port != 0)
        {
            builder.Configuration["Prm:ApiBaseUrl"] = options.Url.Replace("127.0.0.1", "localhost", StringComparison.Ordinal).TrimEnd('/') + "/api";
        }
        // Links to the portal open the reference portal this host serves (/portal), unless Prm:PortalBaseUrl is set explicitly.
        if (string.IsNullOrWhiteSpace(builder.Configuration["Prm:PortalBaseUrl"]) && Uri.TryCreate(options.Url, UriKind.Absolute, out var portal) && portal.Port != 0)
        {
            builder.Configuration["Prm:PortalBaseUrl"] = options.Url.Replace("127.0.0.1", "localhost", StringComparison.Ordinal).TrimEnd('/') + PortalEndpoints.BasePath;
        }

        await AllowBrowserUploadsAsync(builder.Configuration["Storage:ConnectionString"], log, ct);

        builder.WebHost.UseUrls(options.Url);
        builder.Services.AddPrmApplication(builder.Configuration);
        // OpenTelemetry as in Azure; exported to OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, to the console with Telemetry:Exporter=console (off by default: appsettings.json).
        Prm.Functions.Telemetry.TelemetryRegistration.AddPrmTelemetry(builder.Services, builder.Configuration, functionsHost: false);

        var durableLogs = LoggerFactory.Create(logging => logging.AddConsole().SetMinimumLevel(LogLevel.Warning));
        var durable = await DurableBackend.StartAsync(
            string.Equals(options.DurableBackend, "InMemory", StringComparison.OrdinalIgnoreCase) ? null : builder.Configuration["Storage:ConnectionString"],
            options.TaskHub, durableLogs, ct);
        var durableReady = phases.Elapsed;
        builder.Services.AddDurableTaskWorker(worker =>
        {
            worker.UseGrpc(grpc =>
            {
                grpc.Channel = durable.Channel;
                WithoutSilentDisconnect(grpc);
            });
            worker.AddTasks(WorkflowRegistry.Register);
        });
        builder.Services.AddDurableTaskClient(client =>
        {
            client.UseGrpc(durable.Channel);
            client.RegisterDirectly();
        });
        // The queue and timer functions of the app (the outbox delivery and sweep), each call with this host's Durable client bound to
        // its [DurableClient] parameter — nothing hands a client to the dispatcher at start. Registered after the Durable worker, so it
        // stops before it.
        builder.Services.TryAddSingleton(QueueTriggerSettings.FromHostJson()); // a test may register its own first
        builder.Services.AddSingleton<TriggerFunctions>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TriggerFunctions>());
        var development = builder.Environment.IsDevelopment();
        if (development)
        {
            var azureAd = builder.Configuration.GetSection(AppRegistration.AzureAdSection);
            builder.Services.AddSingleton(new DevTokens(azureAd["TenantId"] ?? "11111111-1111-1111-1111-111111111111", azureAd["Audience"] ?? "api://prm-functions"));
            builder.Services.AddSingleton<IPostConfigureOptions<JwtBearerOptions>, DevTokensJwtSetup>();
            builder.Services.AddSingleton<DemoSeed>();
            // Seeds before the server listens (hosted services start in order, the server last): healthy means seeded.
            if (options.Seed) builder.Services.AddHostedService<DemoSeedRunner>();
        }

        var app = builder.Build();
        app.Services.GetRequiredService<TriggerFunctions>().Validate();
        app.Use(async (context, next) =>
        {
            var calls = StorageCalls.BeginScope();
            context.Response.OnStarting(() =>
            {
                context.Response.Headers[StorageCallsHeader] = calls.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
                context.Response.Headers[StorageCriticalPathHeader] = calls.CriticalPath.ToString(System.Globalization.CultureInfo.InvariantCulture);
                // Asked for (benchmark --explain): every round trip with its timing, to see which ones waited for which.
                if (context.Request.Headers.ContainsKey(StorageTraceHeader)) context.Response.Headers[StorageTraceHeader] = string.Join(" | ", calls.Describe().Take(60));
                return Task.CompletedTask;
            });
            await next(context);
        });
        app.MapFunctions();
        if (development) app.MapDevEndpoints();
        app.MapPortal();
        app.MapApiFallback();

        var host = new LocalHost(app, azurite, durable, options.Url.TrimEnd('/') + "/api");
        try
        {
            await app.StartAsync(ct);
            await durable.WaitUntilStartedAsync(TimeSpan.FromSeconds(30), ct);
            var address = app.Urls.FirstOrDefault();
            if (address is not null) host.boundUrl = address.Replace("127.0.0.1", "localhost", StringComparison.Ordinal).TrimEnd('/') + "/api";
            if (azurite is { Started: true }) _ = WatchAzuriteAsync(azurite, app, log);
            // Where start-up time goes (docs/benchmarks.md, "Start-up"): the process until this method, Azurite, the Durable backend, and
            // the rest (the app's services, the demo seed, which runs before the server listens, and the worker's connection).
            var sinceProcessStart = DateTime.Now - System.Diagnostics.Process.GetCurrentProcess().StartTime;
            log(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"Ready {sinceProcessStart.TotalSeconds:0.0} s after the process started: runtime {(sinceProcessStart - phases.Elapsed).TotalSeconds:0.0} s, Azurite {azuriteReady.TotalSeconds:0.0} s, Durable backend {(durableReady - azuriteReady).TotalSeconds:0.0} s, services, seed and listening {(phases.Elapsed - durableReady).TotalSeconds:0.0} s."));
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
        return host;
    }

    /// <summary>
    /// The portal uploads proofs to write-only SAS URLs and fetches downloads from read-only ones, straight from the browser: on the
    /// emulator, the blob service answers cross-origin requests (in Azure, infra-bicep/modules/storage.bicep allows the portal's origin).
    /// </summary>
    private static async Task AllowBrowserUploadsAsync(string? connectionString, Action<string> log, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(connectionString) || !connectionString.Contains("devstoreaccount1", StringComparison.Ordinal)) return;
        try
        {
            var blobs = new Azure.Storage.Blobs.BlobServiceClient(connectionString);
            var properties = (await blobs.GetPropertiesAsync(ct)).Value;
            properties.Cors = [new Azure.Storage.Blobs.Models.BlobCorsRule
            {
                AllowedOrigins = "*", AllowedMethods = "GET,HEAD,PUT,OPTIONS", AllowedHeaders = "*", ExposedHeaders = "*", MaxAgeInSeconds = 3600,
            }];
            await blobs.SetPropertiesAsync(properties, ct);
        }
        catch (Azure.RequestFailedException ex)
        {
            log($"The emulator's blob CORS could not be set ({ex.Status}): uploads from the portal in a browser will fail.");
        }
    }

    /// <summary>When the Azurite this host started dies, the host says so and stops, rather than logging connection errors forever.</summary>
    private static async Task WatchAzuriteAsync(Azurite azurite, WebApplication app, Action<string> log)
    {
        var stopping = app.Lifetime.ApplicationStopping;
        while (!stopping.IsCancellationRequested)
        {
            try { await Task.Delay(TimeSpan.FromSeconds(1), stopping); } catch (OperationCanceledException) { return; }
            if (!azurite.HasDied) continue;
            log($"Azurite (the storage emulator this host started) exited; the host stops. Start it again with the same command.");
            app.Lifetime.StopApplication();
            return;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            try
            {
                await App.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (Exception ex) when (ex is TimeoutException or OperationCanceledException or ObjectDisposedException)
            {
            }
            try
            {
                await App.DisposeAsync();
            }
            finally
            {
                // The worker stopped with the app; the sidecar goes after it (otherwise Kestrel waits for the worker's open stream).
                await Durable.DisposeAsync();
            }
        }
        finally
        {
            // The emulator this host started stops whatever failed before it.
            if (Azurite is not null) await Azurite.DisposeAsync();
        }
    }
}
