using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Prm.Core.Deals;
using Prm.Core.Outbox;
using Prm.Core.Settings;

namespace Prm.Workflows.Deals;

/// <summary>Starts a registration's workflow when it is submitted and tells it about every change (from the outbox; at least once, idempotent).</summary>
public sealed class DealWorkflowProjection(DurableClientAccessor durable, ProgramSettings settings) : IOutboxProjection
{
    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (e.Type is not (DealEvents.Submitted or DealEvents.Approved or DealEvents.Rejected or DealEvents.Returned or DealEvents.Extended
            or DealEvents.Withdrawn or DealEvents.Won or DealEvents.Lost)) return;
        var data = e.Data.Deserialize<DealEvents.DealData>(OutboxJson.Options)!;
        if (!data.Latest) return;
        var deal = data.Deal;
        var client = durable.Client ?? throw new TransientDeliveryException("The Durable Task client is not available yet.", TimeSpan.FromSeconds(15));
        var instanceId = DealWorkflow.InstanceId(deal.Id);
        var existing = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct);
        var signal = new DealSignal(deal.Status, deal.ProtectedUntil, deal.SubmittedAt, data.ReviewRemindAt, data.ReviewEscalateAt);
        if (existing is { IsRunning: true })
        {
            await client.RaiseEventAsync(instanceId, DealWorkflow.ChangedEvent, signal, ct);
            return;
        }
        if (existing is not null && e.Type != DealEvents.Submitted) return; // finished: nothing to follow
        var rules = await settings.GetAsync<DealSettings>(DealSettings.SectionName, ct);
        DealWorkflow? input = deal.Status switch
        {
            nameof(DealStatus.UnderReview) when deal.SubmittedAt is { } at && data.ReviewRemindAt is not null =>
                new DealWorkflow(deal.Id, DealPhase.Review, at, data.ReviewRemindAt, data.ReviewEscalateAt, rules.ExpiryFirstReminderBefore, rules.ExpirySecondReminderBefore),
            nameof(DealStatus.Approved) when deal.ProtectedUntil is { } until =>
                new DealWorkflow(deal.Id, DealPhase.Protection, until, null, null, rules.ExpiryFirstReminderBefore, rules.ExpirySecondReminderBefore),
            _ => null,
        };
        if (input is null) return;
        if (existing is not null)
        {
            // A registration submitted again after its workflow ended (e.g. a resubmission racing the end): start a fresh generation.
            await client.PurgeInstanceAsync(instanceId, cancellation: ct);
        }
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(DealOrchestrator), input, new StartOrchestrationOptions(instanceId), ct);
        }
        catch (Exception ex) when (ex.GetType().Name.Contains("AlreadyExists", StringComparison.Ordinal) || ex is InvalidOperationException)
        {
            // Started by a concurrent delivery of the same event.
        }
    }
}
