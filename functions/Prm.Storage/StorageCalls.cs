using System.Diagnostics;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Prm.Storage;

/// <summary>
/// The storage round trips of one request (or any scope): how many there were, and how many had to wait for each other — the critical
/// path, the longest chain of calls each of which started after the previous one ended. Calls made side by side count once on it.
/// </summary>
public sealed class StorageCallScope
{
    private readonly object gate = new();
    private readonly List<(long Start, long End)> calls = [];
    private readonly List<string> names = [];
    private readonly Func<long> clock;
    private int count;

    public StorageCallScope() : this(Stopwatch.GetTimestamp)
    {
    }

    /// <summary>A scope on another clock (tests: a counter, so that no two instants coincide).</summary>
    internal StorageCallScope(Func<long> clock) => this.clock = clock;

    /// <summary>Round trips so far (every transport attempt, retries included).</summary>
    public int Value => Volatile.Read(ref count);

    /// <summary>
    /// The longest chain of round trips that waited for each other: the most calls that do not overlap in time (a call still running
    /// counts as running until now). Greedy by end time finds it exactly.
    /// </summary>
    public int CriticalPath
    {
        get
        {
            List<(long Start, long End)> snapshot;
            lock (gate) snapshot = [.. calls];
            var now = clock();
            var chain = 0;
            var lastEnd = long.MinValue;
            foreach (var (start, end) in snapshot.Select(c => (c.Start, End: c.End == 0 ? now : c.End)).OrderBy(c => c.End))
            {
                if (start < lastEnd) continue;
                chain++;
                lastEnd = end;
            }
            return chain;
        }
    }

    internal int Begin(string? name = null)
    {
        Interlocked.Increment(ref count);
        lock (gate)
        {
            calls.Add((clock(), 0));
            names.Add(name ?? "");
            return calls.Count - 1;
        }
    }

    /// <summary>Each call in start order with its start and end (ms after the first start): to see which calls waited for which.</summary>
    public IReadOnlyList<string> Describe()
    {
        lock (gate)
        {
            if (calls.Count == 0) return [];
            var origin = calls.Min(c => c.Start);
            double Ms(long t) => (t - origin) * 1000.0 / Stopwatch.Frequency;
            return calls.Select((c, i) => $"{Ms(c.Start),8:0.0} - {(c.End == 0 ? double.NaN : Ms(c.End)),8:0.0} ms  {names[i]}").ToList();
        }
    }

    internal void End(int index)
    {
        lock (gate) calls[index] = (calls[index].Start, clock());
    }
}

/// <summary>Counts storage round trips (every HTTP request the Azure SDK sends, retries included) in the current async flow.</summary>
public static class StorageCalls
{
    private static readonly AsyncLocal<StorageCallScope?> Current = new();

    /// <summary>Starts counting for the current request; the returned scope holds the running total and the critical path.</summary>
    public static StorageCallScope BeginScope()
    {
        var scope = new StorageCallScope();
        Current.Value = scope;
        return scope;
    }

    private static long total;

    /// <summary>Every round trip of the process since it started (requests and background work), for benchmarks.</summary>
    public static long Total => Interlocked.Read(ref total);

    /// <summary>The count of the current scope (0 when none).</summary>
    public static int Count => Current.Value?.Value ?? 0;

    private static System.Collections.Concurrent.ConcurrentDictionary<string, int>? tally;

    /// <summary>Starts counting every round trip of the process by method and table (a benchmark's breakdown of where calls go).</summary>
    public static void StartTally() => tally = new(StringComparer.Ordinal);

    /// <summary>Stops the tally started by <see cref="StartTally"/> and returns it: "METHOD table" (a transaction is "POST $batch") and its calls.</summary>
    public static IReadOnlyDictionary<string, int> StopTally()
    {
        var result = tally ?? new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        tally = null;
        return result;
    }

    private static string TallyKey(HttpMessage message)
    {
        var path = message.Request.Uri.Path;
        var segment = path[(path.LastIndexOf('/') + 1)..];
        var paren = segment.IndexOf('(', StringComparison.Ordinal);
        return $"{message.Request.Method} {(paren >= 0 ? segment[..paren] : segment)}";
    }

    internal static (StorageCallScope? Scope, int Index) Begin(HttpMessage? message = null)
    {
        Interlocked.Increment(ref total);
        if (tally is { } counts && message is not null) counts.AddOrUpdate(TallyKey(message), 1, (_, n) => n + 1);
        var scope = Current.Value;
        return (scope, scope?.Begin(message is null ? null : $"{message.Request.Method} {message.Request.Uri.Path}") ?? -1);
    }
}

/// <summary>Azure SDK pipeline policy feeding <see cref="StorageCalls"/>; runs once per transport attempt and times it.</summary>
public sealed class StorageCallCountingPolicy : HttpPipelinePolicy
{
    public static StorageCallCountingPolicy Instance { get; } = new();

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var (scope, index) = StorageCalls.Begin(message);
        try
        {
            await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
        }
        finally
        {
            scope?.End(index);
        }
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var (scope, index) = StorageCalls.Begin(message);
        try
        {
            ProcessNext(message, pipeline);
        }
        finally
        {
            scope?.End(index);
        }
    }
}
