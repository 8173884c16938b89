using System.Collections.Concurrent;

namespace Prm.Core.Common;

/// <summary>
/// A per-instance cache that serves a value for <c>ttl</c> and then keeps serving it while one background load refreshes it
/// (stale-while-revalidate): a request pays a storage round trip only for a key it has never seen. A zero <c>ttl</c> disables caching.
/// </summary>
public sealed class RefreshingCache<TKey, TValue>(TimeProvider clock, TimeSpan ttl) where TKey : notnull
{
    private sealed class Entry(DateTimeOffset loadedAt, TValue value)
    {
        public DateTimeOffset LoadedAt { get; } = loadedAt;
        public TValue Value { get; } = value;
        public int Refreshing;
    }

    private readonly ConcurrentDictionary<TKey, Entry> entries = new();

    public async Task<TValue> GetAsync(TKey key, Func<CancellationToken, Task<TValue>> load, CancellationToken ct)
    {
        if (ttl <= TimeSpan.Zero) return await load(ct);
        if (entries.TryGetValue(key, out var entry))
        {
            if (clock.GetUtcNow() - entry.LoadedAt >= ttl && Interlocked.CompareExchange(ref entry.Refreshing, 1, 0) == 0)
            {
                _ = Task.Run(async () =>
                {
                    try
                    {
                        entries[key] = new Entry(clock.GetUtcNow(), await load(CancellationToken.None));
                    }
                    catch (Exception)
                    {
                        // Keep serving the known value; the next request after the ttl tries again.
                        Interlocked.Exchange(ref entry.Refreshing, 0);
                    }
                }, CancellationToken.None);
            }
            return entry.Value;
        }
        var value = await load(ct);
        entries[key] = new Entry(clock.GetUtcNow(), value);
        return value;
    }

    /// <summary>Replaces the value (a change made on this instance applies at once).</summary>
    public void Set(TKey key, TValue value) => entries[key] = new Entry(clock.GetUtcNow(), value);

    public void Remove(TKey key) => entries.TryRemove(key, out _);
}
