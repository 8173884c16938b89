using Prm.Core.Common;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Prm.Core.Deals;
using Prm.Core.Outbox;

namespace Prm.Storage.Deals;

/// <summary>
/// Keeps the read side of deals from the outbox (at least once, idempotent): the vendor list index (all, per channel manager), the
/// conflict index rows of the registration (its domain and name blocking keys) and the partner's dashboard counters.
/// </summary>
public sealed class DealProjection(PrmTables tables, ILogger<DealProjection> log) : IOutboxProjection
{
    public const string AllPartition = "all";

    public static string ManagerPartition(string channelManagerId) => "cm:" + channelManagerId;

    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (e.Type == Prm.Core.Partners.PartnerEvents.UpdatedType)
        {
            await MoveToNewManagerAsync(e.Data.Deserialize<Prm.Core.Partners.PartnerEvents.PartnerData>(OutboxJson.Options)!, ct);
            return;
        }
        if (!e.Type.StartsWith("deal.", StringComparison.Ordinal)) return;
        var data = e.Data.Deserialize<DealEvents.DealData>(OutboxJson.Options)!;
        if (!data.Latest) return; // a later event of the same commit carries the same registration
        var deal = data.Deal;
        if (deal.Status == nameof(DealStatus.Draft)) return; // drafts are the partner's own until submitted
        var rowKey = deal.Id[37..53] + "|" + deal.Id;
        var body = JsonSerializer.Serialize(deal, TableDealStore.Json);
        TableEntity IndexRow(string partition) => new(partition, rowKey)
        {
            ["DealId"] = deal.Id, ["PartnerId"] = deal.PartnerId, ["Status"] = deal.Status, ["SubmittedBy"] = deal.SubmittedBy, ["NameKey"] = data.NameKey,
            ["ProtectedUntil"] = deal.ProtectedUntil, ["Body"] = body,
            // The home's review inbox finds pending extension requests by this column (rows written before it lack it until the deal changes).
            ["ExtensionPending"] = deal.Extensions.Any(x => x.Status == "Pending"),
        };
        // The list rows go coalesced per partition: every registration of the program writes the "all" partition, so under load the
        // writes that queue while one is in flight go together in one transaction.
        var index = tables.Coalesced(tables.DealIndex);
        var writes = new List<Task> { index.UpsertAsync(IndexRow(AllPartition), ct) };
        if (data.ChannelManagerId is not null) writes.Add(index.UpsertAsync(IndexRow(ManagerPartition(data.ChannelManagerId)), ct));
        writes.Add(ConflictBuckets.PutAsync(tables.ConflictIndex, ConflictBuckets.Partitions(deal.Customer.Domain, data.BlockingKeys), ConflictBuckets.Entry(deal) with { N = data.NameKey }, ct, tables.AbsentConflictBuckets));
        writes.Add(CountAsync(deal, ct));
        await Task.WhenAll(writes);
    }

    /// <summary>A partner got another channel manager: its rows in the previous manager's list move to the new one's (idempotent).</summary>
    private async Task MoveToNewManagerAsync(Prm.Core.Partners.PartnerEvents.PartnerData data, CancellationToken ct)
    {
        var previous = data.PreviousChannelManagerId;
        var current = data.Partner.ChannelManagerId;
        if (previous is null || previous == current) return;
        var rows = new List<TableEntity>();
        await foreach (var row in tables.DealIndex.QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {ManagerPartition(previous)} and PartnerId eq {data.Partner.Id}"), cancellationToken: ct)) rows.Add(row);
        foreach (var row in rows)
        {
            if (current is not null)
            {
                var moved = new TableEntity(row) { PartitionKey = ManagerPartition(current), ETag = default };
                await tables.DealIndex.UpsertEntityAsync(moved, TableUpdateMode.Replace, ct);
            }
            await tables.DealIndex.DeleteEntityAsync(row.PartitionKey, row.RowKey, Azure.ETag.All, ct);
        }
    }

    /// <summary>The partners' counter rows and the deals' contributions as this process last read or wrote them (a guess checked by If-Match: see <see cref="KnownRows"/>).</summary>
    private readonly KnownRows known = new();

    /// <summary>
    /// Applies the change of this deal's contribution to the counters, in one transaction with the contribution row. A first submission
    /// whose partner's counters this process knows inserts its contribution without a read, and a later change (a decision) of a
    /// contribution it knows replaces it If-Match without a read (a refused write reads as usual). The
    /// counters as committed or read are noted for the tier evaluation of the same delivery.
    /// </summary>
    private async Task CountAsync(DealDto deal, CancellationToken ct)
    {
        var contributionRow = TableDealStore.ContributionPrefix + deal.Id[37..];
        var after = DealCounters.Of(deal);
        // A first submission inserts its contribution; a later change of a contribution this process knows replaces it If-Match (when
        // the known row says the change is new: a redelivery or an older event reads and decides from what is stored).
        var first = deal.IsFirstSubmission();
        var knownContribution = first ? null : known.Get(deal.PartnerId, contributionRow);
        if ((first || knownContribution is not null && !Counted(knownContribution, deal, after)) && known.Get(deal.PartnerId, TableDealStore.StatsRow) is { } knownStats)
        {
            try
            {
                await CommitCountAsync(deal, contributionRow, knownContribution, after, knownStats, ct);
                return;
            }
            catch (Exception ex) when (LostRace.IsConflictOrGone(ex))
            {
                // Counted already (a redelivery), or the counters or the contribution moved or went: read them.
                known.Forget(deal.PartnerId, TableDealStore.StatsRow);
                known.Forget(deal.PartnerId, contributionRow);
            }
        }
        try
        {
            // Another event of this partner counting at the same moment: read again, after a short random pause.
            await ReadDecideCommit.RunAsync(async _ =>
            {
                var reads = await Task.WhenAll(
                    tables.Deals.GetEntityIfExistsAsync<TableEntity>(deal.PartnerId, TableDealStore.StatsRow, cancellationToken: ct),
                    tables.Deals.GetEntityIfExistsAsync<TableEntity>(deal.PartnerId, contributionRow, cancellationToken: ct));
                var stats = reads[0].HasValue ? reads[0].Value : null;
                var contribution = reads[1].HasValue ? reads[1].Value : null;
                if (stats is not null) known.Remember(stats, stats.ETag);
                if (contribution is not null) known.Remember(contribution, contribution.ETag);
                if (contribution is not null && Counted(contribution, deal, after))
                {
                    // An older event delivered late, or a redelivery: the counters stand as read.
                    Outbox.DeliveryReads.Current?.Note(TableDealStore.StatsKey(deal.PartnerId), Read(deal.PartnerId, stats));
                    return;
                }
                await CommitCountAsync(deal, contributionRow, contribution, after, stats, ct);
            }, attempts: 10, ReadDecideCommit.Jitter(25), LostRace.IsConflict, ct);
        }
        catch (Exception ex) when (LostRace.IsConflict(ex))
        {
            log.LogWarning("Deal counters of partner {PartnerId} stayed contended; the event of deal {DealId} is retried", deal.PartnerId, deal.Id);
            throw new TransientDeliveryException("The partner's deal counters stayed contended.", TimeSpan.FromSeconds(2));
        }
    }

    /// <summary>Whether a stored contribution already counts this event: it is of a later event (this one came late), or equal (a redelivery).</summary>
    private static bool Counted(TableEntity contribution, DealDto deal, DealCounters.Contribution after) =>
        contribution.GetInt64("Version") > deal.UpdatedAt.UtcTicks || JsonSerializer.Deserialize<DealCounters.Contribution>(contribution.GetString("Body")) == after;

    /// <summary>The contribution (inserted, or replaced If-Match) and the counters moved by its change (If-Match), in one transaction.</summary>
    private async Task CommitCountAsync(DealDto deal, string contributionRow, TableEntity? contribution, DealCounters.Contribution after, TableEntity? stats, CancellationToken ct)
    {
        var before = contribution is null ? null : JsonSerializer.Deserialize<DealCounters.Contribution>(contribution.GetString("Body"));
        var next = DealCounters.Entity(DealCounters.Apply(Read(deal.PartnerId, stats), before, after));
        var row = new TableEntity(deal.PartnerId, contributionRow)
        {
            ["Body"] = JsonSerializer.Serialize(after), ["Version"] = deal.UpdatedAt.UtcTicks, ["Status"] = after.Status, ["MdfRequestId"] = after.MdfRequestId, ["WonAt"] = after.WonAt,
            ["Currency"] = after.Currency, ["WonValue"] = (double)after.WonValue, ["WonValueText"] = after.WonValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ValueText"] = after.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var actions = new List<TableTransactionAction>
        {
            contribution is null ? new(TableTransactionActionType.Add, row) : new(TableTransactionActionType.UpdateReplace, row, contribution.ETag),
            stats is null ? new(TableTransactionActionType.Add, next) : new(TableTransactionActionType.UpdateReplace, next, stats.ETag),
        };
        var answers = await tables.Deals.SubmitTransactionAsync(actions, ct);
        known.RememberCommitted(actions, answers.Value, _ => true);
        Outbox.DeliveryReads.Current?.Note(TableDealStore.StatsKey(deal.PartnerId), DealCounters.Read(deal.PartnerId, next));
    }

    private static Prm.Core.Deals.DealStats Read(string partnerId, TableEntity? stats) => stats is null
        ? DealCounters.Empty(partnerId)
        : DealCounters.Read(partnerId, stats);
}

/// <summary>The product line catalog (partition "productline" of the catalog table).</summary>
public sealed class TableProductLineStore(PrmTables tables) : IProductLineStore
{
    private const string Partition = "productline";

    public async Task<IReadOnlyList<ProductLine>> ListAsync(CancellationToken ct)
    {
        var lines = new List<ProductLine>();
        await foreach (var e in tables.Catalog.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition}"), cancellationToken: ct)) lines.Add(Read(e));
        return lines;
    }

    public async Task<Prm.Core.Common.Versioned<ProductLine>?> GetAsync(string id, CancellationToken ct)
    {
        var found = await tables.Catalog.GetEntityIfExistsAsync<TableEntity>(Partition, id, cancellationToken: ct);
        return found.HasValue ? new Prm.Core.Common.Versioned<ProductLine>(Read(found.Value!), found.Value!.ETag.ToString()) : null;
    }

    public async Task<string> CreateAsync(ProductLine line, CancellationToken ct)
    {
        try
        {
            return (await tables.Catalog.AddEntityAsync(Entity(line), ct)).Headers.ETag?.ToString() ?? "";
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 409)
        {
            throw new Prm.Core.Common.ConflictException($"A product line with id '{line.Id}' exists already.", "id");
        }
    }

    public async Task<string> UpdateAsync(ProductLine line, string etag, CancellationToken ct)
    {
        try
        {
            return (await tables.Catalog.UpdateEntityAsync(Entity(line), new Azure.ETag(etag), TableUpdateMode.Replace, ct)).Headers.ETag?.ToString() ?? "";
        }
        catch (Azure.RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            throw new Prm.Core.Common.PreconditionFailedException("The product line was changed since you read it; read it again and retry.");
        }
    }

    private static TableEntity Entity(ProductLine l) => new(Partition, l.Id) { ["Name"] = l.Name, ["Active"] = l.Active };

    private static ProductLine Read(TableEntity e) => new(e.RowKey, e.GetString("Name"), e.GetBoolean("Active") ?? true);
}

/// <summary>House accounts (partition "house" of the catalog table) and their conflict index rows, written with them.</summary>
public sealed class TableHouseAccountStore(PrmTables tables) : IHouseAccountStore
{
    private const string Partition = "house";

    public async Task<IReadOnlyList<HouseAccount>> ListAsync(CancellationToken ct)
    {
        var list = new List<HouseAccount>();
        await foreach (var e in tables.Catalog.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition}"), cancellationToken: ct)) list.Add(Read(e));
        return list;
    }

    public async Task<Prm.Core.Common.Versioned<HouseAccount>?> GetAsync(string id, CancellationToken ct)
    {
        var found = await tables.Catalog.GetEntityIfExistsAsync<TableEntity>(Partition, id, cancellationToken: ct);
        return found.HasValue ? new Prm.Core.Common.Versioned<HouseAccount>(Read(found.Value!), found.Value!.ETag.ToString()) : null;
    }

    public async Task<string> SaveAsync(HouseAccount account, HouseAccount? before, string? etag, CancellationToken ct)
    {
        var entity = new TableEntity(Partition, account.Id) { ["Body"] = JsonSerializer.Serialize(account, TableDealStore.Json) };
        string result;
        try
        {
            result = etag is null
                ? (await tables.Catalog.AddEntityAsync(entity, ct)).Headers.ETag?.ToString() ?? ""
                : (await tables.Catalog.UpdateEntityAsync(entity, new Azure.ETag(etag), TableUpdateMode.Replace, ct)).Headers.ETag?.ToString() ?? "";
        }
        catch (Azure.RequestFailedException ex) when (ex.Status is 412 or 404 or 409)
        {
            // The storage client resends a write whose answer was lost; the resend meets the row the first send stored. The same body
            // under the key is this write's own (a new account's id is fresh).
            var stored = await tables.Catalog.GetEntityIfExistsAsync<TableEntity>(Partition, account.Id, cancellationToken: ct);
            if (!(stored.HasValue && stored.Value!.GetString("Body") == entity.GetString("Body")))
            {
                if (ex.Status == 409) throw new Prm.Core.Common.ConflictException("A house account with this id exists already.");
                throw new Prm.Core.Common.PreconditionFailedException("The house account was changed since you read it; read it again and retry.");
            }
            result = stored.Value.ETag.ToString();
        }
        if (before is not null) await IndexAsync(before, "Deleted", ct);
        await IndexAsync(account, "Active", ct);
        return result;
    }

    public async Task DeleteAsync(HouseAccount account, string etag, CancellationToken ct)
    {
        try
        {
            await tables.Catalog.DeleteEntityAsync(Partition, account.Id, new Azure.ETag(etag), ct);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status is 412)
        {
            throw new Prm.Core.Common.PreconditionFailedException("The house account was changed since you read it; read it again and retry.");
        }
        await IndexAsync(account, "Deleted", ct);
    }

    private Task IndexAsync(HouseAccount h, string status, CancellationToken ct) =>
        ConflictBuckets.PutAsync(tables.ConflictIndex, ConflictBuckets.Partitions(h.Domain, h.BlockingKeys), ConflictBuckets.Entry(h, deleted: status != "Active"), ct);

    private static HouseAccount Read(TableEntity e) => JsonSerializer.Deserialize<HouseAccount>(e.GetString("Body"), TableDealStore.Json)!;
}
