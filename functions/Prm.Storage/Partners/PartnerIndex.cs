using Azure.Data.Tables;
using Prm.Core.Common;
using Prm.Core.Partners;

namespace Prm.Storage.Partners;

/// <summary>
/// The partner list index: one row per partner under "all" and one under its channel manager, keyed by name, so a list page
/// is one partition query whatever the number of partners. Refreshed after each commit and again from the outbox.
/// </summary>
public sealed class PartnerIndex(PrmTables tables)
{
    public const string AllPartition = "all";

    private readonly CoalescedUpserts upserts = tables.Coalesced(tables.PartnerIndex);

    public static string OwnerPartition(string channelManagerId) => "cm:" + channelManagerId;

    public static string RowKey(string name, string partnerId) => Text.NameKey(name) + "|" + partnerId;

    /// <summary>Writes the partner's index rows and removes those its previous name or owner left behind.</summary>
    public async Task RefreshAsync(Partner partner, string? previousName, string? previousChannelManagerId, CancellationToken ct)
    {
        var rowKey = RowKey(partner.Name, partner.Id);
        // The owner's row and the "all" row side by side: only both current prove the refresh happened (see IsCurrentAsync).
        await Task.WhenAll(
            partner.ChannelManagerId is null ? Task.CompletedTask : upserts.UpsertAsync(PartnerRows.ToEntity(partner, OwnerPartition(partner.ChannelManagerId), rowKey), ct),
            upserts.UpsertAsync(PartnerRows.ToEntity(partner, AllPartition, rowKey), ct));
        var oldKey = previousName is null ? rowKey : RowKey(previousName, partner.Id);
        if (oldKey != rowKey)
        {
            await tables.PartnerIndex.DeleteEntityAsync(AllPartition, oldKey, Azure.ETag.All, ct);
        }
        if (previousChannelManagerId is not null && (previousChannelManagerId != partner.ChannelManagerId || oldKey != rowKey))
        {
            await tables.PartnerIndex.DeleteEntityAsync(OwnerPartition(previousChannelManagerId), oldKey, Azure.ETag.All, ct);
        }
    }

    /// <summary>
    /// True when the partner's "all" index row and its owner's row (with an owner) exist and reflect a change at least as recent as
    /// <paramref name="updatedAt"/> (both are read side by side: a refresh writes them side by side).
    /// </summary>
    public async Task<bool> IsCurrentAsync(string partnerId, string name, string? channelManagerId, DateTimeOffset updatedAt, CancellationToken ct)
    {
        async Task<bool> CurrentAsync(string partition)
        {
            var row = await tables.PartnerIndex.GetEntityIfExistsAsync<TableEntity>(partition, RowKey(name, partnerId), ["UpdatedAt"], ct);
            return row.HasValue && row.Value!.GetDateTimeOffset("UpdatedAt") >= updatedAt;
        }
        var all = CurrentAsync(AllPartition);
        var owner = channelManagerId is null ? Task.FromResult(true) : CurrentAsync(OwnerPartition(channelManagerId));
        return await all && await owner;
    }

    public Task<Prm.Core.Common.Page<Partner>> ListAsync(PartnerQuery query, PageRequest page, CancellationToken ct)
    {
        var partition = query.ChannelManagerId is null ? AllPartition : OwnerPartition(query.ChannelManagerId);
        var filters = new List<string> { TableClient.CreateQueryFilter($"PartitionKey eq {partition}") };
        if (query.NamePrefix is { Length: > 0 } prefix)
        {
            filters.Add(TableClient.CreateQueryFilter($"RowKey ge {prefix} and RowKey lt {KeyEncoding.PrefixEnd(prefix)}"));
        }
        if (query.Status is { } status) filters.Add(TableClient.CreateQueryFilter($"Status eq {status.ToString()}"));
        if (query.Tier is { } tier) filters.Add(TableClient.CreateQueryFilter($"Tier eq {tier.ToString()}"));
        if (query.Region is { } region) filters.Add(TableClient.CreateQueryFilter($"Region eq {region}"));
        return PrmTables.PageAsync(tables.PartnerIndex, string.Join(" and ", filters), page, PartnerRows.ReadPartner, ct);
    }
}
