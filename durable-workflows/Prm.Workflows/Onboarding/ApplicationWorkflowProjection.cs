using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Prm.Core.Onboarding;
using Prm.Core.Outbox;
using Prm.Core.Settings;

namespace Prm.Workflows.Onboarding;

/// <summary>
/// Drives the onboarding workflows from the outbox (at least once; idempotent): starts the review when an application is submitted,
/// tells it about decisions and answers, starts the agreement wait on approval, and the checklist reminders on activation.
/// </summary>
public sealed class ApplicationWorkflowProjection(DurableClientAccessor durable, ProgramSettings settings) : IWorkflowProjection
{
    public bool Concerns(IntegrationEvent e) => (e.Type == PartnerAgreements.ActivatedType && e.PartnerId is not null)
        || e.Type is ApplicationEvents.Submitted or ApplicationEvents.Approved or ApplicationEvents.Rejected or ApplicationEvents.InfoRequested or ApplicationEvents.InfoAnswered;

    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (e.Type == PartnerAgreements.ActivatedType && e.PartnerId is not null)
        {
            var activated = Client();
            var waiting = await activated.GetInstanceAsync(AgreementWait.InstanceId(e.PartnerId), getInputsAndOutputs: false, ct);
            if (waiting is { IsCompleted: false }) await activated.RaiseEventAsync(waiting.InstanceId, AgreementWait.AcceptedEvent, "accepted", ct);
            var checklistId = ChecklistFollowUp.InstanceId(e.PartnerId);
            if (await activated.GetInstanceAsync(checklistId, getInputsAndOutputs: false, ct) is null)
            {
                var rules = await Rules(ct);
                var input = new ChecklistFollowUp(e.PartnerId, e.OccurredAt, e.OccurredAt + rules.ChecklistFirstReminderAfter, e.OccurredAt + rules.ChecklistSecondReminderAfter);
                await activated.ScheduleNewOrchestrationInstanceAsync(nameof(OnboardingChecklistOrchestrator), input, new StartOrchestrationOptions(checklistId), ct);
            }
            return;
        }
        if (e.Type is not (ApplicationEvents.Submitted or ApplicationEvents.Approved or ApplicationEvents.Rejected or ApplicationEvents.InfoRequested or ApplicationEvents.InfoAnswered)) return;
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
        if (e.Type == ApplicationEvents.InfoAnswered)
        {
            // The review starts again with the deadlines the answer set.
            var next = new ApplicationReview(data.ApplicationId, data.Deadlines.RemindAt, data.Deadlines.EscalateAt, data.Deadlines.ExpiresAt);
            if (existing is { IsCompleted: false }) await client.RaiseEventAsync(instanceId, ApplicationReview.AnsweredEvent, next, ct);
            return;
        }
        // A decision moves the review on; an instance that has not started yet or has finished needs nothing (its steps check the status).
        if (existing is { IsCompleted: false }) await client.RaiseEventAsync(instanceId, ApplicationReview.DecidedEvent, new ReviewSignal(data.Status, data.InfoDueAt), ct);
        if (e.Type == ApplicationEvents.Approved && data.PartnerId is not null)
        {
            // Approval starts the wait for the agreement (one per partner).
            var waitId = AgreementWait.InstanceId(data.PartnerId);
            if (await client.GetInstanceAsync(waitId, getInputsAndOutputs: false, ct) is not null) return;
            var rules = await Rules(ct);
            var input = new AgreementWait(data.PartnerId, e.OccurredAt + rules.AgreementFirstReminderAfter, e.OccurredAt + rules.AgreementSecondReminderAfter, e.OccurredAt + rules.AgreementExpiresAfter);
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(AgreementOrchestrator), input, new StartOrchestrationOptions(waitId), ct);
        }
    }

    private Task<OnboardingSettings> Rules(CancellationToken ct) => settings.GetAsync<OnboardingSettings>(OnboardingSettings.SectionName, ct);

    private DurableTaskClient Client() =>
        durable.Client ?? throw new TransientDeliveryException("The Durable Task client is not available yet.", TimeSpan.FromSeconds(15));
}
