using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Prm.Core.Incentives;
using Prm.Core.Outbox;

namespace Prm.Workflows.Incentives;

/// <summary>
/// Input of a period's close workflow: the program, the period and when it closes by itself (end + grace). <see cref="Recheck"/>: how
/// long a generation waits before it asks the period again (<see cref="WorkflowRecheck"/>); zero for inputs written before it existed,
/// which wait for the cutoff or the early close alone, as they ran.
/// </summary>
public sealed record IncentiveClose(string ProgramId, string Period, DateTimeOffset CutoffAt, TimeSpan Recheck = default)
{
    /// <summary>An admin began the close early: the workflow closes at once.</summary>
    public const string CloseNowEvent = "closeNow";

    /// <summary>One instance per program and period: a second start finds it.</summary>
    public static string InstanceId(string programId, string period) => $"incentive-close-{programId}-{period}";
}

/// <summary>Input of the close step activity.</summary>
public sealed record IncentiveCloseStep(string ProgramId, string Period);

/// <summary>
/// One instance per program period. Each generation first runs the close step, which reads the period: it closes every partner's ledger
/// when the cutoff (end + cutoffGraceDays) has passed or an admin began the close, and otherwise answers not yet with the cutoff under the
/// current terms. The generation then waits for that cutoff, an admin's early close (an event, a hint only) or its recheck, whichever comes
/// first, and continues as new, whose step reads the period again. So an input built from an older state (two deliveries that started the
/// instance side by side) or a lost early-close event cannot keep a closing period open for long. Generations without a recheck (written
/// before it existed) wait first and run the step after, as they ran.
/// </summary>
public sealed class IncentiveCloseOrchestrator : TaskOrchestrator<IncentiveClose, CloseResult>
{
    private static readonly TaskOptions Retry = ActivityRetry.Default;

    public override async Task<CloseResult> RunAsync(TaskOrchestrationContext context, IncentiveClose input)
    {
        var closeNow = context.WaitForExternalEvent<string>(IncentiveClose.CloseNowEvent);
        if (input.Recheck > TimeSpan.Zero)
        {
            var step = await context.CallActivityAsync<CloseResult>(nameof(IncentiveCloseStepActivity), new IncentiveCloseStep(input.ProgramId, input.Period), Retry);
            if (step.Closed || step.NotBefore is not { } cutoff) return step;
            var recheckAt = context.CurrentUtcDateTime + input.Recheck;
            await WorkflowRecheck.UntilAsync(context, closeNow, cutoff < recheckAt ? cutoff : recheckAt);
            // An early close raised while this generation ends is kept for the next one (which reads the period anyway).
            context.ContinueAsNew(input with { CutoffAt = cutoff }, preserveUnprocessedEvents: true);
            return step;
        }
        if (input.CutoffAt > context.CurrentUtcDateTime)
        {
            using var cancel = new CancellationTokenSource();
            var timer = context.CreateTimer(input.CutoffAt.UtcDateTime, cancel.Token);
            if (await Task.WhenAny(closeNow, timer) == closeNow) cancel.Cancel();
        }
        var result = await context.CallActivityAsync<CloseResult>(nameof(IncentiveCloseStepActivity), new IncentiveCloseStep(input.ProgramId, input.Period), Retry);
        if (!result.Closed && result.NotBefore is { } later)
        {
            context.ContinueAsNew(input with { CutoffAt = later, Recheck = WorkflowRecheck.Interval }); // the next generation rechecks
            return result;
        }
        return result;
    }
}

/// <summary>Runs the close step (idempotent: a partner's close is keyed by the period, a closed period answers closed).</summary>
public sealed class IncentiveCloseStepActivity(IIncentiveCloseSteps steps) : TaskActivity<IncentiveCloseStep, CloseResult>
{
    public override Task<CloseResult> RunAsync(TaskActivityContext context, IncentiveCloseStep input) => ExecuteAsync(input, CancellationToken.None);

    public Task<CloseResult> ExecuteAsync(IncentiveCloseStep input, CancellationToken ct) => steps.CloseAsync(input.ProgramId, input.Period, ct);
}

/// <summary>
/// Starts a period's close workflow when money first joins the period (incentive.periodOpened, committed with the period's record) and
/// wakes it when an admin begins the close early (incentive.periodClosing). At least once and idempotent: the instance id is the
/// program's and the period's.
/// </summary>
public sealed class IncentiveWorkflowProjection(DurableClientAccessor durable, IIncentiveCloseSteps steps) : IWorkflowProjection
{
    /// <summary>Instances this process started or found (so an accrual does not cost a status read each time).</summary>
    private readonly ConcurrentDictionary<string, bool> known = new(StringComparer.Ordinal);

    public bool Concerns(IntegrationEvent e) => e.Type is IncentiveEvents.PeriodOpened or IncentiveEvents.PeriodClosing;

    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (!Concerns(e)) return;
        string programId, period;
        if (e.Type == IncentiveEvents.PeriodClosing)
        {
            var data = e.Data.Deserialize<IncentiveEvents.PeriodClosingData>(OutboxJson.Options)!;
            (programId, period) = (data.ProgramId, data.Period);
        }
        else
        {
            var data = e.Data.Deserialize<IncentiveEvents.PeriodOpenedData>(OutboxJson.Options)!;
            (programId, period) = (data.ProgramId, data.Period);
        }
        var instanceId = IncentiveClose.InstanceId(programId, period);
        if (e.Type != IncentiveEvents.PeriodClosing && known.ContainsKey(instanceId)) return;
        var client = durable.Client ?? throw new TransientDeliveryException("The Durable Task client is not available yet.", TimeSpan.FromSeconds(15));
        var existing = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct);
        if (existing is { IsCompleted: false })
        {
            if (e.Type == IncentiveEvents.PeriodClosing) await client.RaiseEventAsync(instanceId, IncentiveClose.CloseNowEvent, "closeNow", ct);
            if (known.Count > 10_000) known.Clear();
            known[instanceId] = true;
            return;
        }
        if (existing is { RuntimeStatus: OrchestrationRuntimeStatus.Completed }) { known[instanceId] = true; return; }
        var cutoff = await steps.CutoffAsync(programId, period, ct);
        if (cutoff is null) return; // closed already, or not a period of the program
        if (existing is not null) await client.PurgeInstanceAsync(instanceId, cancellation: ct); // failed or terminated: start again
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(IncentiveCloseOrchestrator), new IncentiveClose(programId, period, cutoff.Value, WorkflowRecheck.Interval), new StartOrchestrationOptions(instanceId), ct);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            // Started by a concurrent delivery: a closing event raised meanwhile reaches it on its redelivery.
            var now = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct);
            if (now is null) throw;
            if (e.Type == IncentiveEvents.PeriodClosing && !now.IsCompleted) await client.RaiseEventAsync(instanceId, IncentiveClose.CloseNowEvent, "closeNow", ct);
        }
        known[instanceId] = true;
    }
}
