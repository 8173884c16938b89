using Microsoft.DurableTask;
using Prm.Core.Common;
using Prm.Core.Leads;

namespace Prm.Workflows.Leads;

/// <summary>The phases of a lead's workflow.</summary>
public enum LeadPhase { Offer, Conversion }

/// <summary>
/// Input of a lead workflow generation, with its deadlines (never literals in the orchestrator). Offer: the offer id (the cycle) and its
/// reminder instants and expiry. Conversion: the conversion deadline (reminder) and the recall instant (the cycle is the recall's stamp).
/// <see cref="Recheck"/>: how long a generation whose deadlines have passed waits for the change before it reads the lead's state anyway
/// (<see cref="WorkflowRecheck"/>; zero for inputs written before it existed, which wait for the change alone, as they ran).
/// </summary>
public sealed record LeadWorkflow(string LeadId, LeadPhase Phase, string Cycle, IReadOnlyList<DateTimeOffset> Reminders, DateTimeOffset Deadline, IReadOnlyList<double> Fractions,
    TimeSpan Recheck = default)
{
    public const string ChangedEvent = "changed";

    public static string InstanceId(string leadId) => "lead-" + leadId;

    /// <summary>The generation a lead's state needs; null when it needs none (pooled, closed, converted, gone).</summary>
    public static LeadWorkflow? For(string leadId, LeadWorkflowState? state, IReadOnlyList<double> reminderFractions, TimeSpan? recheck = null) => state switch
    {
        { Status: nameof(LeadStatus.Offered), OfferId: { } offer, OfferedAt: { } at, ExpiresAt: { } expires } =>
            new LeadWorkflow(leadId, LeadPhase.Offer, offer, reminderFractions.Select(f => at + (expires - at) * f).ToList(), expires, reminderFractions, recheck ?? WorkflowRecheck.Interval),
        { ConvertBy: { } by, RecallAt: { } recall } =>
            new LeadWorkflow(leadId, LeadPhase.Conversion, Lead.Stamp(recall), [by], recall, reminderFractions, recheck ?? WorkflowRecheck.Interval),
        _ => null,
    };
}

/// <summary>Input of a lead step.</summary>
public sealed record LeadWorkflowStep(string LeadId, LeadStep Step, string Cycle);

/// <summary>
/// One instance per lead. Offer: reminders to the partner's admins (at 50% and 90% of the window by default), then the expiry, which
/// routes the lead on (or to the vendor pool). Conversion: a reminder at the conversion deadline, then the recall. Every change of the
/// lead arrives as an event; the workflow then reads the lead's state (late, repeated or reordered events cannot mislead it) and continues
/// as new with the phase that state needs. A lead that needs no timer ends it (the projection starts a new one when it needs one again).
/// </summary>
public sealed class LeadOrchestrator : TaskOrchestrator<LeadWorkflow, string>
{
    private static readonly TaskOptions Retry = ActivityRetry.Default;

    public override async Task<string> RunAsync(TaskOrchestrationContext context, LeadWorkflow input)
    {
        var changed = context.WaitForExternalEvent<string>(LeadWorkflow.ChangedEvent);
        var deadlines = new List<(DateTimeOffset, (LeadStep Step, string Cycle))>();
        if (input.Phase == LeadPhase.Offer)
        {
            for (var i = 0; i < input.Reminders.Count; i++) deadlines.Add((input.Reminders[i], (LeadStep.OfferReminder, input.Cycle + "#" + (i + 1))));
            deadlines.Add((input.Deadline, (LeadStep.OfferExpire, input.Cycle)));
        }
        else
        {
            deadlines.Add((input.Reminders[0], (LeadStep.ConversionReminder, Lead.Stamp(input.Reminders[0]))));
            deadlines.Add((input.Deadline, (LeadStep.Recall, input.Cycle)));
        }
        context.SetCustomStatus(input.Phase.ToString());
        // The last step (expiry, recall) changes the lead: its change event follows, as after a decision.
        await DeadlineRace.RunAsync(context, changed, deadlines, step => Step(context, input.LeadId, step.Step, step.Cycle), "due");
        await WorkflowRecheck.ChangeOrRecheckAsync(context, changed, input.Recheck);
        var state = await context.CallActivityAsync<LeadWorkflowState?>(nameof(LeadStateActivity), input.LeadId, Retry);
        var next = LeadWorkflow.For(input.LeadId, state, input.Fractions, WorkflowRecheck.Next(input.Recheck));
        if (next is null) return state?.Status ?? "closed";
        context.ContinueAsNew(next, preserveUnprocessedEvents: true);
        return next.Phase.ToString();
    }

    private static Task<StepOutcome> Step(TaskOrchestrationContext context, string leadId, LeadStep step, string cycle) =>
        context.CallActivityAsync<StepOutcome>(nameof(LeadStepActivity), new LeadWorkflowStep(leadId, step, cycle), Retry);
}

/// <summary>Runs one lead step through the lead service (idempotent per cycle).</summary>
public sealed class LeadStepActivity(ILeadSteps leads) : TaskActivity<LeadWorkflowStep, StepOutcome>
{
    public override Task<StepOutcome> RunAsync(TaskActivityContext context, LeadWorkflowStep input) => ExecuteAsync(input, CancellationToken.None);

    public Task<StepOutcome> ExecuteAsync(LeadWorkflowStep input, CancellationToken ct) =>
        StepMetrics.Counted("lead", input.Step.ToString(), leads.RunLeadStepAsync(input.LeadId, input.Step, input.Cycle, ct));
}

/// <summary>Reads the lead's state for the workflow.</summary>
public sealed class LeadStateActivity(ILeadSteps leads) : TaskActivity<string, LeadWorkflowState?>
{
    public override Task<LeadWorkflowState?> RunAsync(TaskActivityContext context, string leadId) => ExecuteAsync(leadId, CancellationToken.None);

    public Task<LeadWorkflowState?> ExecuteAsync(string leadId, CancellationToken ct) => leads.StateAsync(leadId, ct);
}
