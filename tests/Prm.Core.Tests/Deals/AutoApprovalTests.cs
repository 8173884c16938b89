using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Core.Partners;

namespace Prm.Core.Tests.Deals;

public class AutoApprovalTests
{
    private static readonly DealSettings Rules = new();

    private static bool Allows(DealSettings? rules = null, PartnerTier tier = PartnerTier.Silver, ConflictLevel conflict = ConflictLevel.None,
        bool claimHeld = true, bool house = false, decimal amount = 10_000m, string currency = "EUR") =>
        AutoApproval.Allows(rules ?? Rules, "EUR", tier, conflict, claimHeld, house, new Money(amount, currency));

    [Fact]
    public void A_clean_registration_within_the_limit_is_approved() => Allows().Should().BeTrue();

    [Fact]
    public void The_limit_itself_is_still_approved_one_cent_more_is_not()
    {
        Allows(amount: 50_000m).Should().BeTrue();
        Allows(amount: 50_000.01m).Should().BeFalse();
    }

    [Fact]
    public void A_tier_benefit_limit_replaces_the_sections_limit()
    {
        AutoApproval.Allows(Rules, "EUR", PartnerTier.Silver, ConflictLevel.None, true, false, new Money(40_000m, "EUR"), tierLimit: 40_000m).Should().BeTrue();
        AutoApproval.Allows(Rules, "EUR", PartnerTier.Silver, ConflictLevel.None, true, false, new Money(40_000.01m, "EUR"), tierLimit: 40_000m).Should().BeFalse();
        AutoApproval.Allows(Rules, "EUR", PartnerTier.Platinum, ConflictLevel.None, true, false, new Money(90_000m, "EUR"), tierLimit: 100_000m).Should().BeTrue("above the section's 50,000");
    }

    [Fact]
    public void Another_currency_goes_to_review_whatever_the_amount() => Allows(amount: 1m, currency: "USD").Should().BeFalse();

    [Fact]
    public void Without_the_claim_or_on_a_house_account_it_goes_to_review()
    {
        Allows(claimHeld: false).Should().BeFalse();
        Allows(house: true).Should().BeFalse();
    }

    [Theory]
    [InlineData("none", ConflictLevel.None, true)]
    [InlineData("none", ConflictLevel.Possible, false)]
    [InlineData("possible", ConflictLevel.Possible, true)]
    [InlineData("possible", ConflictLevel.Likely, false)]
    [InlineData("likely", ConflictLevel.Likely, true)]
    [InlineData("likely", ConflictLevel.Certain, false)]
    public void The_conflict_may_reach_the_allowed_level_never_certain(string maxLevel, ConflictLevel conflict, bool expected) =>
        Allows(Rules with { AutoApproveMaxConflictLevel = maxLevel }, conflict: conflict).Should().Be(expected);

    [Fact]
    public void Only_the_named_tiers_and_only_while_enabled()
    {
        Allows(Rules with { AutoApproveTiers = ["gold"] }, tier: PartnerTier.Silver).Should().BeFalse();
        Allows(Rules with { AutoApproveTiers = ["gold"] }, tier: PartnerTier.Gold).Should().BeTrue();
        Allows(Rules with { AutoApprovalEnabled = false }).Should().BeFalse();
    }
}

public class DealSettingsRangeTests
{
    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(int.MinValue)]
    [InlineData(0)]
    public void Max_protection_days_out_of_range_names_the_field_instead_of_overflowing(int days)
    {
        var act = () => DealSettings.Validate(new DealSettings { MaxProtectionDays = days });
        act.Should().Throw<Prm.Core.Common.ValidationFailedException>().Which.Errors.Should().ContainKey("maxProtectionDays");
    }
}
