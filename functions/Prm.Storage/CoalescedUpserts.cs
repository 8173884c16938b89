using Azure.Data.Tables;

namespace Prm.Storage;

/// <summary>
/// Writes into a table, coalesced per partition: a row written while a write of its partition is in flight waits for it and goes with
/// the others that queued meanwhile in one transaction (up to <see cref="PartitionWriter.MaxActions"/> rows), so many concurrent writers
/// of one hot partition (a bulk import refreshing the list index of a thousand partners) cost a transaction per batch instead of a round
/// trip each. A row written alone goes at once, so a single request waits no longer than before. Each caller's task completes when its
/// own row is stored, or fails with the error of the write that carried it.
/// <para>
/// Replace-upserts (<see cref="UpsertAsync"/>) fail together with their batch. Conditional writes (<see cref="SubmitAsync"/>: an insert,
/// or a replace or delete If-Match) can fail alone: when a batch is refused for a condition (404, 409 or 412), each of its writes goes
/// again on its own, so each caller sees its own answer. A refused transaction stored nothing, unless the refusal answered the storage
/// client's resend of one whose first answer was lost: then each write meets its own row, so a caller must read what it meets (the
/// partner index compares revisions).
/// </para>
/// </summary>
public sealed class CoalescedUpserts(TableClient table)
{
    private sealed record Pending(TableTransactionAction Action, TaskCompletionSource<Azure.ETag> Done);

    private sealed class Lane
    {
        public readonly List<Pending> Queue = [];
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
        var done = Enqueue(entities.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e ?? throw new ArgumentNullException(nameof(entities)))).ToList());
        return (done.Count == 1 ? (Task)done[0] : Task.WhenAll(done)).WaitAsync(ct);
    }

    /// <summary>
    /// One write of any kind (an insert, a replace or delete If-Match, an upsert), coalesced with the others of its partition. Returns the
    /// row's new ETag (none for a delete); a refused condition throws the storage client's <see cref="Azure.RequestFailedException"/> for
    /// this write alone.
    /// </summary>
    public Task<Azure.ETag> SubmitAsync(TableTransactionAction action, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(action);
        return Enqueue([action])[0].WaitAsync(ct);
    }

    private List<Task<Azure.ETag>> Enqueue(IReadOnlyList<TableTransactionAction> actions)
    {
        var done = new List<Task<Azure.ETag>>(actions.Count);
        var start = new List<string>();
        lock (lanes)
        {
            foreach (var action in actions)
            {
                var pending = new Pending(action, new TaskCompletionSource<Azure.ETag>(TaskCreationOptions.RunContinuationsAsynchronously));
                var partition = action.Entity.PartitionKey;
                if (!lanes.TryGetValue(partition, out var lane))
                {
                    lanes[partition] = lane = new Lane();
                    start.Add(partition);
                }
                lane.Queue.Add(pending);
                done.Add(pending.Done.Task);
            }
        }
        // The first writer of an idle partition starts its flush loop; the write itself is shared, so it is not cancelled with one caller.
        foreach (var partition in start) _ = FlushAsync(partition);
        return done;
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
                    if (keys.Add(lane.Queue[i].Action.Entity.RowKey)) batch.Add(lane.Queue[i]);
                }
                foreach (var p in batch) lane.Queue.Remove(p);
                if (batch.Count == 0)
                {
                    lanes.Remove(partition);
                    return;
                }
            }
            if (batch.Count == 1)
            {
                await AloneAsync(batch[0]).ConfigureAwait(false);
                continue;
            }
            try
            {
                var answers = await table.SubmitTransactionAsync(batch.Select(p => p.Action), CancellationToken.None).ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(answers.Value[i].Headers.ETag ?? default);
            }
            catch (Azure.RequestFailedException ex) when (ex.Status is 404 or 409 or 412 && batch.Any(p => p.Action.ActionType != TableTransactionActionType.UpsertReplace))
            {
                // A refused condition refuses the whole transaction: each write goes again alone, for its own answer.
                await Task.WhenAll(batch.Select(AloneAsync)).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                foreach (var p in batch) p.Done.TrySetException(ex);
            }
        }
    }

    private async Task AloneAsync(Pending pending)
    {
        try
        {
            var entity = pending.Action.Entity;
            var answer = pending.Action.ActionType switch
            {
                TableTransactionActionType.Add => await table.AddEntityAsync(entity, CancellationToken.None).ConfigureAwait(false),
                TableTransactionActionType.UpdateReplace => await table.UpdateEntityAsync(entity, pending.Action.ETag, TableUpdateMode.Replace, CancellationToken.None).ConfigureAwait(false),
                TableTransactionActionType.UpdateMerge => await table.UpdateEntityAsync(entity, pending.Action.ETag, TableUpdateMode.Merge, CancellationToken.None).ConfigureAwait(false),
                TableTransactionActionType.Delete => await table.DeleteEntityAsync(entity.PartitionKey, entity.RowKey, pending.Action.ETag, CancellationToken.None).ConfigureAwait(false),
                TableTransactionActionType.UpsertMerge => await table.UpsertEntityAsync(entity, TableUpdateMode.Merge, CancellationToken.None).ConfigureAwait(false),
                _ => await table.UpsertEntityAsync(entity, TableUpdateMode.Replace, CancellationToken.None).ConfigureAwait(false),
            };
            pending.Done.TrySetResult(answer.Headers.ETag ?? default);
        }
        catch (Exception ex)
        {
            pending.Done.TrySetException(ex);
        }
    }
}
