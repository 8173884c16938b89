using Microsoft.DurableTask;
using Prm.Core.Deals;

namespace Prm.Workflows.Deals;

/// <summary>The phases of a registration's workflow.</summary>
public enum DealPhase { Review, Protection, Returned }

/// <summary>
/// Input of a deal workflow generation: the phase with its deadlines. Review: the submission time (the cycle) and the reminder and
/// escalation instants. Protection: the protection end and the reminder offsets before it.
/// </summary>
public sealed record DealWorkflow(string DealId, DealPhase Phase, DateTimeOffset Cycle, DateTimeOffset? RemindAt, DateTimeOffset? EscalateAt,
    TimeSpan FirstReminderBefore, TimeSpan SecondReminderBefore)
{
    public const string ChangedEvent = "changed";

    public static string InstanceId(string dealId) => "deal-" + dealId;
}

/// <summary>A change of the registration the workflow must follow: its new status and, for approval or extension, the protection end; for a resubmission, the new review deadlines.</summary>
public sealed record DealSignal(string Status, DateTimeOffset? ProtectedUntil, DateTimeOffset? SubmittedAt, DateTimeOffset? RemindAt, DateTimeOffset? EscalateAt);

/// <summary>Input of a deal step.</summary>
public sealed record DealWorkflowStep(string DealId, DealStep Step, DateTimeOffset Cycle);

/// <summary>
/// One instance per registration. Review: the decision races a reminder and an escalation (then waits). Protection: reminders before the end,
/// then expiry; an approved extension arrives as a change and the instance continues as new with the moved end (the old timer is cancelled,
/// no second workflow). Returned: waits for the resubmission. Rejection, withdrawal, expiry and an outcome end it.
/// </summary>
public sealed class DealOrchestrator : TaskOrchestrator<DealWorkflow, string>
{
    private static readonly TaskOptions Retry = TaskOptions.FromRetryPolicy(new RetryPolicy(5, TimeSpan.FromSeconds(5), 2, TimeSpan.FromMinutes(5)));

    public override async Task<string> RunAsync(TaskOrchestrationContext context, DealWorkflow input)
    {
        var changed = context.WaitForExternalEvent<DealSignal>(DealWorkflow.ChangedEvent);
        switch (input.Phase)
        {
            case DealPhase.Review:
            {
                // After the escalation (or a step that found the registration decided) the change itself is what is left to wait for.
                await DeadlineRace.RunAsync(
                    context, StatusOf(changed),
                    [(input.RemindAt!.Value, DealStep.ReviewRemind), (input.EscalateAt!.Value, DealStep.ReviewEscalate)],
                    step => Step(context, input.DealId, step, input.Cycle),
                    "waiting");
                await changed;
                break;
            }
            case DealPhase.Protection:
            {
                var end = input.Cycle;
                var now = context.CurrentUtcDateTime;
                var deadlines = new List<(DateTimeOffset, DealStep)>();
                if (end - input.FirstReminderBefore > now) deadlines.Add((end - input.FirstReminderBefore, DealStep.ExpiryFirstReminder));
                if (end - input.SecondReminderBefore > now) deadlines.Add((end - input.SecondReminderBefore, DealStep.ExpirySecondReminder));
                deadlines.Add((end, DealStep.Expire));
                var outcome = await DeadlineRace.RunAsync(context, StatusOf(changed), deadlines, step => Step(context, input.DealId, step, end), "expired");
                if (outcome == "expired") return outcome;
                await changed; // decided, or a step found the registration changed: its change event follows
                break;
            }
            default:
                await changed;
                break;
        }
        var signal = changed.Result;
        switch (signal.Status)
        {
            case nameof(DealStatus.Approved) when signal.ProtectedUntil is { } until:
                context.ContinueAsNew(input with { Phase = DealPhase.Protection, Cycle = until, RemindAt = null, EscalateAt = null });
                return "protected";
            case nameof(DealStatus.UnderReview) when signal.SubmittedAt is { } submitted:
                context.ContinueAsNew(input with { Phase = DealPhase.Review, Cycle = submitted, RemindAt = signal.RemindAt, EscalateAt = signal.EscalateAt });
                return "resubmitted";
            case nameof(DealStatus.Returned):
                context.ContinueAsNew(input with { Phase = DealPhase.Returned });
                return "returned";
            default:
                return signal.Status;
        }
    }

    private static async Task<string> StatusOf(Task<DealSignal> signal) => (await signal).Status;

    private static Task<string> Step(TaskOrchestrationContext context, string dealId, DealStep step, DateTimeOffset cycle) =>
        context.CallActivityAsync<string>(nameof(DealStepActivity), new DealWorkflowStep(dealId, step, cycle), Retry);
}

/// <summary>Runs one deal step through the deal service (idempotent per cycle).</summary>
public sealed class DealStepActivity(IDealSteps deals) : TaskActivity<DealWorkflowStep, string>
{
    public override Task<string> RunAsync(TaskActivityContext context, DealWorkflowStep input) => ExecuteAsync(input, CancellationToken.None);

    public Task<string> ExecuteAsync(DealWorkflowStep input, CancellationToken ct) => deals.RunDealStepAsync(input.DealId, input.Step, input.Cycle, ct);
}
