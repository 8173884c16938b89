using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Prm.Storage.Outbox;
using Prm.Workflows;

namespace Prm.Functions.Outbox;

/// <summary>Sweeps the outbox on a timer, so messages are delivered even when the instance that committed them went away.</summary>
public sealed class OutboxFunctions(OutboxDispatcher dispatcher, DurableClientAccessor durable)
{
    [Function("OutboxSweep")]
    public Task Sweep([TimerTrigger("*/30 * * * * *")] TimerInfo timer, [DurableClient] DurableTaskClient client, CancellationToken ct)
    {
        // The isolated worker hands out Durable clients only through bindings; events that start workflows wait for it.
        durable.Client = client;
        return dispatcher.SweepAsync(ct);
    }
}
