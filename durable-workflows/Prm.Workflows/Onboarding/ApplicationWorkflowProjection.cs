using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Prm.Core.Onboarding;
using Prm.Core.Outbox;
using Prm.Core.Settings;

namespace Prm.Workflows.Onboarding;

/// <summary>
/// Drives the onboarding workflows from the outbox (at least once; idempotent): starts an application's review when it is submitted and
/// tells a live one about every change (an instance that is not finished — running, or scheduled and not started yet — gets the event;
/// one that failed or was terminated is started again from the application's state); starts the agreement wait on approval, and the
/// checklist reminders on activation.
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
        await FollowAsync(client, data, ct);
        if (e.Type == ApplicationEvents.Approved && data.PartnerId is not null)
        {
            // Approval starts the wait for the agreement (one per partner).
            var waitId = AgreementWait.InstanceId(data.PartnerId);
            if (await client.GetInstanceAsync(waitId, getInputsAndOutputs: false, ct) is not null) return;
            var rules = await Rules(ct);
            // The approval event's time is the approval decision's time: the same base the offer's link was given.
            var deadlines = rules.AgreementDeadlinesFrom(e.OccurredAt);
            var input = new AgreementWait(data.PartnerId, deadlines.FirstReminderAt, deadlines.SecondReminderAt, deadlines.ExpiresAt);
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(AgreementOrchestrator), input, new StartOrchestrationOptions(waitId), ct);
        }
    }

    /// <summary>Wakes the application's review with the change, or starts it from the state the event carries when there is none that can follow.</summary>
    private static async Task FollowAsync(DurableTaskClient client, ApplicationEvents.ApplicationData data, CancellationToken ct)
    {
        var instanceId = ApplicationReview.InstanceId(data.ApplicationId);
        var existing = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct);
        if (existing is { IsCompleted: false })
        {
            await client.RaiseEventAsync(instanceId, ApplicationReview.ChangedEvent, new ApplicationSignal(data.Status), ct);
            return;
        }
        if (existing is { RuntimeStatus: OrchestrationRuntimeStatus.Completed }) return; // it ended with a decision or an expiry
        var state = new ApplicationWorkflowState(data.Status, data.Deadlines.RemindAt, data.Deadlines.EscalateAt, data.Deadlines.ExpiresAt, data.InfoDueAt);
        if (ApplicationReview.For(data.ApplicationId, state) is not { } input) return;
        if (existing is not null) await client.PurgeInstanceAsync(instanceId, cancellation: ct); // failed or terminated: start again
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(ApplicationReviewOrchestrator), input, new StartOrchestrationOptions(instanceId), ct);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            // Started by a concurrent delivery of the same event (the next change reaches it as an event); anything else is retried.
            if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct) is null) throw;
        }
    }

    private Task<OnboardingSettings> Rules(CancellationToken ct) => settings.GetAsync<OnboardingSettings>(OnboardingSettings.SectionName, ct);

    private DurableTaskClient Client() =>
        durable.Client ?? throw new TransientDeliveryException("The Durable Task client is not available yet.", TimeSpan.FromSeconds(15));
}
