using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Tiers;

/// <summary>The kinds of step of the downgrade workflow.</summary>
public enum DowngradeStepKind { Warn, Apply }

/// <summary>One warning deadline: when, and how many days before the downgrade date it is.</summary>
public sealed record DowngradeWarning(DateTimeOffset At, int DaysBefore);

/// <summary>What the downgrade workflow needs: the date and the warnings before it, all computed from the record and the settings.</summary>
public sealed record DowngradeWorkflowState(string PartnerId, string DowngradeId, DateTimeOffset EffectiveAt, IReadOnlyList<DowngradeWarning> Warnings);

/// <summary>The port the downgrade workflow calls.</summary>
public interface IDowngradeSteps
{
    /// <summary>The pending downgrade with this id, or null when it is no longer pending (cancelled, applied, replaced).</summary>
    Task<DowngradeWorkflowState?> StateAsync(string partnerId, string downgradeId, CancellationToken ct);

    Task<StepOutcome> RunStepAsync(string partnerId, string downgradeId, DowngradeStepKind kind, int daysBefore, CancellationToken ct);
}

/// <summary>The port of the nightly evaluation: pages of Active partners, and a batch evaluated side by side.</summary>
public interface INightlyEvaluation
{
    Task<Page<string>> PartnerPageAsync(string? cursor, int size, CancellationToken ct);

    Task<NightlyBatchResult> EvaluateBatchAsync(IReadOnlyList<string> partnerIds, CancellationToken ct);
}

/// <summary>What a batch of the nightly evaluation did.</summary>
public sealed record NightlyBatchResult(int Evaluated, int Changed, int Failed);

/// <summary>
/// The downgrade workflow's steps and the nightly evaluation's batches. Each step evaluates afresh: a warning names the exact gaps at
/// that moment, and a partner that qualifies again has its downgrade cancelled (and is told) instead of warned or downgraded. Steps are
/// idempotent per downgrade id and warning.
/// </summary>
public sealed class TierDowngrades(TierEvaluations evaluations, IPartnerStore partners, ITierStore store) : IDowngradeSteps, INightlyEvaluation
{
    /// <summary>How many partners of a batch are evaluated side by side.</summary>
    public const int BatchParallelism = 8;

    public async Task<DowngradeWorkflowState?> StateAsync(string partnerId, string downgradeId, CancellationToken ct)
    {
        var state = (await store.GetStateAsync(partnerId, ct))?.Value;
        if (state?.Downgrade is not { } d || d.Id != downgradeId) return null;
        var settings = await evaluations.SettingsAsync(ct);
        return new DowngradeWorkflowState(partnerId, d.Id, d.EffectiveAt,
            settings.WarningDaysBefore.OrderDescending().Select(days => new DowngradeWarning(d.EffectiveAt - settings.Days(days), days)).ToList());
    }

    public async Task<StepOutcome> RunStepAsync(string partnerId, string downgradeId, DowngradeStepKind kind, int daysBefore, CancellationToken ct)
    {
        var outcome = StepOutcome.Closed;
        try
        {
            await evaluations.CommitAsync(Caller.System, partnerId, kind == DowngradeStepKind.Warn ? $"warning {daysBefore} days before the downgrade" : "downgrade date", null, (snap, state, eval, now) =>
            {
                if (state.Downgrade?.Id != downgradeId) { outcome = StepOutcome.Closed; return new TierStep(null); }
                var tier = snap.Partner.Value.Tier;
                if (kind == DowngradeStepKind.Apply)
                {
                    var applied = TierTransitions.AtDowngradeDate(state, tier, eval, snap.Settings, now);
                    outcome = applied.Moves.Contains(TierMove.Downgraded) ? StepOutcome.Done : StepOutcome.Closed;
                    return new TierStep(applied);
                }
                if (state.Downgrade.WarningsSent.Contains(daysBefore)) { outcome = StepOutcome.DoneAlready; return new TierStep(null); }
                var decision = TierTransitions.AfterEvaluation(state, tier, eval, snap.Settings, now, $"warning {daysBefore} days before the downgrade");
                if (decision.State.Downgrade?.Id != downgradeId) { outcome = StepOutcome.Closed; return new TierStep(decision); }
                outcome = StepOutcome.Done;
                return new TierStep(decision with { State = TierTransitions.Warned(decision.State, daysBefore), Moves = [.. decision.Moves, TierMove.Warned] });
            }, ct);
        }
        catch (NotFoundException)
        {
            return StepOutcome.Closed;
        }
        return outcome;
    }

    public async Task<Page<string>> PartnerPageAsync(string? cursor, int size, CancellationToken ct)
    {
        var page = await partners.ListAsync(new PartnerQuery(null, PartnerStatus.Active, null, null, null), new PageRequest(Math.Clamp(size, 1, PageRequest.MaxLimit), cursor), ct);
        return new Page<string>(page.Items.Select(p => p.Id).ToList(), page.NextCursor);
    }

    public async Task<NightlyBatchResult> EvaluateBatchAsync(IReadOnlyList<string> partnerIds, CancellationToken ct)
    {
        int evaluated = 0, changed = 0, failed = 0;
        await Parallel.ForEachAsync(partnerIds, new ParallelOptions { MaxDegreeOfParallelism = BatchParallelism, CancellationToken = ct }, async (id, token) =>
        {
            try
            {
                var decision = await evaluations.EvaluateAsync(id, "nightly", token);
                Interlocked.Increment(ref evaluated);
                if (decision?.Moves.Count > 0) Interlocked.Increment(ref changed);
            }
            catch (Exception ex) when (ex is PreconditionFailedException or NotFoundException)
            {
                // Contended past the retries or removed meanwhile: the next night or the next event evaluates it again.
                Interlocked.Increment(ref failed);
            }
        });
        return new NightlyBatchResult(evaluated, changed, failed);
    }
}
