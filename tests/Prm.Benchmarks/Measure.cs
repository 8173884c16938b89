using System.Diagnostics;
using System.Globalization;

namespace Prm.Benchmarks;

/// <summary>One timed request: wall time, the storage round trips the host reported and how many of them waited for each other.</summary>
public readonly record struct Sample(double Ms, int StorageCalls, int CriticalPath = 0);

/// <summary>The critical path the last response reported (x-prm-storage-critical-path); the measured iterations run one at a time.</summary>
public static class LastResponse
{
    public static int CriticalPath { get; set; }
}

/// <summary>The figures of one measured operation.</summary>
public sealed record Result(string Operation, IReadOnlyList<Sample> Samples)
{
    public int N => Samples.Count;
    public double MedianMs => Measure.Percentile(Samples.Select(s => s.Ms), 50);
    public double P99Ms => Measure.Percentile(Samples.Select(s => s.Ms), 99);
    public double MedianCalls => Measure.Percentile(Samples.Select(s => (double)s.StorageCalls), 50);
    public int MaxCalls => Samples.Max(s => s.StorageCalls);
    public double MedianCriticalPath => Measure.Percentile(Samples.Select(s => (double)s.CriticalPath), 50);
    public int MaxCriticalPath => Samples.Max(s => s.CriticalPath);
}

public static class Measure
{
    /// <summary>Runs <paramref name="warmup"/> unrecorded then <paramref name="n"/> recorded sequential iterations.</summary>
    public static async Task<IReadOnlyList<Sample>> RunAsync(int warmup, int n, Func<int, Task<int>> iteration)
    {
        for (var i = 0; i < warmup; i++) await iteration(-1 - i);
        var samples = new List<Sample>(n);
        for (var i = 0; i < n; i++)
        {
            var start = Stopwatch.GetTimestamp();
            LastResponse.CriticalPath = 0;
            var calls = await iteration(i);
            samples.Add(new Sample(Stopwatch.GetElapsedTime(start).TotalMilliseconds, calls, LastResponse.CriticalPath));
        }
        return samples;
    }

    /// <summary>Linear-interpolated percentile (0-100) of the values.</summary>
    public static double Percentile(IEnumerable<double> values, double percentile)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        var rank = percentile / 100 * (sorted.Length - 1);
        var low = (int)Math.Floor(rank);
        var high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    }

    public static string F(double value, string format = "0.00") => value.ToString(format, CultureInfo.InvariantCulture);
}
