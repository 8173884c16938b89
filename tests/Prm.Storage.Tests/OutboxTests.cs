using System.Collections.Concurrent;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Prm.Core.Common;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Storage.Outbox;

namespace Prm.Storage.Tests;

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
            int graceSeconds = 0, int maxAttempts = 10, TimeProvider? clock = null) =>
            new(S.Tables, S.Signal, publisher ?? Events, sender ?? Mailbox, projections ?? [],
                new OutboxOptions { SweepSeconds = 1, PointerGraceSeconds = graceSeconds, MaxAttempts = maxAttempts }, clock ?? S.Clock, NullLogger<OutboxDispatcher>.Instance);

        public Task<List<TableEntity>> OutboxRowsAsync() => TestStores.RowsAsync(Table, PartitionKey, OutboxRows.OutboxPrefix);

        public async Task<List<TableEntity>> PointersAsync()
        {
            var list = new List<TableEntity>();
            await foreach (var p in S.Tables.OutboxPending.QueryAsync<TableEntity>()) list.Add(p);
            return list;
        }

        /// <summary>Commits a state row of the partition together with the given outbox messages.</summary>
        public Task<IReadOnlyList<string>> CommitAsync(params OutboxMessage[] messages) =>
            S.Writer.CommitAsync(Table, PartitionKey,
                [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(PartitionKey, "state|" + Guid.NewGuid().ToString("N")) { ["Value"] = 1 })],
                new ChangeSet([Make.Audit("thing.changed", PartitionKey, S.Clock.GetUtcNow())], messages), None);

        public OutboxMessage Email(string to, string subject = "Welcome to the program") => OutboxMessage.ForEmail(Ids.New("msg"),
            new EmailMessage(to, "Bob Partner", subject,
                "Accept here: https://portal.example/invite?token=abc123 (valid 7 days)",
                "<p><a href=\"https://portal.example/invite?token=abc123&amp;src=mail\">Accept</a></p>",
                "partner-invitation"),
            S.Clock.GetUtcNow(), PartitionKey, "corr-1");

        public OutboxMessage Event(string type = "thing.changed", TimeSpan? offset = null) => OutboxMessage.ForEvent(
            IntegrationEvent.Create(Ids.New("evt"), type, S.Clock.GetUtcNow() + (offset ?? TimeSpan.Zero), $"things/{PartitionKey}", PartitionKey, "corr-1", new { value = 1 }));
    }

    private static async Task<Fixture> CreateAsync()
    {
        var s = await TestStores.CreateAsync();
        return new Fixture { S = s, Mailbox = new DevMailbox(s.Tables, s.Clock), Events = new DevEventSink(s.Tables, s.Clock), PartitionKey = Ids.New("ptn") };
    }

    [Fact]
    public async Task A_commit_with_an_email_and_an_event_writes_outbox_rows_and_a_pointer()
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
        var pointer = (await f.PointersAsync()).Should().ContainSingle().Subject;
        pointer.PartitionKey.Should().Be(OutboxPointers.Shard(f.PartitionKey));
        pointer.GetString("Table").Should().Be(f.Table.Name);
        pointer.GetString("Partition").Should().Be(f.PartitionKey);
        f.S.Signal.Reader.TryRead(out var work).Should().BeTrue("the dispatcher is told at once");
        work.Should().Be(new OutboxSignal.Work(f.Table.Name, f.PartitionKey));
    }

    [Fact]
    public async Task A_commit_without_outbox_messages_writes_no_pointer()
    {
        var f = await CreateAsync();

        await f.CommitAsync();

        (await f.PointersAsync()).Should().BeEmpty();
        f.S.Signal.Reader.TryRead(out _).Should().BeFalse();
    }

    [Fact]
    public async Task Sweep_delivers_email_and_event_once_and_deletes_the_rows()
    {
        var f = await CreateAsync();
        var email = f.Email("bob@partner.example");
        var e = f.Event();
        await f.CommitAsync(email, e);
        using var dispatcher = f.Dispatcher();

        var delivered = await dispatcher.SweepAsync(None);

        delivered.Should().Be(2);
        var mail = (await f.Mailbox.ListAsync("bob@partner.example", 10, None)).Should().ContainSingle().Subject;
        mail.Id.Should().Be(email.Id);
        mail.Subject.Should().Be("Welcome to the program");
        mail.Template.Should().Be("partner-invitation");
        mail.Links.Should().BeEquivalentTo(["https://portal.example/invite?token=abc123", "https://portal.example/invite?token=abc123&src=mail"]);
        (await f.Mailbox.ListAsync("someone.else@partner.example", 10, None)).Should().BeEmpty();
        var published = (await f.Events.ListAsync(10, None)).Should().ContainSingle().Subject;
        published.Id.Should().Be(e.Id);
        published.Type.Should().Be("thing.changed");
        published.PartnerId.Should().Be(f.PartitionKey);
        (await f.OutboxRowsAsync()).Should().BeEmpty();

        var again = await dispatcher.SweepAsync(None);

        again.Should().Be(0);
        (await f.Mailbox.ListAsync(null, 10, None)).Should().ContainSingle("no duplicate mail");
        (await f.Events.ListAsync(10, None)).Should().ContainSingle();
    }

    [Fact]
    public async Task DispatchPartition_delivers_a_signalled_partition_without_a_sweep()
    {
        var f = await CreateAsync();
        var email = f.Email("carl@partner.example");
        await f.CommitAsync(email);
        f.S.Signal.Reader.TryRead(out var work).Should().BeTrue();
        using var dispatcher = f.Dispatcher();

        var delivered = await dispatcher.DispatchPartitionAsync(work!.Table, work.Partition, removePointer: false, None);

        delivered.Should().Be(1);
        (await f.Mailbox.ListAsync("carl@partner.example", 10, None)).Select(m => m.Id).Should().Equal(email.Id);
        (await f.OutboxRowsAsync()).Should().BeEmpty();
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

        (await dispatcher.SweepAsync(None)).Should().Be(0);

        var row = (await f.OutboxRowsAsync()).Should().ContainSingle().Subject;
        row.GetInt32("Attempts").Should().Be(1);
        row.GetDateTimeOffset("NextAttemptAt").Should().Be(start + TimeSpan.FromSeconds(30));
        row.GetString("LastError").Should().Contain("throttled");
        row.GetBoolean("Dead").Should().BeFalse();
        sender.Calls.Should().Be(1);

        sender.Failure = null; // recovered, but the retry time has not come
        (await dispatcher.SweepAsync(None)).Should().Be(0);
        sender.Calls.Should().Be(1, "the row is not tried before NextAttemptAt");
        (await f.Mailbox.ListAsync(null, 10, None)).Should().BeEmpty();

        f.S.Clock.Advance(TimeSpan.FromSeconds(31));
        (await dispatcher.SweepAsync(None)).Should().Be(1);

        sender.Calls.Should().Be(2);
        (await f.Mailbox.ListAsync("dora@partner.example", 10, None)).Select(m => m.Id).Should().Equal(email.Id);
        (await f.OutboxRowsAsync()).Should().BeEmpty();
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
        first.GetDateTimeOffset("NextAttemptAt").Should().Be(f.S.Clock.GetUtcNow() + TimeSpan.FromSeconds(2));
        f.S.Clock.Advance(TimeSpan.FromSeconds(3));
        await dispatcher.SweepAsync(None);
        var second = (await f.OutboxRowsAsync()).Single();

        second.GetInt32("Attempts").Should().Be(2);
        second.GetDateTimeOffset("NextAttemptAt").Should().Be(f.S.Clock.GetUtcNow() + TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task A_message_that_keeps_failing_is_parked_dead_after_max_attempts()
    {
        var f = await CreateAsync();
        await f.CommitAsync(f.Email("fay@partner.example"));
        var sender = new FlakySender(f.Mailbox) { Failure = () => new InvalidOperationException("SendGrid refused the email (400)") };
        using var dispatcher = f.Dispatcher(sender, maxAttempts: 2, graceSeconds: 0);

        await dispatcher.SweepAsync(None);
        f.S.Clock.Advance(TimeSpan.FromMinutes(1));
        await dispatcher.SweepAsync(None);
        f.S.Clock.Advance(TimeSpan.FromHours(2));
        await dispatcher.SweepAsync(None);

        sender.Calls.Should().Be(2);
        var row = (await f.OutboxRowsAsync()).Should().ContainSingle("a dead message is kept for an operator").Subject;
        row.GetBoolean("Dead").Should().BeTrue();
        row.GetInt32("Attempts").Should().Be(2);
        (await f.PointersAsync()).Should().BeEmpty("only dead rows remain, so the partition is no longer pending");
    }

    [Fact]
    public async Task The_pointer_of_a_drained_partition_is_removed_only_after_the_grace_period()
    {
        var f = await CreateAsync();
        await f.CommitAsync(f.Event());
        using var dispatcher = f.Dispatcher(graceSeconds: 3600);

        (await dispatcher.SweepAsync(None)).Should().Be(1);
        (await f.OutboxRowsAsync()).Should().BeEmpty();
        (await f.PointersAsync()).Should().ContainSingle("the pointer is younger than the grace period");

        (await dispatcher.SweepAsync(None)).Should().Be(0);
        (await f.PointersAsync()).Should().ContainSingle();

        f.S.Clock.Advance(TimeSpan.FromSeconds(3601));
        (await dispatcher.SweepAsync(None)).Should().Be(0);
        (await f.PointersAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task With_no_grace_the_pointer_goes_in_the_sweep_that_drains_the_partition()
    {
        var f = await CreateAsync();
        await f.CommitAsync(f.Event(), f.Email("gus@partner.example"));
        await Task.Delay(50); // Azurite stamps the pointer with real time; let some pass
        using var dispatcher = f.Dispatcher(graceSeconds: 0, clock: TimeProvider.System);

        (await dispatcher.SweepAsync(None)).Should().Be(2);

        (await f.PointersAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task A_pointer_whose_transaction_never_committed_is_swept_after_the_grace_period()
    {
        var f = await CreateAsync();
        await f.S.Pointers.MarkAsync(f.Table.Name, f.PartitionKey, None);
        await Task.Delay(50);
        using var keep = f.Dispatcher(graceSeconds: 600, clock: TimeProvider.System);
        using var sweep = f.Dispatcher(graceSeconds: 0, clock: TimeProvider.System);

        await keep.SweepAsync(None);
        (await f.PointersAsync()).Should().ContainSingle();
        await sweep.SweepAsync(None);
        (await f.PointersAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task A_pointer_with_pending_rows_is_kept_however_old()
    {
        var f = await CreateAsync();
        await f.CommitAsync(f.Email("hal@partner.example"));
        await Task.Delay(50);
        var sender = new FlakySender(f.Mailbox) { Failure = () => new TransientDeliveryException("down", TimeSpan.FromMinutes(5)) };
        using var dispatcher = f.Dispatcher(sender, graceSeconds: 0, clock: TimeProvider.System);

        await dispatcher.SweepAsync(None);

        (await f.PointersAsync()).Should().ContainSingle();
        (await f.OutboxRowsAsync()).Should().ContainSingle();
    }

    [Fact]
    public async Task Projections_are_applied_before_the_event_is_published()
    {
        var f = await CreateAsync();
        var e = f.Event();
        await f.CommitAsync(e);
        var log = new ConcurrentQueue<string>();
        var projections = new[] { new RecordingProjection("p1", log), new RecordingProjection("p2", log) };
        using var dispatcher = f.Dispatcher(publisher: new RecordingPublisher(log), projections: projections);

        (await dispatcher.SweepAsync(None)).Should().Be(1);

        log.Should().Equal($"p1:{e.Id}", $"p2:{e.Id}", $"publish:{e.Id}");
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

        (await dispatcher.SweepAsync(None)).Should().Be(0);
        log.Should().Equal($"p:{e.Id}");
        (await f.OutboxRowsAsync()).Single().GetInt32("Attempts").Should().Be(1);

        projection.Fail = false;
        f.S.Clock.Advance(TimeSpan.FromMinutes(1));
        (await dispatcher.SweepAsync(None)).Should().Be(1);
        log.Should().Equal($"p:{e.Id}", $"p:{e.Id}", $"publish:{e.Id}");
    }

    [Fact]
    public async Task A_failed_event_holds_back_the_later_events_of_its_partition()
    {
        var f = await CreateAsync();
        var first = f.Event("thing.first");
        var second = f.Event("thing.second", TimeSpan.FromSeconds(1));
        await f.CommitAsync(second, first);
        var log = new ConcurrentQueue<string>();
        var publisher = new RecordingPublisher(log) { FailId = first.Id };
        using var dispatcher = f.Dispatcher(publisher: publisher);

        (await dispatcher.SweepAsync(None)).Should().Be(0);
        log.Should().BeEmpty();
        (await f.OutboxRowsAsync()).Should().HaveCount(2);

        publisher.FailId = null;
        f.S.Clock.Advance(TimeSpan.FromMinutes(1));
        (await dispatcher.SweepAsync(None)).Should().Be(2);
        log.Should().Equal($"publish:{first.Id}", $"publish:{second.Id}");
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

    private sealed class RecordingPublisher(ConcurrentQueue<string> log) : IEventPublisher
    {
        public string? FailId { get; set; }

        public Task PublishAsync(IntegrationEvent e, CancellationToken ct)
        {
            if (e.Id == FailId) throw new TransientDeliveryException("broker down");
            log.Enqueue($"publish:{e.Id}");
            return Task.CompletedTask;
        }
    }
}
