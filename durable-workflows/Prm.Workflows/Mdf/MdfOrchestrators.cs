using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Prm.Core.Mdf;
using Prm.Core.Outbox;

namespace Prm.Workflows.Mdf;

/// <summary>Input of a fund request's workflow: the review deadlines of the current cycle.</summary>
public sealed record MdfRequestWorkflow(string RequestId, int Cycle, DateTimeOffset RemindAt, DateTimeOffset EscalateAt)
{
    public const string DecidedEvent = "decided";
    public const string ClaimEvent = "claim";

    public static string InstanceId(string requestId) => "mdfrequest-" + requestId;
}

/// <summary>A decision reaching the request workflow: the new status, the next cycle's deadlines, and on approval the claim schedule.</summary>
public sealed record MdfSignal(string Status, int Cycle, DateTimeOffset RemindAt, DateTimeOffset EscalateAt, IReadOnlyList<MdfEvents.ScheduledStep> ClaimSchedule);

/// <summary>
/// A fund request from submission to the end of its claim window. Review: the decision races a reminder to the channel manager and an
/// escalation to the admins; a first approval above the threshold (second approval) or an answered request for information starts a new
/// review cycle (ContinueAsNew) with fresh deadlines; a request for information waits for the answer. Approval opens the claim window:
/// a reminder to claim when the activity ends, reminders N days before the claim deadline, and at the deadline the expiry, which releases
/// the unclaimed reservation and tells the partner. A submitted claim or a cancellation ends the window (the claim review runs on its own).
/// </summary>
public sealed class MdfRequestOrchestrator : TaskOrchestrator<MdfRequestWorkflow, string>
{
    internal static readonly TaskOptions Retry = ActivityRetry.Default;

    public override async Task<string> RunAsync(TaskOrchestrationContext context, MdfRequestWorkflow input)
    {
        var decided = context.WaitForExternalEvent<MdfSignal>(MdfRequestWorkflow.DecidedEvent);
        var outcome = await DeadlineRace.RunAsync(
            context, StatusOf(decided),
            [(input.RemindAt, MdfStepKind.RequestRemind), (input.EscalateAt, MdfStepKind.RequestEscalate)],
            step => Step(context, new MdfStep(input.RequestId, step, input.Cycle)),
            "escalated");
        if (outcome == "closed") return "closed";
        var signal = await decided;
        while (signal.Status == nameof(FundRequestStatus.InfoRequested))
        {
            signal = await context.WaitForExternalEvent<MdfSignal>(MdfRequestWorkflow.DecidedEvent);
        }
        if (signal.Status is nameof(FundRequestStatus.Submitted) or nameof(FundRequestStatus.AwaitingSecondApproval))
        {
            context.ContinueAsNew(new MdfRequestWorkflow(input.RequestId, signal.Cycle, signal.RemindAt, signal.EscalateAt), preserveUnprocessedEvents: true);
            return signal.Status;
        }
        if (signal.Status != nameof(FundRequestStatus.Approved)) return signal.Status;

        var claim = context.WaitForExternalEvent<string>(MdfRequestWorkflow.ClaimEvent);
        return await DeadlineRace.RunAsync(
            context, claim,
            signal.ClaimSchedule.Select(s => (s.At, s)),
            s => Step(context, new MdfStep(input.RequestId, s.Step, 0, s.DaysBefore)),
            "expired");
    }

    private static async Task<string> StatusOf(Task<MdfSignal> signal) => (await signal).Status;

    internal static Task<string> Step(TaskOrchestrationContext context, MdfStep step) => context.CallActivityAsync<string>(nameof(MdfStepActivity), step, Retry);
}

/// <summary>Input of a claim review: one submission of a claim and its deadlines.</summary>
public sealed record MdfClaimReview(string RequestId, string ClaimId, int Submission, DateTimeOffset RemindAt, DateTimeOffset EscalateAt)
{
    public const string DecidedEvent = "decided";

    public static string InstanceId(string claimId, int submission) => $"mdfclaim-{claimId}-{submission}";
}

/// <summary>The review of one claim submission: the decision races a reminder to the reviewer and an escalation to the admins.</summary>
public sealed class MdfClaimReviewOrchestrator : TaskOrchestrator<MdfClaimReview, string>
{
    public override Task<string> RunAsync(TaskOrchestrationContext context, MdfClaimReview input) =>
        DeadlineRace.RunAsync(
            context, context.WaitForExternalEvent<string>(MdfClaimReview.DecidedEvent),
            [(input.RemindAt, MdfStepKind.ClaimReviewRemind), (input.EscalateAt, MdfStepKind.ClaimReviewEscalate)],
            step => MdfRequestOrchestrator.Step(context, new MdfStep(input.RequestId, step, 0, 0, input.Submission)),
            "escalated");
}

/// <summary>Runs one MDF step through the service (idempotent: a retried step sends nothing twice and moves no money twice).</summary>
public sealed class MdfStepActivity(IMdfWorkflowSteps steps) : TaskActivity<MdfStep, string>
{
    public override Task<string> RunAsync(TaskActivityContext context, MdfStep input) => ExecuteAsync(input, CancellationToken.None);

    public Task<string> ExecuteAsync(MdfStep input, CancellationToken ct) => steps.RunStepAsync(input, ct);
}

/// <summary>
/// Drives the MDF workflows from the outbox (at least once; idempotent): starts a request's workflow on submission, tells it about decisions,
/// answers, cancellations and the claim; starts a claim review per submission and tells it the decision.
/// </summary>
public sealed class MdfWorkflowProjection(DurableClientAccessor durable) : IOutboxProjection
{
    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (!e.Type.StartsWith("mdf.request.", StringComparison.Ordinal) && !e.Type.StartsWith("mdf.claim.", StringComparison.Ordinal)) return;
        var client = durable.Client ?? throw new TransientDeliveryException("The Durable Task client is not available yet.", TimeSpan.FromSeconds(15));
        var data = e.Data.Deserialize<MdfEvents.RequestData>(OutboxJson.Options)!;
        var requestInstance = MdfRequestWorkflow.InstanceId(data.RequestId);
        var signal = new MdfSignal(data.Status, data.Cycle, data.RemindAt, data.EscalateAt, data.ClaimSchedule);
        switch (e.Type)
        {
            case MdfEvents.RequestSubmitted:
                if (await client.GetInstanceAsync(requestInstance, getInputsAndOutputs: false, ct) is not null) return;
                await client.ScheduleNewOrchestrationInstanceAsync(nameof(MdfRequestOrchestrator), new MdfRequestWorkflow(data.RequestId, data.Cycle, data.RemindAt, data.EscalateAt),
                    new StartOrchestrationOptions(requestInstance), ct);
                return;
            case MdfEvents.RequestFirstApproved or MdfEvents.RequestApproved or MdfEvents.RequestRejected or MdfEvents.RequestInfoRequested or MdfEvents.RequestInfoAnswered:
                await RaiseAsync(client, requestInstance, MdfRequestWorkflow.DecidedEvent, signal, ct);
                return;
            case MdfEvents.RequestCancelled:
                if (data.WasApproved) await RaiseAsync(client, requestInstance, MdfRequestWorkflow.ClaimEvent, "cancelled", ct);
                else await RaiseAsync(client, requestInstance, MdfRequestWorkflow.DecidedEvent, signal, ct);
                return;
            case MdfEvents.ClaimSubmitted when data.ClaimId is not null:
            {
                await RaiseAsync(client, requestInstance, MdfRequestWorkflow.ClaimEvent, "submitted", ct);
                var claimInstance = MdfClaimReview.InstanceId(data.ClaimId, data.Submission);
                if (await client.GetInstanceAsync(claimInstance, getInputsAndOutputs: false, ct) is not null) return;
                await client.ScheduleNewOrchestrationInstanceAsync(nameof(MdfClaimReviewOrchestrator),
                    new MdfClaimReview(data.RequestId, data.ClaimId, data.Submission, data.ClaimReviewRemindAt ?? e.OccurredAt.AddDays(2), data.ClaimReviewEscalateAt ?? e.OccurredAt.AddDays(4)),
                    new StartOrchestrationOptions(claimInstance), ct);
                return;
            }
            case MdfEvents.ClaimApproved or MdfEvents.ClaimRejected or MdfEvents.ClaimInfoRequested when data.ClaimId is not null:
                await RaiseAsync(client, MdfClaimReview.InstanceId(data.ClaimId, data.Submission), MdfClaimReview.DecidedEvent, data.ClaimStatus ?? "decided", ct);
                return;
        }
    }

    private static async Task RaiseAsync<T>(DurableTaskClient client, string instanceId, string name, T payload, CancellationToken ct)
    {
        // An instance that has not started yet or has finished needs nothing: its steps check the request.
        var existing = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct);
        if (existing is { IsCompleted: false }) await client.RaiseEventAsync(instanceId, name, payload, ct);
    }
}
