using System.Text.Json;
using System.Text.Json.Serialization;

namespace Prm.Core.Outbox;

/// <summary>What an outbox row carries.</summary>
public enum OutboxKind { Event, Email }

/// <summary>An event or email written in the same transaction as the state change it reports, delivered later by the dispatcher.</summary>
public sealed record OutboxMessage(string Id, OutboxKind Kind, string Type, string? PartnerId, string? CorrelationId, DateTimeOffset CreatedAt, string Payload)
{
    public static OutboxMessage ForEvent(IntegrationEvent e) =>
        new(e.Id, OutboxKind.Event, e.Type, e.PartnerId, e.CorrelationId, e.OccurredAt, JsonSerializer.Serialize(e, OutboxJson.Options));

    public static OutboxMessage ForEmail(string id, EmailMessage email, DateTimeOffset at, string? partnerId, string? correlationId) =>
        new(id, OutboxKind.Email, email.Template, partnerId, correlationId, at, JsonSerializer.Serialize(email, OutboxJson.Options));

    public IntegrationEvent ReadEvent() => JsonSerializer.Deserialize<IntegrationEvent>(Payload, OutboxJson.Options)!;

    public EmailMessage ReadEmail() => JsonSerializer.Deserialize<EmailMessage>(Payload, OutboxJson.Options)!;
}

/// <summary>An integration event other systems follow (CRM sync, webhooks). Type is dotted lower case, e.g. partner.created.</summary>
public sealed record IntegrationEvent(string Id, string Type, DateTimeOffset OccurredAt, string Subject, string? PartnerId, string? CorrelationId, JsonElement Data)
{
    public static IntegrationEvent Create<T>(string id, string type, DateTimeOffset at, string subject, string? partnerId, string? correlationId, T data) =>
        new(id, type, at, subject, partnerId, correlationId, JsonSerializer.SerializeToElement(data, OutboxJson.Options));
}

/// <summary>
/// A rendered email: recipient, subject, plain text and HTML bodies; the email of the person whose command caused it (nobody is emailed
/// about their own action), and extra mail headers (List-Unsubscribe).
/// </summary>
public sealed record EmailMessage(string To, string? ToName, string Subject, string Text, string Html, string Template, string? ActorEmail = null,
    IReadOnlyDictionary<string, string>? Headers = null);

/// <summary>
/// Decides at delivery what becomes of an email: sent as it is or with an unsubscribe link, kept for a digest, or dropped (the recipient's
/// own action, a kind they turned off). Null means not sent now.
/// </summary>
public interface IEmailGate
{
    Task<EmailMessage?> PrepareAsync(string messageId, EmailMessage email, DateTimeOffset createdAt, string? partnerId, CancellationToken ct);
}

/// <summary>Delivers integration events (Service Bus in Azure, a local sink in development).</summary>
public interface IEventPublisher
{
    Task PublishAsync(IntegrationEvent e, CancellationToken ct);

    /// <summary>
    /// Publishes the events of one outbox delivery in their order, in as few calls as the transport allows (one batch): each keeps its own
    /// id (the message id a broker deduplicates by), so a redelivered batch adds nothing. A failure may leave a prefix published; the outbox
    /// then publishes them all again, which the ids make harmless.
    /// </summary>
    async Task PublishAllAsync(IReadOnlyList<IntegrationEvent> events, CancellationToken ct)
    {
        foreach (var e in events) await PublishAsync(e, ct);
    }
}

/// <summary>Sends email (SendGrid in Azure, the dev mail outbox locally).</summary>
public interface IEmailSender
{
    Task SendAsync(string messageId, EmailMessage email, CancellationToken ct);
}

/// <summary>A delivery that failed for a reason that will pass (throttling, outage); retried later, not before <see cref="RetryAfter"/>.</summary>
public sealed class TransientDeliveryException(string message, TimeSpan? retryAfter = null, Exception? inner = null) : Exception(message, inner)
{
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>Something inside the application that reacts to an event before it is published (e.g. refreshing an index).</summary>
public interface IOutboxProjection
{
    Task ApplyAsync(IntegrationEvent e, CancellationToken ct);
}

/// <summary>
/// A projection that also takes the events of one outbox delivery together, after each was applied on its own and before they are
/// published, so it can write them in one call (the webhook event log). Idempotent like every projection: a delivery may come again.
/// </summary>
public interface IOutboxBatchProjection : IOutboxProjection
{
    Task ApplyAllAsync(IReadOnlyList<IntegrationEvent> events, CancellationToken ct);
}

public static class OutboxJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };
}

/// <summary>
/// A projection that starts, signals or ends workflows. It needs the Durable client of the invocation delivering the message (a queue or
/// timer function's [DurableClient] binding), so the dispatcher leaves the events it concerns to those functions.
/// </summary>
public interface IWorkflowProjection : IOutboxProjection
{
    /// <summary>Whether the event is one this projection acts on (decided from its type, without I/O).</summary>
    bool Concerns(IntegrationEvent e);
}

/// <summary>Whether the current invocation carries a workflow client (scoped to the invocation, never set process-wide).</summary>
public interface IWorkflowClientContext
{
    bool Available { get; }

    /// <summary>
    /// The current invocation's client, captured so that work the invocation committed can be delivered with it after the call
    /// returns (the returned function re-enters a scope with that client); null when the invocation has none.
    /// </summary>
    Func<IDisposable>? Capture() => null;
}
