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
        all.AddRange(changes.Outbox.Select(m => new TableTransactionAction(TableTransactionActionType.Add, OutboxRows.Outbox(partitionKey, m))));
        if (all.Count > MaxActions) throw new InvalidOperationException($"A transaction may hold at most {MaxActions} rows; this change has {all.Count}.");
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
        IReadOnlyList<Azure.Response> responses;
        try
        {
            responses = (await table.SubmitTransactionAsync(all, ct)).Value;
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 412 or 404)
        {
            throw new PreconditionFailedException("The resource was changed since you read it; read it again and retry.");
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 409)
        {
            throw new ConflictException("The resource already exists.");
        }
        if (changes.Outbox.Count > 0) pointers.Notify(table.Name, partitionKey, changes.Outbox, responses.Skip(all.Count - changes.Outbox.Count).Select(r => r.Headers.ETag ?? default).ToList());
        return responses.Take(actions.Count).Select(r => r.Headers.ETag?.ToString() ?? "").ToList();
    }
}
