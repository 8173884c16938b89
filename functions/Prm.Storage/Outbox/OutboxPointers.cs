using Azure.Data.Tables;
using Prm.Core.Outbox;

namespace Prm.Storage.Outbox;

/// <summary>
/// One pointer per undelivered outbox message, written (in one batch) before the transaction that adds the messages, so a
/// crash after the commit never strands a message; a pointer whose transaction failed is harmless and swept later.
/// The dispatcher finds rows through pointers by point reads, never by scanning partitions.
/// </summary>
public sealed class OutboxPointers(PrmTables tables, OutboxSignal signal, IWorkflowClientContext? clients = null)
{
    public const int Shards = 4;

    /// <summary>Records pointers to the messages about to be committed in the partition.</summary>
    public async Task MarkAsync(string table, string partitionKey, IReadOnlyList<OutboxMessage> messages, CancellationToken ct)
    {
        var shard = Shard(partitionKey);
        var actions = messages.Select((m, sequence) => new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(shard, RowKey(table, partitionKey, m.Id))
        {
            ["Table"] = table,
            ["Partition"] = partitionKey,
            ["MessageId"] = m.Id,
            ["CreatedAt"] = m.CreatedAt,
            ["Sequence"] = sequence, // commit order, for messages written at the same instant
        })).ToList();
        if (actions.Count == 1) await tables.OutboxPending.UpsertEntityAsync((TableEntity)actions[0].Entity, TableUpdateMode.Replace, ct);
        else await tables.OutboxPending.SubmitTransactionAsync(actions, ct);
    }

    /// <summary>Hands committed messages to the dispatcher for delivery now, without waiting for a sweep.</summary>
    public void Notify(string table, string partitionKey, IReadOnlyList<OutboxMessage> messages, IReadOnlyList<Azure.ETag> rowETags) =>
        signal.Post(new OutboxSignal.Work(table, partitionKey, messages, rowETags, clients?.Capture()));

    public static string Shard(string partitionKey)
    {
        uint hash = 2166136261;
        foreach (var c in partitionKey) hash = (hash ^ c) * 16777619;
        return "p" + (hash % Shards);
    }

    public static string RowKey(string table, string partitionKey, string messageId) =>
        $"{KeyEncoding.Encode(table)}|{KeyEncoding.Encode(partitionKey)}|{messageId}";
}

/// <summary>
/// In-process queues of committed messages to deliver now: one lane per group of partitions, so commits of one partition are delivered
/// in order while different partitions are delivered side by side.
/// </summary>
public sealed class OutboxSignal
{
    /// <summary>
    /// Messages just committed in one partition, with the ETags their rows got from the commit (to claim them without a read) and the
    /// committing invocation's workflow client, captured (null when it had none).
    /// </summary>
    public sealed record Work(string Table, string Partition, IReadOnlyList<OutboxMessage> Messages, IReadOnlyList<Azure.ETag> RowETags, Func<IDisposable>? ClientScope = null);

    private readonly System.Threading.Channels.Channel<Work>[] lanes;

    public OutboxSignal() : this(1)
    {
    }

    public OutboxSignal(int lanes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lanes, 1);
        this.lanes = Enumerable.Range(0, lanes).Select(_ => System.Threading.Channels.Channel.CreateBounded<Work>(
            new System.Threading.Channels.BoundedChannelOptions(10_000) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropOldest })).ToArray();
    }

    /// <summary>Queues work on its partition's lane; when the lane is full its oldest is dropped and left to the sweep (its pointers remain).</summary>
    public void Post(Work work)
    {
        uint hash = 2166136261;
        foreach (var c in work.Partition) hash = (hash ^ c) * 16777619;
        lanes[hash % (uint)lanes.Length].Writer.TryWrite(work);
    }

    /// <summary>The first lane (the only one of a signal with one lane).</summary>
    public System.Threading.Channels.ChannelReader<Work> Reader => lanes[0].Reader;

    public IReadOnlyList<System.Threading.Channels.ChannelReader<Work>> Lanes => lanes.Select(l => l.Reader).ToList();
}
