using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Prm.Core.Outbox;
using Prm.Core.Training;

namespace Prm.Workflows.Training;

/// <summary>
/// Starts an award's workflow when it is earned and wakes the one running workflow on renewal or revocation (from the outbox; at least
/// once, idempotent): no second workflow ever starts for an award. A failed or terminated instance is started again from the award's state.
/// </summary>
public sealed class AwardWorkflowProjection(DurableClientAccessor durable, IAwardSteps awards) : IWorkflowProjection
{
    public bool Concerns(IntegrationEvent e) => e.Type is TrainingEvents.CertificationEarned or TrainingEvents.CertificationRenewed or TrainingEvents.CertificationRevoked
        or TrainingEvents.CertificationInvalidated or TrainingEvents.CertificationRequalified;

    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (!Concerns(e)) return;
        var data = e.Data.Deserialize<TrainingEvents.AwardData>(OutboxJson.Options)!;
        var client = durable.Client ?? throw new TransientDeliveryException("The Durable Task client is not available yet.", TimeSpan.FromSeconds(15));
        var instanceId = AwardWorkflow.InstanceId(data.AwardId);
        var existing = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct);
        if (existing is { IsCompleted: false })
        {
            await client.RaiseEventAsync(instanceId, AwardWorkflow.ChangedEvent, data.Status, ct);
            return;
        }
        if (existing is { RuntimeStatus: OrchestrationRuntimeStatus.Completed }) return; // it ended: expired or revoked
        var input = AwardWorkflow.For(data.AwardId, await awards.StateAsync(data.AwardId, ct));
        if (input is null) return;
        if (existing is not null) await client.PurgeInstanceAsync(instanceId, cancellation: ct);
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(AwardOrchestrator), input, new StartOrchestrationOptions(instanceId), ct);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct) is null) throw;
        }
    }
}
