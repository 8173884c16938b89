using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Prm.Core.Common;
using Prm.Core.Outbox;
using Prm.Core.Plans;

namespace Prm.Workflows.Plans;

/// <summary>
/// Input of a plan's workflow: the plan and the deadlines still ahead (computed by the steps port from the plan, the fiscal calendar
/// and the plans settings, never a literal here).
/// </summary>
public sealed record PlanWorkflow(string PlanId, IReadOnlyList<PlanDeadline> Deadlines)
{
    /// <summary>One instance per plan: a second start finds it.</summary>
    public static string InstanceId(string planId) => "plan-" + planId;
}

/// <summary>Input of a plan step activity.</summary>
public sealed record PlanWorkflowStep(string PlanId, PlanStepKind Kind, int Quarter);

/// <summary>
/// One instance per plan, from its first acceptance to the end of its fiscal year: a durable timer to each deadline in turn — the
/// activation when the year begins, each quarter's review agenda (<see cref="PlanSettings.ReviewLead"/> before the quarter ends: the
/// off-track objectives to the channel manager and the partner admins), the reminder of an unrecorded review after the quarter
/// (<see cref="PlanSettings.ReviewReminderAfter"/>), the close when the year ends. Each step reads the plan as it is then (a recorded
/// review skips its reminder; a plan closed early ends the workflow at its next step). One deadline per generation: after each step the
/// deadlines are read again and the workflow continues as new with them.
/// </summary>
public sealed class PlanReviewOrchestrator : TaskOrchestrator<PlanWorkflow, string>
{
    private static readonly TaskOptions Retry = ActivityRetry.Default;

    public override async Task<string> RunAsync(TaskOrchestrationContext context, PlanWorkflow input)
    {
        var deadline = input.Deadlines.OrderBy(d => d.At).ThenBy(d => d.Kind).FirstOrDefault();
        if (deadline is null) return "done";
        if (deadline.At > context.CurrentUtcDateTime) await context.CreateTimer(deadline.At.UtcDateTime, CancellationToken.None);
        var outcome = await context.CallActivityAsync<StepOutcome>(nameof(PlanStepActivity), new PlanWorkflowStep(input.PlanId, deadline.Kind, deadline.Quarter), Retry);
        if (outcome == StepOutcome.Closed) return DeadlineRace.Closed;
        // The deadlines still ahead, read again (a recorded review drops its reminder, changed settings move the timers); the step just
        // run is never run again by this workflow.
        var ahead = await context.CallActivityAsync<List<PlanDeadline>?>(nameof(PlanScheduleActivity), input.PlanId, Retry);
        var next = (ahead ?? []).Where(d => !(d.Kind == deadline.Kind && d.Quarter == deadline.Quarter)).ToList();
        if (next.Count == 0) return "done";
        context.ContinueAsNew(new PlanWorkflow(input.PlanId, next));
        return "moved";
    }
}

/// <summary>Reads the deadlines still ahead of a plan for the workflow.</summary>
public sealed class PlanScheduleActivity(IPlanSteps steps) : TaskActivity<string, List<PlanDeadline>?>
{
    public override Task<List<PlanDeadline>?> RunAsync(TaskActivityContext context, string planId) => ExecuteAsync(planId, CancellationToken.None);

    public async Task<List<PlanDeadline>?> ExecuteAsync(string planId, CancellationToken ct) => (await steps.DeadlinesAsync(planId, ct))?.ToList();
}

/// <summary>Runs one plan step (idempotent per quarter).</summary>
public sealed class PlanStepActivity(IPlanSteps steps) : TaskActivity<PlanWorkflowStep, StepOutcome>
{
    public override Task<StepOutcome> RunAsync(TaskActivityContext context, PlanWorkflowStep input) => ExecuteAsync(input, CancellationToken.None);

    public Task<StepOutcome> ExecuteAsync(PlanWorkflowStep input, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(input);
        return StepMetrics.Counted("plan", input.Kind.ToString(), steps.RunStepAsync(input.PlanId, input.Kind, input.Quarter, ct));
    }
}

/// <summary>
/// Starts a plan's workflow when the plan is accepted (plan.accepted; at least once, idempotent: the instance id is the plan's). A running
/// instance is left alone (its steps read the plan as it is); a failed or terminated one is started again with the deadlines still ahead.
/// </summary>
public sealed class PlanWorkflowProjection(DurableClientAccessor durable, IPlanSteps steps) : IWorkflowProjection
{
    public bool Concerns(IntegrationEvent e) => e?.Type == PlanEvents.Accepted;

    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (!Concerns(e)) return;
        var data = System.Text.Json.JsonSerializer.Deserialize<PlanEvents.PlanData>(e.Data, OutboxJson.Options)!;
        var client = durable.Client ?? throw new TransientDeliveryException("The Durable Task client is not available yet.", TimeSpan.FromSeconds(15));
        var instanceId = PlanWorkflow.InstanceId(data.PlanId);
        var existing = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct);
        if (existing is { IsCompleted: false } or { RuntimeStatus: OrchestrationRuntimeStatus.Completed }) return;
        var deadlines = await steps.DeadlinesAsync(data.PlanId, ct);
        if (deadlines is null || deadlines.Count == 0) return;
        if (existing is not null) await client.PurgeInstanceAsync(instanceId, cancellation: ct);
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(PlanReviewOrchestrator), new PlanWorkflow(data.PlanId, deadlines), new StartOrchestrationOptions(instanceId), ct);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct) is null) throw;
        }
    }
}
