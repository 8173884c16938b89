using Prm.Core.Content;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Tests.Content;

/// <summary>The visibility rule as a table: partner × rule → visible, or the dimension that excludes it.</summary>
public class VisibilityTests
{
    private const string GoldEmeaId = "ptn_00000000000000000000000000000001";
    private const string SilverAmerId = "ptn_00000000000000000000000000000002";
    private static readonly PartnerFacts GoldEmeaReseller = new(GoldEmeaId, PartnerTier.Gold, "emea", PartnerType.Reseller);
    private static readonly PartnerFacts SilverAmerMsp = new(SilverAmerId, PartnerTier.Silver, "amer", PartnerType.Msp);

    private static readonly Dictionary<string, VisibilityRule> Rules = new()
    {
        ["everyone"] = new() { Everyone = true },
        ["everyone but gold-emea"] = new() { Everyone = true, DeniedPartners = [GoldEmeaId] },
        ["gold"] = new() { Tiers = ["gold"] },
        ["gold or platinum"] = new() { Tiers = ["gold", "platinum"] },
        ["emea"] = new() { Regions = ["emea"] },
        ["gold and amer"] = new() { Tiers = ["gold"], Regions = ["amer"] },
        ["silver and amer"] = new() { Tiers = ["silver"], Regions = ["amer"] },
        ["msp"] = new() { PartnerTypes = ["msp"] },
        ["named silver-amer"] = new() { AllowedPartners = [SilverAmerId] },
        ["gold, named gold-emea, denied gold-emea"] = new() { Tiers = ["gold"], AllowedPartners = [GoldEmeaId], DeniedPartners = [GoldEmeaId] },
        ["partner admins"] = new() { PartnerRoles = ["PartnerAdmin"] },
        ["gold partner admins"] = new() { Tiers = ["gold"], PartnerRoles = ["PartnerAdmin"] },
        ["nobody"] = new(),
    };

    public static TheoryData<string, string, string?, bool, string?> Table() => new()
    {
        // rule, partner, user role (null: the company as a whole), visible, excluded by
        { "everyone", "gold-emea", "PartnerUser", true, null },
        { "everyone", "silver-amer", "PartnerUser", true, null },
        { "everyone but gold-emea", "gold-emea", "PartnerAdmin", false, "deniedPartners" },
        { "everyone but gold-emea", "silver-amer", "PartnerUser", true, null },
        { "gold", "gold-emea", "PartnerUser", true, null },
        { "gold", "silver-amer", "PartnerUser", false, "tiers" },
        { "gold or platinum", "gold-emea", null, true, null },
        { "gold or platinum", "silver-amer", null, false, "tiers" },
        { "emea", "gold-emea", null, true, null },
        { "emea", "silver-amer", null, false, "regions" },
        { "gold and amer", "gold-emea", null, false, "regions" },
        { "gold and amer", "silver-amer", null, false, "tiers" },
        { "silver and amer", "silver-amer", "PartnerUser", true, null },
        { "msp", "silver-amer", null, true, null },
        { "msp", "gold-emea", null, false, "partnerTypes" },
        { "named silver-amer", "silver-amer", null, true, null },
        { "named silver-amer", "gold-emea", null, false, "allowedPartners" },
        { "gold, named gold-emea, denied gold-emea", "gold-emea", "PartnerAdmin", false, "deniedPartners" },
        { "partner admins", "gold-emea", "PartnerAdmin", true, null },
        { "partner admins", "gold-emea", "PartnerUser", false, "partnerRoles" },
        { "partner admins", "gold-emea", null, true, null },
        { "gold partner admins", "silver-amer", "PartnerAdmin", false, "tiers" },
        { "gold partner admins", "gold-emea", "PartnerUser", false, "partnerRoles" },
        { "nobody", "gold-emea", "PartnerAdmin", false, "everyone" },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void A_partner_sees_an_asset_only_as_the_rule_says(string rule, string partner, string? role, bool visible, string? excludedBy)
    {
        var facts = partner == "gold-emea" ? GoldEmeaReseller : SilverAmerMsp;
        var verdict = Visibility.Check(Rules[rule], facts, role is null ? null : Enum.Parse<PartnerRole>(role));
        verdict.Should().Be(new VisibilityVerdict(visible, excludedBy));
    }

    [Fact]
    public void Every_rule_of_the_table_is_tried()
    {
        Table().Select(row => (string)row[0]).Distinct().Should().BeEquivalentTo(Rules.Keys);
    }

    [Fact]
    public void A_tier_change_flips_the_answer_for_the_same_rule()
    {
        var rule = new VisibilityRule { Tiers = ["gold"] };
        Visibility.Check(rule, SilverAmerMsp, PartnerRole.PartnerUser).Visible.Should().BeFalse();
        Visibility.Check(rule, SilverAmerMsp with { Tier = PartnerTier.Gold }, PartnerRole.PartnerUser).Visible.Should().BeTrue();
    }
}
