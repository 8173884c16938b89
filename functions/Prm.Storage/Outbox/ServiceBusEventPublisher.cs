using Azure.Messaging.ServiceBus;
using Prm.Core.Outbox;

namespace Prm.Storage.Outbox;

/// <summary>
/// Publishes integration events to the Service Bus topic as CloudEvents (structured JSON, <see cref="CloudEventEnvelope"/>): event id as
/// MessageId (duplicate detection), type as Subject, the request's correlation id as CorrelationId.
/// </summary>
public sealed class ServiceBusEventPublisher(ServiceBusSender sender, CloudEventEnvelope? envelope = null) : IEventPublisher, IAsyncDisposable
{
    public Task PublishAsync(IntegrationEvent e, CancellationToken ct) => sender.SendMessageAsync(ToMessage(e, envelope), ct);

    /// <summary>The Service Bus message for an event: the CloudEvent as the body, the routing facts as properties.</summary>
    public static ServiceBusMessage ToMessage(IntegrationEvent e, CloudEventEnvelope? envelope = null)
    {
        var message = new ServiceBusMessage(new BinaryData((envelope ?? CloudEventEnvelope.Default).Encode(e)))
        {
            MessageId = e.Id,
            Subject = e.Type,
            ContentType = CloudEventEnvelope.ContentType,
            CorrelationId = e.CorrelationId,
        };
        message.ApplicationProperties["eventType"] = e.Type;
        message.ApplicationProperties["subject"] = e.Subject;
        if (e.PartnerId is not null) message.ApplicationProperties["partnerId"] = e.PartnerId;
        message.ApplicationProperties["occurredAt"] = e.OccurredAt.UtcDateTime;
        return message;
    }

    public ValueTask DisposeAsync() => sender.DisposeAsync();
}
