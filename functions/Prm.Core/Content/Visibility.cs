using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Content;

/// <summary>The facts of a partner a visibility rule looks at, as the partner is now (never a stored copy).</summary>
public sealed record PartnerFacts(string PartnerId, PartnerTier Tier, string Region, PartnerType Type)
{
    public static PartnerFacts Of(Partner partner) => new(partner.Id, partner.Tier, partner.Region, partner.Type);
}

/// <summary>Whether a partner sees an asset, and if not, the dimension that excludes it (camelCase, as in the rule's JSON).</summary>
public sealed record VisibilityVerdict(bool Visible, string? ExcludedBy)
{
    public static readonly VisibilityVerdict Yes = new(true, null);

    public static VisibilityVerdict No(string dimension) => new(false, dimension);
}

/// <summary>
/// The visibility rule of the content library — the one place it is decided. A named denied partner is excluded before anything else;
/// <c>everyone</c> admits every other partner; otherwise every dimension that names values must match (AND), any of its values
/// (OR), and a rule naming nobody admits nobody. The role dimension is checked only when a user is in question
/// (<paramref name="role"/> not null): for a company as a whole it passes when some of its users could see the asset.
/// </summary>
public static class Visibility
{
    public static VisibilityVerdict Check(VisibilityRule rule, PartnerFacts partner, PartnerRole? role)
    {
        if (rule.DeniedPartners.Contains(partner.PartnerId, StringComparer.Ordinal)) return VisibilityVerdict.No("deniedPartners");
        if (rule.Everyone) return VisibilityVerdict.Yes;
        if (!NamesAnyone(rule)) return VisibilityVerdict.No("everyone");
        if (rule.Tiers.Count > 0 && !rule.Tiers.Any(t => Text.ParseEnum<PartnerTier>(t) == partner.Tier)) return VisibilityVerdict.No("tiers");
        if (rule.Regions.Count > 0 && !rule.Regions.Contains(partner.Region, StringComparer.OrdinalIgnoreCase)) return VisibilityVerdict.No("regions");
        if (rule.PartnerTypes.Count > 0 && !rule.PartnerTypes.Any(t => Text.ParseEnum<PartnerType>(t) == partner.Type)) return VisibilityVerdict.No("partnerTypes");
        if (rule.AllowedPartners.Count > 0 && !rule.AllowedPartners.Contains(partner.PartnerId, StringComparer.Ordinal)) return VisibilityVerdict.No("allowedPartners");
        if (role is { } r && rule.PartnerRoles.Count > 0 && !rule.PartnerRoles.Any(x => Text.ParseEnum<PartnerRole>(x) == r)) return VisibilityVerdict.No("partnerRoles");
        return VisibilityVerdict.Yes;
    }

    /// <summary>True when the rule admits someone besides by <c>everyone</c>: a dimension that selects partners or roles.</summary>
    public static bool NamesAnyone(VisibilityRule rule) =>
        rule.Tiers.Count + rule.Regions.Count + rule.PartnerTypes.Count + rule.AllowedPartners.Count + rule.PartnerRoles.Count > 0;
}
