using System.Globalization;
using Azure.Data.Tables;
using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Core.Mdf;

namespace Prm.Storage.Deals;

/// <summary>
/// MDF attribution from the deal counters' contribution rows (one per deal in the partner's partition): the deals that name an MDF request,
/// and the won value of a period (co-op accrual). Deals in another currency than the budget's are not converted and not counted.
/// </summary>
public sealed class TableMdfAttribution(PrmTables tables) : IMdfAttribution
{
    public async Task<IReadOnlyList<AttributedDeal>> DealsForRequestAsync(string partnerId, string mdfRequestId, string currency, CancellationToken ct)
    {
        var deals = new List<AttributedDeal>();
        await foreach (var row in Rows(partnerId, TableClient.CreateQueryFilter($"MdfRequestId eq {mdfRequestId}"), ct))
        {
            if (row.GetString("Currency") != currency) continue;
            var status = row.GetString("Status") switch
            {
                nameof(DealStatus.Won) => AttributedDealStatus.Won,
                nameof(DealStatus.Lost) => AttributedDealStatus.Lost,
                nameof(DealStatus.Rejected) => AttributedDealStatus.Rejected,
                nameof(DealStatus.Expired) or nameof(DealStatus.Withdrawn) => AttributedDealStatus.Expired,
                _ => AttributedDealStatus.Open,
            };
            var value = status == AttributedDealStatus.Won ? Amount(row, "WonValueText") : Amount(row, "ValueText");
            deals.Add(new AttributedDeal(status, new Money(value, currency)));
        }
        return deals;
    }

    public async Task<Money> WonValueAsync(string partnerId, FiscalPeriod period, string currency, CancellationToken ct)
    {
        var from = new DateTimeOffset(period.Start.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var to = new DateTimeOffset(period.End.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var total = 0m;
        await foreach (var row in Rows(partnerId, TableClient.CreateQueryFilter($"Status eq {nameof(DealStatus.Won)} and WonAt ge {from} and WonAt lt {to}"), ct))
        {
            if (row.GetString("Currency") == currency) total += Amount(row, "WonValueText");
        }
        return new Money(total, currency).Round();
    }

    private IAsyncEnumerable<TableEntity> Rows(string partnerId, string filter, CancellationToken ct) =>
        tables.Deals.QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {partnerId} and RowKey ge {TableDealStore.ContributionPrefix} and RowKey lt {KeyEncoding.PrefixEnd(TableDealStore.ContributionPrefix)}") + " and " + filter,
            cancellationToken: ct);

    private static decimal Amount(TableEntity row, string column) => decimal.Parse(row.GetString(column) ?? "0", NumberStyles.Number, CultureInfo.InvariantCulture);
}
