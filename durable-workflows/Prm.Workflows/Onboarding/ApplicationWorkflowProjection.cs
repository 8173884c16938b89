using System.Text.Json;
using Microsoft.DurableTask;
using Prm.Core.Onboarding;
using Prm.Core.Outbox;

namespace Prm.Workflows.Onboarding;

/// <summary>Starts the review workflow when an application is submitted and tells it about the decision (at least once; idempotent).</summary>
public sealed class ApplicationWorkflowProjection(DurableClientAccessor durable, AgreementOptions agreement) : IOutboxProjection
{
    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (e.Type == PartnerAgreements.ActivatedType && e.PartnerId is not null)
        {
            var activated = Client();
            var waiting = await activated.GetInstanceAsync(AgreementWait.InstanceId(e.PartnerId), getInputsAndOutputs: false, ct);
            if (waiting is { IsRunning: true }) await activated.RaiseEventAsync(waiting.InstanceId, AgreementWait.AcceptedEvent, "accepted", ct);
            return;
        }
        if (e.Type is not (ApplicationEvents.Submitted or ApplicationEvents.Approved or ApplicationEvents.Rejected)) return;
        var client = Client();
        var data = e.Data.Deserialize<ApplicationEvents.ApplicationData>(OutboxJson.Options)!;
        var instanceId = ApplicationReview.InstanceId(data.ApplicationId);
        var existing = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct);
        if (e.Type == ApplicationEvents.Submitted)
        {
            if (existing is not null) return;
            var input = new ApplicationReview(data.ApplicationId, data.Deadlines.RemindAt, data.Deadlines.EscalateAt, data.Deadlines.ExpiresAt);
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(ApplicationReviewOrchestrator), input, new StartOrchestrationOptions(instanceId), ct);
            return;
        }
        // A decision ends the review; an instance that has not started yet or has finished needs nothing (its steps check the status).
        if (existing is { IsRunning: true }) await client.RaiseEventAsync(instanceId, ApplicationReview.DecidedEvent, data.Status, ct);
        if (e.Type == ApplicationEvents.Approved && data.PartnerId is not null)
        {
            // Approval starts the wait for the agreement (one per partner).
            var waitId = AgreementWait.InstanceId(data.PartnerId);
            if (await client.GetInstanceAsync(waitId, getInputsAndOutputs: false, ct) is not null) return;
            var input = new AgreementWait(data.PartnerId, e.OccurredAt + agreement.FirstReminderAfter, e.OccurredAt + agreement.SecondReminderAfter, e.OccurredAt + agreement.ExpiresAfter);
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(AgreementOrchestrator), input, new StartOrchestrationOptions(waitId), ct);
        }
    }

    private Microsoft.DurableTask.Client.DurableTaskClient Client() =>
        durable.Client ?? throw new TransientDeliveryException("The Durable Task client is not available yet.", TimeSpan.FromSeconds(15));
}
