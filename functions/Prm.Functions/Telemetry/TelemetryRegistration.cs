using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Prm.Core.Common;
using Prm.Storage.Integration;
using Prm.Storage.Outbox;

namespace Prm.Functions.Telemetry;

/// <summary>
/// OpenTelemetry traces and metrics of both hosts (the Functions app and the local host). What is collected: the app's own spans (source
/// <c>Prm</c>: outbox deliveries and webhook deliveries as spans of the request's trace), the Durable Task spans (orchestrations and
/// activities, whose trace context the Durable client carries from the delivery that starts them), outgoing HTTP (webhook receivers), the
/// Functions worker's spans in Azure, and the meters <c>Prm</c> (deals registered by conflict level, workflow steps), <c>Prm.Outbox</c>
/// (lag, pending, dead letters, deliveries) and <c>Prm.Webhooks</c> (attempts, failures, latency).
/// Where it goes, in this order: Application Insights when <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set (Azure Monitor exporter,
/// authenticated with the app's managed identity, <see cref="ClientIdOf"/> — the Bicep disables local auth, so no instrumentation key is used); OTLP when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set; the console when <c>Telemetry:Exporter</c> is <c>console</c> (the local host's default);
/// nowhere otherwise (<c>none</c>: the tests, which add their own in-memory exporter).
/// </summary>
public static class TelemetryRegistration
{
    public const string SectionName = "Telemetry";

    /// <summary>Every activity source the hosts export.</summary>
    public static readonly string[] Sources = [PrmTelemetry.SourceName, "Microsoft.DurableTask", "Microsoft.DurableTask.Client", "Microsoft.DurableTask.Worker", "Microsoft.Azure.Functions.Worker", "Microsoft.AspNetCore"];

    /// <summary>Every meter the hosts export.</summary>
    public static readonly string[] Meters = [PrmTelemetry.SourceName, OutboxMetrics.MeterName, "Prm.Webhooks"];

    /// <summary>Which exporter the configuration selects: azureMonitor, otlp, console or none.</summary>
    public static string ExporterOf(IConfiguration configuration)
    {
        if (!string.IsNullOrWhiteSpace(configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"])) return "azureMonitor";
        if (!string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])) return "otlp";
        return (configuration[$"{SectionName}:Exporter"] ?? "none").Trim().ToLowerInvariant() switch
        {
            "console" => "console",
            "otlp" => "otlp",
            _ => "none",
        };
    }

    /// <summary>
    /// The managed identity that signs in to Application Insights: the ClientId of APPLICATIONINSIGHTS_AUTHENTICATION_STRING (what the Bicep
    /// sets for the Functions host), else AZURE_CLIENT_ID, else the storage identity; null for the default credential chain.
    /// </summary>
    public static string? ClientIdOf(IConfiguration configuration)
    {
        var authentication = configuration["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] ?? "";
        var fromAuthentication = authentication.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => part.Split('=', 2)).Where(kv => kv.Length == 2 && kv[0].Equals("ClientId", StringComparison.OrdinalIgnoreCase)).Select(kv => kv[1]).FirstOrDefault();
        return new[] { fromAuthentication, configuration["AZURE_CLIENT_ID"], configuration["Storage:ManagedIdentityClientId"] }.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
    }

    public static IServiceCollection AddPrmTelemetry(this IServiceCollection services, IConfiguration configuration, bool functionsHost)
    {
        // Touch the meters so their instruments exist before the first export (the outbox gauges are observed from the start).
        _ = WebhookMetrics.Meter;
        _ = OutboxMetrics.Meter;
        var exporter = ExporterOf(configuration);
        var builder = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(configuration["OTEL_SERVICE_NAME"] ?? "prm-functions"))
            .WithTracing(tracing => tracing.AddSource(Sources).AddHttpClientInstrumentation())
            .WithMetrics(metrics => metrics.AddMeter(Meters));
        if (functionsHost) builder.UseFunctionsWorkerDefaults();
        switch (exporter)
        {
            case "azureMonitor":
                builder.UseAzureMonitorExporter(options =>
                {
                    options.ConnectionString = configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"];
                    // Local authentication is disabled on the Application Insights resource: the app's user-assigned identity signs in.
                    var clientId = ClientIdOf(configuration);
                    options.Credential = string.IsNullOrWhiteSpace(clientId)
                        ? new DefaultAzureCredential()
                        : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
                });
                break;
            case "otlp":
                builder.UseOtlpExporter(); // endpoint, protocol and headers from the standard OTEL_EXPORTER_OTLP_* variables
                break;
            case "console":
                builder.WithTracing(tracing => tracing.AddConsoleExporter()).WithMetrics(metrics => metrics.AddConsoleExporter());
                break;
        }
        return services;
    }
}
