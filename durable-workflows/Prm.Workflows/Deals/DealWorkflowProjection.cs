using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Prm.Core.Deals;
using Prm.Core.Outbox;
using Prm.Core.Settings;

namespace Prm.Workflows.Deals;

/// <summary>
/// Starts a registration's workflow when it needs one and tells a live one about every change (from the outbox; at least once, idempotent).
/// An instance that is not finished — running, or scheduled and not started yet — gets the event (events wait for a pending instance);
/// one that failed or was terminated is started again from the registration's state, so an approved registration always has its expiry.
/// </summary>
public sealed class DealWorkflowProjection(DurableClientAccessor durable, ProgramSettings settings) : IWorkflowProjection
{
    public bool Concerns(IntegrationEvent e) => e.Type is DealEvents.Submitted or DealEvents.Approved or DealEvents.Rejected or DealEvents.Returned
        or DealEvents.Extended or DealEvents.Withdrawn or DealEvents.Won or DealEvents.Lost;

    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (!Concerns(e)) return;
        var data = e.Data.Deserialize<DealEvents.DealData>(OutboxJson.Options)!;
        if (!data.Latest) return;
        var deal = data.Deal;
        var client = durable.Client ?? throw new TransientDeliveryException("The Durable Task client is not available yet.", TimeSpan.FromSeconds(15));
        var instanceId = DealWorkflow.InstanceId(deal.Id);
        var existing = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct);
        if (existing is { IsCompleted: false })
        {
            await client.RaiseEventAsync(instanceId, DealWorkflow.ChangedEvent, new DealSignal(deal.Status, deal.ProtectedUntil, deal.SubmittedAt, data.ReviewRemindAt, data.ReviewEscalateAt), ct);
            return;
        }
        if (existing is { RuntimeStatus: OrchestrationRuntimeStatus.Completed }) return; // it ended with a final decision
        var rules = await settings.GetAsync<DealSettings>(DealSettings.SectionName, ct);
        var state = new DealWorkflowState(deal.Status, deal.SubmittedAt, data.ReviewRemindAt, data.ReviewEscalateAt, deal.ProtectedUntil);
        var input = DealWorkflow.For(deal.Id, state, rules.ExpiryFirstReminderBefore, rules.ExpirySecondReminderBefore);
        if (input is null) return;
        if (existing is not null) await client.PurgeInstanceAsync(instanceId, cancellation: ct); // failed or terminated: start again
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(DealOrchestrator), input, new StartOrchestrationOptions(instanceId), ct);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            // Started by a concurrent delivery of the same event (the next change reaches it as an event); anything else is retried.
            if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct) is null) throw;
        }
    }
}
