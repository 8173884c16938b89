using Prm.Core.Common;
using Prm.Core.Outbox;

namespace Prm.Core.Tiers;

/// <summary>The integration events of a partner's tier: a change, a downgrade scheduled, a downgrade cancelled.</summary>
public static class TierEvents
{
    public const string Changed = "tier.changed";
    public const string DowngradeScheduled = "tier.downgradeScheduled";
    public const string DowngradeCancelled = "tier.downgradeCancelled";

    /// <summary>
    /// Event data: the partner, its tier after the event, the move (from/to for a change; the target and date of a downgrade), the
    /// reason, and the gaps to the tier it holds (what a downgrade warning names).
    /// </summary>
    public sealed record TierData(string PartnerId, string PartnerName, string? ChannelManagerId, string Tier, string? From, string? To, string Reason,
        string? DowngradeId, DateTimeOffset? EffectiveAt, IReadOnlyList<CriterionResult> Gaps);

    public static IntegrationEvent Create(string type, TierData data, DateTimeOffset at) =>
        IntegrationEvent.Create(Ids.New("evt"), type, at, $"partners/{data.PartnerId}/tier", data.PartnerId, Correlation.Id, data);
}

/// <summary>tier.evaluated: an evaluation whose outcome differs from the one before (counted by consumers, never emailed).</summary>
public static class TierEvaluationEvents
{
    public const string Evaluated = "tier.evaluated";

    /// <summary>Event data: the partner's tier, the tier the values qualify for, what triggered the evaluation, the values and the gaps to the next tier.</summary>
    public sealed record EvaluationData(string PartnerId, string Tier, string QualifiesFor, string Trigger, TierValues Values, IReadOnlyList<CriterionResult> GapsToNext);

    public static IntegrationEvent Create(string partnerId, string tier, string trigger, TierEvaluation e) =>
        IntegrationEvent.Create(Ids.New("evt"), Evaluated, e.EvaluatedAt, $"partners/{partnerId}/tier", partnerId, Correlation.Id,
            new EvaluationData(partnerId, tier, e.QualifiesFor, trigger, e.Values, e.Next?.Gaps.ToList() ?? []));
}
