using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Prm.Storage.Outbox;
using Prm.Workflows;

namespace Prm.Functions.Outbox;

/// <summary>
/// Delivers outbox messages that need a workflow client. The isolated worker hands out Durable clients only through [DurableClient]
/// bindings, so each invocation lends its own client to the dispatcher for the duration of the call (nothing is set process-wide):
/// the queue trigger delivers what a commit enqueued at once, on whichever instance takes the message; the timer is the safety net
/// (every 5 minutes by default, so the app can scale to zero). The local host runs these same functions on Azurite's queue service.
/// </summary>
public sealed class OutboxFunctions(OutboxDispatcher dispatcher, DurableClientAccessor durable)
{
    public const string QueueSetting = "Outbox:QueueName";
    public const string ScheduleSetting = "Outbox:SweepSchedule";

    [Function("OutboxDeliver")]
    public async Task Deliver(
        [QueueTrigger("%" + QueueSetting + "%", Connection = "AzureWebJobsStorage")] OutboxQueueMessage message,
        [DurableClient] DurableTaskClient client, CancellationToken ct)
    {
        using (durable.Use(client))
        {
            await dispatcher.DeliverQueuedAsync(message, ct);
        }
    }

    [Function("OutboxSweep")]
    public async Task Sweep([TimerTrigger("%" + ScheduleSetting + "%")] TimerInfo timer, [DurableClient] DurableTaskClient client, CancellationToken ct)
    {
        using (durable.Use(client))
        {
            await dispatcher.SweepAsync(ct);
        }
    }
}
