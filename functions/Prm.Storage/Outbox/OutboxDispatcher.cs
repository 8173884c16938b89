using Azure.Data.Tables;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prm.Core.Outbox;

namespace Prm.Storage.Outbox;

/// <summary>Settings of the dispatcher (section "Outbox").</summary>
public sealed class OutboxOptions
{
    public const string SectionName = "Outbox";

    /// <summary>How often pending partitions are swept, in seconds (committed rows are also delivered at once in-process).</summary>
    public int SweepSeconds { get; set; } = 10;

    /// <summary>A pointer younger than this is never removed: its transaction may still be committing.</summary>
    public int PointerGraceSeconds { get; set; } = 60;

    /// <summary>After this many failed attempts a message is parked (kept, marked dead) for an operator.</summary>
    public int MaxAttempts { get; set; } = 10;
}

/// <summary>
/// Delivers outbox rows: events to the projections and then the publisher, emails to the sender. At least once:
/// a row is deleted only after delivery, and the event id travels as the message id for duplicate detection.
/// </summary>
public sealed class OutboxDispatcher(
    PrmTables tables, OutboxSignal signal, IEventPublisher publisher, IEmailSender sender, IEnumerable<IOutboxProjection> projections,
    OutboxOptions options, TimeProvider clock, ILogger<OutboxDispatcher> log) : BackgroundService
{
    private readonly SemaphoreSlim gate = new(1, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var sweep = Task.Run(() => SweepLoopAsync(stoppingToken), stoppingToken);
        try
        {
            await foreach (var work in signal.Reader.ReadAllAsync(stoppingToken))
            {
                await DispatchPartitionAsync(work.Table, work.Partition, removePointer: false, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await sweep.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private async Task SweepLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(ct);
                await Task.Delay(TimeSpan.FromSeconds(options.SweepSeconds), clock, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                log.LogWarning(ex, "Outbox sweep failed; retrying");
                try { await Task.Delay(TimeSpan.FromSeconds(options.SweepSeconds), clock, ct); } catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>Delivers every pending partition once; returns the number of messages delivered.</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var delivered = 0;
        for (var shard = 0; shard < OutboxPointers.Shards; shard++)
        {
            await foreach (var pointer in tables.OutboxPending.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"p" + shard}"), cancellationToken: ct))
            {
                var count = await DispatchPartitionAsync(pointer.GetString("Table"), pointer.GetString("Partition"), removePointer: false, ct);
                delivered += count;
                var old = pointer.Timestamp is { } stamp && clock.GetUtcNow() - stamp > TimeSpan.FromSeconds(options.PointerGraceSeconds);
                if (old && !await HasPendingAsync(pointer.GetString("Table"), pointer.GetString("Partition"), ct))
                {
                    try
                    {
                        await tables.OutboxPending.DeleteEntityAsync(pointer.PartitionKey, pointer.RowKey, pointer.ETag, ct);
                    }
                    catch (Azure.RequestFailedException ex) when (ex.Status == 412)
                    {
                        // Marked again meanwhile: a new transaction is on its way; keep the pointer.
                    }
                }
            }
        }
        return delivered;
    }

    private async Task<bool> HasPendingAsync(string table, string partition, CancellationToken ct)
    {
        await foreach (var row in Query(table, partition, ct))
        {
            if (!(row.GetBoolean("Dead") ?? false)) return true;
        }
        return false;
    }

    private IAsyncEnumerable<TableEntity> Query(string table, string partition, CancellationToken ct) =>
        tables.Service.GetTableClient(table).QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {OutboxRows.OutboxPrefix} and RowKey lt {KeyEncoding.PrefixEnd(OutboxRows.OutboxPrefix)}"),
            cancellationToken: ct);

    /// <summary>Delivers the outbox rows of one partition in creation order.</summary>
    public async Task<int> DispatchPartitionAsync(string table, string partition, bool removePointer, CancellationToken ct)
    {
        await gate.WaitAsync(ct);
        try
        {
            var rows = new List<TableEntity>();
            await foreach (var row in Query(table, partition, ct)) rows.Add(row);
            var delivered = 0;
            foreach (var row in rows.OrderBy(r => r.GetDateTimeOffset("CreatedAt")).ThenBy(r => r.RowKey, StringComparer.Ordinal))
            {
                if (row.GetBoolean("Dead") ?? false) continue;
                if (row.GetDateTimeOffset("NextAttemptAt") is { } next && next > clock.GetUtcNow()) continue;
                var message = OutboxRows.ReadOutbox(row);
                var client = tables.Service.GetTableClient(table);
                try
                {
                    await DeliverAsync(message, ct);
                    await client.DeleteEntityAsync(row.PartitionKey, row.RowKey, Azure.ETag.All, ct);
                    delivered++;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    var attempts = (row.GetInt32("Attempts") ?? 0) + 1;
                    var wait = ex is TransientDeliveryException { RetryAfter: { } after } ? after : TimeSpan.FromSeconds(Math.Min(3600, Math.Pow(2, attempts)));
                    log.LogWarning(ex, "Outbox message {MessageId} ({Type}) failed, attempt {Attempt}", message.Id, message.Type, attempts);
                    row["Attempts"] = attempts;
                    row["LastError"] = ex.Message.Length > 1000 ? ex.Message[..1000] : ex.Message;
                    row["NextAttemptAt"] = clock.GetUtcNow() + wait;
                    row["Dead"] = attempts >= options.MaxAttempts;
                    await client.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, ct);
                    if (message.Kind == OutboxKind.Event) break; // keep events of one partition in order
                }
            }
            return delivered;
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task DeliverAsync(OutboxMessage message, CancellationToken ct)
    {
        if (message.Kind == OutboxKind.Email)
        {
            await sender.SendAsync(message.Id, message.ReadEmail(), ct);
            return;
        }
        var e = message.ReadEvent();
        foreach (var projection in projections) await projection.ApplyAsync(e, ct);
        await publisher.PublishAsync(e, ct);
    }
}
