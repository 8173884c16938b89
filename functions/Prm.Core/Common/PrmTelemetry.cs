using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Prm.Core.Common;

/// <summary>
/// The application's own traces and metrics (OpenTelemetry through System.Diagnostics): the activity source and meter <c>Prm</c>. A request's
/// correlation id (the <c>x-correlation-id</c> header, else the request's W3C trace id) travels on its outbox messages; work done later for
/// such a message — its delivery, the workflow start or signal, emails, webhook deliveries — is a span of that trace
/// (<see cref="StartFromCorrelation"/>), tagged <c>prm.correlation_id</c>. Hosts export them (see Prm.Functions/Telemetry).
/// </summary>
public static class PrmTelemetry
{
    public const string SourceName = "Prm";
    public const string CorrelationTag = "prm.correlation_id";

    public static readonly ActivitySource Source = new(SourceName);
    public static readonly Meter Meter = new(SourceName);

    private static readonly Counter<long> DealsRegistered = Meter.CreateCounter<long>("prm.deals.registered", description: "Deal registrations submitted, by conflict level");
    private static readonly Counter<long> WorkflowSteps = Meter.CreateCounter<long>("prm.workflow.steps", description: "Workflow steps run (activities), by workflow, step and outcome");
    private static readonly Counter<long> HomeSectionsUnavailable = Meter.CreateCounter<long>("prm.portal.home.sections_unavailable", description: "Home sections that could not be read, by section and error type");

    /// <summary>
    /// Starts a span for work done on behalf of a request: a child of the request's trace when the correlation id is a W3C trace id (32 hex
    /// digits, what the API uses unless the caller sent its own), else a new trace; tagged with the correlation id either way. Null when no
    /// listener samples it (no exporter configured).
    /// </summary>
    public static Activity? StartFromCorrelation(string name, string? correlationId, ActivityKind kind = ActivityKind.Internal)
    {
        if (!Source.HasListeners()) return null;
        Activity? activity;
        if (Activity.Current is { } current && correlationId is not null && current.TraceId.ToHexString() == correlationId)
        {
            activity = Source.StartActivity(name, kind);
        }
        else if (TryTraceId(correlationId, out var traceId))
        {
            activity = Source.StartActivity(name, kind, new ActivityContext(traceId, ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true));
        }
        else
        {
            activity = Source.StartActivity(name, kind, parentContext: default);
        }
        if (correlationId is not null) activity?.SetTag(CorrelationTag, correlationId);
        return activity;
    }

    /// <summary>Whether the correlation id is a W3C trace id (32 lower-case hex digits, not all zero).</summary>
    public static bool TryTraceId(string? correlationId, out ActivityTraceId traceId)
    {
        traceId = default;
        if (correlationId is not { Length: 32 } || correlationId.AsSpan().IndexOfAnyExcept("0123456789abcdef") >= 0 || correlationId.All(c => c == '0')) return false;
        traceId = ActivityTraceId.CreateFromString(correlationId);
        return true;
    }

    public static void CountDealRegistered(string conflictLevel, string status) =>
        DealsRegistered.Add(1, new KeyValuePair<string, object?>("conflict_level", conflictLevel), new KeyValuePair<string, object?>("status", status));

    public static void CountWorkflowStep(string workflow, string step, StepOutcome outcome) =>
        WorkflowSteps.Add(1, new KeyValuePair<string, object?>("workflow", workflow), new KeyValuePair<string, object?>("step", step),
            new KeyValuePair<string, object?>("outcome", outcome.ToString()));

    /// <summary>A section of the portal home could not be read: counted, and the exception recorded on the request's span.</summary>
    public static void HomeSectionUnavailable(string section, Exception error)
    {
        HomeSectionsUnavailable.Add(1, new KeyValuePair<string, object?>("section", section), new KeyValuePair<string, object?>("error", error.GetType().Name));
        Activity.Current?.AddException(error, new TagList { { "prm.home.section", section } });
    }
}
