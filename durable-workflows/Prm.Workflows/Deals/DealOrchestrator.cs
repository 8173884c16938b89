using Microsoft.DurableTask;
using Prm.Core.Common;
using Prm.Core.Deals;

namespace Prm.Workflows.Deals;

/// <summary>The phases of a registration's workflow.</summary>
public enum DealPhase { Review, Protection, Returned }

/// <summary>
/// Input of a deal workflow generation: the phase with its deadlines. Review: the submission time (the cycle) and the reminder and
/// escalation instants. Protection: the protection end (the cycle) and the reminder offsets before it. <see cref="Recheck"/>: how long
/// the generation waits for a change before it reads the registration's state anyway (zero: it waits for the change alone, as
/// generations started before the recheck existed do).
/// </summary>
public sealed record DealWorkflow(string DealId, DealPhase Phase, DateTimeOffset Cycle, DateTimeOffset? RemindAt, DateTimeOffset? EscalateAt,
    TimeSpan FirstReminderBefore, TimeSpan SecondReminderBefore, TimeSpan Recheck = default)
{
    public const string ChangedEvent = "changed";


    public static string InstanceId(string dealId) => "deal-" + dealId;

    /// <summary>The generation that follows a registration's state; null when it needs no workflow (decided for good, or gone).</summary>
    public static DealWorkflow? For(string dealId, DealWorkflowState? state, TimeSpan firstReminderBefore, TimeSpan secondReminderBefore, TimeSpan? recheck = null) => state switch
    {
        { Status: nameof(DealStatus.UnderReview), SubmittedAt: { } at, ReviewRemindAt: { } remind, ReviewEscalateAt: { } escalate } =>
            new DealWorkflow(dealId, DealPhase.Review, at, remind, escalate, firstReminderBefore, secondReminderBefore, recheck ?? WorkflowRecheck.Interval),
        { Status: nameof(DealStatus.Approved), ProtectedUntil: { } until } =>
            new DealWorkflow(dealId, DealPhase.Protection, until, null, null, firstReminderBefore, secondReminderBefore, recheck ?? WorkflowRecheck.Interval),
        { Status: nameof(DealStatus.Returned) } =>
            new DealWorkflow(dealId, DealPhase.Returned, DateTimeOffset.MinValue, null, null, firstReminderBefore, secondReminderBefore, recheck ?? WorkflowRecheck.Interval),
        _ => null,
    };
}

/// <summary>A change of the registration (a hint: the workflow reads the registration's state when it arrives).</summary>
public sealed record DealSignal(string Status, DateTimeOffset? ProtectedUntil, DateTimeOffset? SubmittedAt, DateTimeOffset? RemindAt, DateTimeOffset? EscalateAt);

/// <summary>Input of a deal step.</summary>
public sealed record DealWorkflowStep(string DealId, DealStep Step, DateTimeOffset Cycle);

/// <summary>
/// One instance per registration. Review: the decision races a reminder and an escalation (then waits). Protection: reminders before the end,
/// then expiry. Returned: waits for the resubmission. Every change arrives as an event; the workflow then reads the registration's state
/// (so late, repeated or reordered events cannot mislead it) and continues as new with the phase that state needs — an approved extension
/// therefore moves the running expiry (the old timer is cancelled, no second workflow). A decided-for-good registration ends it.
/// </summary>
public sealed class DealOrchestrator : TaskOrchestrator<DealWorkflow, string>
{
    private static readonly TaskOptions Retry = ActivityRetry.Default;

    public override async Task<string> RunAsync(TaskOrchestrationContext context, DealWorkflow input)
    {
        var changed = context.WaitForExternalEvent<DealSignal>(DealWorkflow.ChangedEvent);
        switch (input.Phase)
        {
            case DealPhase.Review:
                // After the escalation (or a step that found the registration decided) the change itself is what is left to wait for.
                await DeadlineRace.RunAsync(
                    context, StatusOf(changed),
                    [(input.RemindAt!.Value, DealStep.ReviewRemind), (input.EscalateAt!.Value, DealStep.ReviewEscalate)],
                    step => Step(context, input.DealId, step, input.Cycle),
                    "waiting");
                await WorkflowRecheck.ChangeOrRecheckAsync(context, changed, input.Recheck);
                break;
            case DealPhase.Protection:
            {
                var end = input.Cycle;
                var now = context.CurrentUtcDateTime;
                var deadlines = new List<(DateTimeOffset, DealStep)>();
                // A reminder whose time passed (the workflow started late, e.g. on a loaded host) is still sent while the protection runs;
                // only once the expiry itself is due are the reminders skipped.
                if (now < end)
                {
                    deadlines.Add((end - input.FirstReminderBefore, DealStep.ExpiryFirstReminder));
                    deadlines.Add((end - input.SecondReminderBefore, DealStep.ExpirySecondReminder));
                }
                deadlines.Add((end, DealStep.Expire));
                var outcome = await DeadlineRace.RunAsync(context, StatusOf(changed), deadlines, step => Step(context, input.DealId, step, end), "expired");
                if (outcome == "expired") return outcome;
                await WorkflowRecheck.ChangeOrRecheckAsync(context, changed, input.Recheck); // decided, or a step found the registration changed: its change event follows
                break;
            }
            default:
                await WorkflowRecheck.ChangeOrRecheckAsync(context, changed, input.Recheck);
                break;
        }
        var state = await context.CallActivityAsync<DealWorkflowState?>(nameof(DealStateActivity), input.DealId, Retry);
        var next = DealWorkflow.For(input.DealId, state, input.FirstReminderBefore, input.SecondReminderBefore, WorkflowRecheck.Next(input.Recheck));
        if (next is null) return state?.Status ?? "closed";
        // A change that arrives while the state is read is kept for the next generation (it wakes it, which reads the state again).
        context.ContinueAsNew(next, preserveUnprocessedEvents: true);
        return next.Phase.ToString();
    }

    private static async Task<string> StatusOf(Task<DealSignal> signal) => (await signal).Status;


    private static Task<StepOutcome> Step(TaskOrchestrationContext context, string dealId, DealStep step, DateTimeOffset cycle) =>
        context.CallActivityAsync<StepOutcome>(nameof(DealStepActivity), new DealWorkflowStep(dealId, step, cycle), Retry);
}

/// <summary>Runs one deal step through the deal service (idempotent per cycle).</summary>
public sealed class DealStepActivity(IDealSteps deals) : TaskActivity<DealWorkflowStep, StepOutcome>
{
    public override Task<StepOutcome> RunAsync(TaskActivityContext context, DealWorkflowStep input) => ExecuteAsync(input, CancellationToken.None);

    public Task<StepOutcome> ExecuteAsync(DealWorkflowStep input, CancellationToken ct) =>
        StepMetrics.Counted("deal", input.Step.ToString(), deals.RunDealStepAsync(input.DealId, input.Step, input.Cycle, ct));
}

/// <summary>Reads the registration's state for the workflow.</summary>
public sealed class DealStateActivity(IDealSteps deals) : TaskActivity<string, DealWorkflowState?>
{
    public override Task<DealWorkflowState?> RunAsync(TaskActivityContext context, string dealId) => ExecuteAsync(dealId, CancellationToken.None);

    public Task<DealWorkflowState?> ExecuteAsync(string dealId, CancellationToken ct) => deals.StateAsync(dealId, ct);
}
