using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Prm.Core.Analytics;
using Prm.Core.Common;

namespace Prm.Storage.Analytics;

/// <summary>
/// The KPI table: a partition per partner holding, for each record, its contribution ("c|{recordId}": the facts and the record's version),
/// its fact rows ("f|{metric}|{yyyyMMdd}|{recordId}|{key}", the drill-down) and the buckets ("d|yyyyMMdd", "m|yyyyMM", "y|yyyy", "t") with
/// the counters as JSON. A change of a contribution is one transaction of the partition (contribution, fact rows, buckets, each bucket
/// If-Match), the way the deal counters are kept: exact under redelivery and concurrent events.
/// </summary>
public sealed class TableKpiStore(PrmTables tables) : IKpiStore
{
    private const string ContributionPrefix = "c|";
    private const string FactPrefix = "f|";
    private static readonly string[] BucketPrefixes = ["d|", "m|", "y|"];
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private TableClient Table => tables.Analytics;

    /// <summary>The buckets and contributions as this process last read or wrote them (a guess checked by If-Match: see <see cref="KnownRows"/>).</summary>
    private readonly KnownRows known = new();

    public async Task ApplyAsync(string partnerId, string subjectKey, long version, IReadOnlyList<KpiFact> facts, CancellationToken ct, bool likelyChanged = false, bool likelyNew = false)
    {
        var contributionRow = ContributionPrefix + subjectKey;
        if (likelyNew && await TryApplyNewAsync(partnerId, contributionRow, version, facts, ct)) return;
        if (!likelyNew && await TryApplyKnownAsync(partnerId, contributionRow, version, facts, ct)) return;
        try
        {
            await ReadDecideCommit.RunAsync(async _ =>
            {
                // Expected to change: the buckets of the new facts are read beside the contribution (a new registration touches exactly
                // those); buckets only the stored facts touch are read after it.
                var earlyRows = likelyChanged || likelyNew ? KpiFactRules.Delta([], facts).Keys.ToHashSet(StringComparer.Ordinal) : [];
                var early = ReadEntitiesAsync(partnerId, earlyRows, ct);
                var found = await Table.GetEntityIfExistsAsync<TableEntity>(partnerId, contributionRow, cancellationToken: ct);
                var buckets = await early;
                var stored = found.HasValue ? found.Value : null;
                if (stored is not null) known.Remember(stored, stored.ETag);
                if (stored?.GetInt64("Version") is { } storedVersion && storedVersion > version) return; // an older event, delivered late
                var before = stored is null ? [] : JsonSerializer.Deserialize<List<KpiFact>>(stored.GetString("Body"), Json)!;
                if (before.SequenceEqual(facts))
                {
                    // Redelivered, or a change that moves no number: a newer version is still recorded, so an older event delivered later
                    // (an intermediate state) cannot pass for newer than this one.
                    if (stored is not null && stored.GetInt64("Version") < version)
                    {
                        stored["Version"] = version;
                        var updated = await Table.UpdateEntityAsync(stored, stored.ETag, TableUpdateMode.Replace, ct);
                        known.Remember(stored, updated.Headers.ETag ?? default);
                    }
                    return;
                }
                var delta = KpiFactRules.Delta(before, facts);
                foreach (var (row, entity) in await ReadEntitiesAsync(partnerId, delta.Keys.Where(row => !earlyRows.Contains(row)).ToList(), ct)) buckets[row] = entity;
                await CommitAsync(partnerId, contributionRow, version, stored, before, facts, delta, buckets, ct);
            }, attempts: 10, ReadDecideCommit.Jitter(25), LostRace.IsConflict, ct);
        }
        catch (Exception ex) when (LostRace.IsConflict(ex))
        {
            throw new PreconditionFailedException("The partner's KPI buckets stayed contended.");
        }
    }

    /// <summary>
    /// A record's first contribution, from buckets this process knows: no read, one transaction that inserts the contribution and writes
    /// the buckets If-Match. False when a bucket is not known, or when the transaction was refused (the contribution exists: a redelivery
    /// or a wrong hint; a bucket changed meanwhile): nothing was written, and the caller reads.
    /// </summary>
    private async Task<bool> TryApplyNewAsync(string partnerId, string contributionRow, long version, IReadOnlyList<KpiFact> facts, CancellationToken ct)
    {
        var delta = KpiFactRules.Delta([], facts);
        if (KnownBuckets(partnerId, delta.Keys) is not { } buckets) return false;
        try
        {
            await CommitAsync(partnerId, contributionRow, version, null, [], facts, delta, buckets, ct);
            return true;
        }
        catch (Exception ex) when (LostRace.IsConflictOrGone(ex))
        {
            foreach (var row in delta.Keys) known.Forget(partnerId, row);
            return false;
        }
    }

    /// <summary>
    /// A change of a contribution this process last wrote or read (a decision on a registration it counted), from that row and the
    /// buckets it knows: no read, one transaction with the contribution and every bucket If-Match. False when a row is not known, when
    /// the known row says nothing changes (a redelivery, an older event: the caller reads and decides from what is stored), or when the
    /// transaction was refused (a row moved or went meanwhile): nothing was written, and the caller reads.
    /// </summary>
    private async Task<bool> TryApplyKnownAsync(string partnerId, string contributionRow, long version, IReadOnlyList<KpiFact> facts, CancellationToken ct)
    {
        if (known.Get(partnerId, contributionRow) is not { } stored || stored.GetInt64("Version") is not { } storedVersion || storedVersion >= version) return false;
        var before = JsonSerializer.Deserialize<List<KpiFact>>(stored.GetString("Body"), Json)!;
        if (before.SequenceEqual(facts)) return false;
        var delta = KpiFactRules.Delta(before, facts);
        if (KnownBuckets(partnerId, delta.Keys) is not { } buckets) return false;
        try
        {
            await CommitAsync(partnerId, contributionRow, version, stored, before, facts, delta, buckets, ct);
            return true;
        }
        catch (Exception ex) when (LostRace.IsConflictOrGone(ex))
        {
            known.Forget(partnerId, contributionRow);
            foreach (var row in delta.Keys) known.Forget(partnerId, row);
            return false;
        }
    }

    /// <summary>The buckets as this process knows them, or null when it does not know one of them.</summary>
    private Dictionary<string, TableEntity>? KnownBuckets(string partnerId, IEnumerable<string> rows)
    {
        var buckets = new Dictionary<string, TableEntity>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (known.Get(partnerId, row) is not { } bucket) return null;
            buckets[row] = bucket;
        }
        return buckets;
    }

    /// <summary>
    /// The change of a contribution as one transaction of the partition: the contribution (inserted, or replaced If-Match), each bucket it
    /// moves (inserted, or replaced If-Match the bucket read), the fact rows. The buckets written are remembered with their new ETags.
    /// </summary>
    private async Task CommitAsync(string partnerId, string contributionRow, long version, TableEntity? stored, IReadOnlyList<KpiFact> before, IReadOnlyList<KpiFact> facts,
        IReadOnlyDictionary<string, Dictionary<string, decimal>> delta, IReadOnlyDictionary<string, TableEntity> buckets, CancellationToken ct)
    {
        var actions = new List<TableTransactionAction>();
        var contribution = new TableEntity(partnerId, contributionRow) { ["Body"] = JsonSerializer.Serialize(facts, Json), ["Version"] = version };
        actions.Add(stored is null ? new(TableTransactionActionType.Add, contribution) : new(TableTransactionActionType.UpdateReplace, contribution, stored.ETag));
        var lastDay = facts.Count == 0 ? (DateOnly?)null : facts.Max(f => f.Day);
        foreach (var (row, change) in delta)
        {
            var current = buckets.GetValueOrDefault(row);
            var counters = KpiFactRules.Add(current is null ? null : Counters(current), change);
            var entity = Bucket(partnerId, row, counters, row == KpiRows.Total ? Max(LastDay(current), lastDay) : null);
            actions.Add(current is null ? new(TableTransactionActionType.Add, entity) : new(TableTransactionActionType.UpdateReplace, entity, current.ETag));
        }
        var afterRows = facts.ToDictionary(KpiFactRules.FactRow, f => f, StringComparer.Ordinal);
        foreach (var old in before.Select(KpiFactRules.FactRow).Where(r => !afterRows.ContainsKey(r)).Distinct(StringComparer.Ordinal))
        {
            actions.Add(new(TableTransactionActionType.Delete, new TableEntity(partnerId, old), ETag.All));
        }
        var beforeSet = before.ToHashSet();
        foreach (var (row, fact) in afterRows)
        {
            if (beforeSet.Contains(fact)) continue;
            actions.Add(new(TableTransactionActionType.UpsertReplace, FactEntity(partnerId, row, fact)));
        }
        if (actions.Count > 100) throw new InvalidOperationException($"The KPI change of {contributionRow[ContributionPrefix.Length..]} needs {actions.Count} writes, more than one transaction holds.");
        var answers = await Table.SubmitTransactionAsync(actions, ct);
        known.RememberCommitted(actions, answers.Value, a => a.Entity.RowKey == contributionRow || delta.ContainsKey(a.Entity.RowKey));
    }

    public async Task<IReadOnlyDictionary<string, KpiBucket>> ReadAsync(string partnerId, IReadOnlyCollection<string> rows, CancellationToken ct)
    {
        var found = await ReadEntitiesAsync(partnerId, rows, ct);
        return found.ToDictionary(e => e.Key, e => new KpiBucket(Counters(e.Value), LastDay(e.Value)), StringComparer.Ordinal);
    }

    public async Task<Prm.Core.Common.Page<KpiFact>> FactsAsync(string partnerId, string metric, DateOnly from, DateOnly to, PageRequest page, CancellationToken ct)
    {
        var low = FactPrefix + metric + "|" + from.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var high = FactPrefix + metric + "|" + to.AddDays(1).ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partnerId} and RowKey ge {low} and RowKey lt {high}");
        return await PrmTables.PageAsync(Table, filter, page, ReadFact, ct);
    }

    public async Task<IReadOnlyList<string>> SubjectsAsync(string partnerId, CancellationToken ct)
    {
        var subjects = new List<string>();
        await foreach (var c in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter(
            $"PartitionKey eq {partnerId} and RowKey ge {ContributionPrefix} and RowKey lt {KeyEncoding.PrefixEnd(ContributionPrefix)}"), select: ["RowKey"], cancellationToken: ct))
        {
            subjects.Add(c.RowKey[ContributionPrefix.Length..]);
        }
        return subjects;
    }

    public async Task<(int Checked, int Corrected)> RecountAsync(string partnerId, CancellationToken ct)
    {
        try
        {
            // The buckets are read before the contributions and written If-Match: an event applied in between changed a bucket it touches
            // (in the transaction with its contribution), so that write fails and the recount starts again; every write that succeeds is right.
            return await ReadDecideCommit.RunAsync(_ => RecountOnceAsync(partnerId, ct), attempts: 10, ReadDecideCommit.Jitter(50), LostRace.IsConflict, ct);
        }
        catch (Exception ex) when (LostRace.IsConflict(ex))
        {
            throw new PreconditionFailedException("The partner's KPI buckets stayed contended.");
        }
    }

    private async Task<(int Checked, int Corrected)> RecountOnceAsync(string partnerId, CancellationToken ct)
    {
        var stored = new Dictionary<string, TableEntity>(StringComparer.Ordinal);
        foreach (var prefix in BucketPrefixes)
        {
            await foreach (var b in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter(
                $"PartitionKey eq {partnerId} and RowKey ge {prefix} and RowKey lt {KeyEncoding.PrefixEnd(prefix)}"), cancellationToken: ct)) stored[b.RowKey] = b;
        }
        var total = await Table.GetEntityIfExistsAsync<TableEntity>(partnerId, KpiRows.Total, cancellationToken: ct);
        if (total.HasValue) stored[KpiRows.Total] = total.Value!;
        var expected = new Dictionary<string, Dictionary<string, decimal>>(StringComparer.Ordinal);
        DateOnly? lastDay = null;
        await foreach (var c in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter(
            $"PartitionKey eq {partnerId} and RowKey ge {ContributionPrefix} and RowKey lt {KeyEncoding.PrefixEnd(ContributionPrefix)}"), cancellationToken: ct))
        {
            var facts = JsonSerializer.Deserialize<List<KpiFact>>(c.GetString("Body"), Json)!;
            foreach (var (row, change) in KpiFactRules.Delta([], facts)) expected[row] = KpiFactRules.Add(expected.GetValueOrDefault(row), change);
            if (facts.Count > 0) lastDay = Max(lastDay, facts.Max(f => f.Day));
        }
        var corrected = 0;
        foreach (var row in stored.Keys.Union(expected.Keys, StringComparer.Ordinal).ToList())
        {
            var want = expected.GetValueOrDefault(row) ?? new Dictionary<string, decimal>(StringComparer.Ordinal);
            var have = stored.GetValueOrDefault(row);
            var haveCounters = have is null ? new Dictionary<string, decimal>(StringComparer.Ordinal) : Counters(have);
            if (want.Count == haveCounters.Count && want.All(w => haveCounters.TryGetValue(w.Key, out var v) && v == w.Value)) continue;
            var entity = Bucket(partnerId, row, want, row == KpiRows.Total ? Max(LastDay(have), lastDay) : null);
            if (have is null) await Table.AddEntityAsync(entity, ct);
            else await Table.UpdateEntityAsync(entity, have.ETag, TableUpdateMode.Replace, ct);
            corrected++;
        }
        return (stored.Count, corrected);
    }

    /// <summary>Point reads of bucket rows, side by side; what is found is remembered (<see cref="known"/>).</summary>
    private async Task<Dictionary<string, TableEntity>> ReadEntitiesAsync(string partnerId, IReadOnlyCollection<string> rows, CancellationToken ct)
    {
        var reads = await Task.WhenAll(rows.Select(r => Table.GetEntityIfExistsAsync<TableEntity>(partnerId, r, cancellationToken: ct)));
        var found = reads.Where(r => r.HasValue).Select(r => r.Value!).ToDictionary(e => e.RowKey, StringComparer.Ordinal);
        foreach (var entity in found.Values) known.Remember(entity, entity.ETag);
        return found;
    }

    private static TableEntity Bucket(string partnerId, string row, Dictionary<string, decimal> counters, DateOnly? lastDay)
    {
        var entity = new TableEntity(partnerId, row) { ["Body"] = JsonSerializer.Serialize(counters, Json) };
        if (lastDay is { } day) entity["LastDay"] = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return entity;
    }

    private static Dictionary<string, decimal> Counters(TableEntity e) =>
        JsonSerializer.Deserialize<Dictionary<string, decimal>>(e.GetString("Body") ?? "{}", Json) ?? new Dictionary<string, decimal>(StringComparer.Ordinal);

    private static DateOnly? LastDay(TableEntity? e) =>
        e?.GetString("LastDay") is { } text ? DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture) : null;

    private static DateOnly? Max(DateOnly? a, DateOnly? b) => a is null ? b : b is null ? a : a > b ? a : b;

    private static TableEntity FactEntity(string partnerId, string row, KpiFact f)
    {
        var e = new TableEntity(partnerId, row) { ["Body"] = JsonSerializer.Serialize(f, Json) };
        return e;
    }

    private static KpiFact ReadFact(TableEntity e) => JsonSerializer.Deserialize<KpiFact>(e.GetString("Body"), Json)!;
}
