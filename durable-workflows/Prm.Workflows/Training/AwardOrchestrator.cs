using Microsoft.DurableTask;
using Prm.Core.Common;
using Prm.Core.Training;

namespace Prm.Workflows.Training;

/// <summary>
/// Input of an award workflow generation: the expiry it runs for (the cycle), the reminder instants before it, and the end of grace —
/// every deadline computed from the award and its definition by the state activity, never a literal here. <see cref="Recheck"/>: how
/// long the generation waits before it reads the award's state anyway (<see cref="WorkflowRecheck"/>; zero for inputs written before it
/// existed, which wait for the change or their deadlines alone, as they ran).
/// </summary>
public sealed record AwardWorkflow(string AwardId, DateTimeOffset Cycle, IReadOnlyList<AwardReminder> Reminders, DateTimeOffset GraceEndsAt, TimeSpan Recheck = default)
{
    public const string ChangedEvent = "changed";

    public static string InstanceId(string awardId) => "award-" + awardId;

    /// <summary>The generation that follows the award's state; null when nothing is left (revoked, expired, gone).</summary>
    public static AwardWorkflow? For(string awardId, AwardWorkflowState? state, TimeSpan? recheck = null) => state switch
    {
        null => null,
        { Status: nameof(AwardStatus.Revoked) or nameof(AwardStatus.Expired) } => null,
        _ => new AwardWorkflow(awardId, state.ExpiresAt, state.Reminders, state.GraceEndsAt, recheck ?? WorkflowRecheck.Interval),
    };
}

/// <summary>One deadline of the award workflow.</summary>
public sealed record AwardDeadline(AwardStepKind Kind, int DaysBefore);

/// <summary>Input of an award step activity.</summary>
public sealed record AwardWorkflowStep(string AwardId, AwardStepKind Kind, int DaysBefore, DateTimeOffset Cycle);

/// <summary>
/// One instance per award: a reminder at each offset before the expiry (to the person and the partner's admins), Grace at the expiry,
/// Expired at the end of grace. A renewal or revocation arrives as an event: the workflow then reads the award's state and continues as
/// new with its deadlines (renewal moves the timers: the pending one is cancelled, no second workflow) or ends (revoked). The change
/// races the recheck too (<see cref="WorkflowRecheck"/>): a lost change that moved the expiry earlier (an invalidation) is found within
/// hours, not after the old grace; and after the last deadline the state is read, so a renewal whose event was lost gets its generation.
/// </summary>
public sealed class AwardOrchestrator : TaskOrchestrator<AwardWorkflow, string>
{
    private static readonly TaskOptions Retry = ActivityRetry.Default;

    public override async Task<string> RunAsync(TaskOrchestrationContext context, AwardWorkflow input)
    {
        var changed = context.WaitForExternalEvent<string>(AwardWorkflow.ChangedEvent);
        var now = context.CurrentUtcDateTime;
        var deadlines = new List<(DateTimeOffset, AwardDeadline)>();
        // Reminders whose time passed before this generation began (a renewal mid-way, a late start) are skipped while the expiry is
        // ahead only when a later reminder is also due; the latest due one still goes out.
        var due = input.Reminders.Where(r => r.At <= now).OrderBy(r => r.At).LastOrDefault();
        foreach (var r in input.Reminders.OrderBy(r => r.At))
        {
            if (now >= input.Cycle) break;
            if (r.At > now || r == due) deadlines.Add((r.At, new AwardDeadline(AwardStepKind.Remind, r.DaysBefore)));
        }
        deadlines.Add((input.Cycle, new AwardDeadline(AwardStepKind.Grace, 0)));
        deadlines.Add((input.GraceEndsAt, new AwardDeadline(AwardStepKind.Expire, 0)));
        using var recheck = new CancellationTokenSource();
        var woken = WorkflowRecheck.ChangedOrDueAsync(context, changed, input.Recheck, recheck.Token);
        var outcome = await DeadlineRace.RunAsync(context, woken, deadlines,
            d => context.CallActivityAsync<StepOutcome>(nameof(AwardStepActivity), new AwardWorkflowStep(input.AwardId, d.Kind, d.DaysBefore, input.Cycle), Retry), "expired");
        recheck.Cancel(); // the recheck timer, when the race ended otherwise
        if (outcome == DeadlineRace.Closed) return outcome;
        var state = await context.CallActivityAsync<AwardWorkflowState?>(nameof(AwardStateActivity), input.AwardId, Retry);
        var next = AwardWorkflow.For(input.AwardId, state, WorkflowRecheck.Next(input.Recheck));
        // After the last deadline the state is read too: a renewal whose change event was lost (the libraries can drop one in a
        // continue-as-new) left this generation's steps skipped, and the award's new expiry needs its own generation.
        if (outcome == "expired" && (next is null || next.Cycle == input.Cycle)) return outcome;
        if (next is null) return state?.Status ?? "closed";
        // A change that arrives while the state is read is kept for the next generation (it wakes it, which reads the state again).
        context.ContinueAsNew(next, preserveUnprocessedEvents: true);
        return "moved";
    }
}

/// <summary>Runs one award step (idempotent per expiry).</summary>
public sealed class AwardStepActivity(IAwardSteps awards) : TaskActivity<AwardWorkflowStep, StepOutcome>
{
    public override Task<StepOutcome> RunAsync(TaskActivityContext context, AwardWorkflowStep input) => ExecuteAsync(input, CancellationToken.None);

    public Task<StepOutcome> ExecuteAsync(AwardWorkflowStep input, CancellationToken ct) =>
        StepMetrics.Counted("award", input.Kind.ToString(), awards.RunStepAsync(input.AwardId, input.Kind, input.DaysBefore, input.Cycle, ct));
}

/// <summary>Reads the award's state for the workflow.</summary>
public sealed class AwardStateActivity(IAwardSteps awards) : TaskActivity<string, AwardWorkflowState?>
{
    public override Task<AwardWorkflowState?> RunAsync(TaskActivityContext context, string awardId) => ExecuteAsync(awardId, CancellationToken.None);

    public Task<AwardWorkflowState?> ExecuteAsync(string awardId, CancellationToken ct) => awards.StateAsync(awardId, ct);
}
