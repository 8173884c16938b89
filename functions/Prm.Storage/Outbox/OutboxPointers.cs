using Azure.Data.Tables;

namespace Prm.Storage.Outbox;

/// <summary>
/// Pointers to partitions holding undelivered outbox rows. A pointer is written before the transaction that adds the rows,
/// so a crash after the commit never strands a message; a pointer whose transaction failed is harmless and swept later.
/// </summary>
public sealed class OutboxPointers(PrmTables tables, OutboxSignal signal)
{
    public const int Shards = 4;

    /// <summary>Marks the partition as holding outbox rows; call before committing them.</summary>
    public async Task MarkAsync(string table, string partitionKey, CancellationToken ct)
    {
        var pointer = new TableEntity(Shard(partitionKey), table + "|" + KeyEncoding.Encode(partitionKey))
        {
            ["Table"] = table,
            ["Partition"] = partitionKey,
        };
        await tables.OutboxPending.UpsertEntityAsync(pointer, TableUpdateMode.Replace, ct);
    }

    /// <summary>Tells the dispatcher that committed rows wait in the partition (delivers without waiting for a sweep).</summary>
    public void Notify(string table, string partitionKey) => signal.Post(new OutboxSignal.Work(table, partitionKey));

    public static string Shard(string partitionKey)
    {
        uint hash = 2166136261;
        foreach (var c in partitionKey) hash = (hash ^ c) * 16777619;
        return "p" + (hash % Shards);
    }
}

/// <summary>In-process queue of partitions to dispatch now.</summary>
public sealed class OutboxSignal
{
    public sealed record Work(string Table, string Partition);

    private readonly System.Threading.Channels.Channel<Work> channel = System.Threading.Channels.Channel.CreateBounded<Work>(
        new System.Threading.Channels.BoundedChannelOptions(10_000) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropOldest });

    public void Post(Work work) => channel.Writer.TryWrite(work);

    public System.Threading.Channels.ChannelReader<Work> Reader => channel.Reader;
}
