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
/// partner's <see cref="Partner.Revision"/>: a row is replaced only by a copy of a higher revision, If-Match the row read. A row a
/// rename or owner move leaves is not deleted but retired: replaced by a tombstone of the moving revision (<c>Gone</c>), or one
/// inserted when the row is not there yet, so an older copy that lands later (a creation's own insert, still queued when the new
/// partner was renamed; a stale refresh) meets the tombstone and stays out. Lists skip tombstones; a move back replaces its tombstone
/// with the row. Tombstones stay (one per old name or owner of a partner), so no read or write can bring a retired row back.
/// </para>
/// </summary>
public sealed class PartnerIndex(PrmTables tables)
{
    public const string AllPartition = "all";

    /// <summary>
    /// How many times one row's write is tried again after another writer changed the row between its read and its write. Each refusal
    /// means another refresh stored a higher revision (or retired the row), so it takes as many concurrent refreshes of one partner.
    /// </summary>
    private const int Attempts = 16;

    private readonly CoalescedUpserts writes = tables.Coalesced(tables.PartnerIndex);

    public static string OwnerPartition(string channelManagerId) => "cm:" + channelManagerId;

    public static string RowKey(string name, string partnerId) => Text.NameKey(name) + "|" + partnerId;

    /// <summary>
    /// Writes the partner's index rows, unless copies of a later revision are there already, and removes older rows its previous name or
    /// owner left behind (<see cref="RetireAsync"/>). <paramref name="created"/>: the partner was just created, so its rows are
    /// inserted without a read first.
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
        // The owner's row and the "all" row side by side, and the rows left behind beside them: each is a different row.
        await Task.WhenAll(rows.Select(row => WriteAsync(row, partner.Revision, created, ct, read?.Of(row)))
            .Concat(left.Select(l => RetireAsync(l.Partition, l.RowKey, partner.Id, partner.Revision, ct))));
    }

    /// <summary>
    /// Stores <paramref name="row"/> unless a copy or tombstone of the same or a later revision is there.
    /// </summary>
    private async Task WriteAsync(TableEntity row, long revision, bool insertFirst, CancellationToken ct,
        Task<NullableResponse<TableEntity>>? readBefore = null)
    {
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            if (insertFirst)
            {
                try
                {
                    await writes.SubmitAsync(new TableTransactionAction(TableTransactionActionType.Add, row), ct);
                    return;
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
            // A copy (or a tombstone) of the same or a later revision: this one is older, or the same (its own resent insert).
            if ((stored.Value!.GetInt64("Revision") ?? 0) >= revision) return;
            try
            {
                await writes.SubmitAsync(new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, stored.Value.ETag), ct);
                return;
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
        catch (Exception ex) when (ex is not OperationCanceledException)
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

    /// <summary>
    /// Retires a row a move left behind: a tombstone of <paramref name="revision"/> replaces it (If-Match), or is inserted when the row is
    /// not there (yet), unless the row holds the same or a later revision (the partner moved back meanwhile).
    /// </summary>
    private async Task RetireAsync(string partition, string rowKey, string partnerId, long revision, CancellationToken ct)
    {
        var tombstone = new TableEntity(partition, rowKey) { ["PartnerId"] = partnerId, ["Revision"] = revision, [GoneColumn] = true };
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var stored = await tables.PartnerIndex.GetEntityIfExistsAsync<TableEntity>(partition, rowKey, ["Revision"], ct);
            try
            {
                if (!stored.HasValue)
                {
                    await writes.SubmitAsync(new TableTransactionAction(TableTransactionActionType.Add, tombstone), ct);
                    return;
                }
                if ((stored.Value!.GetInt64("Revision") ?? 0) >= revision) return;
                await writes.SubmitAsync(new TableTransactionAction(TableTransactionActionType.UpdateReplace, tombstone, stored.Value.ETag), ct);
                return;
            }
            catch (Azure.RequestFailedException ex) when (ex.Status is 404 or 409 or 412)
            {
                // Changed between the read and the write: read it again.
            }
        }
        throw new Azure.RequestFailedException(412, $"The partner index row {partition}/{rowKey} kept changing during {Attempts} attempts to retire it.");
    }

    /// <summary>The column of a tombstone (<see cref="RetireAsync"/>): true; lists skip such rows.</summary>
    public const string GoneColumn = "Gone";

    /// <summary>Whether an index row is a tombstone.</summary>
    public static bool IsGone(TableEntity row) => row.TryGetValue(GoneColumn, out var gone) && gone is true;

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
        return PrmTables.PageAsync(tables.PartnerIndex, string.Join(" and ", filters), page, PartnerRows.ReadPartner, ct, keep: row => !IsGone(row));
    }
}
