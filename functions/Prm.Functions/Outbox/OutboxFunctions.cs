using Microsoft.Azure.Functions.Worker;
using Prm.Storage.Outbox;

namespace Prm.Functions.Outbox;

/// <summary>Sweeps the outbox on a timer, so messages are delivered even when the instance that committed them went away.</summary>
public sealed class OutboxFunctions(OutboxDispatcher dispatcher)
{
    [Function("OutboxSweep")]
    public Task Sweep([TimerTrigger("*/30 * * * * *")] TimerInfo timer, CancellationToken ct) => dispatcher.SweepAsync(ct);
}
