using Microsoft.DurableTask;
using Prm.Core.Common;
using Prm.Core.Mdf;

namespace Prm.Workflows.Mdf;

/// <summary>The phases of a fund request's workflow.</summary>
public enum MdfPhase { Review, InfoRequested, ClaimWindow, ClaimUnderReview }

/// <summary>
/// Input of a fund request's workflow generation: the phase with its deadlines. Review: the cycle with its reminder and escalation.
/// ClaimWindow: the claim schedule (activity end, reminders before the claim deadline, expiry). InfoRequested and ClaimUnderReview wait.
/// <see cref="Recheck"/>: how long a generation waits for a change before it reads the request's state anyway (<see cref="WorkflowRecheck"/>;
/// zero for inputs written before it existed, which wait for the change alone, as they ran).
/// </summary>
public sealed record MdfRequestWorkflow(string RequestId, MdfPhase Phase, int Cycle, DateTimeOffset? RemindAt, DateTimeOffset? EscalateAt,
    IReadOnlyList<MdfEvents.ScheduledStep> ClaimSchedule, TimeSpan Recheck = default)
{
    public const string ChangedEvent = "changed";

    public static string InstanceId(string requestId) => "mdfrequest-" + requestId;

    /// <summary>
    /// The generation that follows a request's state; null when it needs no workflow (rejected, cancelled, expired, closed, or gone).
    /// An approved request whose claim is absent, a draft or returned for information is in its claim window; with a submitted or approved
    /// claim it waits for the claim's outcome (the claim review runs on its own).
    /// </summary>
    public static MdfRequestWorkflow? For(string requestId, MdfWorkflowState? state, TimeSpan? recheck = null) => state switch
    {
        { Status: nameof(FundRequestStatus.Submitted) or nameof(FundRequestStatus.AwaitingSecondApproval) } =>
            new MdfRequestWorkflow(requestId, MdfPhase.Review, state.Cycle, state.RemindAt, state.EscalateAt, [], recheck ?? WorkflowRecheck.Interval),
        { Status: nameof(FundRequestStatus.InfoRequested) } =>
            new MdfRequestWorkflow(requestId, MdfPhase.InfoRequested, state.Cycle, null, null, [], recheck ?? WorkflowRecheck.Interval),
        // No schedule means no expiry: such a state is not followed (the state read always derives the schedule of an approved request).
        { Status: nameof(FundRequestStatus.Approved), ClaimStatus: null or nameof(MdfClaimStatus.Draft) or nameof(MdfClaimStatus.InfoRequested), ClaimSchedule.Count: > 0 } =>
            new MdfRequestWorkflow(requestId, MdfPhase.ClaimWindow, state.Cycle, null, null, state.ClaimSchedule, recheck ?? WorkflowRecheck.Interval),
        { Status: nameof(FundRequestStatus.Approved), ClaimStatus: nameof(MdfClaimStatus.Submitted) or nameof(MdfClaimStatus.Approved) } =>
            new MdfRequestWorkflow(requestId, MdfPhase.ClaimUnderReview, state.Cycle, null, null, [], recheck ?? WorkflowRecheck.Interval),
        _ => null,
    };

    /// <summary>The instance's custom status while this generation runs: the phase, and in review the cycle ("Review:1").</summary>
    public string Describe() => Phase == MdfPhase.Review ? $"{Phase}:{Cycle}" : Phase.ToString();
}

/// <summary>
/// One instance per fund request, from submission to the end of its claim window. Review: the decision races a reminder to the channel
/// manager and an escalation to the admins of the current cycle (then waits). InfoRequested: waits for the answer. ClaimWindow: a reminder
/// when the activity ends, reminders N days before the claim deadline, and at the deadline the expiry, which releases the unclaimed
/// reservation and tells the partner (and ends the workflow). ClaimUnderReview: waits for the claim's outcome. Every change arrives as a
/// "changed" event (a hint only); the workflow then reads the request's state (so late, repeated or reordered events cannot mislead it) and
/// continues as new with the phase that state needs — a second approval or an answered question is a new review cycle, a claim returned
/// for information re-opens the claim window (and its expiry). A request that needs no workflow any more ends it with its status.
/// </summary>
public sealed class MdfRequestOrchestrator : TaskOrchestrator<MdfRequestWorkflow, string>
{
    internal static readonly TaskOptions Retry = ActivityRetry.Default;

    private const string Woken = "changed";

    public override async Task<string> RunAsync(TaskOrchestrationContext context, MdfRequestWorkflow input)
    {
        context.SetCustomStatus(input.Describe());
        var changed = WokenBy(context.WaitForExternalEvent<string>(MdfRequestWorkflow.ChangedEvent));
        switch (input.Phase)
        {
            case MdfPhase.Review:
            {
                var outcome = await DeadlineRace.RunAsync(
                    context, changed,
                    [(input.RemindAt!.Value, MdfStepKind.RequestRemind), (input.EscalateAt!.Value, MdfStepKind.RequestEscalate)],
                    step => Step(context, new MdfStep(input.RequestId, step, input.Cycle)),
                    "escalated");
                // After the escalation the change itself is what is left to wait for; a step that found the request closed reads the state now.
                if (outcome == "escalated") await WorkflowRecheck.ChangeOrRecheckAsync(context, changed, input.Recheck);
                break;
            }
            case MdfPhase.ClaimWindow:
            {
                // Steps of the claim window belong to no review cycle (0): a reminder or the activity's end, sent once, is not sent again
                // when a claim returned for information re-opens the window.
                var outcome = await DeadlineRace.RunAsync(
                    context, changed,
                    input.ClaimSchedule.Select(s => (s.At, s)),
                    s => Step(context, new MdfStep(input.RequestId, s.Step, 0, s.DaysBefore)),
                    "expired");
                if (outcome == "expired") return outcome;
                break;
            }
            default:
                await WorkflowRecheck.ChangeOrRecheckAsync(context, changed, input.Recheck);
                break;
        }
        var state = await context.CallActivityAsync<MdfWorkflowState?>(nameof(MdfStateActivity), input.RequestId, Retry);
        var next = MdfRequestWorkflow.For(input.RequestId, state, WorkflowRecheck.Next(input.Recheck));
        if (next is null) return state?.Status ?? "closed";
        // A change that arrives while the state is read is kept for the next generation (it wakes it, which reads the state again).
        context.ContinueAsNew(next, preserveUnprocessedEvents: true);
        return next.Describe();
    }

    /// <summary>The wake-up, whatever the event carried (so no payload can be mistaken for an outcome of the race).</summary>
    private static async Task<string> WokenBy(Task<string> changed)
    {
        await changed;
        return Woken;
    }

    internal static Task<StepOutcome> Step(TaskOrchestrationContext context, MdfStep step) => context.CallActivityAsync<StepOutcome>(nameof(MdfStepActivity), step, Retry);
}

/// <summary>Input of a claim review: one submission of a claim and its deadlines.</summary>
public sealed record MdfClaimReview(string RequestId, string ClaimId, int Submission, DateTimeOffset RemindAt, DateTimeOffset EscalateAt)
{
    public const string DecidedEvent = "decided";

    public static string InstanceId(string claimId, int submission) => $"mdfclaim-{claimId}-{submission}";
}

/// <summary>
/// The review of one claim submission: the decision races a reminder to the reviewer and an escalation to the admins. The decided event
/// only wakes it (the steps check the claim: a step for a submission that is no longer under review does nothing and ends it).
/// </summary>
public sealed class MdfClaimReviewOrchestrator : TaskOrchestrator<MdfClaimReview, string>
{
    public override Task<string> RunAsync(TaskOrchestrationContext context, MdfClaimReview input) =>
        DeadlineRace.RunAsync(
            context, context.WaitForExternalEvent<string>(MdfClaimReview.DecidedEvent),
            [(input.RemindAt, MdfStepKind.ClaimReviewRemind), (input.EscalateAt, MdfStepKind.ClaimReviewEscalate)],
            step => MdfRequestOrchestrator.Step(context, new MdfStep(input.RequestId, step, 0, 0, input.Submission)),
            "escalated");
}

/// <summary>Runs one MDF step through Core (idempotent per step key: a retried step sends nothing twice and moves no money twice).</summary>
public sealed class MdfStepActivity(IMdfWorkflowSteps steps) : TaskActivity<MdfStep, StepOutcome>
{
    public override Task<StepOutcome> RunAsync(TaskActivityContext context, MdfStep input) => ExecuteAsync(input, CancellationToken.None);

    public Task<StepOutcome> ExecuteAsync(MdfStep input, CancellationToken ct) =>
        StepMetrics.Counted("mdf", input.Kind.ToString(), steps.RunStepAsync(input, ct));
}

/// <summary>Reads the fund request's state for the workflow.</summary>
public sealed class MdfStateActivity(IMdfWorkflowSteps steps) : TaskActivity<string, MdfWorkflowState?>
{
    public override Task<MdfWorkflowState?> RunAsync(TaskActivityContext context, string requestId) => ExecuteAsync(requestId, CancellationToken.None);

    public Task<MdfWorkflowState?> ExecuteAsync(string requestId, CancellationToken ct) => steps.StateAsync(requestId, ct);
}
