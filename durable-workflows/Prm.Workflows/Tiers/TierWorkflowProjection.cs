using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Prm.Core.Outbox;
using Prm.Core.Tiers;

namespace Prm.Workflows.Tiers;

/// <summary>
/// Starts the downgrade workflow when a downgrade is scheduled and wakes it to end when the downgrade is cancelled (from the outbox; at
/// least once, idempotent: the instance id is the downgrade's, so a second delivery starts nothing).
/// </summary>
public sealed class TierWorkflowProjection(DurableClientAccessor durable, IDowngradeSteps steps) : IWorkflowProjection
{
    public bool Concerns(IntegrationEvent e) => e.Type is TierEvents.DowngradeScheduled or TierEvents.DowngradeCancelled;

    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (!Concerns(e)) return;
        var data = e.Data.Deserialize<TierEvents.TierData>(OutboxJson.Options)!;
        if (data.DowngradeId is not { } downgradeId) return;
        var client = durable.Client ?? throw new TransientDeliveryException("The Durable Task client is not available yet.", TimeSpan.FromSeconds(15));
        var instanceId = TierDowngradeWorkflow.InstanceId(downgradeId);
        var existing = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct);
        if (e.Type == TierEvents.DowngradeCancelled)
        {
            if (existing is { IsCompleted: false }) await client.RaiseEventAsync(instanceId, TierDowngradeWorkflow.CancelledEvent, "cancelled", ct);
            return;
        }
        if (existing is not null && existing.RuntimeStatus is not (OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated)) return;
        var input = TierDowngradeWorkflow.For(await steps.StateAsync(data.PartnerId, downgradeId, ct));
        if (input is null) return; // cancelled before it started
        if (existing is not null) await client.PurgeInstanceAsync(instanceId, cancellation: ct);
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(TierDowngradeOrchestrator), input, new StartOrchestrationOptions(instanceId), ct);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct) is null) throw;
        }
    }
}
