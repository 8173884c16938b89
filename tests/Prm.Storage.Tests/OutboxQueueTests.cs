using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Prm.Core.Common;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Storage.Outbox;

namespace Prm.Storage.Tests;

/// <summary>
/// Events a workflow projection concerns need the Durable client of an invocation: without one the in-process delivery hands them (with
/// the rest of their commit) to the outbox queue and the in-process sweep leaves them alone; the queue function delivers them.
/// </summary>
public sealed class OutboxQueueTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private sealed class WorkflowClient : IWorkflowClientContext
    {
        public bool Available { get; set; }
    }

    private sealed class RecordingWorkflows(WorkflowClient client, bool fail = false) : IWorkflowProjection
    {
        public List<string> Applied { get; } = [];

        public List<string> Seen { get; } = [];

        public bool Concerns(IntegrationEvent e) => e.Type == "deal.approved";

        public Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
        {
            Seen.Add(e.Id);
            if (!Concerns(e)) return Task.CompletedTask;
            if (!client.Available) throw new InvalidOperationException("no client");
            if (fail) throw new InvalidOperationException("workflow backend down");
            Applied.Add(e.Id);
            return Task.CompletedTask;
        }
    }

    private sealed record Setup(TestStores S, OutboxDispatcher Dispatcher, WorkflowClient Client, RecordingWorkflows Workflows, DevMailbox Mailbox, Azure.Storage.Queues.QueueClient Queue, string Partition)
    {
        public TableClient Table => S.Tables.Partners;

        public OutboxMessage Event(string type) => OutboxMessage.ForEvent(IntegrationEvent.Create(Ids.New("evt"), type, S.Clock.GetUtcNow(), $"things/{Partition}", Partition, "corr", new { value = 1 }));

        public OutboxMessage Email() => OutboxMessage.ForEmail(Ids.New("msg"), new EmailMessage("bob@partner.example", "Bob", "Hello", "text", "<p>html</p>", "t"), S.Clock.GetUtcNow(), Partition, "corr");

        public async Task CommitAsync(params OutboxMessage[] messages) =>
            await S.Writer.CommitAsync(Table, Partition, [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(Partition, "state|" + Guid.NewGuid().ToString("N")))],
                new ChangeSet([], messages), None);

        public async Task<bool> RowExistsAsync(OutboxMessage m) => (await Table.GetEntityIfExistsAsync<TableEntity>(Partition, OutboxRows.OutboxPrefix + m.Id)).HasValue;
    }

    private static async Task<Setup> CreateAsync(bool fail = false, Func<TestStores, OutboxOptions, IOutboxProjection>? extra = null, IEventPublisher? publisher = null,
        Func<DevMailbox, IEmailSender>? sender = null)
    {
        var s = await TestStores.CreateAsync();
        var options = new OutboxOptions { QueueName = "q" + Guid.NewGuid().ToString("N")[..20], InProcessGraceSeconds = 0, PointerGraceSeconds = 60 };
        var queues = new PrmQueues(s.Options, options);
        var client = new WorkflowClient();
        var workflows = new RecordingWorkflows(client, fail);
        var mailbox = new DevMailbox(s.Tables, s.Clock);
        IOutboxProjection[] projections = extra is null ? [workflows] : [workflows, extra(s, options)];
        var dispatcher = new OutboxDispatcher(s.Tables, s.Signal, publisher ?? new DevEventSink(s.Tables, s.Clock), sender?.Invoke(mailbox) ?? mailbox, projections, options, s.Clock,
            NullLogger<OutboxDispatcher>.Instance, new OutboxQueue(queues, NullLogger<OutboxQueue>.Instance), client);
        return new Setup(s, dispatcher, client, workflows, mailbox, queues.Outbox, Ids.New("ptn"));
    }

    private static async Task<OutboxQueueMessage[]> QueuedAsync(Setup f)
    {
        if (!(await f.Queue.ExistsAsync()).Value) return [];
        var peeked = (await f.Queue.PeekMessagesAsync(32)).Value;
        return peeked.Select(m => OutboxQueue.Deserialize(m.Body.ToString())).ToArray();
    }

    [Fact]
    public async Task A_commit_made_by_an_invocation_with_a_client_is_delivered_with_that_client_at_once_without_the_queue()
    {
        var f = await CreateAsync();
        var email = f.Email();
        var approved = f.Event("deal.approved");
        await f.CommitAsync(email, approved);
        f.S.Signal.Reader.TryRead(out var work).Should().BeTrue();
        // What OutboxPointers captures from an HTTP invocation that declares [DurableClient]: a way back into its client's scope.
        f.S.Signal.Post(work! with { ClientScope = () => { f.Client.Available = true; return new Scope(() => f.Client.Available = false); } });

        using var stop = new CancellationTokenSource();
        await f.Dispatcher.StartAsync(stop.Token);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((f.Workflows.Applied.Count == 0 || await f.RowExistsAsync(approved) || await f.RowExistsAsync(email)) && DateTime.UtcNow < deadline) await Task.Delay(20);
        }
        finally
        {
            await stop.CancelAsync();
            await f.Dispatcher.StopAsync(None);
        }

        f.Workflows.Applied.Should().Equal(approved.Id);
        (await f.RowExistsAsync(approved)).Should().BeFalse();
        (await f.RowExistsAsync(email)).Should().BeFalse();
        (await QueuedAsync(f)).Should().BeEmpty("the invocation's own client delivered it");
        f.Client.Available.Should().BeFalse("the scope ends with the delivery");
    }

    private sealed class Scope(Action end) : IDisposable
    {
        public void Dispose() => end();
    }

    [Fact]
    public async Task Without_a_client_the_commit_delivers_up_to_the_workflow_event_and_enqueues_it_with_the_rest()
    {
        var f = await CreateAsync();
        var email = f.Email();
        var approved = f.Event("deal.approved");
        var after = f.Event("deal.updated");
        await f.CommitAsync(email, approved, after);
        f.S.Signal.Reader.TryRead(out var work).Should().BeTrue();

        await f.Dispatcher.DeliverCommittedAsync(work!, None);

        (await f.RowExistsAsync(email)).Should().BeFalse("the email needs no client and went at once");
        (await f.RowExistsAsync(approved)).Should().BeTrue();
        (await f.RowExistsAsync(after)).Should().BeTrue("later events of the commit keep their order behind the workflow event");
        var queued = (await QueuedAsync(f)).Should().ContainSingle().Subject;
        queued.Table.Should().Be(f.Table.Name);
        queued.Partition.Should().Be(f.Partition);
        queued.MessageIds.Should().Equal(approved.Id, after.Id);

        // The in-process sweep (no client) leaves it alone and records no failed attempt.
        (await f.Dispatcher.SweepAsync(None)).Should().Be(0);
        var row = (await f.Table.GetEntityAsync<TableEntity>(f.Partition, OutboxRows.OutboxPrefix + approved.Id)).Value;
        (row.GetInt32("Attempts") ?? 0).Should().Be(0);

        // The queue function, with a client, delivers both in order; a second delivery of the same queue message finds nothing.
        f.Client.Available = true;
        (await f.Dispatcher.DeliverQueuedAsync(queued, None)).Should().Be(2);
        f.Workflows.Applied.Should().Equal(approved.Id);
        (await f.RowExistsAsync(approved)).Should().BeFalse();
        (await f.RowExistsAsync(after)).Should().BeFalse();
        (await f.Dispatcher.DeliverQueuedAsync(queued, None)).Should().Be(0);
        (await f.Dispatcher.SweepAsync(None)).Should().Be(0, "the pointers went with the rows");
    }

    [Fact]
    public async Task A_commit_without_workflow_events_enqueues_nothing()
    {
        var f = await CreateAsync();
        var e = f.Event("deal.updated");
        await f.CommitAsync(e);
        f.S.Signal.Reader.TryRead(out var work).Should().BeTrue();
        await f.Dispatcher.DeliverCommittedAsync(work!, None);
        (await f.RowExistsAsync(e)).Should().BeFalse();
        (await QueuedAsync(f)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_failed_queued_delivery_records_the_attempt_and_throws_so_the_queue_retries()
    {
        var f = await CreateAsync(fail: true);
        var approved = f.Event("deal.approved");
        await f.CommitAsync(approved);
        f.Client.Available = true;
        var act = () => f.Dispatcher.DeliverQueuedAsync(new OutboxQueueMessage(f.Table.Name, f.Partition, [approved.Id]), None);
        await act.Should().ThrowAsync<InvalidOperationException>();
        var row = (await f.Table.GetEntityAsync<TableEntity>(f.Partition, OutboxRows.OutboxPrefix + approved.Id)).Value;
        row.GetInt32("Attempts").Should().Be(1);
    }

    [Fact]
    public async Task With_a_client_the_sweep_delivers_workflow_events()
    {
        var f = await CreateAsync();
        var approved = f.Event("deal.approved");
        await f.CommitAsync(approved);
        f.Client.Available = true;
        (await f.Dispatcher.SweepAsync(None)).Should().Be(1);
        f.Workflows.Applied.Should().Equal(approved.Id);
    }

    [Fact]
    public async Task A_commit_behind_a_queued_one_of_its_partition_is_queued_too_and_delivered_after_it()
    {
        var f = await CreateAsync();
        var approved = f.Event("deal.approved");
        await f.CommitAsync(approved);
        f.S.Signal.Reader.TryRead(out var first).Should().BeTrue();
        await f.Dispatcher.DeliverCommittedAsync(first!, None);
        f.S.Clock.Advance(TimeSpan.FromMilliseconds(10));
        var updated = f.Event("deal.updated");
        await f.CommitAsync(updated);
        f.S.Signal.Reader.TryRead(out var second).Should().BeTrue();

        await f.Dispatcher.DeliverCommittedAsync(second!, None);

        (await f.RowExistsAsync(updated)).Should().BeTrue("it must not overtake the queued deal.approved");
        var queued = await QueuedAsync(f);
        queued.Select(q => q.MessageIds.Single()).Should().Equal(approved.Id, updated.Id);
        f.Client.Available = true;
        // The later queue message alone delivers both, in commit order; the earlier one then finds nothing left.
        (await f.Dispatcher.DeliverQueuedAsync(queued[1], None)).Should().Be(2);
        (await f.Dispatcher.DeliverQueuedAsync(queued[0], None)).Should().Be(0);
        f.Workflows.Applied.Should().Equal(approved.Id);
        f.Workflows.Seen.Should().Equal(approved.Id, updated.Id);
    }

    [Fact]
    public async Task What_a_commit_claimed_for_its_in_process_delivery_hands_to_the_queue_is_given_back_so_the_queue_delivers_it_at_once()
    {
        var f = await CreateAsync();
        // A writer of a process whose dispatcher reads the lanes: its commits' rows are born claimed for that delivery.
        var writer = new PartitionWriter(new OutboxPointers(f.S.Tables, f.S.Signal, null, new OutboxOptions(), f.S.Clock));
        f.S.Signal.Consuming(true);
        try
        {
            var email = f.Email();
            var approved = f.Event("deal.approved");
            var after = f.Event("deal.updated");
            await writer.CommitAsync(f.Table, f.Partition, [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(f.Partition, "state|" + Guid.NewGuid().ToString("N")))],
                new ChangeSet([], [email, approved, after]), None);
            f.S.Signal.Reader.TryRead(out var work).Should().BeTrue();
            work!.ClaimedUntil.Should().Be(f.S.Clock.GetUtcNow().AddSeconds(new OutboxOptions().ClaimSeconds));
            var row = (await f.Table.GetEntityAsync<TableEntity>(f.Partition, OutboxRows.OutboxPrefix + approved.Id)).Value;
            row.GetDateTimeOffset("ClaimedUntil").Should().Be(work.ClaimedUntil, "the commit wrote the claim with the row");

            await f.Dispatcher.DeliverCommittedAsync(work, None); // no client: the workflow event and the rest go to the queue

            (await f.RowExistsAsync(email)).Should().BeFalse();
            foreach (var handed in new[] { approved, after })
            {
                var left = (await f.Table.GetEntityAsync<TableEntity>(f.Partition, OutboxRows.OutboxPrefix + handed.Id)).Value;
                left.GetDateTimeOffset("ClaimedUntil").Should().BeBefore(f.S.Clock.GetUtcNow(), "the claim of what was handed off is given back");
            }
            var queued = (await QueuedAsync(f)).Should().ContainSingle().Subject;
            f.Client.Available = true;
            (await f.Dispatcher.DeliverQueuedAsync(queued, None)).Should().Be(2, "nothing holds them: the queue delivers them now, not after the claim lapses");
            f.Workflows.Applied.Should().Equal(approved.Id);

            // A later commit behind a queued one of its partition is handed off before any delivery, and given back the same way.
            f.Client.Available = false;
            var second = f.Event("deal.approved");
            await writer.CommitAsync(f.Table, f.Partition, [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(f.Partition, "state|" + Guid.NewGuid().ToString("N")))],
                new ChangeSet([], [second]), None);
            f.S.Signal.Reader.TryRead(out var w2).Should().BeTrue();
            await f.Dispatcher.DeliverCommittedAsync(w2!, None);
            f.S.Clock.Advance(TimeSpan.FromMilliseconds(10));
            var third = f.Event("deal.updated");
            await writer.CommitAsync(f.Table, f.Partition, [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(f.Partition, "state|" + Guid.NewGuid().ToString("N")))],
                new ChangeSet([], [third]), None);
            f.S.Signal.Reader.TryRead(out var w3).Should().BeTrue();
            await f.Dispatcher.DeliverCommittedAsync(w3!, None);
            (await f.RowExistsAsync(third)).Should().BeTrue("it waits behind the queued deal.approved");
            var later = (await QueuedAsync(f)).Should().HaveCount(3).And.Subject.Last();
            later.MessageIds.Should().Equal(third.Id);
            f.Client.Available = true;
            (await f.Dispatcher.DeliverQueuedAsync(later, None)).Should().Be(2);
            f.Workflows.Seen.TakeLast(2).Should().Equal(second.Id, third.Id);
        }
        finally
        {
            f.S.Signal.Consuming(false);
        }
    }

    [Fact]
    public void The_queue_message_body_is_camel_case_json()
    {
        OutboxQueue.Serialize(new OutboxQueueMessage("prmdeals", "ptn_1", ["m1"])).Should().Be("""{"table":"prmdeals","partition":"ptn_1","messageIds":["m1"],"deferrals":0}""");
        var older = OutboxQueue.Deserialize("""{"table":"prmdeals","partition":"ptn_1","messageIds":["m1"]}""");
        older.Deferrals.Should().Be(0, "a message enqueued before deferrals existed reads as never deferred");
        older.MessageIds.Should().Equal("m1");
    }

    [Fact]
    public async Task A_queue_delivery_that_finds_an_earlier_event_claimed_by_another_deliverer_comes_back_later_instead_of_overtaking_it()
    {
        var f = await CreateAsync();
        var earlier = f.Event("thing.changed");
        var approved = f.Event("deal.approved");
        await f.CommitAsync(earlier, approved);
        f.S.Signal.Reader.TryRead(out _);
        // Another deliverer (an in-process delivery, a sweep on another instance) holds the earlier event.
        var row = (await f.Table.GetEntityAsync<TableEntity>(f.Partition, OutboxRows.OutboxPrefix + earlier.Id)).Value;
        await f.Table.UpdateEntityAsync(new TableEntity(f.Partition, row.RowKey) { ["ClaimedUntil"] = f.S.Clock.GetUtcNow().AddSeconds(60) }, row.ETag, TableUpdateMode.Merge);
        f.Client.Available = true;

        var delivered = await f.Dispatcher.DeliverQueuedAsync(new OutboxQueueMessage(f.Table.Name, f.Partition, [approved.Id]), None);

        delivered.Should().Be(0);
        f.Workflows.Seen.Should().BeEmpty("the later event waits for the earlier one, which another deliverer holds");
        (await f.Queue.GetPropertiesAsync()).Value.ApproximateMessagesCount.Should().Be(1, "the delivery re-sent itself, invisible for a moment");

        // The claim lapses (its deliverer died): the deferred delivery takes over both, in order.
        f.S.Clock.Advance(TimeSpan.FromSeconds(61));
        (await f.Dispatcher.DeliverQueuedAsync(new OutboxQueueMessage(f.Table.Name, f.Partition, [approved.Id], Deferrals: 1), None)).Should().Be(2);
        f.Workflows.Seen.Should().Equal(earlier.Id, approved.Id);
        f.Workflows.Applied.Should().Equal(approved.Id);
    }

    /// <summary>Publishes nothing: keeps each call's events, in order.</summary>
    private sealed class RecordingPublisher : IEventPublisher
    {
        public List<List<string>> Batches { get; } = [];

        public bool Fail { get; set; }

        /// <summary>Refuses every batch that holds an event of this type (a poison event).</summary>
        public string? Refuse { get; set; }

        public Task PublishAsync(IntegrationEvent e, CancellationToken ct) => PublishAllAsync([e], ct);

        public Task PublishAllAsync(IReadOnlyList<IntegrationEvent> events, CancellationToken ct)
        {
            if (Fail || events.Any(e => e.Type == Refuse)) throw new InvalidOperationException("broker down");
            lock (Batches) Batches.Add(events.Select(e => e.Type).ToList());
            return Task.CompletedTask;
        }
    }

    /// <summary>
    /// A projection that commits, like the tier evaluation an approval causes: on "thing.caused" it writes a state row of its own partition
    /// with a "thing.followed" event, through a writer whose rows are born claimed for this process's delivery.
    /// </summary>
    private sealed class CommittingProjection(TestStores s, OutboxOptions options, Func<string> partitionOf, int times = 1) : IOutboxProjection
    {
        private readonly PartitionWriter writer = new(new OutboxPointers(s.Tables, s.Signal, null, options, s.Clock));

        public List<string> Followed { get; } = [];

        public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
        {
            if (e.Type == "thing.followed") Followed.Add(e.Id);
            if (e.Type != "thing.caused") return;
            var partition = partitionOf();
            for (var i = 0; i < times; i++)
            {
                var followed = OutboxMessage.ForEvent(IntegrationEvent.Create(Ids.New("evt"), "thing.followed", s.Clock.GetUtcNow(), $"things/{partition}", partition, "corr", new { cause = e.Id }));
                await writer.CommitAsync(s.Tables.Partners, partition, [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, "state|" + Guid.NewGuid().ToString("N")))],
                    new ChangeSet([], [followed]), ct);
                s.Clock.Advance(TimeSpan.FromMilliseconds(1));
            }
        }
    }

    /// <summary>A partition other than <paramref name="partition"/> whose pointers share its shard.</summary>
    private static string SameShard(string partition)
    {
        while (true)
        {
            var other = Ids.New("ptn");
            if (OutboxPointers.Shard(other) == OutboxPointers.Shard(partition)) return other;
        }
    }

    private static async Task<List<TableEntity>> OutboxRowsAsync(TableClient table, string partition)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {OutboxRows.OutboxPrefix} and RowKey lt {OutboxRows.OutboxPrefix + "~"}"))) rows.Add(row);
        return rows;
    }

    private static async Task<int> RowCountAsync(TableClient table, string partition) => (await OutboxRowsAsync(table, partition)).Count;

    [Fact]
    public async Task What_a_projection_commits_during_an_in_process_delivery_is_delivered_with_it_in_one_publication_and_one_pointer_transaction()
    {
        var publisher = new RecordingPublisher();
        CommittingProjection? projection = null;
        string? followPartition = null;
        var f = await CreateAsync(extra: (s, options) => projection = new CommittingProjection(s, options, () => followPartition!), publisher: publisher);
        followPartition = SameShard(f.Partition);
        var writer = new PartitionWriter(new OutboxPointers(f.S.Tables, f.S.Signal, null, new OutboxOptions(), f.S.Clock));
        f.S.Signal.Consuming(true);
        try
        {
            var caused = f.Event("thing.caused");
            await writer.CommitAsync(f.Table, f.Partition, [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(f.Partition, "state|cause"))], new ChangeSet([], [caused]), None);
            f.S.Signal.Reader.TryRead(out var work).Should().BeTrue();
            var calls = StorageCalls.BeginScope();
            await f.Dispatcher.DeliverCommittedAsync(work!, None);
            var (count, trace) = (calls.Value, string.Join(" | ", calls.Describe()));

            publisher.Batches.Should().ContainSingle().Which.Should().Equal(["thing.caused", "thing.followed"], "the follow-on is published in its cause's batch, after it");
            projection!.Followed.Should().ContainSingle("the follow-on's event went through the projections");
            f.S.Signal.Lanes.Should().AllSatisfy(l => l.TryRead(out _).Should().BeFalse("the delivery took its follow-on instead of queueing it on a lane"));
            (await RowCountAsync(f.Table, f.Partition)).Should().Be(0);
            (await RowCountAsync(f.Table, followPartition)).Should().Be(0);
            var pointers = new List<TableEntity>();
            await foreach (var p in f.S.Tables.OutboxPending.QueryAsync<TableEntity>()) pointers.Add(p);
            pointers.Should().BeEmpty();
            (await QueuedAsync(f)).Should().BeEmpty();
            // The cause's earlier-pending query; the projection's pointer and transaction; the follow-on's earlier-pending query; each
            // partition's row delete, side by side; both pointers in one transaction (one shard). On its own lane the follow-on cost its
            // own publication and a pointer delete more.
            count.Should().Be(7, trace);
        }
        finally
        {
            f.S.Signal.Consuming(false);
        }
    }

    [Fact]
    public async Task A_follow_on_whose_partition_has_an_earlier_message_pending_waits_for_it_and_one_whose_batch_fails_goes_to_its_own_lane()
    {
        var publisher = new RecordingPublisher();
        string? followPartition = null;
        var f = await CreateAsync(extra: (s, options) => new CommittingProjection(s, options, () => followPartition!), publisher: publisher);
        followPartition = Ids.New("ptn");
        var writer = new PartitionWriter(new OutboxPointers(f.S.Tables, f.S.Signal, null, new OutboxOptions(), f.S.Clock));
        f.S.Signal.Consuming(true);
        try
        {
            // An earlier event of the follow-on's partition is still pending (another instance holds it, say).
            var earlier = OutboxMessage.ForEvent(IntegrationEvent.Create(Ids.New("evt"), "thing.earlier", f.S.Clock.GetUtcNow(), $"things/{followPartition}", followPartition, "corr", new { }));
            await writer.CommitAsync(f.Table, followPartition, [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(followPartition, "state|earlier"))], new ChangeSet([], [earlier]), None);
            f.S.Signal.Reader.TryRead(out _).Should().BeTrue(); // taken, never delivered here
            f.S.Clock.Advance(TimeSpan.FromMilliseconds(5));

            var caused = f.Event("thing.caused");
            await writer.CommitAsync(f.Table, f.Partition, [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(f.Partition, "state|cause"))], new ChangeSet([], [caused]), None);
            f.S.Signal.Reader.TryRead(out var work).Should().BeTrue();
            await f.Dispatcher.DeliverCommittedAsync(work!, None);

            publisher.Batches.Should().ContainSingle().Which.Should().Equal(["thing.caused"], "the follow-on would overtake the earlier event of its partition");
            (await RowCountAsync(f.Table, followPartition)).Should().Be(2, "both wait");
            var queued = (await QueuedAsync(f)).Should().ContainSingle().Subject;
            queued.Partition.Should().Be(followPartition, "the follow-on goes to the queue, given back, as any commit behind an earlier one");
            var followRows = await OutboxRowsAsync(f.Table, followPartition);
            followRows.Single(r => r.RowKey == OutboxRows.OutboxPrefix + queued.MessageIds.Single()).GetDateTimeOffset("ClaimedUntil").Should().BeBefore(f.S.Clock.GetUtcNow(), "its claim was given back");

            // Once the earlier one's claim lapses, the queue delivers both, in commit order.
            f.S.Clock.Advance(TimeSpan.FromSeconds(new OutboxOptions().ClaimSeconds + 1));
            (await f.Dispatcher.DeliverQueuedAsync(queued, None)).Should().Be(2);
            publisher.Batches.Skip(1).SelectMany(b => b).Should().Equal("thing.earlier", "thing.followed");

            // A publication that fails records the failure on the cause; its follow-on goes to its own lane, still claimed, so its own
            // delivery is not charged to the cause (nor waits for the claim to lapse).
            publisher.Fail = true;
            var again = f.Event("thing.caused");
            await writer.CommitAsync(f.Table, f.Partition, [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(f.Partition, "state|again"))], new ChangeSet([], [again]), None);
            f.S.Signal.Reader.TryRead(out work).Should().BeTrue();
            await f.Dispatcher.DeliverCommittedAsync(work!, None);
            var causeRow = (await f.Table.GetEntityAsync<TableEntity>(f.Partition, OutboxRows.OutboxPrefix + again.Id)).Value;
            causeRow.GetInt32("Attempts").Should().Be(1);
            var lane = f.S.Signal.Lanes.Select(l => l.TryRead(out var w) ? w : null).Where(w => w is not null).Should().ContainSingle().Subject!;
            lane.Partition.Should().Be(followPartition);
            (await RowCountAsync(f.Table, followPartition)).Should().Be(1);
            publisher.Fail = false;
            await f.Dispatcher.DeliverCommittedAsync(lane, None);
            (await RowCountAsync(f.Table, followPartition)).Should().Be(0, "its lane delivered it on its claim");
            publisher.Batches.Last().Should().Equal("thing.followed");
            f.S.Clock.Advance(TimeSpan.FromHours(2)); // past the cause's back-off
            (await f.Dispatcher.SweepAsync(None)).Should().Be(1, "the sweep delivers the cause");
            (await RowCountAsync(f.Table, f.Partition)).Should().Be(0);
        }
        finally
        {
            f.S.Signal.Consuming(false);
        }
    }

    [Fact]
    public async Task Follow_ons_of_one_partition_go_together_in_order_and_a_poison_follow_on_is_not_charged_to_its_cause()
    {
        var publisher = new RecordingPublisher();
        string? followPartition = null;
        var f = await CreateAsync(extra: (s, options) => new CommittingProjection(s, options, () => followPartition!, times: 2), publisher: publisher);
        followPartition = Ids.New("ptn");
        var writer = new PartitionWriter(new OutboxPointers(f.S.Tables, f.S.Signal, null, new OutboxOptions(), f.S.Clock));
        f.S.Signal.Consuming(true);
        try
        {
            async Task<OutboxMessage> CauseAsync()
            {
                var caused = f.Event("thing.caused");
                await writer.CommitAsync(f.Table, f.Partition, [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(f.Partition, "state|" + Guid.NewGuid().ToString("N")))], new ChangeSet([], [caused]), None);
                f.S.Signal.Reader.TryRead(out var work).Should().BeTrue();
                await f.Dispatcher.DeliverCommittedAsync(work!, None);
                return caused;
            }

            // Two commits of one partition: the second is not held back by the first, which this batch publishes before it.
            await CauseAsync();
            publisher.Batches.Should().ContainSingle().Which.Should().Equal("thing.caused", "thing.followed", "thing.followed");
            (await RowCountAsync(f.Table, followPartition)).Should().Be(0);
            (await QueuedAsync(f)).Should().BeEmpty();

            // A follow-on the broker refuses: the cause is published alone and done; the follow-ons go to their lanes, in order.
            publisher.Refuse = "thing.followed";
            var caused = await CauseAsync();
            (await f.Table.GetEntityIfExistsAsync<TableEntity>(f.Partition, OutboxRows.OutboxPrefix + caused.Id)).HasValue.Should().BeFalse("the cause was published alone and removed");
            publisher.Batches.Last().Should().Equal("thing.caused");
            var lanes = f.S.Signal.Lanes.SelectMany(l => { var taken = new List<OutboxSignal.Work>(); while (l.TryRead(out var w)) taken.Add(w); return taken; }).ToList();
            lanes.Should().HaveCount(2).And.AllSatisfy(w => w.Partition.Should().Be(followPartition));
            (await RowCountAsync(f.Table, followPartition)).Should().Be(2);
        }
        finally
        {
            f.S.Signal.Consuming(false);
        }
    }

    /// <summary>Sends through the mailbox after running a check (what the outbox looks like while an email is being sent).</summary>
    private sealed class CheckingSender(DevMailbox inner, Func<Task> check) : IEmailSender
    {
        public async Task SendAsync(string messageId, EmailMessage email, CancellationToken ct)
        {
            await check();
            await inner.SendAsync(messageId, email, ct);
        }
    }

    [Fact]
    public async Task Published_follow_ons_leave_before_the_causes_emails_are_sent()
    {
        string? followPartition = null;
        Setup? setup = null;
        var followRowsWhileSending = new List<int>();
        var f = setup = await CreateAsync(extra: (s, options) => new CommittingProjection(s, options, () => followPartition!),
            sender: mailbox => new CheckingSender(mailbox, async () => followRowsWhileSending.Add(await RowCountAsync(setup!.Table, followPartition!))));
        followPartition = Ids.New("ptn");
        var writer = new PartitionWriter(new OutboxPointers(f.S.Tables, f.S.Signal, null, new OutboxOptions(), f.S.Clock));
        f.S.Signal.Consuming(true);
        try
        {
            var caused = f.Event("thing.caused");
            await writer.CommitAsync(f.Table, f.Partition, [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(f.Partition, "state|x"))], new ChangeSet([], [caused, f.Email()]), None);
            f.S.Signal.Reader.TryRead(out var work).Should().BeTrue();
            await f.Dispatcher.DeliverCommittedAsync(work!, None);
            followRowsWhileSending.Should().Equal([0], "the follow-on was published with the cause's events and removed before the email went");
            (await f.Mailbox.ListAsync("bob@partner.example", 10, None)).Should().ContainSingle();
            (await RowCountAsync(f.Table, f.Partition)).Should().Be(0);
            var pointers = new List<TableEntity>();
            await foreach (var p in f.S.Tables.OutboxPending.QueryAsync<TableEntity>()) pointers.Add(p);
            pointers.Should().BeEmpty();
        }
        finally
        {
            f.S.Signal.Consuming(false);
        }
    }
}
