using System.Runtime.CompilerServices;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Prm.Storage;

/// <summary>Counts storage round trips (every HTTP request the Azure SDK sends, retries included) in the current async flow.</summary>
public static class StorageCalls
{
    private static readonly AsyncLocal<StrongBox<int>?> Current = new();

    /// <summary>Starts counting for the current request; the returned box holds the running total.</summary>
    public static StrongBox<int> BeginScope()
    {
        var box = new StrongBox<int>(0);
        Current.Value = box;
        return box;
    }

    private static long total;

    /// <summary>Every round trip of the process since it started (requests and background work), for benchmarks.</summary>
    public static long Total => Interlocked.Read(ref total);

    /// <summary>The count of the current scope (0 when none).</summary>
    public static int Count => Current.Value?.Value ?? 0;

    internal static void Increment()
    {
        Interlocked.Increment(ref total);
        var box = Current.Value;
        if (box is not null) Interlocked.Increment(ref box.Value);
    }
}

/// <summary>Azure SDK pipeline policy feeding <see cref="StorageCalls"/>; runs once per transport attempt.</summary>
public sealed class StorageCallCountingPolicy : HttpPipelineSynchronousPolicy
{
    public static StorageCallCountingPolicy Instance { get; } = new();

    public override void OnSendingRequest(HttpMessage message) => StorageCalls.Increment();
}
