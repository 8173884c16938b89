using System.Collections.Concurrent;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Prm.Core.Common;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Storage.Outbox;
using Prm.Testing;

namespace Prm.Storage.Tests;

/// <summary>
/// The outbox: one pointer per message written before the commit, immediate delivery of a commit's messages from memory,
/// and the sweep that finds undelivered messages through their pointers.
/// </summary>
public sealed class OutboxTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private sealed class Fixture
    {
        public required TestStores S { get; init; }
        public required DevMailbox Mailbox { get; init; }
        public required DevEventSink Events { get; init; }
        public required string PartitionKey { get; init; }
        public TableClient Table => S.Tables.Partners;

        public OutboxDispatcher Dispatcher(IEmailSender? sender = null, IEventPublisher? publisher = null, IEnumerable<IOutboxProjection>? projections = null,
            int graceSeconds = 60, int maxAttempts = 10, int sweepSeconds = 1, TimeProvider? clock = null, int inProcessGraceSeconds = 0) =>
            new(S.Tables, S.Signal, publisher ?? Events, sender ?? Mailbox, projections ?? [],
                new OutboxOptions { SweepSeconds = sweepSeconds, PointerGraceSeconds = graceSeconds, MaxAttempts = maxAttempts, InProcessGraceSeconds = inProcessGraceSeconds }, clock ?? S.Clock,
                NullLogger<OutboxDispatcher>.Instance);

        public Task<List<TableEntity>> OutboxRowsAsync(string? partitionKey = null) =>
            TestStores.RowsAsync(Table, partitionKey ?? PartitionKey, OutboxRows.OutboxPrefix);

        public async Task<TableEntity> OutboxRowAsync(OutboxMessage m) =>
            (await Table.GetEntityAsync<TableEntity>(PartitionKey, OutboxRows.OutboxPrefix + m.Id)).Value;

        /// <summary>Every pointer of every shard.</summary>
        public async Task<List<TableEntity>> PointersAsync()
        {
            var list = new List<TableEntity>();
            await foreach (var p in S.Tables.OutboxPending.QueryAsync<TableEntity>()) list.Add(p);
            return list;
        }

        /// <summary>The pointer of one message of this fixture's partition, or null.</summary>
        public async Task<TableEntity?> PointerAsync(OutboxMessage m, string? partitionKey = null)
        {
            var pk = partitionKey ?? PartitionKey;
            var found = await S.Tables.OutboxPending.GetEntityIfExistsAsync<TableEntity>(OutboxPointers.Shard(pk), OutboxPointers.RowKey(Table.Name, pk, m.Id));
            return found.HasValue ? found.Value : null;
        }

        /// <summary>Commits a state row of the partition together with the given outbox messages.</summary>
        public Task<IReadOnlyList<string>> CommitAsync(params OutboxMessage[] messages) => CommitAsync(PartitionKey, "state|" + Guid.NewGuid().ToString("N"), messages);

        public Task<IReadOnlyList<string>> CommitAsync(string partitionKey, string stateRowKey, params OutboxMessage[] messages) =>
            S.Writer.CommitAsync(Table, partitionKey,
                [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partitionKey, stateRowKey) { ["Value"] = 1 })],
                new ChangeSet([Make.Audit("thing.changed", partitionKey, S.Clock.GetUtcNow())], messages), None);

        /// <summary>The work the last commit posted for immediate delivery (exactly one must be queued).</summary>
        public OutboxSignal.Work TakeWork()
        {
            S.Signal.Reader.TryRead(out var work).Should().BeTrue("a commit with outbox messages posts them for immediate delivery");
            S.Signal.Reader.TryRead(out _).Should().BeFalse("one commit posts one work item");
            return work!;
        }

        public OutboxMessage Email(string to, string subject = "Welcome to the program", string? partitionKey = null) => OutboxMessage.ForEmail(Ids.New("msg"),
            new EmailMessage(to, "Bob Partner", subject,
                "Accept here: https://portal.example/invite?token=abc123 (valid 7 days)",
                "<p><a href=\"https://portal.example/invite?token=abc123&amp;src=mail\">Accept</a></p>",
                "partner-invitation"),
            S.Clock.GetUtcNow(), partitionKey ?? PartitionKey, "corr-1");

        public OutboxMessage Event(string type = "thing.changed", TimeSpan? offset = null, string? partitionKey = null) => OutboxMessage.ForEvent(
            IntegrationEvent.Create(Ids.New("evt"), type, S.Clock.GetUtcNow() + (offset ?? TimeSpan.Zero), $"things/{partitionKey ?? PartitionKey}",
                partitionKey ?? PartitionKey, "corr-1", new { value = 1 }));
    }

    private static async Task<Fixture> CreateAsync()
    {
        var s = await TestStores.CreateAsync();
        return new Fixture { S = s, Mailbox = new DevMailbox(s.Tables, s.Clock), Events = new DevEventSink(s.Tables, s.Clock), PartitionKey = Ids.New("ptn") };
    }

    // ---------------------------------------------------------------- commit: rows, pointers, signal

    [Fact]
    public async Task A_commit_writes_the_outbox_rows_one_pointer_per_message_and_posts_the_messages()
    {
        var f = await CreateAsync();
        var email = f.Email("bob@partner.example");
        var e = f.Event();

        var etags = await f.CommitAsync(email, e);

        etags.Should().ContainSingle().Which.Should().NotBeNullOrEmpty();
        var rows = await f.OutboxRowsAsync();
        rows.Select(r => r.RowKey).Should().BeEquivalentTo([OutboxRows.OutboxPrefix + email.Id, OutboxRows.OutboxPrefix + e.Id]);
        rows.Select(OutboxRows.ReadOutbox).Should().BeEquivalentTo([email, e]);
        (await TestStores.RowsAsync(f.Table, f.PartitionKey, OutboxRows.AuditPrefix)).Should().ContainSingle();

        var pointers = await f.PointersAsync();
        pointers.Should().HaveCount(2);
        foreach (var m in new[] { email, e })
        {
            var pointer = pointers.Should().ContainSingle(p => p.GetString("MessageId") == m.Id).Subject;
            pointer.PartitionKey.Should().Be(OutboxPointers.Shard(f.PartitionKey)).And.MatchRegex("^p[0-3]$");
            pointer.RowKey.Should().Be(OutboxPointers.RowKey(f.Table.Name, f.PartitionKey, m.Id));
            pointer.GetString("Table").Should().Be(f.Table.Name);
            pointer.GetString("Partition").Should().Be(f.PartitionKey);
            pointer.GetDateTimeOffset("CreatedAt").Should().Be(m.CreatedAt);
        }

        var work = f.TakeWork();
        work.Table.Should().Be(f.Table.Name);
        work.Partition.Should().Be(f.PartitionKey);
        work.Messages.Should().Equal([email, e], "the dispatcher gets the committed messages in commit order");
    }

    [Fact]
    public async Task A_commit_kept_waiting_by_a_write_alongside_writes_its_pointers_again_so_a_sweep_that_dropped_them_meanwhile_loses_nothing()
    {
        var f = await CreateAsync();
        var e = f.Event();
        var waitedLongEnough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The write alongside plays a slow dependency (an approved partner's transaction waits for the approval's): while it runs, the
        // sweep drops the pointer (past its grace, no committed row yet); it ends after more than PartitionWriter.PointerRefreshAfter.
        async Task SlowWriteAsync()
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (await f.PointerAsync(e) is null)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException("The pointer was never written.");
                await Task.Delay(20);
            }
            await f.S.Tables.OutboxPending.DeleteEntityAsync(OutboxPointers.Shard(f.PartitionKey), OutboxPointers.RowKey(f.Table.Name, f.PartitionKey, e.Id));
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (waited.Elapsed <= PartitionWriter.PointerRefreshAfter + TimeSpan.FromMilliseconds(200)) await Task.Delay(50);
            waitedLongEnough.SetResult();
        }

        await f.S.Writer.CommitAsync(f.Table, f.PartitionKey,
            [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(f.PartitionKey, "state|slow") { ["Value"] = 1 })],
            new ChangeSet([], [e]), None, alongside: SlowWriteAsync());

        waitedLongEnough.Task.IsCompleted.Should().BeTrue();
        (await f.PointerAsync(e)).Should().NotBeNull("the pointer is written again after the long wait, before the transaction");
        (await f.OutboxRowsAsync()).Should().ContainSingle();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(98)] // with the state row and the audit row: the largest transaction allowed
    public async Task A_commit_of_n_messages_writes_n_pointers(int n)
    {
        var f = await CreateAsync();
        var messages = Enumerable.Range(0, n).Select(i => i % 2 == 0 ? f.Event($"thing.n{i}") : f.Email($"n{i}@partner.example")).ToArray();

        await f.CommitAsync(messages);

        var pointers = await f.PointersAsync();
        pointers.Should().HaveCount(n);
        pointers.Select(p => p.RowKey).Should().BeEquivalentTo(messages.Select(m => OutboxPointers.RowKey(f.Table.Name, f.PartitionKey, m.Id)));
        pointers.Should().OnlyContain(p => p.PartitionKey == OutboxPointers.Shard(f.PartitionKey));
        (await f.OutboxRowsAsync()).Should().HaveCount(n);
        f.TakeWork().Messages.Should().HaveCount(n);
    }

    [Fact]
    public async Task A_commit_without_outbox_messages_writes_no_pointer_and_posts_nothing()
    {
        var f = await CreateAsync();

        await f.CommitAsync();

        (await f.PointersAsync()).Should().BeEmpty();
        f.S.Signal.Reader.TryRead(out _).Should().BeFalse();
    }

    [Fact]
    public void Pointer_keys_are_stable_and_spread_over_the_four_shards()
    {
        OutboxPointers.Shard("ptn_x").Should().Be(OutboxPointers.Shard("ptn_x"));
        var shards = Enumerable.Range(0, 200).Select(_ => OutboxPointers.Shard(Ids.New("ptn"))).ToHashSet();
        shards.Should().BeEquivalentTo(["p0", "p1", "p2", "p3"]);
        OutboxPointers.RowKey("t1partners", "ptn_a", "msg_1").Should().NotBe(OutboxPointers.RowKey("t1partners", "ptn_a", "msg_2"))
            .And.NotBe(OutboxPointers.RowKey("t1partners", "ptn_b", "msg_1"))
            .And.NotBe(OutboxPointers.RowKey("t2partners", "ptn_a", "msg_1"));
    }

    // ---------------------------------------------------------------- immediate delivery of a commit

    [Fact]
    public async Task DeliverCommitted_delivers_email_and_event_without_a_sweep_and_leaves_no_row_or_pointer()
    {
        var f = await CreateAsync();
        var email = f.Email("carl@partner.example");
        var e = f.Event();
        await f.CommitAsync(email, e);
        using var dispatcher = f.Dispatcher(graceSeconds: 3600);

        await dispatcher.DeliverCommittedAsync(f.TakeWork(), None);

        var mail = (await f.Mailbox.ListAsync("carl@partner.example", 10, None)).Should().ContainSingle().Subject;
        mail.Id.Should().Be(email.Id);
        mail.Subject.Should().Be("Welcome to the program");
        mail.Template.Should().Be("partner-invitation");
        mail.Links.Should().BeEquivalentTo(["https://portal.example/invite?token=abc123", "https://portal.example/invite?token=abc123&src=mail"]);
        var published = (await f.Events.ListAsync(10, None)).Should().ContainSingle().Subject;
        published.Id.Should().Be(e.Id);
        published.Type.Should().Be("thing.changed");
        published.PartnerId.Should().Be(f.PartitionKey);
        (await f.OutboxRowsAsync()).Should().BeEmpty();
        (await f.PointersAsync()).Should().BeEmpty("a delivered message's pointer goes with its row, however young");

        (await dispatcher.SweepAsync(None)).Should().Be(0);
        (await f.Mailbox.ListAsync(null, 10, None)).Should().ContainSingle("the sweep finds nothing left to send");
        (await f.Events.ListAsync(10, None)).Should().ContainSingle();
    }

    [Fact]
    public async Task A_commit_of_a_process_whose_dispatcher_reads_the_lanes_is_born_claimed_so_its_delivery_writes_no_claim_and_no_other_deliverer_takes_it()
    {
        var f = await CreateAsync();
        var options = new OutboxOptions();
        var writer = new PartitionWriter(new OutboxPointers(f.S.Tables, f.S.Signal, null, options, f.S.Clock));
        using var dispatcher = f.Dispatcher(graceSeconds: 3600);
        Task Commit(params OutboxMessage[] messages) => writer.CommitAsync(f.Table, f.PartitionKey,
            [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(f.PartitionKey, "state|" + Guid.NewGuid().ToString("N")))], new ChangeSet([], messages), None);
        async Task<int> DeliverAsync(OutboxSignal.Work work)
        {
            var box = StorageCalls.BeginScope();
            await dispatcher.DeliverCommittedAsync(work, None);
            return box.Value;
        }

        // No deliverer reads the lanes: the rows are born unclaimed (the sweep's), and the delivery claims them first.
        var unclaimed = new[] { f.Email("una@partner.example"), f.Event() };
        await Commit(unclaimed);
        (await f.OutboxRowAsync(unclaimed[0])).ContainsKey("ClaimedUntil").Should().BeFalse();
        var work = f.TakeWork();
        work.ClaimedUntil.Should().BeNull();
        var withClaim = await DeliverAsync(work);

        f.S.Signal.Consuming(true);
        try
        {
            var claimed = new[] { f.Email("cleo@partner.example"), f.Event() };
            await Commit(claimed);
            work = f.TakeWork();
            work.ClaimedUntil.Should().Be(f.S.Clock.GetUtcNow().AddSeconds(options.ClaimSeconds));
            foreach (var m in claimed) (await f.OutboxRowAsync(m)).GetDateTimeOffset("ClaimedUntil").Should().Be(work.ClaimedUntil);

            // Another deliverer (a sweep here, on another instance, past every grace) leaves them: they are held.
            using (var other = f.Dispatcher(graceSeconds: 3600))
            {
                (await other.SweepAsync(None)).Should().Be(0);
            }
            (await f.OutboxRowsAsync()).Should().HaveCount(2);

            var born = await DeliverAsync(work);
            born.Should().Be(withClaim - 1, "the claim transaction is the one round trip the born claim saves");
            (await f.Mailbox.ListAsync("cleo@partner.example", 10, None)).Should().ContainSingle();
            (await f.Events.ListAsync(10, None)).Select(e => e.Id).Should().Contain(claimed[1].Id);
            (await f.OutboxRowsAsync()).Should().BeEmpty();
            (await f.PointersAsync()).Should().BeEmpty();

            // A commit that waited on its lane past half its claim claims its rows again (with the commit's ETags) before sending.
            var waited = f.Event("thing.waited");
            await Commit(waited);
            work = f.TakeWork();
            f.S.Clock.Advance(TimeSpan.FromSeconds(options.ClaimSeconds / 2 + 1));
            (await DeliverAsync(work)).Should().Be(4, "one event: its claim again, its publication, the row's and the pointer's deletes");
            (await f.Events.ListAsync(10, None)).Select(e => e.Id).Should().Contain(waited.Id);
            (await f.OutboxRowsAsync()).Should().BeEmpty();

            // Past its claim, a commit whose process died before delivering is the sweep's.
            var stranded = f.Event("thing.stranded");
            await Commit(stranded);
            f.TakeWork(); // taken off the lane, never delivered
            (await dispatcher.SweepAsync(None)).Should().Be(0, "its claim still holds");
            f.S.Clock.Advance(TimeSpan.FromSeconds(options.ClaimSeconds + 1));
            (await dispatcher.SweepAsync(None)).Should().Be(1);
            (await f.Events.ListAsync(10, None)).Select(e => e.Id).Should().Contain(stranded.Id);
        }
        finally
        {
            f.S.Signal.Consuming(false);
        }
    }

    [Fact]
    public async Task A_born_claimed_commit_whose_answer_was_lost_is_delivered_at_once_by_its_process_from_a_read_of_its_rows()
    {
        var lose = new LostAnswerPolicy();
        var s = await TestStores.CreateAsync(lose);
        var f = new Fixture { S = s, Mailbox = new DevMailbox(s.Tables, s.Clock), Events = new DevEventSink(s.Tables, s.Clock), PartitionKey = Ids.New("ptn") };
        var writer = new PartitionWriter(new OutboxPointers(s.Tables, s.Signal, null, new OutboxOptions(), s.Clock));
        using var dispatcher = f.Dispatcher(graceSeconds: 3600);
        f.S.Signal.Consuming(true);
        try
        {
            var e = f.Event("thing.lost"); // one message: its pointer is a single write, so the next transaction is the commit
            lose.LoseNext(m => m.Request.Method == Azure.Core.RequestMethod.Post && m.Request.Uri.Path.EndsWith("/$batch", StringComparison.Ordinal));
            await writer.CommitAsync(f.Table, f.PartitionKey, [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(f.PartitionKey, "state|x"))],
                new ChangeSet([], [e]), None);
            lose.Lost.Should().Be(1);

            var work = f.TakeWork();
            work.RowETags.Should().AllSatisfy(etag => etag.Should().Be(default(Azure.ETag)), "the lost answer carried them");
            work.ClaimedUntil.Should().NotBeNull();
            // The storage client resends after its network timeout: by then less than half the born claim is left.
            f.S.Clock.Advance(TimeSpan.FromSeconds(31));
            await dispatcher.DeliverCommittedAsync(work, None);

            (await f.Events.ListAsync(10, None)).Select(x => x.Id).Should().Equal([e.Id], "the row still holds this commit's own claim: its delivery claims it afresh");
            (await f.OutboxRowsAsync()).Should().BeEmpty();
            (await f.PointersAsync()).Should().BeEmpty();
        }
        finally
        {
            f.S.Signal.Consuming(false);
        }
    }

    [Fact]
    public async Task The_running_dispatcher_delivers_a_commit_at_once_without_waiting_for_a_sweep()
    {
        var f = await CreateAsync();
        var probe = f.Event("thing.probe");
        await f.CommitAsync(probe);
        f.TakeWork(); // only the first sweep can deliver the probe
        // The fake clock never advances, so after its first sweep the loop waits for good: then only the signal can deliver.
        using var dispatcher = f.Dispatcher(sweepSeconds: 3600);
        await dispatcher.StartAsync(None);
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while ((await f.PointersAsync()).Count > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
            (await f.Events.ListAsync(10, None)).Select(e => e.Id).Should().Equal([probe.Id], "the first sweep runs at start");
            while (dispatcher.SweepsCompleted == 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
            dispatcher.SweepsCompleted.Should().Be(1, "the first sweep finished walking the shards, and the fake clock holds the next one back");

            var email = f.Email("ida@partner.example");
            await f.CommitAsync(email);

            while ((await f.Mailbox.ListAsync("ida@partner.example", 10, None)).Count == 0 && DateTime.UtcNow < deadline) await Task.Delay(50);

            (await f.Mailbox.ListAsync("ida@partner.example", 10, None)).Select(m => m.Id).Should().Equal(email.Id);
            while ((await f.PointersAsync()).Count > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
            (await f.OutboxRowsAsync()).Should().BeEmpty();
            (await f.PointersAsync()).Should().BeEmpty();
            dispatcher.SweepsCompleted.Should().Be(1, "no second sweep ran: the commit's signal delivered the email");
        }
        finally
        {
            await dispatcher.StopAsync(None);
        }
    }

    [Fact]
    public async Task A_sweep_leaves_a_message_waiting_on_a_read_lane_of_its_process_to_that_lane_and_takes_it_once_taken_off()
    {
        var f = await CreateAsync();
        var e = f.Event("thing.waiting");
        await f.CommitAsync(e);
        var dispatcher = f.Dispatcher();

        f.S.Signal.Consuming(true); // a deliverer reads the lanes (a backlog keeps the commit waiting on its lane)
        var box = StorageCalls.BeginScope();
        (await dispatcher.SweepAsync(None)).Should().Be(0, "the lane delivers it in order; the sweep neither reads nor claims it");
        box.Value.Should().Be(OutboxPointers.Shards, "the sweep only lists the pointers");
        (await f.OutboxRowsAsync()).Should().ContainSingle();

        f.TakeWork(); // the lane's deliverer took it (and, say, died before delivering): the sweep is the safety net again
        (await dispatcher.SweepAsync(None)).Should().Be(1);
        (await f.Events.ListAsync(10, None)).Select(x => x.Id).Should().Equal(e.Id);

        f.S.Signal.Consuming(false);
        var later = f.Event("thing.unread", TimeSpan.FromSeconds(1));
        await f.CommitAsync(later);
        (await dispatcher.SweepAsync(None)).Should().Be(1, "when no deliverer reads the lanes, what waits on them is the sweep's");
    }

    [Fact]
    public async Task DeliverCommitted_records_the_first_failure_on_its_row_and_stops()
    {
        var f = await CreateAsync();
        var first = f.Event("thing.first");
        var second = f.Event("thing.second", TimeSpan.FromSeconds(1));
        await f.CommitAsync(first, second);
        var log = new ConcurrentQueue<string>();
        var publisher = new RecordingPublisher(log) { FailId = first.Id };
        using var dispatcher = f.Dispatcher(publisher: publisher);
        var start = f.S.Clock.GetUtcNow();

        await dispatcher.DeliverCommittedAsync(f.TakeWork(), None);

        publisher.Attempts.Should().Equal([first.Id], "the messages after the failed one are not tried");
        log.Should().BeEmpty();
        var failed = await f.OutboxRowAsync(first);
        failed.GetInt32("Attempts").Should().Be(1);
        failed.GetString("LastError").Should().Contain("broker down");
        failed.GetDateTimeOffset("NextAttemptAt").Should().Be(start + TimeSpan.FromSeconds(2));
        failed.GetBoolean("Dead").Should().BeFalse();
        var untouched = await f.OutboxRowAsync(second);
        untouched.GetInt32("Attempts").Should().Be(0);
        untouched.GetDateTimeOffset("NextAttemptAt").Should().BeNull();
        (await f.PointerAsync(first)).Should().NotBeNull("the sweep retries it");
        (await f.PointerAsync(second)).Should().NotBeNull("the sweep delivers it");
    }

    [Fact]
    public async Task Events_of_a_commit_are_published_in_commit_order()
    {
        var f = await CreateAsync();
        var immediate = Enumerable.Range(0, 6).Select(i => f.Event($"thing.a{i}", TimeSpan.FromSeconds(i))).ToArray();
        var swept = Enumerable.Range(0, 6).Select(i => f.Event($"thing.b{i}", TimeSpan.FromSeconds(10 + i))).ToArray();
        var log = new ConcurrentQueue<string>();
        using var dispatcher = f.Dispatcher(publisher: new RecordingPublisher(log));

        await f.CommitAsync(immediate);
        await dispatcher.DeliverCommittedAsync(f.TakeWork(), None);
        await f.CommitAsync(swept);
        f.TakeWork(); // left to the sweep
        (await dispatcher.SweepAsync(None)).Should().Be(6);

        log.Should().Equal(immediate.Concat(swept).Select(e => $"publish:{e.Id}"),
            "both the immediate delivery and the sweep keep the order of a commit");
    }

    [Fact]
    public async Task A_later_event_of_a_commit_is_not_published_before_an_earlier_one_that_failed()
    {
        var f = await CreateAsync();
        var first = f.Event("thing.first");
        var second = f.Event("thing.second", TimeSpan.FromSeconds(1));
        await f.CommitAsync(first, second);
        var log = new ConcurrentQueue<string>();
        var publisher = new RecordingPublisher(log) { FailId = first.Id };
        using var dispatcher = f.Dispatcher(publisher: publisher);

        await dispatcher.DeliverCommittedAsync(f.TakeWork(), None);
        publisher.FailId = null;
        await dispatcher.SweepAsync(None); // before the failed event's retry time
        f.S.Clock.Advance(TimeSpan.FromMinutes(1));
        await dispatcher.SweepAsync(None);

        log.Should().Equal([$"publish:{first.Id}", $"publish:{second.Id}"], "subscribers see the events of a commit in the order they happened");
        (await f.OutboxRowsAsync()).Should().BeEmpty();
        (await f.PointersAsync()).Should().BeEmpty();
    }

    // ---------------------------------------------------------------- the sweep

    [Fact]
    public async Task Sweep_delivers_email_and_event_once_and_deletes_their_rows_and_pointers()
    {
        var f = await CreateAsync();
        var email = f.Email("bob@partner.example");
        var e = f.Event();
        await f.CommitAsync(email, e);
        f.TakeWork(); // as if the process stopped before delivering
        var sender = new FlakySender(f.Mailbox);
        using var dispatcher = f.Dispatcher(sender, graceSeconds: 3600);

        var delivered = await dispatcher.SweepAsync(None);

        delivered.Should().Be(2);
        var mail = (await f.Mailbox.ListAsync("bob@partner.example", 10, None)).Should().ContainSingle().Subject;
        mail.Id.Should().Be(email.Id);
        mail.Subject.Should().Be("Welcome to the program");
        (await f.Mailbox.ListAsync("someone.else@partner.example", 10, None)).Should().BeEmpty();
        var published = (await f.Events.ListAsync(10, None)).Should().ContainSingle().Subject;
        published.Id.Should().Be(e.Id);
        published.PartnerId.Should().Be(f.PartitionKey);
        (await f.OutboxRowsAsync()).Should().BeEmpty();
        (await f.PointersAsync()).Should().BeEmpty("a delivered message's pointer is deleted at once, without waiting for the grace period");

        var again = await dispatcher.SweepAsync(None);

        again.Should().Be(0);
        sender.Calls.Should().Be(1, "no duplicate mail");
        (await f.Mailbox.ListAsync(null, 10, None)).Should().ContainSingle();
        (await f.Events.ListAsync(10, None)).Should().ContainSingle();
    }

    [Fact]
    public async Task Sweep_leaves_just_committed_messages_to_the_in_process_delivery_then_takes_them_over()
    {
        var f = await CreateAsync();
        var e = f.Event();
        await f.CommitAsync(e);
        f.TakeWork(); // the in-process delivery never happens (the process stopped)
        using var dispatcher = f.Dispatcher(graceSeconds: 3600, inProcessGraceSeconds: 5);

        (await dispatcher.SweepAsync(None)).Should().Be(0, "a message committed a moment ago is the in-process delivery's");
        (await f.Events.ListAsync(10, None)).Should().BeEmpty();
        f.S.Clock.Advance(TimeSpan.FromSeconds(6));
        (await dispatcher.SweepAsync(None)).Should().Be(1, "after the grace the sweep delivers what the in-process path did not");
        (await f.Events.ListAsync(10, None)).Should().ContainSingle().Which.Id.Should().Be(e.Id);
    }

    [Fact]
    public async Task Sweep_walks_the_pointers_of_every_shard()
    {
        var f = await CreateAsync();
        var partitions = new Dictionary<string, string>();
        while (partitions.Count < OutboxPointers.Shards)
        {
            var pk = Ids.New("ptn");
            partitions.TryAdd(OutboxPointers.Shard(pk), pk);
        }
        var sent = new List<OutboxMessage>();
        foreach (var pk in partitions.Values)
        {
            var e = f.Event(partitionKey: pk);
            await f.CommitAsync(pk, "state|1", e);
            f.TakeWork();
            sent.Add(e);
        }
        (await f.PointersAsync()).Select(p => p.PartitionKey).Should().BeEquivalentTo(["p0", "p1", "p2", "p3"]);
        using var dispatcher = f.Dispatcher();

        (await dispatcher.SweepAsync(None)).Should().Be(4);

        (await f.Events.ListAsync(10, None)).Select(e => e.Id).Should().BeEquivalentTo(sent.Select(m => m.Id));
        (await f.PointersAsync()).Should().BeEmpty();
        foreach (var pk in partitions.Values) (await f.OutboxRowsAsync(pk)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_throttled_email_is_retried_after_its_retry_time_once_the_sender_recovers()
    {
        var f = await CreateAsync();
        var email = f.Email("dora@partner.example");
        await f.CommitAsync(email);
        var sender = new FlakySender(f.Mailbox) { Failure = () => new TransientDeliveryException("throttled", TimeSpan.FromSeconds(30)) };
        using var dispatcher = f.Dispatcher(sender);
        var start = f.S.Clock.GetUtcNow();

        await dispatcher.DeliverCommittedAsync(f.TakeWork(), None);

        var row = (await f.OutboxRowsAsync()).Should().ContainSingle().Subject;
        row.GetInt32("Attempts").Should().Be(1);
        row.GetDateTimeOffset("NextAttemptAt").Should().Be(start + TimeSpan.FromSeconds(30));
        row.GetString("LastError").Should().Contain("throttled");
        row.GetBoolean("Dead").Should().BeFalse();
        (await f.PointerAsync(email)).Should().NotBeNull();
        sender.Calls.Should().Be(1);

        sender.Failure = null; // recovered, but the retry time has not come
        f.S.Clock.Advance(TimeSpan.FromSeconds(29));
        (await dispatcher.SweepAsync(None)).Should().Be(0);
        sender.Calls.Should().Be(1, "the row is not tried before NextAttemptAt");
        (await f.Mailbox.ListAsync(null, 10, None)).Should().BeEmpty();
        (await f.PointerAsync(email)).Should().NotBeNull();

        f.S.Clock.Advance(TimeSpan.FromSeconds(2));
        (await dispatcher.SweepAsync(None)).Should().Be(1);

        sender.Calls.Should().Be(2);
        (await f.Mailbox.ListAsync("dora@partner.example", 10, None)).Select(m => m.Id).Should().Equal(email.Id);
        (await f.OutboxRowsAsync()).Should().BeEmpty();
        (await f.PointersAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task A_failure_without_retry_time_backs_off_exponentially()
    {
        var f = await CreateAsync();
        await f.CommitAsync(f.Email("erin@partner.example"));
        var sender = new FlakySender(f.Mailbox) { Failure = () => new TransientDeliveryException("outage") };
        using var dispatcher = f.Dispatcher(sender);

        await dispatcher.SweepAsync(None);
        var first = (await f.OutboxRowsAsync()).Single();
        first.GetInt32("Attempts").Should().Be(1);
        first.GetDateTimeOffset("NextAttemptAt").Should().Be(f.S.Clock.GetUtcNow() + TimeSpan.FromSeconds(2));
        f.S.Clock.Advance(TimeSpan.FromSeconds(3));
        await dispatcher.SweepAsync(None);
        var second = (await f.OutboxRowsAsync()).Single();

        second.GetInt32("Attempts").Should().Be(2);
        second.GetDateTimeOffset("NextAttemptAt").Should().Be(f.S.Clock.GetUtcNow() + TimeSpan.FromSeconds(4));
        sender.Calls.Should().Be(2);
    }

    [Fact]
    public async Task A_delivery_that_times_out_is_a_failure_of_that_message_not_a_shutdown()
    {
        var f = await CreateAsync();
        var email = f.Email("jo@partner.example");
        await f.CommitAsync(email);
        f.TakeWork();
        await f.CommitAsync(f.Email("kim@partner.example"));
        var work = f.TakeWork();
        // What an HTTP or storage client throws when its own timeout elapses: a cancellation nobody asked the dispatcher for.
        var sender = new FlakySender(f.Mailbox) { Failure = () => new TaskCanceledException("The operation was cancelled because it exceeded the configured timeout of 0:01:40.") };
        using var dispatcher = f.Dispatcher(sender);

        var immediate = () => dispatcher.DeliverCommittedAsync(work, None);
        await immediate.Should().NotThrowAsync();
        var sweep = () => dispatcher.SweepAsync(None);
        await sweep.Should().NotThrowAsync();

        sender.Calls.Should().Be(2, "each message is tried once, then waits for its retry time");
        (await f.OutboxRowsAsync()).Should().HaveCount(2).And.OnlyContain(r => r.GetInt32("Attempts") == 1 && r.GetString("LastError")!.Contains("timeout"));
    }

    [Fact]
    public async Task A_message_that_keeps_failing_is_parked_dead_after_max_attempts_and_loses_its_pointer()
    {
        var f = await CreateAsync();
        var email = f.Email("fay@partner.example");
        await f.CommitAsync(email);
        var sender = new FlakySender(f.Mailbox) { Failure = () => new InvalidOperationException("SendGrid refused the email (400)") };
        using var dispatcher = f.Dispatcher(sender, maxAttempts: 3);

        await dispatcher.DeliverCommittedAsync(f.TakeWork(), None);
        f.S.Clock.Advance(TimeSpan.FromMinutes(1));
        await dispatcher.SweepAsync(None);
        (await f.PointerAsync(email)).Should().NotBeNull("two failures of three allowed");
        (await f.OutboxRowAsync(email)).GetBoolean("Dead").Should().BeFalse();
        f.S.Clock.Advance(TimeSpan.FromMinutes(1));
        await dispatcher.SweepAsync(None);
        f.S.Clock.Advance(TimeSpan.FromHours(2));
        await dispatcher.SweepAsync(None);

        sender.Calls.Should().Be(3);
        var row = (await f.OutboxRowsAsync()).Should().ContainSingle("a dead message is kept for an operator").Subject;
        row.GetBoolean("Dead").Should().BeTrue();
        row.GetInt32("Attempts").Should().Be(3);
        row.GetString("LastError").Should().Contain("(400)");
        (await f.PointersAsync()).Where(p => p.PartitionKey.StartsWith('p')).Should().BeEmpty("a parked message is no longer swept");
        (await f.PointersAsync()).Should().Contain(p => p.PartitionKey == DeadLetters.ListPartition && p.GetString("MessageId") == email.Id, "it is indexed as dead for the operations API");
        (await f.Mailbox.ListAsync(null, 10, None)).Should().BeEmpty();
    }

    [Fact]
    public async Task An_operator_finds_a_dead_message_puts_it_back_and_the_next_sweep_delivers_it_once()
    {
        var f = await CreateAsync();
        var email = f.Email("dora@partner.example");
        await f.CommitAsync(email);
        var sender = new FlakySender(f.Mailbox) { Failure = () => new InvalidOperationException("SendGrid refused the email (400)") };
        using var dispatcher = f.Dispatcher(sender, maxAttempts: 2);
        await dispatcher.DeliverCommittedAsync(f.TakeWork(), None);
        f.S.Clock.Advance(TimeSpan.FromMinutes(1));
        await dispatcher.SweepAsync(None);
        (await f.OutboxRowAsync(email)).GetBoolean("Dead").Should().BeTrue();

        var queues = new PrmQueues(f.S.Options, new OutboxOptions { QueueName = "ops-" + Guid.NewGuid().ToString("N")[..8] });
        var operations = new OutboxOperations(f.S.Tables, new OutboxQueue(queues, NullLogger<OutboxQueue>.Instance), f.S.Clock);
        var admin = new Prm.Core.Identity.Caller("usr_ops", "ops@vendor.example", "Ops", [Prm.Core.Identity.AppRoles.Admin], null, null);
        var dead = await operations.ListAsync(admin, "Dead", new PageRequest(50, null), None);
        var listed = dead.Items.Should().ContainSingle(m => m.Id == email.Id).Subject;
        listed.Status.Should().Be("Dead");
        listed.Attempts.Should().Be(2);
        listed.LastError.Should().Contain("(400)");
        listed.Table.Should().Be(f.Table.Name);
        (await operations.LagAsync(None)).Dead.Should().Be(1);

        var retried = await operations.RetryAsync(admin, email.Id, None);
        retried.Status.Should().Be("Pending");
        (await f.OutboxRowAsync(email)).GetInt32("Attempts").Should().Be(0);
        (await operations.ListAsync(admin, "Dead", new PageRequest(50, null), None)).Items.Should().BeEmpty();
        (await operations.ListAsync(admin, "Pending", new PageRequest(50, null), None)).Items.Should().ContainSingle(m => m.Id == email.Id);
        var lag = await operations.LagAsync(None);
        lag.Pending.Should().Be(1);
        lag.OldestPendingAt!.Value.Should().BeCloseTo(email.CreatedAt, TimeSpan.FromMilliseconds(1), "the message keeps its commit time: it goes first in its partition");

        sender.Failure = null;
        f.S.Clock.Advance(TimeSpan.FromMinutes(1));
        await dispatcher.SweepAsync(None);
        (await f.Mailbox.ListAsync(null, 10, None)).Should().ContainSingle(m => m.Id == email.Id);
        (await f.OutboxRowsAsync()).Should().BeEmpty();
        (await operations.LagAsync(None)).Should().Be(new Prm.Core.Operations.OutboxLag(0, null, 0, 0));
        var again = () => operations.RetryAsync(admin, email.Id, None);
        await again.Should().ThrowAsync<NotFoundException>();
        var partnerUser = admin with { Roles = [], PartnerId = "ptn_1", PartnerRole = Prm.Core.Identity.PartnerRole.PartnerAdmin };
        await FluentActions.Awaiting(() => operations.ListAsync(partnerUser, null, new PageRequest(50, null), None)).Should().ThrowAsync<ForbiddenException>();
    }

    [Fact]
    public async Task A_pointer_with_a_pending_row_is_kept_however_old()
    {
        var f = await CreateAsync();
        var email = f.Email("hal@partner.example");
        await f.CommitAsync(email);
        f.TakeWork();
        var sender = new FlakySender(f.Mailbox) { Failure = () => new TransientDeliveryException("down", TimeSpan.FromHours(5)) };
        using var dispatcher = f.Dispatcher(sender, graceSeconds: 60);

        await dispatcher.SweepAsync(None);
        f.S.Clock.Advance(TimeSpan.FromHours(1));
        await dispatcher.SweepAsync(None);

        sender.Calls.Should().Be(1);
        (await f.PointerAsync(email)).Should().NotBeNull("its row still waits for delivery");
        (await f.OutboxRowsAsync()).Should().ContainSingle();
    }

    [Fact]
    public async Task A_pointer_whose_transaction_never_committed_is_kept_while_young_and_removed_when_old()
    {
        var f = await CreateAsync();
        await f.CommitAsync(f.PartitionKey, "state|taken");
        var lost = f.Email("ivy@partner.example");
        var act = () => f.CommitAsync(f.PartitionKey, "state|taken", lost, f.Event());
        await act.Should().ThrowAsync<ConflictException>();
        f.S.Signal.Reader.TryRead(out _).Should().BeFalse("nothing committed, nothing to deliver");
        (await f.OutboxRowsAsync()).Should().BeEmpty();
        (await f.PointersAsync()).Should().HaveCount(2, "the pointers were written before the transaction");
        var sender = new FlakySender(f.Mailbox);
        using var dispatcher = f.Dispatcher(sender, graceSeconds: 60);

        (await dispatcher.SweepAsync(None)).Should().Be(0);
        (await f.PointersAsync()).Should().HaveCount(2, "a young pointer's transaction may still be committing");

        f.S.Clock.Advance(TimeSpan.FromSeconds(50));
        (await dispatcher.SweepAsync(None)).Should().Be(0);
        (await f.PointersAsync()).Should().HaveCount(2, "still within the grace period");

        f.S.Clock.Advance(TimeSpan.FromSeconds(15));
        (await dispatcher.SweepAsync(None)).Should().Be(0);
        (await f.PointersAsync()).Should().BeEmpty();
        sender.Calls.Should().Be(0);
        (await f.Events.ListAsync(10, None)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_pointer_marked_before_its_commit_leads_the_sweep_to_the_row_once_committed()
    {
        var f = await CreateAsync();
        var e = f.Event();
        await f.S.Pointers.MarkAsync(f.Table.Name, f.PartitionKey, [e], None);
        using var dispatcher = f.Dispatcher(graceSeconds: 60);

        (await dispatcher.SweepAsync(None)).Should().Be(0, "the row is not committed yet");
        (await f.PointerAsync(e)).Should().NotBeNull();
        await f.Table.AddEntityAsync(OutboxRows.Outbox(f.PartitionKey, e)); // the commit lands
        (await dispatcher.SweepAsync(None)).Should().Be(1);

        (await f.Events.ListAsync(10, None)).Select(x => x.Id).Should().Equal(e.Id);
        (await f.PointersAsync()).Should().BeEmpty();
        (await f.OutboxRowsAsync()).Should().BeEmpty();
    }

    // ---------------------------------------------------------------- projections

    [Fact]
    public async Task Projections_are_applied_before_the_event_is_published()
    {
        var f = await CreateAsync();
        var immediate = f.Event();
        var swept = f.Event();
        var log = new ConcurrentQueue<string>();
        var projections = new[] { new RecordingProjection("p1", log), new RecordingProjection("p2", log) };
        using var dispatcher = f.Dispatcher(publisher: new RecordingPublisher(log), projections: projections);

        await f.CommitAsync(immediate);
        await dispatcher.DeliverCommittedAsync(f.TakeWork(), None);
        await f.CommitAsync(swept);
        f.TakeWork();
        (await dispatcher.SweepAsync(None)).Should().Be(1);

        log.Should().Equal(
            $"p1:{immediate.Id}", $"p2:{immediate.Id}", $"publish:{immediate.Id}",
            $"p1:{swept.Id}", $"p2:{swept.Id}", $"publish:{swept.Id}");
    }

    [Fact]
    public async Task Events_of_a_commit_are_projected_one_by_one_then_logged_and_published_together_in_commit_order()
    {
        var f = await CreateAsync();
        var events = Enumerable.Range(0, 3).Select(i => f.Event($"thing.e{i}", TimeSpan.FromSeconds(i))).ToArray();
        var email = f.Email("bob@partner.example");
        await f.CommitAsync([.. events, email]);
        var log = new ConcurrentQueue<string>();
        var publisher = new RecordingPublisher(log);
        using var dispatcher = f.Dispatcher(publisher: publisher, projections: [new RecordingProjection("p", log), new RecordingBatchProjection("log", log)]);

        await dispatcher.DeliverCommittedAsync(f.TakeWork(), None);

        var ids = events.Select(e => e.Id).ToArray();
        publisher.Batches.Should().ContainSingle("one publishing call carries the commit's events").Which.Should().Equal(ids);
        log.Should().Equal([
            .. ids.SelectMany(id => new[] { $"p:{id}", $"log:{id}" }),
            $"log-all:{string.Join(",", ids)}",
            .. ids.Select(id => $"publish:{id}")]);
        (await f.Mailbox.ListAsync("bob@partner.example", 10, None)).Should().ContainSingle("the commit's email is still sent");
        (await f.OutboxRowsAsync()).Should().BeEmpty();
        (await f.PointersAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task A_projection_failing_on_a_later_event_publishes_the_earlier_ones_and_keeps_it_and_the_rest_for_the_retry()
    {
        var f = await CreateAsync();
        var first = f.Event("thing.first");
        var second = f.Event("thing.second", TimeSpan.FromSeconds(1));
        var third = f.Event("thing.third", TimeSpan.FromSeconds(2));
        await f.CommitAsync(first, second, third);
        var log = new ConcurrentQueue<string>();
        var publisher = new RecordingPublisher(log);
        var failing = new FailingOnProjection(second.Id);
        using var dispatcher = f.Dispatcher(publisher: publisher, projections: [failing]);

        await dispatcher.DeliverCommittedAsync(f.TakeWork(), None);

        publisher.Batches.Should().ContainSingle().Which.Should().Equal([first.Id], "the event before the failed one is complete");
        (await f.OutboxRowAsync(second)).GetInt32("Attempts").Should().Be(1);
        (await f.OutboxRowAsync(third)).GetInt32("Attempts").Should().Be(0);
        (await f.PointerAsync(first)).Should().BeNull();

        failing.FailId = null;
        f.S.Clock.Advance(TimeSpan.FromMinutes(1));
        (await dispatcher.SweepAsync(None)).Should().Be(2);
        log.Should().Equal([$"publish:{first.Id}", $"publish:{second.Id}", $"publish:{third.Id}"], "subscribers see the commit's events once each, in order");
        (await f.PointersAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task A_failed_batch_publish_is_recorded_on_its_first_event_and_the_retry_publishes_the_batch_again_with_the_same_ids()
    {
        var f = await CreateAsync();
        var first = f.Event("thing.first");
        var second = f.Event("thing.second", TimeSpan.FromSeconds(1));
        await f.CommitAsync(first, second);
        var log = new ConcurrentQueue<string>();
        var publisher = new RecordingPublisher(log) { FailId = second.Id };
        using var dispatcher = f.Dispatcher(publisher: publisher);

        await dispatcher.DeliverCommittedAsync(f.TakeWork(), None);
        (await f.OutboxRowAsync(first)).GetInt32("Attempts").Should().Be(1, "the batch failed as a whole: its first event carries the failure");
        (await f.PointerAsync(second)).Should().NotBeNull();

        publisher.FailId = null;
        f.S.Clock.Advance(TimeSpan.FromMinutes(1));
        (await dispatcher.SweepAsync(None)).Should().Be(2);
        log.Should().Equal([$"publish:{first.Id}", $"publish:{first.Id}", $"publish:{second.Id}"],
            "the part of the batch that went out goes again with the same id (the broker drops it), and order holds");
        (await f.OutboxRowsAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task The_development_event_sink_stores_a_batch_in_one_round_trip_listed_newest_first()
    {
        var f = await CreateAsync();
        var events = Enumerable.Range(0, 4).Select(i => f.Event($"thing.e{i}").ReadEvent()).ToArray();

        var box = StorageCalls.BeginScope();
        await f.Events.PublishAllAsync(events, None);

        box.Value.Should().Be(1, "the events of one delivery go in one transaction");
        (await f.Events.ListAsync(10, None)).Select(e => e.Id).Should().Equal(Enumerable.Reverse(events).Select(e => e.Id));
        (await f.Events.ListCloudEventsAsync(10, None)).Select(c => c.GetProperty("id").GetString()).Should().Equal(Enumerable.Reverse(events).Select(e => e.Id));
    }

    [Fact]
    public async Task A_failing_projection_keeps_the_event_unpublished_for_a_retry()
    {
        var f = await CreateAsync();
        var e = f.Event();
        await f.CommitAsync(e);
        var log = new ConcurrentQueue<string>();
        var projection = new RecordingProjection("p", log) { Fail = true };
        using var dispatcher = f.Dispatcher(publisher: new RecordingPublisher(log), projections: [projection]);

        await dispatcher.DeliverCommittedAsync(f.TakeWork(), None);
        log.Should().Equal($"p:{e.Id}");
        (await f.OutboxRowAsync(e)).GetInt32("Attempts").Should().Be(1);
        (await f.PointerAsync(e)).Should().NotBeNull();

        projection.Fail = false;
        f.S.Clock.Advance(TimeSpan.FromMinutes(1));
        (await dispatcher.SweepAsync(None)).Should().Be(1);
        log.Should().Equal($"p:{e.Id}", $"p:{e.Id}", $"publish:{e.Id}");
        (await f.PointersAsync()).Should().BeEmpty();
    }

    /// <summary>Counts sends per message id (and is slow enough for deliverers to overlap).</summary>
    private sealed class CountingSender(IEmailSender inner) : IEmailSender
    {
        public ConcurrentDictionary<string, int> Counts { get; } = new();

        public async Task SendAsync(string messageId, EmailMessage email, CancellationToken ct)
        {
            Counts.AddOrUpdate(messageId, 1, (_, n) => n + 1);
            await Task.Yield();
            await inner.SendAsync(messageId, email, ct);
        }
    }

    [Fact]
    public async Task Concurrent_deliverers_send_each_message_exactly_once_because_each_claims_it_with_its_etag_first()
    {
        var f = await CreateAsync();
        var sender = new CountingSender(f.Mailbox);
        var works = new List<OutboxSignal.Work>();
        var ids = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            var pk = Ids.New("ptn");
            var first = f.Email($"u{i}@partner.example", partitionKey: pk);
            var second = f.Email($"v{i}@partner.example", partitionKey: pk);
            await f.CommitAsync(pk, "state|" + i, first, second);
            works.Add(f.TakeWork());
            ids.AddRange([first.Id, second.Id]);
        }
        // The in-process delivery of every commit, and three sweeps (two instances) that see the same pointers at the same time.
        using var inProcess = f.Dispatcher(sender);
        using var one = f.Dispatcher(sender);
        using var two = f.Dispatcher(sender);
        var deliverers = works.Select(w => Task.Run(() => inProcess.DeliverCommittedAsync(w, None)))
            .Concat([Task.Run(() => one.SweepAsync(None)), Task.Run(() => two.SweepAsync(None)), Task.Run(() => one.SweepAsync(None))]);
        await Task.WhenAll(deliverers);
        await two.SweepAsync(None); // what a claim race left (a lost claim is left to its winner, a delivered one is gone)

        sender.Counts.Keys.Should().BeEquivalentTo(ids, "every message is delivered");
        sender.Counts.Where(kv => kv.Value > 1).Should().BeEmpty("no message is sent twice");
        (await f.PointersAsync()).Should().BeEmpty();
        var mail = await f.Mailbox.ListAsync(null, 1000, None);
        mail.GroupBy(m => m.Id).Where(g => g.Count() > 1).Should().BeEmpty("the dev mail outbox lists every delivery, so a duplicate would show");
    }

    [Fact]
    public async Task The_dev_mail_outbox_lists_every_delivery_of_a_message()
    {
        var f = await CreateAsync();
        var email = f.Email("dup@partner.example");
        await f.Mailbox.SendAsync(email.Id, email.ReadEmail(), None);
        await f.Mailbox.SendAsync(email.Id, email.ReadEmail(), None);
        (await f.Mailbox.ListAsync("dup@partner.example", 10, None)).Should().HaveCount(2).And.OnlyContain(m => m.Id == email.Id);
    }

    private sealed class FlakySender(IEmailSender inner) : IEmailSender
    {
        private int calls;

        public Func<Exception>? Failure { get; set; }

        public int Calls => Volatile.Read(ref calls);

        public Task SendAsync(string messageId, EmailMessage email, CancellationToken ct)
        {
            Interlocked.Increment(ref calls);
            if (Failure is { } failure) throw failure();
            return inner.SendAsync(messageId, email, ct);
        }
    }

    private sealed class FailingOnProjection(string failId) : IOutboxProjection
    {
        public string? FailId { get; set; } = failId;

        public Task ApplyAsync(IntegrationEvent e, CancellationToken ct) =>
            e.Id == FailId ? throw new InvalidOperationException("projection failed") : Task.CompletedTask;
    }

    private sealed class RecordingProjection(string name, ConcurrentQueue<string> log) : IOutboxProjection
    {
        public bool Fail { get; set; }

        public Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
        {
            log.Enqueue($"{name}:{e.Id}");
            if (Fail) throw new InvalidOperationException("projection failed");
            return Task.CompletedTask;
        }
    }

    /// <summary>Takes the events of a delivery together (as the webhook event log does) and records each call.</summary>
    private sealed class RecordingBatchProjection(string name, ConcurrentQueue<string> log) : IOutboxBatchProjection
    {
        public Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
        {
            log.Enqueue($"{name}:{e.Id}");
            return Task.CompletedTask;
        }

        public Task ApplyAllAsync(IReadOnlyList<IntegrationEvent> events, CancellationToken ct)
        {
            log.Enqueue($"{name}-all:{string.Join(",", events.Select(e => e.Id))}");
            return Task.CompletedTask;
        }
    }

    private sealed class RecordingPublisher(ConcurrentQueue<string> log) : IEventPublisher
    {
        private readonly ConcurrentQueue<string> attempts = new();
        private readonly ConcurrentQueue<string[]> batches = new();

        /// <summary>The events of each publishing call, in order.</summary>
        public IReadOnlyList<string[]> Batches => batches.ToArray();

        public async Task PublishAllAsync(IReadOnlyList<IntegrationEvent> events, CancellationToken ct)
        {
            batches.Enqueue(events.Select(e => e.Id).ToArray());
            foreach (var e in events) await PublishAsync(e, ct);
        }

        public string? FailId { get; set; }

        public IReadOnlyList<string> Attempts => attempts.ToArray();

        public Task PublishAsync(IntegrationEvent e, CancellationToken ct)
        {
            attempts.Enqueue(e.Id);
            if (e.Id == FailId) throw new TransientDeliveryException("broker down");
            log.Enqueue($"publish:{e.Id}");
            return Task.CompletedTask;
        }
    }
}
