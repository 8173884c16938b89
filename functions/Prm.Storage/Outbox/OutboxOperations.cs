using System.Globalization;
using Azure.Data.Tables;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Operations;
using Prm.Core.Outbox;

namespace Prm.Storage.Outbox;

/// <summary>
/// The dead-letter index: a message parked after its last attempt keeps its row (marked Dead) in its owner's partition, and gets two rows in
/// the pointers table outside the shards the sweep reads — <c>dead</c> (newest first, for the list) and <c>deadid</c> (by message id, for a
/// retry) — written before its pointer is deleted, so an operator finds it without scanning partitions.
/// </summary>
public static class DeadLetters
{
    public const string ListPartition = "dead";
    public const string IdPartition = "deadid";

    public static async Task RecordAsync(PrmTables tables, string table, string partition, TableEntity row, int? sequence, DateTimeOffset now, CancellationToken ct)
    {
        var messageId = row.RowKey[OutboxRows.OutboxPrefix.Length..];
        var existing = await tables.OutboxPending.GetEntityIfExistsAsync<TableEntity>(IdPartition, messageId, cancellationToken: ct);
        if (existing.HasValue) return; // recorded by an earlier pass
        var listRow = KeyEncoding.Inverted(now) + "|" + messageId;
        var fields = new Dictionary<string, object?>
        {
            ["Table"] = table,
            ["Partition"] = partition,
            ["MessageId"] = messageId,
            ["Kind"] = row.GetString("Kind"),
            ["Type"] = row.GetString("Type"),
            ["PartnerId"] = row.GetString("PartnerId"),
            ["CorrelationId"] = row.GetString("CorrelationId"),
            ["CreatedAt"] = row.GetDateTimeOffset("CreatedAt"),
            ["Sequence"] = sequence ?? 0,
            ["DeadAt"] = now,
            ["ListRow"] = listRow,
        };
        // The id row first: a retry finds the message through it; a list row without it would be an orphan the list cannot retry.
        await tables.OutboxPending.UpsertEntityAsync(new TableEntity(fields!) { PartitionKey = IdPartition, RowKey = messageId }, TableUpdateMode.Replace, ct);
        await tables.OutboxPending.UpsertEntityAsync(new TableEntity(fields!) { PartitionKey = ListPartition, RowKey = listRow }, TableUpdateMode.Replace, ct);
    }

    public static async Task ForgetAsync(PrmTables tables, TableEntity idRow, CancellationToken ct)
    {
        if (idRow.GetString("ListRow") is { } listRow) await DeleteQuietlyAsync(tables.OutboxPending, ListPartition, listRow, ct);
        await DeleteQuietlyAsync(tables.OutboxPending, IdPartition, idRow.RowKey, ct);
    }

    private static async Task DeleteQuietlyAsync(TableClient client, string partition, string row, CancellationToken ct)
    {
        try
        {
            await client.DeleteEntityAsync(partition, row, Azure.ETag.All, ct);
        }
        catch (Azure.RequestFailedException gone) when (gone.Status == 404)
        {
        }
    }
}

/// <summary>
/// The outbox for operators (admins): dead messages (newest first) and the oldest pending ones, the backlog's age, and putting a dead
/// message back. Reads pointers and the dead-letter index, then the rows by point reads; never scans the owners' partitions.
/// </summary>
public sealed class OutboxOperations(PrmTables tables, OutboxQueue queue, TimeProvider clock)
{
    /// <summary>At most this many pointers are read for the pending list and the lag (a larger backlog is reported from its first ones).</summary>
    public const int MaxPointersRead = 20_000;

    private static void Require(Caller caller)
    {
        if (!caller.IsAdmin) throw new ForbiddenException("Only program admins operate the outbox.");
    }

    /// <summary>Which list: Dead (default) or Pending.</summary>
    public static string ParseStatus(string? status) => status?.ToLowerInvariant() switch
    {
        null or "dead" => "Dead",
        "pending" => "Pending",
        _ => throw new ValidationFailedException("status", "status must be Dead or Pending."),
    };

    public Task<Page<OutboxMessageDto>> ListAsync(Caller caller, string? status, PageRequest page, CancellationToken ct)
    {
        Require(caller);
        return ParseStatus(status) == "Dead" ? DeadAsync(page, ct) : PendingAsync(page, ct);
    }

    private async Task<Page<OutboxMessageDto>> DeadAsync(PageRequest page, CancellationToken ct)
    {
        var index = await PrmTables.PageAsync(tables.OutboxPending, TableClient.CreateQueryFilter($"PartitionKey eq {DeadLetters.ListPartition}"), page, e => e, ct);
        var items = await Task.WhenAll(index.Items.Select(async e =>
        {
            var row = await RowAsync(e.GetString("Table"), e.GetString("Partition"), e.GetString("MessageId"), ct);
            return Dto(e, row, "Dead");
        }));
        return new Page<OutboxMessageDto>(items, index.NextCursor);
    }

    private async Task<Page<OutboxMessageDto>> PendingAsync(PageRequest page, CancellationToken ct)
    {
        var pointers = await PointersAsync(ct);
        var after = page.Cursor is null ? null : PageCursor.Decode(page.Cursor);
        if (after is not null && !after.StartsWith("pending|", StringComparison.Ordinal)) throw new ValidationFailedException("cursor", "cursor is not a cursor of this list.");
        var ordered = pointers.Select(p => (Key: SortKey(p), Pointer: p)).OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        var rest = after is null ? ordered : ordered.Where(p => string.CompareOrdinal(p.Key, after["pending|".Length..]) > 0).ToList();
        var take = rest.Take(page.Limit).ToList();
        var items = await Task.WhenAll(take.Select(async p =>
        {
            var row = await RowAsync(p.Pointer.GetString("Table"), p.Pointer.GetString("Partition"), p.Pointer.GetString("MessageId"), ct);
            return row is null || (row.GetBoolean("Dead") ?? false) ? null : Dto(p.Pointer, row, "Pending");
        }));
        var next = rest.Count > take.Count ? PageCursor.Encode("pending|" + take[^1].Key) : null;
        // A message delivered between the two reads has no row any more: the page may be short, with a cursor.
        return new Page<OutboxMessageDto>(items.OfType<OutboxMessageDto>().ToList(), next);
    }

    /// <summary>Commit order across partitions: creation time, then the commit's sequence, then the pointer.</summary>
    private static string SortKey(TableEntity p) =>
        (p.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue).UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "|"
        + (p.GetInt32("Sequence") ?? 0).ToString("D6", CultureInfo.InvariantCulture) + "|" + p.PartitionKey + "|" + p.RowKey;

    private async Task<List<TableEntity>> PointersAsync(CancellationToken ct)
    {
        var shards = await Task.WhenAll(Enumerable.Range(0, OutboxPointers.Shards).Select(async shard =>
        {
            var list = new List<TableEntity>();
            await foreach (var p in tables.OutboxPending.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"p" + shard}"),
                select: ["PartitionKey", "RowKey", "Table", "Partition", "MessageId", "CreatedAt", "Sequence"], cancellationToken: ct))
            {
                list.Add(p);
                if (list.Count >= MaxPointersRead / OutboxPointers.Shards) break;
            }
            return list;
        }));
        return shards.SelectMany(s => s).ToList();
    }

    /// <summary>How many messages wait, the age of the oldest (the outbox lag), and how many are dead (counted up to 1000).</summary>
    public async Task<OutboxLag> LagAsync(CancellationToken ct)
    {
        var pointers = await PointersAsync(ct);
        var oldest = pointers.Select(p => p.GetDateTimeOffset("CreatedAt")).Where(c => c is not null).Min();
        var dead = 0;
        await foreach (var _ in tables.OutboxPending.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {DeadLetters.IdPartition}"), select: ["RowKey"], cancellationToken: ct))
        {
            if (++dead >= 1000) break;
        }
        var lag = oldest is { } at ? Math.Max(0, (clock.GetUtcNow() - at).TotalSeconds) : 0;
        OutboxMetrics.Observe(pointers.Count, oldest, dead, clock.GetUtcNow());
        return new OutboxLag(pointers.Count, oldest, Math.Round(lag, 3), dead);
    }

    /// <summary>
    /// Puts a dead message back: its row is no longer Dead and its attempts start over, its pointer is written again (with its original commit
    /// time and sequence, so it goes first in its partition's order) and the outbox queue is told, so it is delivered within seconds.
    /// </summary>
    public async Task<OutboxMessageDto> RetryAsync(Caller caller, string messageId, CancellationToken ct)
    {
        Require(caller);
        if (string.IsNullOrWhiteSpace(messageId) || messageId.Length > 100) throw new NotFoundException("The dead outbox message");
        var found = await tables.OutboxPending.GetEntityIfExistsAsync<TableEntity>(DeadLetters.IdPartition, messageId, cancellationToken: ct);
        if (!found.HasValue) throw new NotFoundException("The dead outbox message");
        var index = found.Value!;
        var table = index.GetString("Table");
        var partition = index.GetString("Partition");
        var client = tables.Service.GetTableClient(table);
        var rowFound = await client.GetEntityIfExistsAsync<TableEntity>(partition, OutboxRows.OutboxPrefix + messageId, cancellationToken: ct);
        if (!rowFound.HasValue)
        {
            await DeadLetters.ForgetAsync(tables, index, ct);
            throw new NotFoundException("The dead outbox message");
        }
        var row = rowFound.Value!;
        if (!(row.GetBoolean("Dead") ?? false))
        {
            await DeadLetters.ForgetAsync(tables, index, ct);
            throw new ConflictException($"Outbox message {messageId} is not dead any more: it was put back already and waits for delivery.", "id");
        }
        var now = clock.GetUtcNow();
        var createdAt = row.GetDateTimeOffset("CreatedAt") ?? now;
        // The pointer first (as a commit writes it before its rows): a crash after it leaves a pointer to a Dead row, which the sweep drops.
        await tables.OutboxPending.UpsertEntityAsync(new TableEntity(OutboxPointers.Shard(partition), OutboxPointers.RowKey(table, partition, messageId))
        {
            ["Table"] = table,
            ["Partition"] = partition,
            ["MessageId"] = messageId,
            ["CreatedAt"] = createdAt,
            ["Sequence"] = index.GetInt32("Sequence") ?? 0,
        }, TableUpdateMode.Replace, ct);
        row["Dead"] = false;
        row["Attempts"] = 0;
        row["RetriedAt"] = now;
        row["RetriedBy"] = caller.UserId;
        row.Remove("NextAttemptAt");
        row.Remove("ClaimedUntil");
        try
        {
            await client.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, ct);
        }
        catch (Azure.RequestFailedException lost) when (lost.Status is 404 or 412)
        {
            throw new ConflictException($"Outbox message {messageId} changed meanwhile; read the list again.", "id");
        }
        await DeadLetters.ForgetAsync(tables, index, ct);
        await queue.SendAsync(new OutboxQueueMessage(table, partition, [messageId]), ct);
        return Dto(index, row, "Pending");
    }

    private async Task<TableEntity?> RowAsync(string? table, string? partition, string? messageId, CancellationToken ct)
    {
        if (table is null || partition is null || messageId is null) return null;
        var found = await tables.Service.GetTableClient(table).GetEntityIfExistsAsync<TableEntity>(partition, OutboxRows.OutboxPrefix + messageId, cancellationToken: ct);
        return found.HasValue ? found.Value : null;
    }

    private OutboxMessageDto Dto(TableEntity pointer, TableEntity? row, string status)
    {
        var created = row?.GetDateTimeOffset("CreatedAt") ?? pointer.GetDateTimeOffset("CreatedAt") ?? clock.GetUtcNow();
        var kind = (row?.GetString("Kind") ?? pointer.GetString("Kind") ?? nameof(OutboxKind.Event)).ToLowerInvariant();
        string? subject = null;
        if (row is not null && kind == "event")
        {
            try
            {
                subject = OutboxRows.ReadOutbox(row).ReadEvent().Subject;
            }
            catch (System.Text.Json.JsonException)
            {
                subject = null;
            }
        }
        return new OutboxMessageDto(
            pointer.GetString("MessageId") ?? "",
            status,
            kind,
            row?.GetString("Type") ?? pointer.GetString("Type") ?? "",
            subject,
            row?.GetString("PartnerId") ?? pointer.GetString("PartnerId"),
            row?.GetString("CorrelationId") ?? pointer.GetString("CorrelationId"),
            pointer.GetString("Table") ?? "",
            pointer.GetString("Partition") ?? "",
            created,
            Math.Round(Math.Max(0, (clock.GetUtcNow() - created).TotalSeconds), 3),
            row?.GetInt32("Attempts") ?? 0,
            row?.GetString("LastError"),
            row?.GetDateTimeOffset("NextAttemptAt"),
            status == "Dead" ? pointer.GetDateTimeOffset("DeadAt") : null);
    }
}
