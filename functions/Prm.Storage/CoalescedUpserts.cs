using Azure.Data.Tables;

namespace Prm.Storage;

/// <summary>
/// Replace-upserts into a table, coalesced per partition: a row written while a write of its partition is in flight waits for it and
/// goes with the others that queued meanwhile in one transaction (up to <see cref="PartitionWriter.MaxActions"/> rows), so many
/// concurrent writers of one hot partition (a bulk import refreshing the list index of a thousand partners) cost a transaction per batch
/// instead of a round trip each. A row written alone goes at once, so a single request waits no longer than before. Each caller's task
/// completes when its own row is stored, or fails with the error of the write that carried it.
/// </summary>
public sealed class CoalescedUpserts(TableClient table)
{
    private sealed record Pending(TableEntity Entity, TaskCompletionSource Done);

    private sealed class Lane
    {
        public readonly List<Pending> Queue = [];
        public bool Running;
    }

    private readonly Dictionary<string, Lane> lanes = new(StringComparer.Ordinal);

    public Task UpsertAsync(TableEntity entity, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(entity);
        return UpsertAllAsync([entity], ct);
    }

    /// <summary>
    /// Upserts rows together: the rows of one partition join its queue at once, in order, so they go in one transaction (with whatever
    /// else waits there; more than <see cref="PartitionWriter.MaxActions"/>, or a row key twice, splits them in order). Completes when all
    /// are stored.
    /// </summary>
    public Task UpsertAllAsync(IReadOnlyList<TableEntity> entities, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(entities);
        var done = new List<Task>(entities.Count);
        var start = new List<string>();
        lock (lanes)
        {
            foreach (var entity in entities)
            {
                ArgumentNullException.ThrowIfNull(entity);
                var pending = new Pending(entity, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                if (!lanes.TryGetValue(entity.PartitionKey, out var lane)) lanes[entity.PartitionKey] = lane = new Lane();
                lane.Queue.Add(pending);
                if (!lane.Running) start.Add(entity.PartitionKey);
                lane.Running = true;
                done.Add(pending.Done.Task);
            }
        }
        // The first writer of an idle partition starts its flush loop; the write itself is shared, so it is not cancelled with one caller.
        foreach (var partition in start) _ = FlushAsync(partition);
        return (done.Count == 1 ? done[0] : Task.WhenAll(done)).WaitAsync(ct);
    }

    private async Task FlushAsync(string partition)
    {
        while (true)
        {
            var batch = new List<Pending>();
            lock (lanes)
            {
                var lane = lanes[partition];
                // One transaction may not touch a row twice: a second write of a row already in this batch waits for the next.
                var keys = new HashSet<string>(StringComparer.Ordinal);
                for (var i = 0; i < lane.Queue.Count && batch.Count < PartitionWriter.MaxActions; i++)
                {
                    if (keys.Add(lane.Queue[i].Entity.RowKey)) batch.Add(lane.Queue[i]);
                }
                foreach (var p in batch) lane.Queue.Remove(p);
                if (batch.Count == 0)
                {
                    lanes.Remove(partition);
                    return;
                }
            }
            try
            {
                if (batch.Count == 1) await table.UpsertEntityAsync(batch[0].Entity, TableUpdateMode.Replace, CancellationToken.None).ConfigureAwait(false);
                else await table.SubmitTransactionAsync(batch.Select(p => new TableTransactionAction(TableTransactionActionType.UpsertReplace, p.Entity)), CancellationToken.None).ConfigureAwait(false);
                foreach (var p in batch) p.Done.TrySetResult();
            }
            catch (Exception ex)
            {
                foreach (var p in batch) p.Done.TrySetException(ex);
            }
        }
    }
}
