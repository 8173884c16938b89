namespace Prm.Core.Outbox;

/// <summary>
/// The delivery of one event while its projections run: a projection may hand it events of its own to publish right after that event, in
/// the same batch, instead of committing them to the outbox and starting a second delivery (its own claim, publication and clean-up).
/// <para>
/// Only a projection that can publish such an event again from what it stored may do so, because nothing of it is in the outbox: when
/// the publication fails or the process stops before it, the causing event is delivered again, and the projection, finding its change
/// stored by that same cause, hands over the same event again (same id, same data; the broker drops the duplicate by id). The tier
/// evaluation does this for <c>tier.evaluated</c>. Events handed over are projected as any event, without a delivery of their own (a
/// projection of theirs commits to the outbox).
/// </para>
/// </summary>
public sealed class OutboxDelivery
{
    private static readonly AsyncLocal<OutboxDelivery?> Ambient = new();
    private readonly List<IntegrationEvent> followers = [];

    private OutboxDelivery(IntegrationEvent cause) => Cause = cause;

    /// <summary>The delivery of the event whose projections run in the current flow, or null (a request, a workflow, a handed-over event).</summary>
    public static OutboxDelivery? Current => Ambient.Value;

    /// <summary>The event being delivered.</summary>
    public IntegrationEvent Cause { get; }

    /// <summary>Events handed over so far, in order.</summary>
    public IReadOnlyList<IntegrationEvent> Followers
    {
        get
        {
            lock (followers) return [.. followers];
        }
    }

    /// <summary>Publishes <paramref name="e"/> right after the cause, in its batch (at least once: see the class remarks).</summary>
    public void Publish(IntegrationEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        lock (followers)
        {
            if (followers.All(f => f.Id != e.Id)) followers.Add(e);
        }
    }

    /// <summary>Starts the delivery of <paramref name="cause"/> for the current flow (dispose to end it).</summary>
    public static Scope Begin(IntegrationEvent cause)
    {
        ArgumentNullException.ThrowIfNull(cause);
        return new Scope(new OutboxDelivery(cause));
    }

    /// <summary>No delivery for the current flow (a handed-over event is projected without one: its projections commit to the outbox).</summary>
    public static Scope None() => new(null);

    /// <summary>The delivery in effect until disposed; the previous one is restored after.</summary>
    public sealed class Scope : IDisposable
    {
        private readonly OutboxDelivery? previous = Ambient.Value;

        internal Scope(OutboxDelivery? delivery)
        {
            Delivery = delivery;
            Ambient.Value = delivery;
        }

        public OutboxDelivery? Delivery { get; }

        public void Dispose() => Ambient.Value = previous;
    }
}
