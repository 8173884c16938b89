using Azure.Messaging.ServiceBus;
using Prm.Core.Outbox;

namespace Prm.Storage.Outbox;

/// <summary>
/// Publishes integration events to the Service Bus topic as CloudEvents (structured JSON, <see cref="CloudEventEnvelope"/>): event id as
/// MessageId (duplicate detection), type as Subject, the request's correlation id as CorrelationId. The events of one outbox delivery go
/// as one message batch (split in order only when they exceed the batch size limit).
/// </summary>
public sealed class ServiceBusEventPublisher(ServiceBusSender sender, CloudEventEnvelope? envelope = null) : IEventPublisher, IAsyncDisposable
{
    public Task PublishAsync(IntegrationEvent e, CancellationToken ct) => sender.SendMessageAsync(ToMessage(e, envelope), ct);

    /// <summary>
    /// One <see cref="ServiceBusMessageBatch"/> for the events, in order, each message as <see cref="ToMessage"/> makes it; a batch that is
    /// full is sent and the next one started (a single event too large for an empty batch fails, as a single send would).
    /// </summary>
    public async Task PublishAllAsync(IReadOnlyList<IntegrationEvent> events, CancellationToken ct)
    {
        if (events.Count == 0) return;
        if (events.Count == 1)
        {
            await PublishAsync(events[0], ct);
            return;
        }
        var batch = await sender.CreateMessageBatchAsync(ct);
        try
        {
            foreach (var e in events)
            {
                var message = ToMessage(e, envelope);
                if (batch.TryAddMessage(message)) continue;
                if (batch.Count == 0) throw new InvalidOperationException($"Event {e.Id} ({e.Type}) is larger than a Service Bus message batch may be.");
                await sender.SendMessagesAsync(batch, ct);
                batch.Dispose();
                batch = await sender.CreateMessageBatchAsync(ct);
                if (!batch.TryAddMessage(message)) throw new InvalidOperationException($"Event {e.Id} ({e.Type}) is larger than a Service Bus message batch may be.");
            }
            await sender.SendMessagesAsync(batch, ct);
        }
        finally
        {
            batch.Dispose();
        }
    }

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
