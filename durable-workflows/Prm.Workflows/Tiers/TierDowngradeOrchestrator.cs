using Microsoft.DurableTask;
using Prm.Core.Common;
using Prm.Core.Tiers;

namespace Prm.Workflows.Tiers;

/// <summary>Input of a downgrade workflow: the partner, the downgrade, its date and the warnings before it (computed by the state activity, never a literal here).</summary>
public sealed record TierDowngradeWorkflow(string PartnerId, string DowngradeId, DateTimeOffset EffectiveAt, IReadOnlyList<DowngradeWarning> Warnings)
{
    public const string CancelledEvent = "cancelled";

    public static string InstanceId(string downgradeId) => "tier-" + downgradeId;

    public static TierDowngradeWorkflow? For(DowngradeWorkflowState? state) =>
        state is null ? null : new TierDowngradeWorkflow(state.PartnerId, state.DowngradeId, state.EffectiveAt, state.Warnings);
}

/// <summary>One deadline of the downgrade workflow.</summary>
public sealed record TierDowngradeDeadline(DowngradeStepKind Kind, int DaysBefore);

/// <summary>Input of a downgrade step activity.</summary>
public sealed record TierDowngradeStep(string PartnerId, string DowngradeId, DowngradeStepKind Kind, int DaysBefore);

/// <summary>
/// One instance per scheduled downgrade: a warning at each offset before the date (partner admins and the channel manager, naming the
/// gaps), then the downgrade at the date. Each step evaluates afresh; a partner that qualifies again has the downgrade cancelled (the
/// step closes the workflow), and a cancellation from an event (upgrade, override, qualifying again on an event) wakes it to end.
/// </summary>
public sealed class TierDowngradeOrchestrator : TaskOrchestrator<TierDowngradeWorkflow, string>
{
    private static readonly TaskOptions Retry = ActivityRetry.Default;

    public override async Task<string> RunAsync(TaskOrchestrationContext context, TierDowngradeWorkflow input)
    {
        var cancelled = context.WaitForExternalEvent<string>(TierDowngradeWorkflow.CancelledEvent);
        var now = context.CurrentUtcDateTime;
        var deadlines = new List<(DateTimeOffset, TierDowngradeDeadline)>();
        // A warning whose time passed (a short grace, a late start) still goes out, once, unless a later one is due too.
        var due = input.Warnings.Where(w => w.At <= now).OrderBy(w => w.At).LastOrDefault();
        foreach (var w in input.Warnings.OrderBy(w => w.At))
        {
            if (w.At > now || w == due) deadlines.Add((w.At, new TierDowngradeDeadline(DowngradeStepKind.Warn, w.DaysBefore)));
        }
        deadlines.Add((input.EffectiveAt, new TierDowngradeDeadline(DowngradeStepKind.Apply, 0)));
        return await DeadlineRace.RunAsync(context, cancelled, deadlines,
            d => context.CallActivityAsync<StepOutcome>(nameof(TierDowngradeStepActivity), new TierDowngradeStep(input.PartnerId, input.DowngradeId, d.Kind, d.DaysBefore), Retry), "downgraded");
    }
}

/// <summary>Runs one downgrade step (idempotent per downgrade and warning).</summary>
public sealed class TierDowngradeStepActivity(IDowngradeSteps steps) : TaskActivity<TierDowngradeStep, StepOutcome>
{
    public override Task<StepOutcome> RunAsync(TaskActivityContext context, TierDowngradeStep input) => ExecuteAsync(input, CancellationToken.None);

    public Task<StepOutcome> ExecuteAsync(TierDowngradeStep input, CancellationToken ct) =>
        StepMetrics.Counted("tierDowngrade", input.Kind.ToString(), steps.RunStepAsync(input.PartnerId, input.DowngradeId, input.Kind, input.DaysBefore, ct));
}
