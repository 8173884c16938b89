using Prm.Core.Common;
using Prm.Core.Partners;

namespace Prm.Core.Deals;

/// <summary>
/// When a submitted registration is approved without a reviewer: the program allows it, the registration holds the customer's claim,
/// it does not touch a house account, its conflict is at most the allowed level (never certain), its value is in the program currency
/// and at most the limit — the partner's tier benefit (dealAutoApprovalLimit of the tiers section) when it sets one, else the deals
/// section's autoApproveMaxValue — and the partner's tier is one the rules name. Everything else goes to review.
/// </summary>
public static class AutoApproval
{
    public static bool Allows(DealSettings rules, string programCurrency, PartnerTier tier, ConflictLevel conflict, bool claimHeld, bool houseAccount, Money estimatedValue, decimal? tierLimit = null)
    {
        var maxLevel = Text.ParseEnum<ConflictLevel>(rules.AutoApproveMaxConflictLevel) ?? ConflictLevel.None;
        return rules.AutoApprovalEnabled && claimHeld && !houseAccount && conflict != ConflictLevel.Certain && conflict <= maxLevel
            && estimatedValue.Currency == programCurrency && estimatedValue.Amount <= (tierLimit ?? rules.AutoApproveMaxValue)
            && rules.AutoApproveTiers.Contains(Text.Camel(tier));
    }
}
