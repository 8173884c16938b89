using Microsoft.DurableTask.Client;

namespace Prm.Workflows;

/// <summary>
/// The Durable Task client of the host. The local host sets it at start; the isolated Functions worker only hands out clients
/// through [DurableClient] bindings, so the outbox sweep function sets it from its binding at every run.
/// </summary>
public sealed class DurableClientAccessor
{
    public DurableTaskClient? Client { get; set; }
}
