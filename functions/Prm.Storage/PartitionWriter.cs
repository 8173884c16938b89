using Azure.Data.Tables;
using Prm.Core.Common;
using Prm.Core.Partners;
using Prm.Storage.Outbox;

namespace Prm.Storage;

/// <summary>Commits a state change with its timeline and outbox rows as one same-partition transaction.</summary>
public sealed class PartitionWriter(OutboxPointers pointers)
{
    public const int MaxActions = 100;

    /// <summary>A wait between the pointers' write and the transaction after which the pointers are written again (below any sweep grace in use, 2 s in the tests).</summary>
    public static readonly TimeSpan PointerRefreshAfter = TimeSpan.FromSeconds(1);

    private static async Task<TimeSpan> MarkedAtAsync(Task mark, System.Diagnostics.Stopwatch clock)
    {
        await mark;
        return clock.Elapsed;
    }

    /// <summary>Submits the actions plus the change set's rows; returns the ETags of the given actions, in order.</summary>
    /// <param name="alongside">
    /// A write that must succeed before the transaction and is independent of the outbox pointers (a key row claim): it runs side by
    /// side with them, and its failure fails the commit before the transaction.
    /// </param>
    public async Task<IReadOnlyList<string>> CommitAsync(TableClient table, string partitionKey, IReadOnlyList<TableTransactionAction> actions, ChangeSet changes, CancellationToken ct, Task? alongside = null)
    {
        var all = new List<TableTransactionAction>(actions);
        all.AddRange(changes.Audit.Select(a => new TableTransactionAction(TableTransactionActionType.Add, OutboxRows.Audit(partitionKey, a))));
        if (all.Count + changes.Outbox.Count > MaxActions) throw new InvalidOperationException($"A transaction may hold at most {MaxActions} rows; this change has {all.Count + changes.Outbox.Count}.");
        var waited = System.Diagnostics.Stopwatch.StartNew();
        var marking = changes.Outbox.Count > 0 ? MarkedAtAsync(pointers.MarkAsync(table.Name, partitionKey, changes.Outbox, ct), waited) : Task.FromResult(TimeSpan.Zero);
        await Task.WhenAll(marking, alongside ?? Task.CompletedTask);
        // A pointer older than the sweep's grace whose message is not committed yet is dropped as "never committed". A write alongside
        // can keep the transaction waiting (an approved partner's waits for the approval's commit): after a long wait the pointers are
        // written again, so the sweep sees them fresh (an upsert: idempotent, and one round trip only in that slow case).
        if (changes.Outbox.Count > 0 && alongside is not null && waited.Elapsed - await marking > PointerRefreshAfter)
        {
            await pointers.MarkAsync(table.Name, partitionKey, changes.Outbox, ct);
        }
        // Claimed for this process's in-process delivery as they are written (no claim round trip after the commit), from the moment
        // the transaction goes, so the delivery gets the whole claim.
        var claimedUntil = changes.Outbox.Count > 0 ? pointers.ClaimUntil() : null;
        all.AddRange(changes.Outbox.Select(m => new TableTransactionAction(TableTransactionActionType.Add, OutboxRows.Outbox(partitionKey, m, claimedUntil))));
        IReadOnlyList<Azure.Response> responses;
        try
        {
            responses = (await table.SubmitTransactionAsync(all, ct)).Value;
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 412 or 404 or 409)
        {
            // The storage client resends a transaction whose answer was lost (its network timeout under load); when the first send
            // went through, the resend is refused by the rows it wrote. A row only this change writes says so: then it committed.
            if (await CommittedAsync(table, partitionKey, actions, changes, ct) is { } etags)
            {
                // Committed by the first send: its messages are delivered now as well (their rows' ETags are not known; the delivery
                // claims each row that still holds this commit's claim from a read).
                if (changes.Outbox.Count > 0) pointers.Notify(table.Name, partitionKey, changes.Outbox, changes.Outbox.Select(_ => default(Azure.ETag)).ToList(), claimedUntil);
                return etags;
            }
            if (ex.Status == 409) throw new ConflictException("The resource already exists.");
            throw new PreconditionFailedException("The resource was changed since you read it; read it again and retry.");
        }
        if (changes.Outbox.Count > 0) pointers.Notify(table.Name, partitionKey, changes.Outbox, responses.Skip(all.Count - changes.Outbox.Count).Select(r => r.Headers.ETag ?? default).ToList(), claimedUntil);
        return responses.Take(actions.Count).Select(r => r.Headers.ETag?.ToString() ?? "").ToList();
    }

    /// <summary>
    /// Whether a refused transaction had committed already (a resend of one that went through): its first timeline row, whose key holds
    /// the change's own fresh id, is stored (or, without timeline rows, its first outbox message, still undelivered). A transaction is
    /// all or nothing, so the rest is stored too: the actions' rows are read back for their ETags (a row changed since by someone else
    /// gives that one's; a deleted row none). Null when the marker row is not there: the refusal stands.
    /// </summary>
    private static async Task<IReadOnlyList<string>?> CommittedAsync(TableClient table, string partitionKey, IReadOnlyList<TableTransactionAction> actions, ChangeSet changes, CancellationToken ct)
    {
        var marker = changes.Audit.Count > 0 ? OutboxRows.Audit(partitionKey, changes.Audit[0]) : changes.Outbox.Count > 0 ? OutboxRows.Outbox(partitionKey, changes.Outbox[0]) : null;
        if (marker is null) return null;
        var stored = await table.GetEntityIfExistsAsync<TableEntity>(marker.PartitionKey, marker.RowKey, ["PartitionKey"], ct);
        if (!stored.HasValue) return null;
        var etags = await Task.WhenAll(actions.Select(async a =>
        {
            if (a.ActionType == TableTransactionActionType.Delete) return "";
            var row = await table.GetEntityIfExistsAsync<TableEntity>(a.Entity.PartitionKey, a.Entity.RowKey, cancellationToken: ct);
            // Only a row that still holds what this transaction wrote gives its ETag: another writer may have changed it since (the
            // resend comes up to 30 s after the first send), and its ETag would let the caller overwrite a change it never saw.
            return row.HasValue && a.Entity is TableEntity written && Holds(row.Value!, written) ? row.Value!.ETag.ToString() : "";
        }));
        return etags;
    }

    /// <summary>Whether a stored row holds every property <paramref name="written"/> set, with the same values.</summary>
    internal static bool Holds(TableEntity stored, TableEntity written)
    {
        foreach (var (key, value) in written)
        {
            if (key is "odata.etag" or "Timestamp" or "PartitionKey" or "RowKey") continue;
            stored.TryGetValue(key, out var actual);
            if (!Same(actual, value)) return false;
        }
        return true;

        static bool Same(object? a, object? b) => (a, b) switch
        {
            (null, null) => true,
            (DateTimeOffset x, DateTime y) => x.UtcTicks == new DateTimeOffset(y.ToUniversalTime()).UtcTicks,
            (DateTimeOffset x, DateTimeOffset y) => x.UtcTicks == y.UtcTicks,
            (byte[] x, byte[] y) => x.AsSpan().SequenceEqual(y),
            (long x, int y) => x == y,
            (int x, long y) => x == y,
            (double x, decimal y) => x == (double)y,
            (_, Enum y) => Equals(a, y.ToString()),
            _ => Equals(a, b),
        };
    }
}
