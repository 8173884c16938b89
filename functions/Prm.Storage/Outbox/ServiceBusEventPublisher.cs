using Azure.Messaging.ServiceBus;
using Prm.Core.Outbox;

namespace Prm.Storage.Outbox;

/// <summary>Publishes integration events to the Service Bus topic: event id as MessageId (duplicate detection), type as Subject.</summary>
public sealed class ServiceBusEventPublisher(ServiceBusSender sender) : IEventPublisher, IAsyncDisposable
{
    public Task PublishAsync(IntegrationEvent e, CancellationToken ct) => sender.SendMessageAsync(ToMessage(e), ct);

    /// <summary>The Service Bus message for an event.</summary>
    public static ServiceBusMessage ToMessage(IntegrationEvent e)
    {
        var message = new ServiceBusMessage(BinaryData.FromObjectAsJson(e, OutboxJson.Options))
        {
            MessageId = e.Id,
            Subject = e.Type,
            ContentType = "application/json",
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
