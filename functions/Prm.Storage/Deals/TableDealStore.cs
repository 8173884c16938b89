using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Data.Tables;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Core.Partners;
using Prm.Storage.Outbox;

namespace Prm.Storage.Deals;

/// <summary>
/// Deals on Table Storage. A partner's registrations live in its partition of the deals table (row "deal|{time-ordered suffix}", newest
/// first), with idempotency key rows, timeline and outbox rows, and the dashboard counters. Claims are key rows (AddEntity: the first
/// holds it). Conflict candidates come from the conflict index (a partition per customer domain and per name blocking key); vendor
/// lists from the deal index (all, per channel manager). Both indexes are written by <see cref="DealProjection"/> from the outbox.
/// </summary>
public sealed class TableDealStore(PrmTables tables, PartitionWriter writer, TimeProvider clock) : IDealStore
{
    public const string DealPrefix = "deal|";
    private const string IdempotencyPrefix = "idem|";
    internal const string StatsRow = "stats";
    internal const string ContributionPrefix = "contrib|";
    /// <summary>Stored JSON keeps non-ASCII text as is (escaped, a non-ASCII character takes six of the 32K characters a property may hold).</summary>
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    internal static string RowOf(string dealId) => DealPrefix + dealId[37..];

    public async Task<Versioned<Deal>?> GetAsync(string dealId, CancellationToken ct)
    {
        var partnerId = DealIds.PartnerOf(dealId);
        if (partnerId is null) return null;
        var found = await tables.Deals.GetEntityIfExistsAsync<TableEntity>(partnerId, RowOf(dealId), cancellationToken: ct);
        return found.HasValue ? new Versioned<Deal>(Read(found.Value!), found.Value!.ETag.ToString()) : null;
    }

    public async Task<string> CreateAsync(Deal deal, string? idempotencyHash, ChangeSet changes, CancellationToken ct)
    {
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Add, Entity(deal)) };
        if (idempotencyHash is not null) actions.Add(new(TableTransactionActionType.Add, new TableEntity(deal.PartnerId, IdempotencyPrefix + idempotencyHash) { ["DealId"] = deal.Id }));
        return (await writer.CommitAsync(tables.Deals, deal.PartnerId, actions, changes, ct))[0];
    }

    public async Task<string?> FindByIdempotencyAsync(string partnerId, string idempotencyHash, CancellationToken ct)
    {
        var found = await tables.Deals.GetEntityIfExistsAsync<TableEntity>(partnerId, IdempotencyPrefix + idempotencyHash, cancellationToken: ct);
        return found.HasValue ? found.Value!.GetString("DealId") : null;
    }

    public async Task<string> UpdateAsync(Deal deal, string etag, ChangeSet changes, CancellationToken ct) =>
        (await writer.CommitAsync(tables.Deals, deal.PartnerId, [new(TableTransactionActionType.UpdateReplace, Entity(deal), new Azure.ETag(etag))], changes, ct))[0];

    public async Task<Page<AuditEntry>> TimelineAsync(string dealId, PageRequest page, CancellationToken ct)
    {
        var partnerId = DealIds.PartnerOf(dealId)!;
        return await PrmTables.PageAsync(tables.Deals,
            TableClient.CreateQueryFilter($"PartitionKey eq {partnerId} and RowKey ge {OutboxRows.AuditPrefix} and RowKey lt {KeyEncoding.PrefixEnd(OutboxRows.AuditPrefix)} and SubjectId eq {dealId}"),
            page, OutboxRows.ReadAudit, ct);
    }

    public Task<Page<DealDto>> ListAsync(DealQuery query, PageRequest page, CancellationToken ct)
    {
        string filter;
        TableClient table;
        if (query.PartnerId is not null)
        {
            table = tables.Deals;
            filter = TableClient.CreateQueryFilter($"PartitionKey eq {query.PartnerId} and RowKey ge {DealPrefix} and RowKey lt {KeyEncoding.PrefixEnd(DealPrefix)}");
        }
        else
        {
            table = tables.DealIndex;
            filter = TableClient.CreateQueryFilter($"PartitionKey eq {(query.ChannelManagerId is null ? DealProjection.AllPartition : DealProjection.ManagerPartition(query.ChannelManagerId))}");
        }
        if (query.SubmittedBy is not null) filter += " and " + TableClient.CreateQueryFilter($"SubmittedBy eq {query.SubmittedBy}");
        if (query.Status is { } status) filter += " and " + TableClient.CreateQueryFilter($"Status eq {status.ToString()}");
        if (query.CustomerPrefix is { Length: > 0 } prefix) filter += " and " + TableClient.CreateQueryFilter($"NameKey ge {prefix} and NameKey lt {prefix + "\uffff"}");
        if (query.ExpiringBefore is { } before) filter += " and " + TableClient.CreateQueryFilter($"ProtectedUntil lt {before}");
        return query.PartnerId is not null
            ? PrmTables.PageAsync(table, filter, page, e => DealDto.From(Read(e), vendorView: true), ct)
            : PrmTables.PageAsync(table, filter, page, e => JsonSerializer.Deserialize<DealDto>(e.GetString("Body"), Json)!, ct);
    }

    public Task<IReadOnlyList<IndexedCustomer>> CandidatesAsync(string? domain, IReadOnlyList<string> blockingKeys, CancellationToken ct) =>
        ConflictBuckets.ReadAsync(tables.ConflictIndex, ConflictBuckets.Partitions(domain, blockingKeys), ct, tables.AbsentConflictBuckets);

    public async Task<bool> TryClaimAsync(string claimKey, string dealId, string partnerId, CancellationToken ct)
    {
        try
        {
            await tables.Keys.AddEntityAsync(new TableEntity(ClaimPartition(claimKey), ClaimPartition(claimKey)) { ["DealId"] = dealId, ["PartnerId"] = partnerId }, ct);
            return true;
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 409)
        {
            // Held: by this registration (a retry), by an active one (first come), or by one that ended or never committed
            // without releasing it (a failure between claim and commit) — that last kind is taken over, so a lost claim never
            // blocks a customer for good.
            return await TakeOverClaimAsync(claimKey, dealId, partnerId, ct);
        }
    }

    public async Task<string?> ClaimHolderAsync(string claimKey, CancellationToken ct)
    {
        var holder = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(ClaimPartition(claimKey), ClaimPartition(claimKey), cancellationToken: ct);
        return holder.HasValue ? holder.Value!.GetString("DealId") : null;
    }

    /// <summary>How long a claim is taken for its holder's without reading the holder (its commit may still be running).</summary>
    public static readonly TimeSpan UncommittedClaimGrace = TimeSpan.FromSeconds(60);

    public async Task<bool> TakeOverClaimAsync(string claimKey, string dealId, string partnerId, CancellationToken ct)
    {
        var partition = ClaimPartition(claimKey);
        try
        {
            // Someone claiming, releasing or taking it over meanwhile makes this one look again.
            return await ReadDecideCommit.RunAsync(async _ =>
            {
                var holder = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(partition, partition, cancellationToken: ct);
                if (!holder.HasValue)
                {
                    await tables.Keys.AddEntityAsync(new TableEntity(partition, partition) { ["DealId"] = dealId, ["PartnerId"] = partnerId }, ct);
                    return true;
                }
                var row = holder.Value!;
                var holderId = row.GetString("DealId");
                if (holderId == dealId) return true;
                // A recent claim is its holder's (committing or active): no read. An older one is checked against its registration.
                if (row.Timestamp is { } stamp && clock.GetUtcNow() - stamp < UncommittedClaimGrace) return false;
                var holderDeal = await GetAsync(holderId, ct);
                if (holderDeal?.Value.IsActive == true) return false;
                await tables.Keys.UpdateEntityAsync(new TableEntity(partition, partition) { ["DealId"] = dealId, ["PartnerId"] = partnerId }, row.ETag, TableUpdateMode.Replace, ct);
                return true;
            }, retryWhen: LostRace.IsConflictOrGone, ct: ct);
        }
        catch (Exception ex) when (LostRace.IsConflictOrGone(ex))
        {
            return false;
        }
    }

    public async Task ReleaseClaimAsync(string claimKey, string dealId, CancellationToken ct)
    {
        var holder = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(ClaimPartition(claimKey), ClaimPartition(claimKey), cancellationToken: ct);
        if (!holder.HasValue || holder.Value!.GetString("DealId") != dealId) return;
        try
        {
            await tables.Keys.DeleteEntityAsync(holder.Value.PartitionKey, holder.Value.RowKey, holder.Value.ETag, ct);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            // Released or taken over meanwhile.
        }
    }

    public async Task<DealStats> StatsAsync(string partnerId, CancellationToken ct)
    {
        // Within an outbox delivery, the counters the deal projection just committed or read (Outbox.DeliveryReads).
        if (Outbox.DeliveryReads.Current?.Noted<DealStats>(StatsKey(partnerId)) is { } noted) return noted;
        var found = await tables.Deals.GetEntityIfExistsAsync<TableEntity>(partnerId, StatsRow, cancellationToken: ct);
        return found.HasValue ? DealCounters.Read(partnerId, found.Value!) : DealCounters.Empty(partnerId);
    }

    /// <summary>The key under which a delivery notes a partner's deal counters (<see cref="Outbox.DeliveryReads.Note"/>).</summary>
    internal static string StatsKey(string partnerId) => "dealstats|" + partnerId;

    /// <summary>The key row of a customer claim (row key = partition key: see <see cref="ConflictBuckets.Row"/>).</summary>
    public static string ClaimPartition(string claimKey) => "claim:" + KeyEncoding.Encode(claimKey);

    /// <summary>The row of a registration in its partner's partition.</summary>
    public static TableEntity Entity(Deal d) => new(d.PartnerId, RowOf(d.Id))
    {
        ["DealId"] = d.Id,
        ["Status"] = d.Status.ToString(),
        ["SubmittedBy"] = d.SubmittedBy,
        ["NameKey"] = d.Customer.NameKey,
        ["ProtectedUntil"] = d.ProtectedUntil,
        ["CreatedAt"] = d.CreatedAt,
        ["Body"] = JsonSerializer.Serialize(d, Json),
    };

    internal static Deal Read(TableEntity e) => JsonSerializer.Deserialize<Deal>(e.GetString("Body"), Json)!;
}

/// <summary>The dashboard counters of a partner, kept exact by per-deal contribution rows (a redelivered event changes nothing).</summary>
internal static class DealCounters
{
    /// <summary>A deal's part of the counters; <see cref="WonMonth"/> (close month) and <see cref="ApprovedMonth"/> place it in the month buckets (null in rows written before them).</summary>
    public sealed record Contribution(bool Submitted, bool Approved, bool Won, bool Lost, bool Active, string Currency, decimal Pipeline, decimal WonValue, DateTimeOffset? WonAt, string? MdfRequestId, string Status, decimal Value,
        string? WonMonth = null, string? ApprovedMonth = null);

    public static Contribution Of(DealDto d) => new(
        d.SubmittedAt is not null, d.ApprovedAt is not null, d.Status == nameof(DealStatus.Won), d.Status == nameof(DealStatus.Lost),
        d.Status is nameof(DealStatus.UnderReview) or nameof(DealStatus.Approved),
        d.EstimatedValue.Currency,
        d.Status is nameof(DealStatus.UnderReview) or nameof(DealStatus.Approved) ? d.EstimatedValue.Amount : 0m,
        d.Status == nameof(DealStatus.Won) ? d.Outcome?.Amount?.Amount ?? d.EstimatedValue.Amount : 0m,
        d.Status == nameof(DealStatus.Won) ? d.Outcome?.RecordedAt : null,
        d.MdfRequestId, d.Status, d.EstimatedValue.Amount,
        d.Status == nameof(DealStatus.Won) ? Prm.Core.Tiers.TierRules.Month(d.Outcome?.CloseDate ?? DateOnly.FromDateTime((d.Outcome?.RecordedAt ?? d.UpdatedAt).UtcDateTime)) : null,
        d.ApprovedAt is { } approvedAt ? Prm.Core.Tiers.TierRules.Month(approvedAt.UtcDateTime) : null);

    /// <summary>The counters of a partner that has none yet.</summary>
    public static DealStats Empty(string partnerId) => new(partnerId, 0, 0, 0, 0, 0, new Dictionary<string, decimal>(), new Dictionary<string, decimal>());

    public static DealStats Read(string partnerId, TableEntity e) => new(partnerId,
        e.GetInt32("Submitted") ?? 0, e.GetInt32("Approved") ?? 0, e.GetInt32("Won") ?? 0, e.GetInt32("Lost") ?? 0, e.GetInt32("Active") ?? 0,
        JsonSerializer.Deserialize<Dictionary<string, decimal>>(e.GetString("Pipeline") ?? "{}")!, JsonSerializer.Deserialize<Dictionary<string, decimal>>(e.GetString("WonValue") ?? "{}")!,
        JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, decimal>>>(e.GetString("WonByMonth") ?? "{}")!.ToDictionary(m => m.Key, m => (IReadOnlyDictionary<string, decimal>)m.Value, StringComparer.Ordinal),
        JsonSerializer.Deserialize<Dictionary<string, int>>(e.GetString("ApprovedByMonth") ?? "{}")!);

    public static DealStats Apply(DealStats s, Contribution? before, Contribution after)
    {
        static int D(bool? old, bool now) => (now ? 1 : 0) - (old == true ? 1 : 0);
        var pipeline = new Dictionary<string, decimal>(s.PipelineValue);
        var won = new Dictionary<string, decimal>(s.WonValue);
        void Add(Dictionary<string, decimal> map, string currency, decimal delta)
        {
            if (delta == 0) return;
            var value = map.GetValueOrDefault(currency) + delta;
            if (value == 0) map.Remove(currency); else map[currency] = value;
        }
        if (before is not null)
        {
            Add(pipeline, before.Currency, -before.Pipeline);
            Add(won, before.Currency, -before.WonValue);
        }
        Add(pipeline, after.Currency, after.Pipeline);
        Add(won, after.Currency, after.WonValue);
        var wonByMonth = (s.WonByMonth ?? new Dictionary<string, IReadOnlyDictionary<string, decimal>>()).ToDictionary(m => m.Key, m => new Dictionary<string, decimal>(m.Value), StringComparer.Ordinal);
        var approvedByMonth = new Dictionary<string, int>(s.ApprovedByMonth ?? new Dictionary<string, int>(), StringComparer.Ordinal);
        void AddMonth(string? month, string currency, decimal delta)
        {
            if (month is null || delta == 0) return;
            if (!wonByMonth.TryGetValue(month, out var byCurrency)) wonByMonth[month] = byCurrency = new Dictionary<string, decimal>(StringComparer.Ordinal);
            Add(byCurrency, currency, delta);
            if (byCurrency.Count == 0) wonByMonth.Remove(month);
        }
        void CountMonth(string? month, int delta)
        {
            if (month is null || delta == 0) return;
            var value = approvedByMonth.GetValueOrDefault(month) + delta;
            if (value == 0) approvedByMonth.Remove(month); else approvedByMonth[month] = value;
        }
        if (before is not null)
        {
            AddMonth(before.WonMonth, before.Currency, -before.WonValue);
            if (before.Approved) CountMonth(before.ApprovedMonth, -1);
        }
        AddMonth(after.WonMonth, after.Currency, after.WonValue);
        if (after.Approved) CountMonth(after.ApprovedMonth, 1);
        return s with
        {
            Submitted = s.Submitted + D(before?.Submitted, after.Submitted),
            Approved = s.Approved + D(before?.Approved, after.Approved),
            Won = s.Won + D(before?.Won, after.Won),
            Lost = s.Lost + D(before?.Lost, after.Lost),
            Active = s.Active + D(before?.Active, after.Active),
            PipelineValue = pipeline,
            WonValue = won,
            WonByMonth = wonByMonth.ToDictionary(m => m.Key, m => (IReadOnlyDictionary<string, decimal>)m.Value, StringComparer.Ordinal),
            ApprovedByMonth = approvedByMonth,
        };
    }

    public static TableEntity Entity(DealStats s) => new(s.PartnerId, TableDealStore.StatsRow)
    {
        ["Submitted"] = s.Submitted, ["Approved"] = s.Approved, ["Won"] = s.Won, ["Lost"] = s.Lost, ["Active"] = s.Active,
        ["Pipeline"] = JsonSerializer.Serialize(s.PipelineValue), ["WonValue"] = JsonSerializer.Serialize(s.WonValue),
        ["WonByMonth"] = JsonSerializer.Serialize(s.WonByMonth ?? new Dictionary<string, IReadOnlyDictionary<string, decimal>>()),
        ["ApprovedByMonth"] = JsonSerializer.Serialize(s.ApprovedByMonth ?? new Dictionary<string, int>()),
    };
}
