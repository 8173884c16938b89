using Azure.Data.Tables;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prm.Core.Outbox;

namespace Prm.Storage.Outbox;

/// <summary>Settings of the dispatcher (section "Outbox").</summary>
public sealed class OutboxOptions
{
    public const string SectionName = "Outbox";

    /// <summary>
    /// How often each instance sweeps pointers in-process, in seconds; 0 (the default) runs no in-process sweep, so an idle app makes
    /// no storage calls of its own beyond the <c>OutboxSweep</c> timer and can scale to zero (committed messages are delivered at once
    /// in-process; the timer sweep retries failures). This sweep has no Durable client: it delivers what needs none and leaves workflow
    /// events to the queue and the timer sweep. The tests run it every second.
    /// </summary>
    public int SweepSeconds { get; set; }

    /// <summary>Storage queue naming committed messages that need a workflow client (its function binds <c>%Outbox:QueueName%</c>).</summary>
    public string QueueName { get; set; } = "prm-outbox";

    /// <summary>NCRONTAB schedule (with seconds) of the <c>OutboxSweep</c> timer function, the safety net (<c>%Outbox:SweepSchedule%</c>).</summary>
    public string SweepSchedule { get; set; } = "0 */5 * * * *";

    /// <summary>A pointer younger than this whose row is missing is left alone: its transaction may still be committing.</summary>
    public int PointerGraceSeconds { get; set; } = 60;

    /// <summary>
    /// The sweep leaves a pointer younger than this to the in-process delivery that follows every commit, so a message is not delivered
    /// twice by both paths under load (the sweep is the safety net for crashes and failures).
    /// </summary>
    public int InProcessGraceSeconds { get; set; } = 5;

    /// <summary>
    /// The sweep also leaves a message this long to the in-process delivery while it still waits on one of this process's delivery lanes
    /// and that lane is moving (a backlog behind a bulk import); after that, or when the lane stalls, the sweep takes it as any other.
    /// </summary>
    public int QueuedGraceSeconds { get; set; } = 300;

    /// <summary>A delivery lane that handed out no work for this long while messages wait on it is stuck: the sweep takes its messages.</summary>
    public int LaneStallSeconds { get; set; } = 30;

    /// <summary>After this many failed attempts a message is parked (row kept, marked Dead) for an operator.</summary>
    public int MaxAttempts { get; set; } = 10;

    /// <summary>
    /// How long a deliverer's claim on a message lasts (seconds). A message is claimed before it is sent (born claimed by its commit for
    /// the in-process delivery of its instance, or claimed with its row's ETag), so of the in-process delivery, the queue function and the
    /// sweeps exactly one sends it; a claim whose deliverer died lapses after this.
    /// </summary>
    public int ClaimSeconds { get; set; } = 60;

    /// <summary>A queue delivery that finds a message claimed by another deliverer comes back after this many seconds (the queue message is re-sent with this delay).</summary>
    public int DeferSeconds { get; set; } = 1;

    /// <summary>How many outbox partitions a sweep delivers at the same time (order is kept within each partition).</summary>
    public int SweepParallelism { get; set; } = 32;

    /// <summary>How many in-process delivery lanes run side by side (a partition always uses the same lane, so its commits keep their order).</summary>
    public int DeliveryLanes { get; set; } = 8;
}

/// <summary>
/// Delivers outbox messages: events to the projections and then the publisher, emails to the sender. At least once: a row and its
/// pointer are deleted only after delivery, and the event id travels as the message id so the broker drops duplicates.
/// An event that a workflow projection concerns needs the Durable client of the invocation (<see cref="IWorkflowClientContext"/>): without
/// one, the in-process delivery hands it and the rest of its commit to the outbox queue (the queue function carries a client), and the
/// in-process sweep leaves it to the timer sweep; neither counts that as a failed attempt.
/// </summary>
public sealed class OutboxDispatcher(
    PrmTables tables, OutboxSignal signal, IEventPublisher publisher, IEmailSender sender, IEnumerable<IOutboxProjection> projections,
    OutboxOptions options, TimeProvider clock, ILogger<OutboxDispatcher> log, OutboxQueue? queue = null, IWorkflowClientContext? workflowClient = null,
    IEmailGate? gate = null)
    : BackgroundService
{
    private readonly IReadOnlyList<IWorkflowProjection> workflowProjections = projections.OfType<IWorkflowProjection>().ToList();
    private readonly IReadOnlyList<IOutboxBatchProjection> batchProjections = projections.OfType<IOutboxBatchProjection>().ToList();

    /// <summary>Whether delivering the message now would need a workflow client that this call does not have.</summary>
    private bool NeedsWorkflowClient(OutboxMessage message)
    {
        if (message.Kind != OutboxKind.Event || workflowProjections.Count == 0 || (workflowClient?.Available ?? false)) return false;
        var e = message.ReadEvent();
        return workflowProjections.Any(p => p.Concerns(e));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var sweep = options.SweepSeconds > 0 ? Task.Run(() => SweepLoopAsync(stoppingToken), stoppingToken) : Task.CompletedTask;
        await Task.WhenAll(signal.Lanes.Select(lane => Task.Run(() => DeliverLaneAsync(lane, stoppingToken), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default)));
        await sweep.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private async Task DeliverLaneAsync(System.Threading.Channels.ChannelReader<OutboxSignal.Work> lane, CancellationToken stoppingToken)
    {
        signal.Consuming(true);
        try
        {
            await foreach (var work in lane.ReadAllAsync(stoppingToken))
            {
                try
                {
                    // With the client of the invocation that committed it, when that invocation had one (a function that changes data).
                    using (work.ClientScope?.Invoke())
                    {
                        await DeliverCommittedAsync(work, stoppingToken);
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    log.LogWarning(ex, "Immediate outbox delivery failed; the sweep retries");
                    // What the commit claimed for this delivery and it did not touch goes back to the sweep now, not when the claim lapses.
                    await ReleaseAsync(work, 0, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            signal.Consuming(false);
        }
    }

    private int sweepsCompleted;

    /// <summary>How many in-process sweeps this instance has finished (failed ones included): what the loop has done, observable.</summary>
    public int SweepsCompleted => Volatile.Read(ref sweepsCompleted);

    private async Task SweepLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(ct);
                Interlocked.Increment(ref sweepsCompleted);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Interlocked.Increment(ref sweepsCompleted);
                log.LogWarning(ex, "Outbox sweep failed; retrying");
            }
            try { await Task.Delay(TimeSpan.FromSeconds(options.SweepSeconds), clock, ct); } catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>
    /// Delivers messages just committed, in order; the first failure leaves it and the rest to the sweep. The first message that needs a
    /// workflow client this call lacks goes, with the rest of the commit, to the outbox queue (after the transaction, best effort).
    /// What the projections commit meanwhile (a tier evaluation an approval causes) is delivered with it: see <see cref="FollowOnsAsync"/>.
    /// </summary>
    public async Task DeliverCommittedAsync(OutboxSignal.Work work, CancellationToken ct)
    {
        using var shared = DeliveryReads.Begin(); // the commit's projections read its partner once
        var delivered = new List<string>();
        if (queue is not null && await HasEarlierPendingAsync(work, ct))
        {
            // An earlier commit of the partition waits (queued or failed): delivering this one now would overtake it.
            await HandOffAsync(work, 0, ct);
            return;
        }
        var own = work.Messages.TakeWhile(m => !NeedsWorkflowClient(m)).Count();
        // The commit claimed its rows for this process as it wrote them: while at least half of that claim is left, no other deliverer
        // can hold them and no claim is written. Otherwise (a long wait on the lane, rows born unclaimed) one transaction claims them
        // all with the commit's ETags; when another deliverer (a sweep) touched one meanwhile, each is claimed on its own from a fresh
        // read, and what the other holds is left to it.
        var claimedAll = own > 0 && (HoldsCommitClaim(work) || await ClaimCommittedAsync(work, own, ct));
        var table = tables.Service.GetTableClient(work.Table);
        // Events projected but not yet published: the commit's events go to the batch projections and the publisher together, in order,
        // followed by the events of the follow-ons (each counted here: how many of the batch are this commit's).
        var projected = new List<(OutboxMessage Message, IntegrationEvent Event)>();
        var projectedOwn = 0;
        var followOns = signal.CaptureFollowOns();
        var followed = new List<(OutboxSignal.Work Work, int Count)>();
        var followedDone = new List<(OutboxSignal.Work Work, int Count)>();
        try
        {
            // Events first, in commit order (a workflow waiting on one hears of it without waiting for emails), then the emails, which
            // keep no order with events.
            foreach (var i in Enumerable.Range(0, own).OrderBy(i => work.Messages[i].Kind == OutboxKind.Email ? 1 : 0))
            {
                var message = work.Messages[i];
                if (message.Kind == OutboxKind.Email && !await PublishProjectedAsync(emailsFollow: true)) return;
                if (!claimedAll)
                {
                    var found = await table.GetEntityIfExistsAsync<TableEntity>(work.Partition, OutboxRows.OutboxPrefix + message.Id, cancellationToken: ct);
                    if (!found.HasValue) continue; // delivered by the other
                    if (!await TryClaimAsync(table, found.Value!, ct, own: work.ClaimedUntil))
                    {
                        if (message.Kind == OutboxKind.Email) continue;
                        await PublishProjectedAsync();
                        return; // an event the other holds: the later ones wait for it (the other delivers them, or the sweep)
                    }
                }
                try
                {
                    if (message.Kind == OutboxKind.Email) await DeliverAsync(message, ct);
                    else
                    {
                        projected.Add((message, await ProjectAsync(message, ct)));
                        projectedOwn++;
                    }
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    // The events before it are complete: they are published; it and the later ones wait for the retry.
                    await PublishProjectedAsync();
                    await RecordFailureAsync(work.Table, work.Partition, message, ex, ct);
                    return;
                }
                if (message.Kind == OutboxKind.Email) delivered.Add(message.Id);
            }
            if (!await PublishProjectedAsync()) return;
            if (own < work.Messages.Count)
            {
                await HandOffAsync(work, own, ct);
            }
        }
        finally
        {
            // What the projections committed and this delivery did not take goes to its lane, as any commit's work.
            foreach (var left in followOns.Close()) signal.Post(left);
            var removed = Published(followedDone);
            if (delivered.Count > 0) removed.Insert(0, (work.Table, work.Partition, delivered));
            if (removed.Count > 0) await RemoveAsync(removed, CancellationToken.None);
        }

        // Publishes the projected events (the cause's, then its follow-ons') as one batch. On a failure the follow-ons go their own way and
        // the cause's events are published alone; a failure of those is recorded on the first of them (the sweep retries them, in order).
        // When the cause's emails are still to be sent, the published follow-ons leave at once (a later commit of their partition does
        // not wait behind the cause's emails); otherwise with the cause's rows, their pointers in one transaction.
        async Task<bool> PublishProjectedAsync(bool emailsFollow = false)
        {
            await FollowOnsAsync(work, followOns, projected, followed, ct);
            if (projected.Count == 0) return true;
            try
            {
                await PublishAsync(projected, ct);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                // The batch failed. Its follow-ons go to be delivered on their own (their lanes; the claim their commits wrote still
                // holds), so that a follow-on's failure is never charged to its cause nor holds the cause's partition back, and the
                // cause's events are published alone.
                var cause = projected.Take(projectedOwn).ToList();
                var hadFollowOns = followed.Count > 0;
                foreach (var (followOn, count) in followed)
                {
                    if (count == followOn.Messages.Count) signal.Post(followOn);
                    else await ReleaseAsync(followOn, 0, ct, upTo: count); // the rest failed or went back already: the sweep's
                }
                projected.Clear();
                followed.Clear();
                projectedOwn = 0;
                if (cause.Count == 0) return true;
                if (hadFollowOns)
                {
                    try
                    {
                        await PublishAsync(cause, ct);
                        delivered.AddRange(cause.Select(p => p.Message.Id));
                        return true;
                    }
                    catch (Exception again) when (!ct.IsCancellationRequested)
                    {
                        ex = again;
                    }
                }
                await RecordFailureAsync(work.Table, work.Partition, cause[0].Message, ex, ct);
                return false;
            }
            delivered.AddRange(projected.Take(projectedOwn).Select(p => p.Message.Id));
            if (emailsFollow && followed.Count > 0)
            {
                try
                {
                    await RemoveAsync(Published(followed), CancellationToken.None);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    // Published: what is left is sent again by the sweep once its claim lapses (the ids make that harmless).
                    log.LogWarning(ex, "Removing the delivered follow-ons of {Table}/{Partition} failed", work.Table, work.Partition);
                }
            }
            else followedDone.AddRange(followed);
            projected.Clear();
            followed.Clear();
            projectedOwn = 0;
            return true;
        }
    }

    /// <summary>The rows of follow-ons whose first messages (the count) were published, as groups for the removal of a delivery's rows and pointers.</summary>
    private static List<(string Table, string Partition, IReadOnlyList<string> MessageIds)> Published(IEnumerable<(OutboxSignal.Work Work, int Count)> followOns) =>
        followOns.Select(f => (f.Work.Table, f.Work.Partition, (IReadOnlyList<string>)f.Work.Messages.Take(f.Count).Select(m => m.Id).ToList())).ToList();

    /// <summary>
    /// Takes what the delivery's projections committed (<see cref="OutboxSignal.CaptureFollowOns"/>) and projects it here, so its events
    /// are published in the delivery's batch (event log, publisher) and its rows and pointers leave with the delivery's: one delivery of
    /// the commit and its consequences, instead of a second one on another lane with its own publish and deletes (#17). A follow-on is
    /// taken only when nothing of its partition is pending before it (the same check as every in-process delivery: the pointers of its
    /// partition, those of messages this batch publishes first excepted), its rows are still this process's (the claim the commit wrote),
    /// it is of another partition than the cause (one of the cause's own goes to the cause's lane, right behind it), it has only
    /// events this call can deliver, and the dispatcher has the outbox queue (a dispatcher wired by hand without it takes none). One behind an earlier pending message goes to the queue, given back, like any commit; anything else
    /// goes to its lane. Its own projections' commits go to their lanes (one level). A follow-on whose projection fails records the
    /// failure on its row and gives the rest back; what it had put in the batch is published (its events before the failed one).
    /// </summary>
    private async Task FollowOnsAsync(OutboxSignal.Work cause, OutboxSignal.FollowOns capture, List<(OutboxMessage Message, IntegrationEvent Event)> projected,
        List<(OutboxSignal.Work Work, int Count)> followed, CancellationToken ct)
    {
        var works = capture.Close();
        if (works.Count == 0) return;
        var publishing = projected.Select(p => p.Message.Id).ToHashSet(StringComparer.Ordinal);
        var blocked = new HashSet<string>(StringComparer.Ordinal);
        var handedOff = new HashSet<OutboxSignal.Work>(ReferenceEqualityComparer.Instance);
        for (var next = 0; next < works.Count; next++)
        {
            var work = works[next];
            var start = projected.Count;
            try
            {
                await FollowOnAsync(work);
            }
            catch (Exception ex)
            {
                // Storage failed us (a projection's failure is recorded on its row instead), or the host stops: what this follow-on put
                // in the batch comes out, and it and the rest go to their lanes.
                foreach (var (message, _) in projected.Skip(start)) publishing.Remove(message.Id);
                projected.RemoveRange(start, projected.Count - start);
                foreach (var rest in works.Skip(next).Where(w => !handedOff.Contains(w))) signal.Post(rest); // given back: the queue's or the sweep's
                if (ct.IsCancellationRequested) throw;
                log.LogWarning(ex, "Delivering the follow-ons of {Table}/{Partition} failed; their lanes deliver them", cause.Table, cause.Partition);
                return;
            }
        }

        async Task FollowOnAsync(OutboxSignal.Work work)
        {
            var key = work.Table + "|" + work.Partition;
            // Of the cause's own partition: its lane (the cause's) delivers it right after the cause, as before. Without a queue (a
            // dispatcher wired by hand) the lanes' order is the only order kept in process: every follow-on goes to its lane.
            var eligible = queue is not null && work.Messages.Count > 0 && HoldsCommitClaim(work) && !(work.Table == cause.Table && work.Partition == cause.Partition)
                && work.Messages.All(m => m.Kind == OutboxKind.Event && !NeedsWorkflowClient(m));
            if (!eligible || blocked.Contains(key))
            {
                blocked.Add(key); // later follow-ons of the partition keep their order behind it
                signal.Post(work);
                return;
            }
            if (await HasEarlierPendingAsync(work, ct, publishing))
            {
                // Behind an earlier message of its partition, like any commit: to the queue, given back.
                blocked.Add(key);
                handedOff.Add(work);
                await HandOffAsync(work, 0, ct);
                return;
            }
            var count = 0;
            using (DeliveryReads.Begin()) // what the cause's projections read is not this commit's
            {
                foreach (var message in work.Messages)
                {
                    try
                    {
                        projected.Add((message, await ProjectAsync(message, ct)));
                    }
                    catch (Exception ex) when (!ct.IsCancellationRequested)
                    {
                        blocked.Add(key);
                        await RecordFailureAsync(work.Table, work.Partition, message, ex, ct);
                        await ReleaseAsync(work, count + 1, ct);
                        break;
                    }
                    publishing.Add(message.Id);
                    count++;
                }
            }
            if (count > 0) followed.Add((work, count));
        }
    }

    /// <summary>Delivers every message whose pointer is due, in commit order per partition; returns the number delivered.</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var delivered = 0;
        var seen = 0;
        DateTimeOffset? oldest = null;
        for (var shard = 0; shard < OutboxPointers.Shards; shard++)
        {
            var pointers = new List<TableEntity>();
            await foreach (var pointer in tables.OutboxPending.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"p" + shard}"), cancellationToken: ct))
            {
                pointers.Add(pointer);
                if (pointer.GetDateTimeOffset("CreatedAt") is { } created && (oldest is null || created < oldest)) oldest = created;
            }
            seen += pointers.Count;
            // Partitions are independent and delivered side by side; within one, commit order holds and a partition whose event could
            // not be delivered holds back its later events: subscribers see them in order.
            var owners = pointers.GroupBy(p => p.GetString("Table") + "|" + p.GetString("Partition"), StringComparer.Ordinal);
            await Parallel.ForEachAsync(owners, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.SweepParallelism), CancellationToken = ct }, async (owner, token) =>
            {
                using var shared = DeliveryReads.Begin();
                var blocked = false;
                var sent = new List<string>();
                try
                {
                    foreach (var pointer in owner.OrderBy(p => p.GetDateTimeOffset("CreatedAt")).ThenBy(p => p.GetInt32("Sequence") ?? 0).ThenBy(p => p.RowKey, StringComparer.Ordinal))
                    {
                        var outcome = await SweepOneAsync(pointer, blocked, token);
                        if (outcome == SweepOutcome.Delivered) sent.Add(pointer.GetString("MessageId")!);
                        if (outcome == SweepOutcome.HeldBack) blocked = true;
                    }
                }
                finally
                {
                    // What was sent leaves the partition in one transaction (and its pointers in one more), not two round trips a message.
                    if (sent.Count > 0)
                    {
                        var first = owner.First();
                        await RemoveAsync(first.GetString("Table")!, first.GetString("Partition")!, sent, CancellationToken.None);
                        Interlocked.Add(ref delivered, sent.Count);
                    }
                }
            });
        }
        OutboxMetrics.Observe(seen, oldest, null, clock.GetUtcNow()); // the backlog as this sweep found it (the outbox lag gauge)
        return delivered;
    }

    private enum SweepOutcome { Delivered, Nothing, HeldBack }

    private async Task<SweepOutcome> SweepOneAsync(TableEntity pointer, bool partitionBlocked, CancellationToken ct)
    {
        if (options.InProcessGraceSeconds > 0 && pointer.GetDateTimeOffset("CreatedAt") is { } created
            && clock.GetUtcNow() - created < TimeSpan.FromSeconds(options.InProcessGraceSeconds))
        {
            // Just committed: the in-process delivery has it; later events of its partition wait behind it.
            return SweepOutcome.HeldBack;
        }
        if (pointer.GetString("MessageId") is { } queuedId && signal.IsQueued(queuedId, TimeSpan.FromSeconds(Math.Max(options.InProcessGraceSeconds, options.QueuedGraceSeconds)),
                TimeSpan.FromSeconds(Math.Max(options.InProcessGraceSeconds, options.LaneStallSeconds))))
        {
            // Still waiting on a delivery lane of this process (a backlog): that delivery sends it in order; no read, no competing claim.
            return SweepOutcome.HeldBack;
        }
        var table = pointer.GetString("Table");
        var partition = pointer.GetString("Partition");
        var messageId = pointer.GetString("MessageId");
        var client = tables.Service.GetTableClient(table);
        var found = await client.GetEntityIfExistsAsync<TableEntity>(partition, OutboxRows.OutboxPrefix + messageId, cancellationToken: ct);
        if (!found.HasValue)
        {
            // Delivered meanwhile, or its transaction never committed: drop the pointer once it cannot still be committing.
            var old = pointer.Timestamp is not { } stamp || clock.GetUtcNow() - stamp > TimeSpan.FromSeconds(options.PointerGraceSeconds);
            if (old) await tables.OutboxPending.DeleteEntityAsync(pointer.PartitionKey, pointer.RowKey, Azure.ETag.All, ct);
            return SweepOutcome.Nothing;
        }
        var row = found.Value!;
        if (row.GetBoolean("Dead") ?? false)
        {
            // Parked: in the dead-letter index (again, should the failure that parked it have stopped before it) before its pointer goes.
            await DeadLetters.RecordAsync(tables, table!, partition!, row, pointer.GetInt32("Sequence"), clock.GetUtcNow(), ct);
            await tables.OutboxPending.DeleteEntityAsync(pointer.PartitionKey, pointer.RowKey, Azure.ETag.All, ct);
            return SweepOutcome.Nothing;
        }
        var message = OutboxRows.ReadOutbox(row);
        var isEvent = message.Kind == OutboxKind.Event;
        if (isEvent && partitionBlocked) return SweepOutcome.HeldBack;
        if (NeedsWorkflowClient(message)) return SweepOutcome.HeldBack; // the queue or the timer sweep, which carry a client, deliver it
        if (row.GetDateTimeOffset("NextAttemptAt") is { } next && next > clock.GetUtcNow()) return isEvent ? SweepOutcome.HeldBack : SweepOutcome.Nothing;
        if (!await TryClaimAsync(client, row, ct)) return isEvent ? SweepOutcome.HeldBack : SweepOutcome.Nothing; // another deliverer sends it
        try
        {
            await DeliverAsync(message, ct);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            await RecordFailureAsync(table, partition, message, ex, ct);
            return isEvent ? SweepOutcome.HeldBack : SweepOutcome.Nothing;
        }
        return SweepOutcome.Delivered; // removed with the partition's others (its claim keeps other deliverers off meanwhile)
    }

    /// <summary>
    /// Hands the messages of a commit from <paramref name="from"/> on to the outbox queue, their claim given back first (see
    /// <see cref="ReleaseAsync"/>), so the queue function delivers them at once instead of waiting for the claim to lapse.
    /// </summary>
    private async Task HandOffAsync(OutboxSignal.Work work, int from, CancellationToken ct)
    {
        await ReleaseAsync(work, from, ct);
        if (queue is null) return; // the sweep delivers it
        await queue.SendAsync(new OutboxQueueMessage(work.Table, work.Partition, work.Messages.Skip(from).Select(m => m.Id).ToList()), ct);
    }

    /// <summary>The pending pointers of one outbox partition, in commit order (one range query of its shard).</summary>
    private async Task<List<TableEntity>> PendingAsync(string table, string partition, CancellationToken ct)
    {
        var prefix = $"{KeyEncoding.Encode(table)}|{KeyEncoding.Encode(partition)}|";
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {OutboxPointers.Shard(partition)} and RowKey ge {prefix} and RowKey lt {prefix + "~"}");
        var pointers = new List<TableEntity>();
        await foreach (var pointer in tables.OutboxPending.QueryAsync<TableEntity>(filter, cancellationToken: ct)) pointers.Add(pointer);
        return pointers.OrderBy(p => p.GetDateTimeOffset("CreatedAt")).ThenBy(p => p.GetInt32("Sequence") ?? 0).ThenBy(p => p.RowKey, StringComparer.Ordinal).ToList();
    }

    /// <param name="before">Messages delivered before this commit's in the same batch (a follow-on's cause): not waiting.</param>
    private async Task<bool> HasEarlierPendingAsync(OutboxSignal.Work work, CancellationToken ct, IReadOnlySet<string>? before = null)
    {
        var own = work.Messages.Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        if (before is not null) own.UnionWith(before);
        var first = work.Messages.Count == 0 ? DateTimeOffset.MaxValue : work.Messages.Min(m => m.CreatedAt);
        return (await PendingAsync(work.Table, work.Partition, ct)).Any(p => !own.Contains(p.GetString("MessageId") ?? "") && p.GetDateTimeOffset("CreatedAt") <= first);
    }

    /// <summary>
    /// Delivers the messages a queue message names, in commit order with the partition's earlier pending ones, by point reads of their rows (the outbox queue function, with the client
    /// of its invocation). A row already gone was delivered by another path; a parked one is skipped. A failure is recorded on its row
    /// and thrown, so the queue retries (its visibility timeout is the back-off) and, after its maximum dequeue count, moves the message
    /// to the poison queue; the sweep still has the pointer.
    /// </summary>
    public async Task<int> DeliverQueuedAsync(OutboxQueueMessage work, CancellationToken ct)
    {
        using var shared = DeliveryReads.Begin();
        var client = tables.Service.GetTableClient(work.Table);
        var delivered = 0;
        // Commit order per partition, like the sweep: the partition's pending messages up to the last one named (earlier commits still
        // waiting go first; later ones belong to their own delivery). Named messages whose pointer is gone were delivered already.
        var named = work.MessageIds.ToHashSet(StringComparer.Ordinal);
        var pending = (await PendingAsync(work.Table, work.Partition, ct)).Select(p => p.GetString("MessageId") ?? "").ToList();
        var last = pending.FindLastIndex(named.Contains);
        var ids = pending.Take(last + 1).ToList();
        for (var i = 0; i < ids.Count; i++)
        {
            var id = ids[i];
            var found = await client.GetEntityIfExistsAsync<TableEntity>(work.Partition, OutboxRows.OutboxPrefix + id, cancellationToken: ct);
            if (!found.HasValue) continue;
            var row = found.Value!;
            if (row.GetBoolean("Dead") ?? false) continue;
            var message = OutboxRows.ReadOutbox(row);
            if (NeedsWorkflowClient(message)) throw new InvalidOperationException($"Outbox message {id} needs a Durable client; the queue function must carry one.");
            if (!await TryClaimAsync(client, row, ct))
            {
                if (message.Kind == OutboxKind.Email) continue; // emails keep no order: its deliverer sends it
                // Another deliverer is sending it (e.g. the in-process delivery of an earlier commit): come back shortly for it and the
                // rest, in order, rather than overtake it; after the claim lapses this delivery takes over. The sweep is the last resort.
                await DeferAsync(work, ids.Skip(i).Where(named.Contains).ToList(), ct);
                return delivered;
            }
            try
            {
                await DeliverAsync(message, ct);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                await RecordFailureAsync(work.Table, work.Partition, message, ex, ct);
                throw;
            }
            await RemoveAsync(work.Table, work.Partition, [message.Id], ct);
            delivered++;
        }
        return delivered;
    }

    /// <summary>
    /// Claims a message for this deliverer: its row is updated with its ETag (If-Match), so of concurrent deliverers exactly one wins.
    /// A claim held by another deliverer and not yet lapsed is left alone. A failed delivery gives the claim back (its row is rewritten).
    /// </summary>
    /// <param name="own">The claim the commit wrote into the row for this delivery (<see cref="OutboxSignal.Work.ClaimedUntil"/>): a row that
    /// still holds it is this delivery's to claim afresh (another deliverer's claim is written at another instant).</param>
    private async Task<bool> TryClaimAsync(TableClient client, TableEntity row, CancellationToken ct, DateTimeOffset? own = null)
    {
        var now = clock.GetUtcNow();
        if (row.GetDateTimeOffset("ClaimedUntil") is { } until && until > now && !(own is { } mine && Math.Abs((until - mine).TotalMilliseconds) < 1)) return false;
        var claim = new TableEntity(row.PartitionKey, row.RowKey) { ["ClaimedUntil"] = now + TimeSpan.FromSeconds(options.ClaimSeconds) };
        try
        {
            await client.UpdateEntityAsync(claim, row.ETag, TableUpdateMode.Merge, ct);
            return true;
        }
        catch (Azure.RequestFailedException lost) when (lost.Status is 404 or 412)
        {
            return false; // delivered, claimed or changed by another deliverer meanwhile
        }
    }

    /// <summary>
    /// Claims the first <paramref name="count"/> messages of a commit with the ETags the commit gave their rows: one transaction, no read.
    /// False when any of them was touched since (another deliverer got there first) or has no ETag: the caller then claims each from a read.
    /// </summary>
    private async Task<bool> ClaimCommittedAsync(OutboxSignal.Work work, int count, CancellationToken ct)
    {
        var client = tables.Service.GetTableClient(work.Table);
        var until = clock.GetUtcNow() + TimeSpan.FromSeconds(options.ClaimSeconds);
        var claims = work.Messages.Take(count).Select((m, i) => (Entity: new TableEntity(work.Partition, OutboxRows.OutboxPrefix + m.Id) { ["ClaimedUntil"] = until }, ETag: work.RowETags[i])).ToList();
        if (claims.Any(c => c.ETag == default)) return false; // no ETag from the commit (not seen with Azure or Azurite): each is claimed from a read
        try
        {
            if (claims.Count == 1) await client.UpdateEntityAsync(claims[0].Entity, claims[0].ETag, TableUpdateMode.Merge, ct);
            else await client.SubmitTransactionAsync(claims.Select(c => new TableTransactionAction(TableTransactionActionType.UpdateMerge, c.Entity, c.ETag)), ct);
            return true;
        }
        catch (TableTransactionFailedException lost) when (lost.Status is 404 or 412)
        {
            return false;
        }
        catch (Azure.RequestFailedException lost) when (lost.Status is 404 or 412)
        {
            return false;
        }
    }

    /// <summary>Whether the claim the commit wrote into its rows for this process (<see cref="OutboxSignal.Work.ClaimedUntil"/>) still has at least half its time left.</summary>
    private bool HoldsCommitClaim(OutboxSignal.Work work) =>
        work.ClaimedUntil is { } until && until - clock.GetUtcNow() >= TimeSpan.FromSeconds(options.ClaimSeconds / 2.0);

    /// <summary>
    /// Gives back the claim the commit wrote into the rows of the messages from <paramref name="from"/> on, which this delivery hands to
    /// the queue, leaves to the sweep or could not deliver: their deliverer takes them at once instead of waiting for the claim to lapse.
    /// One transaction with the commit's ETags (a row touched since is another deliverer's already, or delivered); rows whose ETag the
    /// commit did not learn (its answer was lost) keep the claim until it lapses. Best effort: a failure is logged, the claim lapses anyway.
    /// </summary>
    /// <param name="upTo">The end of the messages given back (exclusive); all the rest when null.</param>
    private async Task ReleaseAsync(OutboxSignal.Work work, int from, CancellationToken ct, int? upTo = null)
    {
        var end = Math.Min(upTo ?? work.Messages.Count, work.Messages.Count);
        if (work.ClaimedUntil is null || from >= end) return;
        var client = tables.Service.GetTableClient(work.Table);
        var releases = work.Messages.Select((m, i) => (Message: m, ETag: work.RowETags[i])).Take(end).Skip(from).Where(r => r.ETag != default)
            .Select(r => new TableTransactionAction(TableTransactionActionType.UpdateMerge,
                new TableEntity(work.Partition, OutboxRows.OutboxPrefix + r.Message.Id) { ["ClaimedUntil"] = DateTimeOffset.UnixEpoch }, r.ETag)).ToList();
        if (releases.Count == 0) return;
        try
        {
            if (releases.Count == 1) await client.UpdateEntityAsync((TableEntity)releases[0].Entity, releases[0].ETag, TableUpdateMode.Merge, ct);
            else await client.SubmitTransactionAsync(releases, ct);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            log.LogDebug("Outbox messages of {Table}/{Partition} were touched since their commit; their claim lapses", work.Table, work.Partition);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            log.LogWarning(ex, "Giving back the claim of outbox messages of {Table}/{Partition} failed; it lapses", work.Table, work.Partition);
        }
    }

    /// <summary>Re-sends a queue delivery for later (<see cref="OutboxOptions.DeferSeconds"/>), a bounded number of times; then the sweep has it.</summary>
    private async Task DeferAsync(OutboxQueueMessage work, IReadOnlyList<string> remaining, CancellationToken ct)
    {
        if (queue is null || remaining.Count == 0) return;
        var limit = Math.Max(1, (options.ClaimSeconds + options.DeferSeconds) / Math.Max(1, options.DeferSeconds) + 5);
        if (work.Deferrals >= limit)
        {
            log.LogWarning("Outbox messages {MessageIds} of {Table}/{Partition} stayed claimed by another deliverer; the sweep delivers them", string.Join(",", remaining), work.Table, work.Partition);
            return;
        }
        await queue.SendAsync(work with { MessageIds = remaining, Deferrals = work.Deferrals + 1 }, ct, TimeSpan.FromSeconds(options.DeferSeconds));
    }

    /// <summary>Deletes delivered rows (one transaction per partition) and their pointers (one per shard).</summary>
    private Task RemoveAsync(string table, string partition, IReadOnlyList<string> messageIds, CancellationToken ct) =>
        RemoveAsync([(table, partition, messageIds)], ct);

    /// <summary>
    /// Deletes the delivered rows of one delivery and its follow-ons: each partition's rows in one transaction, side by side, then the
    /// pointers, one transaction per shard (a pointer outlives its row, never the other way round).
    /// </summary>
    private async Task RemoveAsync(IReadOnlyList<(string Table, string Partition, IReadOnlyList<string> MessageIds)> groups, CancellationToken ct)
    {
        await Task.WhenAll(groups.Select(g => DeleteAsync(tables.Service.GetTableClient(g.Table), g.Partition, g.MessageIds.Select(id => OutboxRows.OutboxPrefix + id).ToList(), ct)));
        await Task.WhenAll(groups.SelectMany(g => g.MessageIds.Select(id => (Shard: OutboxPointers.Shard(g.Partition), Key: OutboxPointers.RowKey(g.Table, g.Partition, id))))
            .GroupBy(p => p.Shard, StringComparer.Ordinal)
            .Select(shard => DeleteAsync(tables.OutboxPending, shard.Key, shard.Select(p => p.Key).ToList(), ct)));
    }

    private static async Task DeleteAsync(TableClient client, string partition, IReadOnlyList<string> rowKeys, CancellationToken ct)
    {
        if (rowKeys.Count > PartitionWriter.MaxActions)
        {
            foreach (var chunk in rowKeys.Chunk(PartitionWriter.MaxActions)) await DeleteAsync(client, partition, chunk, ct);
            return;
        }
        if (rowKeys.Count > 1)
        {
            try
            {
                await client.SubmitTransactionAsync(rowKeys.Select(rk => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partition, rk), Azure.ETag.All)), ct);
                return;
            }
            catch (TableTransactionFailedException)
            {
                // One of them is gone already (another dispatcher): delete the rest one by one.
            }
        }
        foreach (var rowKey in rowKeys) await client.DeleteEntityAsync(partition, rowKey, Azure.ETag.All, ct);
    }

    private async Task RecordFailureAsync(string table, string partition, OutboxMessage message, Exception ex, CancellationToken ct)
    {
        var client = tables.Service.GetTableClient(table);
        var found = await client.GetEntityIfExistsAsync<TableEntity>(partition, OutboxRows.OutboxPrefix + message.Id, cancellationToken: ct);
        if (!found.HasValue) return;
        var row = found.Value!;
        var attempts = (row.GetInt32("Attempts") ?? 0) + 1;
        var wait = ex is TransientDeliveryException { RetryAfter: { } after } ? after : TimeSpan.FromSeconds(Math.Min(3600, Math.Pow(2, attempts)));
        var dead = attempts >= options.MaxAttempts;
        log.LogWarning(ex, "Outbox message {MessageId} ({Type}) failed, attempt {Attempt}{Parked}", message.Id, message.Type, attempts, dead ? ", parked" : "");
        row["Attempts"] = attempts;
        row["LastError"] = ex.Message.Length > 1000 ? ex.Message[..1000] : ex.Message;
        row["NextAttemptAt"] = clock.GetUtcNow() + wait;
        row["Dead"] = dead;
        row.Remove("ClaimedUntil"); // the claim is given back: the next attempt may be any deliverer's
        try
        {
            await client.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, ct);
        }
        catch (Azure.RequestFailedException conflict) when (conflict.Status is 404 or 412)
        {
            return; // delivered or updated by another dispatcher meanwhile
        }
        OutboxMetrics.CountFailure(message.Kind.ToString().ToLowerInvariant());
        if (!dead) return;
        // Parked for an operator: indexed as dead (GET /api/ops/outbox) before its pointer goes, so it is never lost from sight.
        OutboxMetrics.CountDead(message.Kind.ToString().ToLowerInvariant(), message.Type);
        var pointerKey = OutboxPointers.RowKey(table, partition, message.Id);
        var pointer = await tables.OutboxPending.GetEntityIfExistsAsync<TableEntity>(OutboxPointers.Shard(partition), pointerKey, cancellationToken: ct);
        var updated = await client.GetEntityIfExistsAsync<TableEntity>(partition, OutboxRows.OutboxPrefix + message.Id, cancellationToken: ct);
        if (updated.HasValue) await DeadLetters.RecordAsync(tables, table, partition, updated.Value!, pointer.HasValue ? pointer.Value!.GetInt32("Sequence") : null, clock.GetUtcNow(), ct);
        await tables.OutboxPending.DeleteEntityAsync(OutboxPointers.Shard(partition), pointerKey, Azure.ETag.All, ct);
    }

    private async Task DeliverAsync(OutboxMessage message, CancellationToken ct)
    {
        if (message.Kind == OutboxKind.Event)
        {
            var e = await ProjectAsync(message, ct);
            await PublishAsync([(message, e)], ct);
            return;
        }
        var previous = Prm.Core.Common.Correlation.Id;
        using var activity = StartDelivery(message, "email");
        try
        {
            // The notification rules (own actions, preferences and digests, unsubscribe links) decide what is sent now.
            var email = message.ReadEmail();
            var prepared = gate is null ? email : await gate.PrepareAsync(message.Id, email, message.CreatedAt, message.PartnerId, ct);
            if (prepared is not null) await sender.SendAsync(message.Id, prepared, ct);
            else activity?.SetTag("prm.outbox.email_withheld", true);
            OutboxMetrics.CountDelivered("email");
        }
        catch (Exception ex)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Message);
            throw;
        }
        finally
        {
            Prm.Core.Common.Correlation.Id = previous;
        }
    }

    /// <summary>
    /// The request's correlation id follows its messages: what a projection commits (events, emails, workflow starts) carries it on, and
    /// the delivery is a span of the request's trace (Prm.Telemetry). The caller restores the previous correlation id.
    /// </summary>
    private static System.Diagnostics.Activity? StartDelivery(OutboxMessage message, string kind)
    {
        Prm.Core.Common.Correlation.Id = message.CorrelationId ?? Prm.Core.Common.Correlation.Id;
        var activity = Prm.Core.Common.PrmTelemetry.StartFromCorrelation("outbox.deliver " + message.Type, message.CorrelationId, System.Diagnostics.ActivityKind.Consumer);
        activity?.SetTag("prm.outbox.message_id", message.Id);
        activity?.SetTag("prm.outbox.kind", kind);
        return activity;
    }

    /// <summary>Applies the projections to an event (each projection in registration order); returns the event, ready to publish.</summary>
    private async Task<IntegrationEvent> ProjectAsync(OutboxMessage message, CancellationToken ct)
    {
        var previous = Prm.Core.Common.Correlation.Id;
        using var activity = StartDelivery(message, "event");
        try
        {
            var e = message.ReadEvent();
            activity?.SetTag("prm.subject", e.Subject);
            foreach (var projection in projections) await projection.ApplyAsync(e, ct);
            return e;
        }
        catch (Exception ex)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Message);
            throw;
        }
        finally
        {
            Prm.Core.Common.Correlation.Id = previous;
        }
    }

    /// <summary>
    /// Publishes the projected events of one delivery (a commit's, then its follow-ons'), each partition's in commit order: the batch projections take them together (the webhook event log),
    /// then the publisher in one call (a Service Bus message batch). Ids stay those of the events, so publishing them again adds nothing.
    /// </summary>
    private async Task PublishAsync(IReadOnlyList<(OutboxMessage Message, IntegrationEvent Event)> events, CancellationToken ct)
    {
        var previous = Prm.Core.Common.Correlation.Id;
        Prm.Core.Common.Correlation.Id = events[0].Message.CorrelationId ?? previous;
        using var activity = Prm.Core.Common.PrmTelemetry.StartFromCorrelation("outbox.publish", events[0].Message.CorrelationId, System.Diagnostics.ActivityKind.Producer);
        activity?.SetTag("prm.outbox.events", events.Count);
        try
        {
            var list = events.Select(p => p.Event).ToList();
            foreach (var projection in batchProjections) await projection.ApplyAllAsync(list, ct);
            await publisher.PublishAllAsync(list, ct);
            foreach (var _ in list) OutboxMetrics.CountDelivered("event");
        }
        catch (Exception ex)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Message);
            throw;
        }
        finally
        {
            Prm.Core.Common.Correlation.Id = previous;
        }
    }
}
