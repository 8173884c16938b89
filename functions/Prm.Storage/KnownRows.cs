using System.Collections.Concurrent;
using Azure.Data.Tables;

namespace Prm.Storage;

/// <summary>
/// Rows this process last read or wrote, with their ETags, for the counters a projection keeps by read, change and write If-Match (the
/// KPI buckets, the deal counters). A write may start from the remembered row instead of reading it first. It is a guess and never the
/// truth: a row another writer changed meanwhile (another instance, a rebuild) refuses the write with 412, the caller forgets it and
/// reads, so a stale row costs one refused transaction and never a wrong count. Bounded: past its capacity it starts over.
/// </summary>
public sealed class KnownRows(int capacity = 20_000)
{
    private readonly ConcurrentDictionary<(string Partition, string Row), TableEntity> rows = new();

    /// <summary>The row as this process last saw it (a copy: change it freely), or null.</summary>
    public TableEntity? Get(string partitionKey, string rowKey) =>
        rows.TryGetValue((partitionKey, rowKey), out var row) ? new TableEntity(row) { ETag = row.ETag } : null;

    /// <summary>Remembers a row as stored with <paramref name="etag"/> (read with it, or written and answered with it). No ETag: forgotten.</summary>
    public void Remember(TableEntity entity, Azure.ETag etag)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (etag == default)
        {
            Forget(entity.PartitionKey, entity.RowKey);
            return;
        }
        if (rows.Count >= capacity) rows.Clear();
        rows[(entity.PartitionKey, entity.RowKey)] = new TableEntity(entity) { ETag = etag };
    }

    /// <summary>Remembers the whole rows (inserted or replaced) of a committed transaction that <paramref name="keep"/> selects, with the ETags its answer gave them.</summary>
    public void RememberCommitted(IReadOnlyList<TableTransactionAction> actions, IReadOnlyList<Azure.Response> answers, Func<TableTransactionAction, bool> keep)
    {
        ArgumentNullException.ThrowIfNull(actions);
        ArgumentNullException.ThrowIfNull(answers);
        ArgumentNullException.ThrowIfNull(keep);
        for (var i = 0; i < actions.Count && i < answers.Count; i++)
        {
            if (actions[i].ActionType is not (TableTransactionActionType.Add or TableTransactionActionType.UpdateReplace or TableTransactionActionType.UpsertReplace) || actions[i].Entity is not TableEntity entity || !keep(actions[i])) continue;
            Remember(entity, answers[i].Headers.ETag ?? default);
        }
    }

    public void Forget(string partitionKey, string rowKey) => rows.TryRemove((partitionKey, rowKey), out _);
}
