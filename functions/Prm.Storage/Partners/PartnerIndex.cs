using Azure;
using Azure.Data.Tables;
using Prm.Core.Common;
using Prm.Core.Partners;

namespace Prm.Storage.Partners;

/// <summary>
/// The partner list index: one row per partner under "all" and one under its channel manager, keyed by name, so a list page
/// is one partition query whatever the number of partners. Refreshed after each commit and again from the outbox.
/// <para>
/// Refreshes of one partner can land out of order: an earlier commit's refresh that was slow, an outbox repair that read the partner
/// before a later commit, a write the storage client resent after its answer was lost. So every index write is monotonic in the
/// partner's <see cref="Partner.Revision"/>: a row is replaced only by a copy of a higher revision, If-Match the row read, and a row a
/// rename or owner change left behind is deleted only when it holds an older revision. A refresh that had to insert a row (a new
/// name or owner, or a row missing) reads the partner afterwards: when a later commit moved it meanwhile, the refresh deletes the
/// row it inserted unless the latest revision holds it now (even when another stale refresh replaced it meanwhile: whoever inserts a
/// row answers for it), so a stale refresh cannot leave a second row behind. A creation's own rows skip that read:
/// nobody can have moved the partner before its creation returned (the insert's answer being lost and resent 30 s later, after a
/// rename, is the one window left; the rename's outbox repair deletes the older row again).
/// </para>
/// </summary>
public sealed class PartnerIndex(PrmTables tables)
{
    public const string AllPartition = "all";

    /// <summary>How many times one row's write is tried again after another writer changed the row between its read and its write.</summary>
    private const int Attempts = 8;

    private readonly CoalescedUpserts writes = tables.Coalesced(tables.PartnerIndex);

    public static string OwnerPartition(string channelManagerId) => "cm:" + channelManagerId;

    public static string RowKey(string name, string partnerId) => Text.NameKey(name) + "|" + partnerId;

    /// <summary>
    /// Writes the partner's index rows, unless copies of a later revision are there already, and removes older rows its previous name or
    /// owner left behind. <paramref name="created"/>: the partner was just created, so its rows are inserted without a read first.
    /// </summary>
    public async Task RefreshAsync(Partner partner, string? previousName, string? previousChannelManagerId, CancellationToken ct, bool created = false,
        IndexRead? read = null)
    {
        var rowKey = RowKey(partner.Name, partner.Id);
        var rows = new List<TableEntity> { PartnerRows.ToEntity(partner, AllPartition, rowKey) };
        if (partner.ChannelManagerId is not null) rows.Add(PartnerRows.ToEntity(partner, OwnerPartition(partner.ChannelManagerId), rowKey));
        var oldKey = previousName is null ? rowKey : RowKey(previousName, partner.Id);
        var left = new List<(string Partition, string RowKey)>();
        if (oldKey != rowKey) left.Add((AllPartition, oldKey));
        if (previousChannelManagerId is not null && (previousChannelManagerId != partner.ChannelManagerId || oldKey != rowKey))
        {
            left.Add((OwnerPartition(previousChannelManagerId), oldKey));
        }
        // The owner's row and the "all" row side by side (only both current prove the refresh happened, see IsCurrentAsync), and the
        // rows left behind beside them: each is a different row.
        var writing = rows.Select(row => WriteAsync(row, partner.Revision, created, ct, read?.Of(row))).ToList();
        await Task.WhenAll(writing.Cast<Task>().Concat(left.Select(l => DeleteOlderAsync(l.Partition, l.RowKey, partner.Revision, ct))));
        var inserted = writing.Select(w => w.Result).Where(w => w is not null).Select(w => w!.Value).ToList();
        if (created || inserted.Count == 0) return;
        // A row this refresh inserted may belong to a name or owner a later commit already moved away from (its refresh found nothing
        // to delete then): the partner read after the insert says.
        var source = await tables.Partners.GetEntityIfExistsAsync<TableEntity>(partner.Id, PartnerRows.ProfileKey, ["Revision", "Name", "ChannelManagerId"], ct);
        var latest = source.HasValue ? source.Value!.GetInt64("Revision") ?? 0 : long.MaxValue;
        if (latest <= partner.Revision) return;
        var current = source.HasValue ? RowKey(source.Value!.GetString("Name"), partner.Id) : null;
        var currentOwner = source.HasValue && source.Value!.GetString("ChannelManagerId") is { } owner ? OwnerPartition(owner) : null;
        // The row this refresh inserted goes unless a copy of the latest revision holds it now, even when another stale refresh replaced
        // it meanwhile (that one found a row, so it does not check): whoever inserts a row answers for it.
        await Task.WhenAll(inserted
            .Where(i => i.RowKey != current || (i.Partition != AllPartition && i.Partition != currentOwner))
            .Select(i => DeleteOlderAsync(i.Partition, i.RowKey, latest, ct)));
    }

    /// <summary>
    /// Stores <paramref name="row"/> unless a copy of the same or a later revision is there. Returns the row's key when this write
    /// inserted it (the row was missing), null when it replaced an older copy or found a newer one.
    /// </summary>
    private async Task<(string Partition, string RowKey)?> WriteAsync(TableEntity row, long revision, bool insertFirst, CancellationToken ct,
        Task<NullableResponse<TableEntity>>? readBefore = null)
    {
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            if (insertFirst)
            {
                try
                {
                    await writes.SubmitAsync(new TableTransactionAction(TableTransactionActionType.Add, row), ct);
                    return (row.PartitionKey, row.RowKey);
                }
                catch (Azure.RequestFailedException ex) when (ex.Status == 409)
                {
                    // There already: compare revisions.
                }
            }
            // The first attempt may use the row as read beside the commit (any older state only costs a 412 and a read again).
            var stored = attempt == 0 && readBefore is not null && await Outcome(readBefore) is { } early
                ? early
                : await tables.PartnerIndex.GetEntityIfExistsAsync<TableEntity>(row.PartitionKey, row.RowKey, ["Revision"], ct);
            if (!stored.HasValue)
            {
                insertFirst = true;
                continue;
            }
            if ((stored.Value!.GetInt64("Revision") ?? 0) >= revision) return null;
            try
            {
                await writes.SubmitAsync(new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, stored.Value.ETag), ct);
                return null;
            }
            catch (Azure.RequestFailedException ex) when (ex.Status is 404 or 412)
            {
                // Written or removed by another refresh between the read and the write: read it again.
            }
            insertFirst = false;
        }
        throw new Azure.RequestFailedException(412, $"The partner index row {row.PartitionKey}/{row.RowKey} kept changing during {Attempts} attempts to write revision {revision}.");
    }

    private static async Task<NullableResponse<TableEntity>?> Outcome(Task<NullableResponse<TableEntity>> read)
    {
        try
        {
            return await read;
        }
        catch (Azure.RequestFailedException)
        {
            return null; // read again
        }
    }

    /// <summary>
    /// Starts reading the index rows a change of <paramref name="partner"/> (as it will be committed) writes, so they are read side by side
    /// with the commit instead of after it: the refresh's first attempt writes If-Match what this read.
    /// </summary>
    public IndexRead ReadRows(Partner partner)
    {
        var rowKey = RowKey(partner.Name, partner.Id);
        var partitions = partner.ChannelManagerId is null ? new[] { AllPartition } : [AllPartition, OwnerPartition(partner.ChannelManagerId)];
        return new IndexRead(rowKey, partitions.ToDictionary(p => p, p => tables.PartnerIndex.GetEntityIfExistsAsync<TableEntity>(p, rowKey, ["Revision"])));
    }

    /// <summary>Index rows read ahead of a refresh (<see cref="ReadRows"/>).</summary>
    public sealed class IndexRead
    {
        private readonly string rowKey;
        private readonly Dictionary<string, Task<NullableResponse<TableEntity>>> reads;

        internal IndexRead(string rowKey, Dictionary<string, Task<NullableResponse<TableEntity>>> reads)
        {
            this.rowKey = rowKey;
            this.reads = reads;
            // A commit that fails leaves its reads unawaited: observe their faults.
            foreach (var read in reads.Values) _ = read.ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
        }

        internal Task<NullableResponse<TableEntity>>? Of(TableEntity row) => row.RowKey == rowKey && reads.TryGetValue(row.PartitionKey, out var read) ? read : null;
    }

    /// <summary>Deletes a row a move left behind, unless it holds the same or a later revision (the partner moved back meanwhile).</summary>
    private async Task DeleteOlderAsync(string partition, string rowKey, long revision, CancellationToken ct)
    {
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var stored = await tables.PartnerIndex.GetEntityIfExistsAsync<TableEntity>(partition, rowKey, ["Revision"], ct);
            if (!stored.HasValue || (stored.Value!.GetInt64("Revision") ?? 0) >= revision) return;
            try
            {
                await writes.SubmitAsync(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partition, rowKey), stored.Value.ETag), ct);
                return;
            }
            catch (Azure.RequestFailedException ex) when (ex.Status is 404 or 412)
            {
                // Changed between the read and the delete: read it again.
            }
        }
        throw new Azure.RequestFailedException(412, $"The partner index row {partition}/{rowKey} kept changing during {Attempts} attempts to delete it.");
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
