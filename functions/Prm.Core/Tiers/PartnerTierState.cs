using System.Security.Cryptography;
using System.Text;
using Prm.Core.Common;
using Prm.Core.Partners;

namespace Prm.Core.Tiers;

/// <summary>A downgrade waiting for its date: to which tier, when, and the warnings (days before) already sent.</summary>
public sealed record PendingDowngrade(string Id, string To, DateTimeOffset ScheduledAt, DateTimeOffset EffectiveAt, IReadOnlyList<int> WarningsSent);

/// <summary>An upgrade waiting for the channel manager's confirmation (program setting upgradeNeedsConfirmation).</summary>
public sealed record PendingUpgrade(string To, DateTimeOffset Since);

/// <summary>An admin's override: the partner stays at <see cref="Tier"/> until <see cref="Until"/>, whatever the evaluations say.</summary>
public sealed record TierOverride(string Tier, string Reason, string ById, string ByName, DateTimeOffset At, DateTimeOffset Until);

/// <summary>One tier change of the partner.</summary>
public sealed record TierHistoryEntry(DateTimeOffset At, string From, string To, string Reason, string ByName);

/// <summary>
/// A partner's tier record, kept next to the partner (same partition, so a tier change commits the partner's tier field, this record,
/// the timeline entry and the events in one transaction): the manual criteria, the last evaluation, a pending downgrade or upgrade,
/// an override and the history.
/// </summary>
public sealed record PartnerTierState
{
    public const int HistoryKept = 50;

    public required string PartnerId { get; init; }
    public Dictionary<string, ManualCriterionValue> Manual { get; init; } = new(StringComparer.Ordinal);
    public TierEvaluation? Evaluation { get; init; }
    public PendingDowngrade? Downgrade { get; init; }
    public PendingUpgrade? Upgrade { get; init; }
    public TierOverride? Override { get; init; }
    public List<TierHistoryEntry> History { get; init; } = [];

    public static PartnerTierState New(string partnerId) => new() { PartnerId = partnerId };

    public bool OverrideActiveAt(DateTimeOffset now) => Override is { } o && now < o.Until;
}

/// <summary>What a decision did.</summary>
public enum TierMove { Upgraded, UpgradePending, DowngradeScheduled, DowngradeCancelled, Downgraded, Overridden, Warned }

/// <summary>A decision: the record after it, the partner's tier after it, and the moves it made (each becomes events, emails, a timeline entry).</summary>
public sealed record TierDecision(PartnerTierState State, PartnerTier Tier, IReadOnlyList<TierMove> Moves, string Reason)
{
    public bool Changes(PartnerTier before) => Tier != before;
}

/// <summary>The tier transitions. Pure: the caller passes the evaluation and the time.</summary>
public static class TierTransitions
{
    /// <summary>
    /// After an evaluation (nightly or on an event): an override holds the tier; a higher qualifying tier upgrades at once (or waits for
    /// confirmation); the same tier cancels a pending downgrade; a lower one schedules a downgrade after graceDays (at once with 0),
    /// or moves the pending downgrade's target while keeping its date.
    /// </summary>
    public static TierDecision AfterEvaluation(PartnerTierState state, PartnerTier current, TierEvaluation evaluation, TierSettings settings, DateTimeOffset now, string reason)
    {
        state = state with { Evaluation = evaluation };
        var moves = new List<TierMove>();
        if (state.OverrideActiveAt(now))
        {
            if (state.Downgrade is not null) { state = state with { Downgrade = null }; moves.Add(TierMove.DowngradeCancelled); }
            return new TierDecision(state with { Upgrade = null }, current, moves, reason);
        }
        var qualifies = Text.ParseEnum<PartnerTier>(evaluation.QualifiesFor)!.Value;
        if (qualifies > current)
        {
            if (state.Downgrade is not null) { state = state with { Downgrade = null }; moves.Add(TierMove.DowngradeCancelled); }
            if (settings.UpgradeNeedsConfirmation)
            {
                if (state.Upgrade?.To != evaluation.QualifiesFor) moves.Add(TierMove.UpgradePending);
                return new TierDecision(state with { Upgrade = new PendingUpgrade(evaluation.QualifiesFor, state.Upgrade?.Since ?? now) }, current, moves, reason);
            }
            moves.Add(TierMove.Upgraded);
            return new TierDecision(Record(state with { Upgrade = null }, current, qualifies, reason, "PrmFunctions", now), qualifies, moves, reason);
        }
        state = state with { Upgrade = null };
        if (qualifies == current)
        {
            if (state.Downgrade is not null) { moves.Add(TierMove.DowngradeCancelled); state = state with { Downgrade = null }; }
            return new TierDecision(state, current, moves, reason);
        }
        if (settings.GraceDays == 0)
        {
            moves.Add(TierMove.Downgraded);
            return new TierDecision(Record(state with { Downgrade = null }, current, qualifies, reason, "PrmFunctions", now), qualifies, moves, reason);
        }
        if (state.Downgrade is { } pending)
        {
            if (now >= pending.EffectiveAt)
            {
                // The date passed without the workflow acting (it failed or was lost): the evaluation carries the downgrade out.
                moves.Add(TierMove.Downgraded);
                return new TierDecision(Record(state with { Downgrade = null }, current, qualifies, reason + " (downgrade date passed)", "PrmFunctions", now), qualifies, moves, reason);
            }
            // Still below: the date stays; the target follows the evaluation.
            return new TierDecision(pending.To == evaluation.QualifiesFor ? state : state with { Downgrade = pending with { To = evaluation.QualifiesFor } }, current, moves, reason);
        }
        moves.Add(TierMove.DowngradeScheduled);
        var downgrade = new PendingDowngrade(DowngradeId(state.PartnerId, now), evaluation.QualifiesFor, now, now + settings.Days(settings.GraceDays), []);
        return new TierDecision(state with { Downgrade = downgrade }, current, moves, reason);
    }

    /// <summary>At the downgrade date: a partner that qualifies again keeps its tier (the downgrade is cancelled); otherwise it moves to the qualifying tier.</summary>
    public static TierDecision AtDowngradeDate(PartnerTierState state, PartnerTier current, TierEvaluation evaluation, TierSettings settings, DateTimeOffset now)
    {
        var decision = AfterEvaluation(state, current, evaluation, settings, now, "downgrade date");
        if (decision.State.Downgrade is null || decision.Moves.Count > 0) return decision;
        var to = Text.ParseEnum<PartnerTier>(decision.State.Downgrade.To)!.Value;
        var reason = "Below the criteria of " + Text.Camel(current) + " since " + decision.State.Downgrade.ScheduledAt.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) + ", grace ended";
        return new TierDecision(Record(decision.State with { Downgrade = null }, current, to, reason, "PrmFunctions", now), to, [TierMove.Downgraded], reason);
    }

    /// <summary>An admin sets the tier until a date, with a reason: effective at once; evaluations no longer move it meanwhile.</summary>
    public static TierDecision Override(PartnerTierState state, PartnerTier current, PartnerTier tier, string reason, string byId, string byName, DateTimeOffset until, DateTimeOffset now)
    {
        var moves = new List<TierMove> { TierMove.Overridden };
        if (state.Downgrade is not null) moves.Add(TierMove.DowngradeCancelled);
        var next = state with { Override = new TierOverride(Text.Camel(tier), reason, byId, byName, now, until), Downgrade = null, Upgrade = null };
        if (tier != current) next = Record(next, current, tier, "Override: " + reason, byName, now);
        return new TierDecision(next, tier, moves, "Override: " + reason);
    }

    /// <summary>The channel manager confirms a pending upgrade.</summary>
    public static TierDecision ConfirmUpgrade(PartnerTierState state, PartnerTier current, string byName, DateTimeOffset now)
    {
        if (state.Upgrade is not { } pending) throw new ConflictException("No upgrade is waiting for confirmation.");
        var to = Text.ParseEnum<PartnerTier>(pending.To)!.Value;
        if (to <= current) return new TierDecision(state with { Upgrade = null }, current, [], "confirmed");
        return new TierDecision(Record(state with { Upgrade = null }, current, to, "Upgrade confirmed", byName, now), to, [TierMove.Upgraded], "Upgrade confirmed");
    }

    /// <summary>Marks a warning sent (idempotent per downgrade and days before).</summary>
    public static PartnerTierState Warned(PartnerTierState state, int daysBefore) =>
        state.Downgrade is { } d && !d.WarningsSent.Contains(daysBefore) ? state with { Downgrade = d with { WarningsSent = [.. d.WarningsSent, daysBefore] } } : state;

    private static PartnerTierState Record(PartnerTierState state, PartnerTier from, PartnerTier to, string reason, string byName, DateTimeOffset now) =>
        state with { History = [new TierHistoryEntry(now, Text.Camel(from), Text.Camel(to), reason, byName), .. state.History.Take(PartnerTierState.HistoryKept - 1)] };

    /// <summary>A downgrade's id follows from the partner and the moment it was scheduled (a retried decision schedules the same one).</summary>
    public static string DowngradeId(string partnerId, DateTimeOffset at) =>
        "tdg_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(partnerId + "|" + at.UtcTicks)))[..32];
}
