using Microsoft.DurableTask;
using Prm.Core.Common;
using Prm.Core.Onboarding;

namespace Prm.Workflows.Onboarding;

/// <summary>
/// Input of one generation of an application's review workflow: the review deadlines of the current cycle (fixed at submission, and again
/// when the applicant answers a request for information), and while the workflow waits for that answer, when it is due.
/// <see cref="Recheck"/>: how long a generation that waits for a change reads the application's state anyway after
/// (<see cref="WorkflowRecheck"/>; zero for inputs written before it existed, which wait for the change alone, as they ran).
/// </summary>
public sealed record ApplicationReview(string ApplicationId, DateTimeOffset RemindAt, DateTimeOffset EscalateAt, DateTimeOffset ExpiresAt, DateTimeOffset? InfoDueAt = null,
    TimeSpan Recheck = default)
{
    public const string ChangedEvent = "changed";

    public static string InstanceId(string applicationId) => "application-" + applicationId;

    /// <summary>The generation that follows an application's state; null when it needs no workflow (decided, expired, or gone).</summary>
    public static ApplicationReview? For(string applicationId, ApplicationWorkflowState? state, TimeSpan? recheck = null) => state switch
    {
        { Status: nameof(ApplicationStatus.UnderReview) } => new ApplicationReview(applicationId, state.RemindAt, state.EscalateAt, state.ExpiresAt, null, recheck ?? WorkflowRecheck.Interval),
        { Status: nameof(ApplicationStatus.InfoRequested), InfoDueAt: { } due } => new ApplicationReview(applicationId, state.RemindAt, state.EscalateAt, state.ExpiresAt, due, recheck ?? WorkflowRecheck.Interval),
        _ => null,
    };
}

/// <summary>A change of the application (a hint only: the workflow reads the application's state when it arrives).</summary>
public sealed record ApplicationSignal(string Status);

/// <summary>Input of a review step: the step and the cycle it belongs to (the review's expiry, or the answer's due time).</summary>
public sealed record ApplicationReviewStep(string ApplicationId, ReviewStep Step, DateTimeOffset Cycle);

/// <summary>
/// One instance per application. Under review, a change races the deadlines of the cycle: a reminder to the assignee, then an escalation
/// to the admins, then expiry. Waiting for the answer to a request for information, a change races the answer's due time, at which the
/// application expires. Every change (a decision, a request for information, an answer) arrives as an event that only wakes the workflow:
/// it then reads the application's state through an activity (so late, repeated or reordered events cannot mislead it) and continues as
/// new with the phase that state needs — an answer therefore starts the review again with the deadlines it set. A decided application ends it.
/// </summary>
public sealed class ApplicationReviewOrchestrator : TaskOrchestrator<ApplicationReview, string>
{
    private static readonly TaskOptions Retry = ActivityRetry.Default;

    public override async Task<string> RunAsync(TaskOrchestrationContext context, ApplicationReview input)
    {
        var changed = context.WaitForExternalEvent<ApplicationSignal>(ApplicationReview.ChangedEvent);
        var outcome = input.InfoDueAt is { } due
            ? await DeadlineRace.RunAsync(context, StatusOf(changed), [(due, ReviewStep.Expire)], step => Step(context, input.ApplicationId, step, due), "expired")
            : await DeadlineRace.RunAsync(
                context, StatusOf(changed),
                [(input.RemindAt, ReviewStep.Remind), (input.EscalateAt, ReviewStep.Escalate), (input.ExpiresAt, ReviewStep.Expire)],
                step => Step(context, input.ApplicationId, step, input.ExpiresAt),
                "expired");
        if (outcome == "expired") return outcome;

        // A change arrived, or a step found the application moved on: its state says what comes next.
        var state = await State(context, input.ApplicationId);
        var recheck = WorkflowRecheck.Next(input.Recheck);
        var next = ApplicationReview.For(input.ApplicationId, state, recheck);
        if (next is not null && next with { Recheck = input.Recheck } == input && !changed.IsCompleted)
        {
            // A step found nothing to do while the state still asks for this generation: the change that explains it is on its way (or
            // was lost: the state is read again after the recheck).
            await WorkflowRecheck.ChangeOrRecheckAsync(context, changed, input.Recheck);
            state = await State(context, input.ApplicationId);
            next = ApplicationReview.For(input.ApplicationId, state, recheck);
        }
        if (next is null) return state?.Status ?? "closed";
        // A change that arrives while the state is read is kept for the next generation (it wakes it, which reads the state again).
        context.ContinueAsNew(next, preserveUnprocessedEvents: true);
        return next.InfoDueAt is null ? "review" : "waiting for the answer";
    }

    private static Task<ApplicationWorkflowState?> State(TaskOrchestrationContext context, string applicationId) =>
        context.CallActivityAsync<ApplicationWorkflowState?>(nameof(ApplicationStateActivity), applicationId, Retry);

    private static async Task<string> StatusOf(Task<ApplicationSignal> signal) => (await signal).Status;

    private static Task<StepOutcome> Step(TaskOrchestrationContext context, string applicationId, ReviewStep step, DateTimeOffset cycle) =>
        context.CallActivityAsync<StepOutcome>(nameof(ApplicationReviewStepActivity), new ApplicationReviewStep(applicationId, step, cycle), Retry);
}

/// <summary>Runs one review step (idempotent per review cycle: a retried step sends nothing twice).</summary>
public sealed class ApplicationReviewStepActivity(IApplicationReviewSteps applications) : TaskActivity<ApplicationReviewStep, StepOutcome>
{
    public override Task<StepOutcome> RunAsync(TaskActivityContext context, ApplicationReviewStep input) => ExecuteAsync(input, CancellationToken.None);

    public Task<StepOutcome> ExecuteAsync(ApplicationReviewStep input, CancellationToken ct) =>
        StepMetrics.Counted("application", input.Step.ToString(), applications.RunReviewStepAsync(input.ApplicationId, input.Step, input.Cycle, ct));
}

/// <summary>Reads the application's state for the workflow.</summary>
public sealed class ApplicationStateActivity(IApplicationReviewSteps applications) : TaskActivity<string, ApplicationWorkflowState?>
{
    public override Task<ApplicationWorkflowState?> RunAsync(TaskActivityContext context, string applicationId) => ExecuteAsync(applicationId, CancellationToken.None);

    public Task<ApplicationWorkflowState?> ExecuteAsync(string applicationId, CancellationToken ct) => applications.StateAsync(applicationId, ct);
}
