using Azure.Data.Tables;
using Prm.Core.Outbox;

namespace Prm.Storage.Outbox;

/// <summary>
/// One pointer per undelivered outbox message, written (in one batch) before the transaction that adds the messages, so a
/// crash after the commit never strands a message; a pointer whose transaction failed is harmless and swept later.
/// The dispatcher finds rows through pointers by point reads, never by scanning partitions.
/// </summary>
public sealed class OutboxPointers(PrmTables tables, OutboxSignal signal, IWorkflowClientContext? clients = null, OutboxOptions? options = null, TimeProvider? clock = null)
{
    public const int Shards = 4;

    /// <summary>
    /// Until when a commit's outbox rows are claimed for this process's in-process delivery, written with the rows themselves (so that
    /// delivery needs no claim of its own): null, and rows are born unclaimed, when no deliverer reads the lanes of this process (their
    /// messages are the sweep's) or the dispatcher's settings are not known (a writer wired by hand). The claim keeps the other
    /// deliverers (the sweeps, the queue function, other instances) off, as a claim of the delivery itself did; should this process
    /// die before delivering, the sweep takes the messages once the claim lapses (<see cref="OutboxOptions.ClaimSeconds"/>).
    /// </summary>
    public DateTimeOffset? ClaimUntil() =>
        options is null || clock is null || options.ClaimSeconds <= 0 || !signal.HasConsumers ? null : clock.GetUtcNow() + TimeSpan.FromSeconds(options.ClaimSeconds);

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

    /// <summary>
    /// Hands committed messages to the dispatcher for delivery now, without waiting for a sweep; <paramref name="claimedUntil"/> is the
    /// claim the commit wrote into their rows (<see cref="ClaimUntil"/>), if any.
    /// </summary>
    public void Notify(string table, string partitionKey, IReadOnlyList<OutboxMessage> messages, IReadOnlyList<Azure.ETag> rowETags, DateTimeOffset? claimedUntil = null) =>
        signal.Post(new OutboxSignal.Work(table, partitionKey, messages, rowETags, clients?.Capture(), claimedUntil));

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
    /// committing invocation's workflow client, captured (null when it had none), and the claim for this process the commit wrote into
    /// the rows (<see cref="OutboxPointers.ClaimUntil"/>; null: the rows were born unclaimed).
    /// </summary>
    public sealed record Work(string Table, string Partition, IReadOnlyList<OutboxMessage> Messages, IReadOnlyList<Azure.ETag> RowETags, Func<IDisposable>? ClientScope = null, DateTimeOffset? ClaimedUntil = null);

    private readonly System.Threading.Channels.Channel<Work>[] lanes;
    private readonly TrackingReader[] readers;

    /// <summary>Messages posted and not yet taken off their lane, with when they were posted and their lane.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (long Posted, int Lane)> queued = new(StringComparer.Ordinal);

    /// <summary>When each lane last handed out work (a lane that hands out nothing while work waits is stuck).</summary>
    private readonly long[] lastRead;

    private int consumers;

    public OutboxSignal() : this(1)
    {
    }

    public OutboxSignal(int lanes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lanes, 1);
        this.lanes = Enumerable.Range(0, lanes).Select(_ => System.Threading.Channels.Channel.CreateBounded<Work>(
            new System.Threading.Channels.BoundedChannelOptions(10_000) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropOldest }, Forget)).ToArray();
        readers = this.lanes.Select((l, i) => new TrackingReader(l.Reader, this, i)).ToArray();
        lastRead = new long[lanes];
    }

    private static readonly AsyncLocal<FollowOns?> Capturing = new();

    /// <summary>
    /// Starts taking, for the rest of the calling method's flow, the work that commits made in it post (a projection's commit during an
    /// outbox delivery: the tier evaluation an approval causes), instead of queueing it on its lane: the delivery sends it with its own
    /// events (<see cref="OutboxDispatcher"/>). Once <see cref="FollowOns.Close"/>d, later posts of the flow go to their lanes as always.
    /// </summary>
    public FollowOns CaptureFollowOns()
    {
        var capture = new FollowOns(this);
        Capturing.Value = capture;
        return capture;
    }

    /// <summary>Work committed during a delivery, taken by it (see <see cref="CaptureFollowOns"/>).</summary>
    public sealed class FollowOns(OutboxSignal signal)
    {
        private readonly List<Work> works = [];

        internal OutboxSignal Signal => signal;
        private bool closed;

        internal bool TryAdd(Work work)
        {
            lock (works)
            {
                if (closed) return false;
                works.Add(work);
                return true;
            }
        }

        /// <summary>Stops taking work and returns what was taken, in the order it was committed.</summary>
        public IReadOnlyList<Work> Close()
        {
            lock (works)
            {
                closed = true;
                var taken = works.ToList();
                works.Clear();
                return taken;
            }
        }
    }

    /// <summary>
    /// Queues work on its partition's lane; when the lane is full its oldest is dropped and left to the sweep (its pointers remain). Work
    /// committed in the flow of a delivery that takes its follow-ons goes to that delivery instead.
    /// </summary>
    public void Post(Work work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (Capturing.Value is { } capture && capture.Signal == this && capture.TryAdd(work)) return;
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        uint hash = 2166136261;
        foreach (var c in work.Partition) hash = (hash ^ c) * 16777619;
        var lane = (int)(hash % (uint)lanes.Length);
        foreach (var m in work.Messages) queued[m.Id] = (now, lane);
        if (!lanes[lane].Writer.TryWrite(work)) Forget(work);
    }

    /// <summary>
    /// True when the message waits on a lane of this process that a running deliverer reads and that is moving (it handed out work in the
    /// last <paramref name="stall"/>, or the message is younger than that), posted less than <paramref name="within"/> ago: the in-process
    /// delivery will send it, so a sweep of this process leaves it alone instead of reading and claiming it (under a backlog — a bulk
    /// import's thousands of commits — the sweep would otherwise read every waiting message again on each pass). Older entries, those of
    /// a stuck lane, and every message when no deliverer reads the lanes, are the sweep's as before.
    /// </summary>
    public bool IsQueued(string messageId, TimeSpan within, TimeSpan stall)
    {
        if (Volatile.Read(ref consumers) == 0 || !queued.TryGetValue(messageId, out var entry)) return false;
        var age = System.Diagnostics.Stopwatch.GetElapsedTime(entry.Posted);
        if (age >= within) return false;
        var read = Volatile.Read(ref lastRead[entry.Lane]);
        return age < stall || (read != 0 && System.Diagnostics.Stopwatch.GetElapsedTime(read) < stall);
    }

    /// <summary>Whether a deliverer of this process reads the lanes (work posted now will be delivered in-process).</summary>
    public bool HasConsumers => Volatile.Read(ref consumers) > 0;

    /// <summary>A deliverer starts (true) or stops (false) reading the lanes.</summary>
    public void Consuming(bool started)
    {
        if (started) Interlocked.Increment(ref consumers);
        else Interlocked.Decrement(ref consumers);
    }

    private void Forget(Work work)
    {
        foreach (var m in work.Messages) queued.TryRemove(m.Id, out _);
    }

    /// <summary>The first lane (the only one of a signal with one lane).</summary>
    public System.Threading.Channels.ChannelReader<Work> Reader => readers[0];

    public IReadOnlyList<System.Threading.Channels.ChannelReader<Work>> Lanes => readers;

    /// <summary>A lane's reader that forgets what it hands out (the message is then the reader's, no longer waiting).</summary>
    private sealed class TrackingReader(System.Threading.Channels.ChannelReader<Work> inner, OutboxSignal signal, int lane) : System.Threading.Channels.ChannelReader<Work>
    {
        public override bool TryRead([System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out Work item)
        {
            if (!inner.TryRead(out item)) return false;
            signal.Forget(item);
            Volatile.Write(ref signal.lastRead[lane], System.Diagnostics.Stopwatch.GetTimestamp());
            return true;
        }

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) => inner.WaitToReadAsync(cancellationToken);

        public override Task Completion => inner.Completion;

        public override bool CanCount => inner.CanCount;

        public override int Count => inner.Count;
    }
}
