using Prm.Core.Common;
using System.Text.Json;
using Azure.Data.Tables;
using Prm.Core.Deals;

namespace Prm.Storage.Deals;

/// <summary>
/// One customer in a conflict bucket (short names: a bucket row holds up to <see cref="ConflictBuckets.MaxEntries"/> of them). <c>M</c>:
/// the first <see cref="ConflictBuckets.MatchesKept"/> registrations a registration counted as its conflicts, comma-separated.
/// </summary>
public sealed record BucketEntry(string K, string Id, string? P, string S, string? D, string? N, string? C, string? Pr, DateTimeOffset? U, DateTimeOffset? W, string? M = null)
{
    public IndexedCustomer ToCustomer() => new(K, Id, P, S, D, N, C, (Pr ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries), U, W,
        M is null ? null : M.Split(',', StringSplitOptions.RemoveEmptyEntries));

    /// <summary>Still able to conflict: a house account, an active registration, or a won deal (the look-back is applied when scoring).</summary>
    public bool Relevant => (K == "house" && S == "Active") || (K == "deal" && S is nameof(DealStatus.UnderReview) or nameof(DealStatus.Approved) or nameof(DealStatus.Won) or nameof(DealStatus.Returned));
}

/// <summary>
/// The conflict index: one row per customer domain ("d:{domain}") and per name blocking key ("n:{key}"), each holding the customers
/// (registrations and house accounts) that share it. A registration reads its buckets with point reads — never a query — so its cost
/// does not depend on how many registrations exist. Buckets are written from the outbox (read, change, write with the ETag) and
/// keep at most <see cref="MaxEntries"/> customers: entries that can no longer conflict go first, then the oldest.
/// </summary>
public static class ConflictBuckets
{
    public const int MaxEntries = 100;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string DomainPartition(string domain) => "d:" + KeyEncoding.Encode(domain);

    public static string NamePartition(string blockingKey) => "n:" + KeyEncoding.Encode(blockingKey);

    /// <summary>The buckets a customer belongs to.</summary>
    public static IReadOnlyList<string> Partitions(string? domain, IEnumerable<string> blockingKeys)
    {
        var partitions = new List<string>();
        if (domain is not null) partitions.Add(DomainPartition(domain));
        partitions.AddRange(blockingKeys.Select(NamePartition));
        return partitions.Distinct().ToList();
    }

    /// <summary>How many of a registration's matched registrations its entry keeps (the claim's holder is the first of them).</summary>
    public const int MatchesKept = 5;

    public static BucketEntry Entry(DealDto deal) => new("deal", deal.Id, deal.PartnerId, deal.Status, deal.Customer.Domain, null, deal.Customer.Country,
        string.Join(",", deal.Products), deal.ProtectedUntil, deal.Status == nameof(DealStatus.Won) ? deal.Outcome?.RecordedAt : null,
        deal.Conflict.MatchedDealIds is { Count: > 0 } matched ? string.Join(",", matched.Take(MatchesKept)) : null);

    public static BucketEntry Entry(HouseAccount h, bool deleted) => new("house", h.Id, null, deleted ? "Deleted" : "Active", h.Domain, h.NameKey, null, null, null, null);

    public static List<BucketEntry> Read(TableEntity? row) =>
        row?.GetString("Entries") is { } json ? JsonSerializer.Deserialize<List<BucketEntry>>(json, Json) ?? [] : [];

    /// <summary>
    /// A bucket row. The row key repeats the partition key: Azurite (LokiJS) looks rows up through its RowKey index first, so rows sharing
    /// one row key would make every point read scan them all; on Azure the choice costs nothing.
    /// </summary>
    public static TableEntity Row(string partition, IEnumerable<BucketEntry> entries) => new(partition, partition) { ["Entries"] = JsonSerializer.Serialize(entries, Json) };

    /// <summary>The bucket with the entry replaced (or removed when it can no longer conflict), pruned to the size limit.</summary>
    public static List<BucketEntry> With(List<BucketEntry> entries, BucketEntry entry)
    {
        var next = entries.Where(e => !(e.K == entry.K && e.Id == entry.Id)).ToList();
        if (entry.Relevant) next.Add(entry);
        if (next.Count > MaxEntries)
        {
            next = next.Where(e => e.Relevant).ToList();
            if (next.Count > MaxEntries) next = next.Skip(next.Count - MaxEntries).ToList();
        }
        return next;
    }

    /// <summary>
    /// Writes the entry into each of its buckets (read, change, write with the ETag; retried on a concurrent write). A bucket a
    /// registration's read found absent moments ago in this process (<paramref name="absent"/>) is inserted without reading it first:
    /// one round trip instead of two for a new customer; should it exist after all (written meanwhile), the insert fails and the read,
    /// change, write runs as always, so the hint never loses an entry.
    /// </summary>
    public static async Task PutAsync(TableClient table, IReadOnlyList<string> partitions, BucketEntry entry, CancellationToken ct, AbsentBuckets? absent = null) =>
        await Task.WhenAll(partitions.Select(async partition =>
        {
            if (entry.Relevant && absent is not null && absent.Take(partition))
            {
                try
                {
                    await table.AddEntityAsync(Row(partition, With([], entry)), ct);
                    return;
                }
                catch (Azure.RequestFailedException ex) when (ex.Status == 409)
                {
                    // Written since the read: merge into it below.
                }
            }
            try
            {
                await ReadDecideCommit.RunAsync(async _ =>
                {
                    var found = await table.GetEntityIfExistsAsync<TableEntity>(partition, partition, cancellationToken: ct);
                    var current = found.HasValue ? found.Value : null;
                    var next = With(Read(current), entry);
                    if (current is null) await table.AddEntityAsync(Row(partition, next), ct);
                    else await table.UpdateEntityAsync(Row(partition, next), current.ETag, TableUpdateMode.Replace, ct);
                }, attempts: 20, ReadDecideCommit.Jitter(20), LostRace.IsConflict, ct);
            }
            catch (Exception ex) when (LostRace.IsConflict(ex))
            {
                throw new InvalidOperationException($"The conflict bucket {partition} stayed contended.", ex);
            }
        }));

    /// <summary>Reads the buckets of a customer with point reads, in parallel.</summary>
    public static async Task<IReadOnlyList<IndexedCustomer>> ReadAsync(TableClient table, IReadOnlyList<string> partitions, CancellationToken ct, AbsentBuckets? absent = null)
    {
        var rows = await Task.WhenAll(partitions.Select(async p =>
        {
            var found = await table.GetEntityIfExistsAsync<TableEntity>(p, p, cancellationToken: ct);
            if (!found.HasValue) absent?.Note(p);
            return Read(found.HasValue ? found.Value : null);
        }));
        return rows.SelectMany(r => r).Select(e => e.ToCustomer()).ToList();
    }
}

/// <summary>
/// Buckets this process found absent moments ago (a registration's candidate read), so that the projection writing the registration into
/// them can insert instead of reading first. Only a hint: a stale one costs the failed insert and the usual read, change, write. Bounded
/// (at most <see cref="Capacity"/> partitions, each kept <see cref="Lifetime"/>) and taken once.
/// </summary>
public sealed class AbsentBuckets
{
    public const int Capacity = 10_000;

    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> noted = new(StringComparer.Ordinal);

    public void Note(string partition)
    {
        if (noted.Count >= Capacity) Prune();
        noted[partition] = Environment.TickCount64;
    }

    /// <summary>True (once) when the partition was found absent within the lifetime.</summary>
    public bool Take(string partition) =>
        noted.TryRemove(partition, out var at) && Environment.TickCount64 - at <= (long)Lifetime.TotalMilliseconds;

    private void Prune()
    {
        var now = Environment.TickCount64;
        foreach (var (partition, at) in noted)
        {
            if (now - at > (long)Lifetime.TotalMilliseconds) noted.TryRemove(partition, out _);
        }
        if (noted.Count >= Capacity) noted.Clear(); // a burst of new customers: forget the hints rather than grow
    }
}
