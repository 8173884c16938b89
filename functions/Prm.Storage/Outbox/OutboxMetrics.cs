using System.Diagnostics.Metrics;

namespace Prm.Storage.Outbox;

/// <summary>
/// The outbox's metrics (OpenTelemetry meter <c>Prm.Outbox</c>): the lag (age of the oldest pending message) and the backlog as gauges
/// observed at each sweep and operations read, messages delivered and parked (dead letters) as counters.
/// </summary>
public static class OutboxMetrics
{
    public const string MeterName = "Prm.Outbox";

    public static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Delivered = Meter.CreateCounter<long>("prm.outbox.delivered", description: "Outbox messages delivered, by kind");
    private static readonly Counter<long> Failed = Meter.CreateCounter<long>("prm.outbox.failed_attempts", description: "Failed outbox delivery attempts, by kind");
    private static readonly Counter<long> DeadLettered = Meter.CreateCounter<long>("prm.outbox.dead_letters", description: "Outbox messages parked as dead after their last attempt, by kind and type");
    private static readonly Counter<long> Retried = Meter.CreateCounter<long>("prm.outbox.retried", description: "Dead outbox messages an operator put back");

    private static double lagSeconds;
    private static long pending;
    private static long dead = -1;

    static OutboxMetrics()
    {
        Meter.CreateObservableGauge("prm.outbox.lag", () => Volatile.Read(ref lagSeconds), "s", "Age of the oldest pending outbox message at the last sweep or operations read");
        Meter.CreateObservableGauge("prm.outbox.pending", () => Interlocked.Read(ref pending), description: "Pending outbox messages at the last sweep or operations read");
        Meter.CreateObservableGauge("prm.outbox.dead", () => Math.Max(0, Interlocked.Read(ref dead)), description: "Dead outbox messages waiting for an operator (last operations read)");
    }

    /// <summary>Records the backlog as just read: count, oldest commit time, dead count (null keeps the last one known).</summary>
    public static void Observe(int pendingCount, DateTimeOffset? oldest, int? deadCount, DateTimeOffset now)
    {
        Interlocked.Exchange(ref pending, pendingCount);
        Volatile.Write(ref lagSeconds, oldest is { } at ? Math.Max(0, (now - at).TotalSeconds) : 0);
        if (deadCount is { } d) Interlocked.Exchange(ref dead, d);
    }

    public static void CountDelivered(string kind) => Delivered.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public static void CountFailure(string kind) => Failed.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public static void CountDead(string kind, string type) =>
        DeadLettered.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("type", type));

    public static void CountRetried() => Retried.Add(1);
}
