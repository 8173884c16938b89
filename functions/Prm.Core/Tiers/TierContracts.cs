using Prm.Core.Partners;

namespace Prm.Core.Tiers;

/// <summary>PUT /fx-rates/{month}: rates of the month, units of the program currency per unit of each currency.</summary>
public sealed record FxRatesRequest(Dictionary<string, decimal>? Rates);

/// <summary>PUT /partners/{id}/tier/criteria/{key}: whether the partner meets the manual criterion, with evidence.</summary>
public sealed record ManualCriterionRequest(bool? Met, string? Evidence);

/// <summary>POST /partners/{id}/tier/override: the tier, why, and until when (at most a year).</summary>
public sealed record TierOverrideRequest(string? Tier, string? Reason, DateTimeOffset? Until);

/// <summary>A tier's benefits as the API shows them (limit null: the deals section's autoApproveMaxValue).</summary>
public sealed record TierBenefitsDto(string Text, decimal MdfSharePercent, decimal? DealAutoApprovalLimit, decimal DiscountPercent)
{
    public static TierBenefitsDto From(TierBenefits b) => new(b.Text, b.MdfSharePercent, b.DealAutoApprovalLimit, b.DiscountPercent);
}

/// <summary>A manual criterion of the program with the partner's value.</summary>
public sealed record ManualCriterionDto(string Key, string Title, bool Met, string? Evidence, string? SetByName, DateTimeOffset? SetAt);

/// <summary>GET /partners/{id}/tier: the tier, its benefits, the last evaluation, the gaps to the next tier, pending moves, the override and the history.</summary>
public sealed record PartnerTierDto(
    string PartnerId, string Tier, TierBenefitsDto? Benefits, string? NextTier, TierEvaluation? Evaluation, IReadOnlyList<CriterionResult> GapsToNext,
    PendingDowngrade? PendingDowngrade, PendingUpgrade? PendingUpgrade, TierOverride? Override, IReadOnlyList<ManualCriterionDto> ManualCriteria,
    IReadOnlyList<TierHistoryEntry> History);

/// <summary>GET /fx-rates/{month}.</summary>
public sealed record FxMonthDto(string Month, string ProgramCurrency, IReadOnlyDictionary<string, decimal> Rates, string UpdatedBy, DateTimeOffset UpdatedAt)
{
    public static FxMonthDto From(FxMonth m) => new(m.Month, m.ProgramCurrency, m.Rates, m.UpdatedBy, m.UpdatedAt);
}

/// <summary>The result of an evaluation started by hand (POST /partners/{id}/tier/evaluate).</summary>
public sealed record TierEvaluationResult(string PartnerId, string Tier, IReadOnlyList<string> Moves, PartnerTierDto View);

internal static class TierNames
{
    public static string List => string.Join(", ", Enum.GetValues<PartnerTier>().Select(t => Common.Text.Camel(t)));
}
