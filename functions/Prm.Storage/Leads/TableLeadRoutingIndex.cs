using System.Text.Json;
using Azure.Data.Tables;
using Prm.Core.Common;
using Prm.Core.Leads;
using Prm.Storage.Deals;

namespace Prm.Storage.Leads;

/// <summary>
/// The routing index on Table Storage: partitions "all", "r:{region}" and "c:{country}", each with 16 bucket rows ("b0".."bf", by the
/// last hex digit of the partner id) that list the partners' entries. A partition is one query of at most 16 rows whatever the number
/// of partners; a named partner is a point read of its bucket. Partner figures live in partition "fig:{partnerId}". Written only by
/// <see cref="LeadProjection"/> (and the benchmark's seeding), read by routing.
/// </summary>
public sealed class TableLeadRoutingIndex(PrmTables tables) : ILeadRoutingIndex
{
    public const string FiguresRow = "figures";
    public const string AllPartition = "all";

    /// <summary>Index entries leave out nulls (thousands of partners share 16 rows per partition; zeros stay: weight 0 must not read as the default 1).</summary>
    internal static readonly System.Text.Json.JsonSerializerOptions EntryJson = new(TableDealStore.Json)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static string BucketOf(string partnerId) => "b" + char.ToLowerInvariant(partnerId[^1]);

    public static string FiguresPartition(string partnerId) => "fig:" + partnerId;

    public async Task<IReadOnlyDictionary<string, IReadOnlyList<RoutingEntry>>> ReadAsync(IReadOnlyList<string> partitions, CancellationToken ct)
    {
        var reads = partitions.Distinct(StringComparer.Ordinal).Select(async p =>
        {
            var entries = new List<RoutingEntry>();
            await foreach (var row in tables.LeadRouting.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {p}"), cancellationToken: ct))
            {
                entries.AddRange(Entries(row));
            }
            return (p, (IReadOnlyList<RoutingEntry>)entries);
        });
        return (await Task.WhenAll(reads)).ToDictionary(r => r.p, r => r.Item2, StringComparer.Ordinal);
    }

    public async Task<IReadOnlyDictionary<string, RoutingEntry>> EntriesAsync(IReadOnlyList<string> partnerIds, CancellationToken ct)
    {
        var buckets = await Task.WhenAll(partnerIds.Where(id => id.Length > 0).Select(BucketOf).Distinct(StringComparer.Ordinal)
            .Select(b => tables.LeadRouting.GetEntityIfExistsAsync<TableEntity>(AllPartition, b, cancellationToken: ct)));
        var wanted = partnerIds.ToHashSet(StringComparer.Ordinal);
        return buckets.Where(b => b.HasValue).SelectMany(b => Entries(b.Value!)).Where(e => wanted.Contains(e.PartnerId))
            .GroupBy(e => e.PartnerId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
    }

    public async Task<string?> DealHolderAsync(string? domain, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(domain)) return null;
        var key = TableDealStore.ClaimPartition("d:" + domain);
        var found = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(key, key, cancellationToken: ct);
        return found.HasValue ? found.Value!.GetString("PartnerId") : null;
    }

    public async Task<LeadPartnerFigures> FiguresAsync(string partnerId, CancellationToken ct) =>
        (await ReadFiguresAsync(partnerId, ct)).Figures;

    public async Task<string> SaveProfileAsync(string partnerId, double weight, DateTimeOffset? holidayUntil, string profileETag, CancellationToken ct)
    {
        LeadPartnerFigures saved;
        for (var attempt = 1; ; attempt++)
        {
            var (figures, current) = await ReadFiguresAsync(partnerId, ct);
            if (profileETag != figures.ProfileETag) throw new PreconditionFailedException("The lead routing profile was changed since you read it; read it again and retry.");
            saved = figures with { Weight = weight, HolidayUntil = holidayUntil, ProfileVersion = figures.ProfileVersion + 1 };
            var row = new TableEntity(FiguresPartition(partnerId), FiguresRow);
            ChunkedText.Write(row, "Body", JsonSerializer.Serialize(saved, TableDealStore.Json));
            try
            {
                if (current is null) await tables.LeadRouting.AddEntityAsync(row, ct);
                else await tables.LeadRouting.UpdateEntityAsync(row, new Azure.ETag(current), TableUpdateMode.Replace, ct);
                break;
            }
            // A lead event moved the figures in between (or a save won): read again; a competing save shows as a new profile ETag above.
            catch (Exception ex) when (LostRace.IsConflictOrGone(ex) && attempt < 10)
            {
            }
            catch (Exception ex) when (LostRace.IsConflictOrGone(ex))
            {
                throw new ServiceUnavailableException("The lead routing figures are being updated; retry.", TimeSpan.FromSeconds(1));
            }
        }
        // The entries follow at once (a partner not in the index — not Active — gets them when it joins, from the figures).
        if ((await EntriesAsync([partnerId], ct)).GetValueOrDefault(partnerId) is { } entry)
        {
            foreach (var partition in LeadProjection.PartitionsOf(entry))
            {
                await PutAsync(partition, partnerId, e => e is null ? null : e with { Weight = weight, HolidayUntil = holidayUntil }, ct);
            }
        }
        return saved.ProfileETag;
    }

    internal async Task<(LeadPartnerFigures Figures, string? ETag)> ReadFiguresAsync(string partnerId, CancellationToken ct)
    {
        var found = await tables.LeadRouting.GetEntityIfExistsAsync<TableEntity>(FiguresPartition(partnerId), FiguresRow, cancellationToken: ct);
        return found.HasValue
            ? (JsonSerializer.Deserialize<LeadPartnerFigures>(ChunkedText.Read(found.Value!, "Body"), TableDealStore.Json)!, found.Value!.ETag.ToString())
            : (LeadPartnerFigures.Empty(partnerId), null);
    }

    public static IReadOnlyList<RoutingEntry> Entries(TableEntity row) =>
        JsonSerializer.Deserialize<List<RoutingEntry>>(ChunkedText.Read(row, "Entries"), EntryJson) ?? [];

    /// <summary>
    /// Changes one partner's entry in a partition (null removes it), read-modify-write of its bucket row with the ETag; a lost race reads again.
    /// </summary>
    public Task PutAsync(string partition, string partnerId, Func<RoutingEntry?, RoutingEntry?> change, CancellationToken ct) =>
        ReadDecideCommit.RunAsync(async _ =>
        {
            var bucket = BucketOf(partnerId);
            var found = await tables.LeadRouting.GetEntityIfExistsAsync<TableEntity>(partition, bucket, cancellationToken: ct);
            var entries = found.HasValue ? Entries(found.Value!).ToList() : [];
            var current = entries.FirstOrDefault(e => e.PartnerId == partnerId);
            var next = change(current);
            if (next == current) return;
            entries.RemoveAll(e => e.PartnerId == partnerId);
            if (next is not null) entries.Add(next);
            var row = new TableEntity(partition, bucket);
            ChunkedText.Write(row, "Entries", JsonSerializer.Serialize(entries.OrderBy(e => e.PartnerId, StringComparer.Ordinal), EntryJson));
            if (found.HasValue) await tables.LeadRouting.UpdateEntityAsync(row, found.Value!.ETag, TableUpdateMode.Replace, ct);
            else await tables.LeadRouting.AddEntityAsync(row, ct);
        }, attempts: 20, pause: ReadDecideCommit.Jitter(20), retryWhen: LostRace.IsConflictOrGone, ct: ct);

    /// <summary>Writes whole bucket rows at once (the benchmark's seeding of thousands of partners).</summary>
    public async Task SeedAsync(string partition, IEnumerable<RoutingEntry> entries, CancellationToken ct)
    {
        foreach (var bucket in entries.GroupBy(e => BucketOf(e.PartnerId)))
        {
            var row = new TableEntity(partition, bucket.Key);
            ChunkedText.Write(row, "Entries", JsonSerializer.Serialize(bucket.OrderBy(e => e.PartnerId, StringComparer.Ordinal), EntryJson));
            await tables.LeadRouting.UpsertEntityAsync(row, TableUpdateMode.Replace, ct);
        }
    }
}
