using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Prm.Core.Mdf;
using Prm.Core.Outbox;
using Prm.Core.Settings;

namespace Prm.Workflows.Mdf;

/// <summary>
/// Drives the MDF workflows from the outbox (at least once; idempotent). Every mdf.request.* and mdf.claim.* event of a request: an instance
/// that is not finished — running, or scheduled and not started yet — gets "changed" (events wait for a pending instance; the workflow reads
/// the request's state); without one the workflow starts from the event's data when the request still needs one; one that failed or was
/// terminated is started again from the event's data; a completed one is left alone (it ended because the request needs no workflow).
/// A claim submission also starts its claim review (one per submission), and a claim decision wakes that review.
/// </summary>
public sealed class MdfWorkflowProjection(DurableClientAccessor durable, ProgramSettings settings) : IWorkflowProjection
{
    public bool Concerns(IntegrationEvent e) =>
        e.Type.StartsWith("mdf.request.", StringComparison.Ordinal) || e.Type.StartsWith("mdf.claim.", StringComparison.Ordinal);

    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (!Concerns(e)) return;
        var client = durable.Client ?? throw new TransientDeliveryException("The Durable Task client is not available yet.", TimeSpan.FromSeconds(15));
        var data = e.Data.Deserialize<MdfEvents.RequestData>(OutboxJson.Options)!;
        await FollowRequestAsync(client, e, data, ct);
        switch (e.Type)
        {
            case MdfEvents.ClaimSubmitted when data.ClaimId is not null:
                await StartClaimReviewAsync(client, data, data.ClaimId, ct);
                return;
            case MdfEvents.ClaimApproved or MdfEvents.ClaimRejected or MdfEvents.ClaimInfoRequested when data.ClaimId is not null:
            {
                // The review of that submission wakes and ends; one that has not started yet gets the event too, one that finished needs nothing.
                var claimInstance = MdfClaimReview.InstanceId(data.ClaimId, data.Submission);
                if (await client.GetInstanceAsync(claimInstance, getInputsAndOutputs: false, ct) is { IsCompleted: false })
                    await client.RaiseEventAsync(claimInstance, MdfClaimReview.DecidedEvent, data.ClaimStatus ?? "decided", ct);
                return;
            }
        }
    }

    private async Task FollowRequestAsync(DurableTaskClient client, IntegrationEvent e, MdfEvents.RequestData data, CancellationToken ct)
    {
        var instanceId = MdfRequestWorkflow.InstanceId(data.RequestId);
        var existing = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct);
        if (existing is { IsCompleted: false })
        {
            await client.RaiseEventAsync(instanceId, MdfRequestWorkflow.ChangedEvent, e.Type, ct);
            return;
        }
        if (existing is { RuntimeStatus: OrchestrationRuntimeStatus.Completed }) return; // it ended: the request needs no workflow
        var input = MdfRequestWorkflow.For(data.RequestId, await StateOfAsync(e, data, ct));
        if (input is null) return;
        if (existing is not null) await client.PurgeInstanceAsync(instanceId, cancellation: ct); // failed or terminated: start again
        await StartAsync(client, nameof(MdfRequestOrchestrator), input, instanceId, ct);
    }

    /// <summary>
    /// The request's state as the event tells it. An approved request's claim schedule is derived from its activity end and claim deadline
    /// (with the current rules, as of the event); an event written before it carried them has the approval's schedule, or none — then
    /// <see cref="MdfRequestWorkflow.For"/> starts no claim window (there is no deadline to expire it at).
    /// </summary>
    private async Task<MdfWorkflowState> StateOfAsync(IntegrationEvent e, MdfEvents.RequestData data, CancellationToken ct)
    {
        var schedule = data.ClaimSchedule;
        if (data is { Status: nameof(FundRequestStatus.Approved), EndDate: { } end, ClaimDeadline: { } deadline })
            schedule = FundRequest.ClaimScheduleOf(end, deadline, await settings.GetAsync<MdfSettings>(MdfSettings.SectionName, ct), e.OccurredAt);
        return new MdfWorkflowState(data.Status, data.Cycle, data.RemindAt, data.EscalateAt, data.ClaimStatus, data.Submission,
            data.ClaimReviewRemindAt, data.ClaimReviewEscalateAt, schedule);
    }

    private static async Task StartClaimReviewAsync(DurableTaskClient client, MdfEvents.RequestData data, string claimId, CancellationToken ct)
    {
        // The submission sets the review deadlines in the same commit as this event; without them (an event written before the claim
        // recorded its deadlines) there is nothing to remind at, and no deadline is made up here: no review workflow starts.
        if (data is not { ClaimReviewRemindAt: { } remindAt, ClaimReviewEscalateAt: { } escalateAt }) return;
        var claimInstance = MdfClaimReview.InstanceId(claimId, data.Submission);
        var existing = await client.GetInstanceAsync(claimInstance, getInputsAndOutputs: false, ct);
        if (existing is not null && existing.RuntimeStatus is not (OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated)) return;
        if (existing is not null) await client.PurgeInstanceAsync(claimInstance, cancellation: ct); // failed or terminated: start again
        await StartAsync(client, nameof(MdfClaimReviewOrchestrator), new MdfClaimReview(data.RequestId, claimId, data.Submission, remindAt, escalateAt), claimInstance, ct);
    }

    private static async Task StartAsync<T>(DurableTaskClient client, string orchestrator, T input, string instanceId, CancellationToken ct)
    {
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(orchestrator, input, new StartOrchestrationOptions(instanceId), ct);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            // Started by a concurrent delivery of the same event (the next change reaches it as an event); anything else is retried.
            if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct) is null) throw;
        }
    }
}
