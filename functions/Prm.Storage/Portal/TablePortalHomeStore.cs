using System.Text.Json;
using Azure.Data.Tables;
using Prm.Core.Deals;
using Prm.Core.Partners;
using Prm.Core.Portal;
using Prm.Core.Tiers;
using Prm.Storage.Deals;
using Prm.Storage.Partners;

namespace Prm.Storage.Portal;

/// <summary>
/// The portal home's reads on Table Storage, each one query of a partition the modules already keep: the partner's partition of the
/// partners table (profile, tier record "tier|state", certification index "tier|certs", users "user|…", and the home visit rows
/// "visit|{userId}" this adapter writes), the partner's partition of the deals table (registrations and the counters row "stats"), and
/// the vendor deal index ("all" or "cm:{id}") and the partner's MDF budget index ("budgets:{partnerId}").
/// </summary>
public sealed class TablePortalHomeStore(PrmTables tables) : IPortalHomeStore
{
    internal const string VisitPrefix = "visit|";

    public async Task<PartnerHomeRows> PartnerRowsAsync(string partnerId, string userId, bool withUsers, CancellationToken ct)
    {
        var rows = TableClient.CreateQueryFilter($"RowKey eq {PartnerRows.ProfileKey} or RowKey eq {Tiers.TableTierStore.StateRow} or RowKey eq {Tiers.TableTierStore.CertsRow} or RowKey eq {VisitPrefix + userId}");
        if (withUsers) rows += " or " + TableClient.CreateQueryFilter($"(RowKey ge {PartnerRows.UserPrefix} and RowKey lt {KeyEncoding.PrefixEnd(PartnerRows.UserPrefix)})");
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partnerId}") + " and (" + rows + ")";
        Partner? partner = null;
        PartnerTierState? tier = null;
        CertificationFacts? certs = null;
        DateTimeOffset? lastVisit = null;
        var users = new List<PartnerUser>();
        var truncated = false;
        await foreach (var page in tables.Partners.QueryAsync<TableEntity>(filter, maxPerPage: 1000, cancellationToken: ct).AsPages(pageSizeHint: 1000))
        {
            foreach (var e in page.Values)
            {
                if (e.RowKey == PartnerRows.ProfileKey) partner = PartnerRows.ReadPartner(e);
                else if (e.RowKey == Tiers.TableTierStore.StateRow) tier = Training.TableTrainingStore.Read<PartnerTierState>(e);
                else if (e.RowKey == Tiers.TableTierStore.CertsRow) certs = Training.TableTrainingStore.Read<CertificationFacts>(e);
                else if (e.RowKey.StartsWith(VisitPrefix, StringComparison.Ordinal)) lastVisit = e.GetDateTimeOffset("At");
                else if (e.RowKey.StartsWith(PartnerRows.UserPrefix, StringComparison.Ordinal)) users.Add(PartnerRows.ReadUser(e));
            }
            // One round trip: the users of a partner beyond one page are not the home's to list (the team route pages them).
            truncated = page.ContinuationToken is not null;
            break;
        }
        return new PartnerHomeRows(partner, tier, certs, users, lastVisit, truncated);
    }

    public async Task<PartnerHomeDeals> PartnerDealsAsync(string partnerId, string? submittedBy, IReadOnlyList<DealStatus> statuses, bool withStats, int max, CancellationToken ct)
    {
        var deals = TableClient.CreateQueryFilter($"RowKey ge {TableDealStore.DealPrefix} and RowKey lt {KeyEncoding.PrefixEnd(TableDealStore.DealPrefix)}")
            + " and (" + string.Join(" or ", statuses.Select(s => TableClient.CreateQueryFilter($"Status eq {s.ToString()}"))) + ")";
        if (submittedBy is not null) deals += " and " + TableClient.CreateQueryFilter($"SubmittedBy eq {submittedBy}");
        var rows = "(" + deals + ")";
        if (withStats) rows += " or " + TableClient.CreateQueryFilter($"RowKey eq {TableDealStore.StatsRow}");
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partnerId}") + " and (" + rows + ")";
        var list = new List<Deal>();
        DealStats? stats = null;
        var truncated = false;
        await foreach (var page in tables.Deals.QueryAsync<TableEntity>(filter, maxPerPage: max, cancellationToken: ct).AsPages(pageSizeHint: max))
        {
            foreach (var e in page.Values)
            {
                if (e.RowKey == TableDealStore.StatsRow) stats = DealCounters.Read(partnerId, e);
                else list.Add(TableDealStore.Read(e));
            }
            truncated = page.ContinuationToken is not null;
            break;
        }
        if (withStats) stats ??= Deals.DealCounters.Empty(partnerId);
        return new PartnerHomeDeals(list, stats, truncated);
    }

    public async Task<VendorHomeDeals> VendorDealsAsync(string? channelManagerId, DateTimeOffset protectionEndsBefore, int max, CancellationToken ct)
    {
        var partition = channelManagerId is null ? DealProjection.AllPartition : DealProjection.ManagerPartition(channelManagerId);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition}") + " and ("
            + TableClient.CreateQueryFilter($"Status eq {nameof(DealStatus.UnderReview)}") + " or ("
            + TableClient.CreateQueryFilter($"Status eq {nameof(DealStatus.Approved)}") + " and ("
            + TableClient.CreateQueryFilter($"ExtensionPending eq {true} or ProtectedUntil lt {protectionEndsBefore}") + ")))";
        var list = new List<DealDto>();
        var truncated = false;
        await foreach (var page in tables.DealIndex.QueryAsync<TableEntity>(filter, maxPerPage: max, cancellationToken: ct).AsPages(pageSizeHint: max))
        {
            list.AddRange(page.Values.Select(e => JsonSerializer.Deserialize<DealDto>(e.GetString("Body"), TableDealStore.Json)!));
            truncated = page.ContinuationToken is not null;
            break;
        }
        return new VendorHomeDeals(list, truncated);
    }

    public async Task<IReadOnlyList<string>> BudgetIdsAsync(string partnerId, IReadOnlyList<string> periods, CancellationToken ct)
    {
        // Rows "{period}|{budgetId}" of the partition "budgets:{partnerId}" (the MDF store's budget index).
        var ranges = string.Join(" or ", periods.Select(p => TableClient.CreateQueryFilter($"(RowKey ge {p + "|"} and RowKey lt {p + "}"})")));
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {"budgets:" + partnerId}") + " and (" + ranges + ")";
        var ids = new List<string>();
        await foreach (var row in tables.MdfIndex.QueryAsync<TableEntity>(filter, select: ["BudgetId"], cancellationToken: ct)) ids.Add(row.GetString("BudgetId"));
        return ids;
    }

    public Task RecordVisitAsync(string partnerId, string userId, DateTimeOffset at, CancellationToken ct) =>
        tables.Partners.UpsertEntityAsync(new TableEntity(partnerId, VisitPrefix + userId) { ["At"] = at }, TableUpdateMode.Replace, ct);
}
