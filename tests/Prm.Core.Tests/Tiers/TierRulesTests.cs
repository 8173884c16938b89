using Prm.Core.Common;
using Prm.Core.Partners;
using Prm.Core.Tiers;
using Prm.Core.Training;

namespace Prm.Core.Tests.Tiers;

public class TierRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 15, 10, 0, 0, TimeSpan.Zero);
    private static readonly TierSettings Program = new();
    private static readonly FxTable NoRates = new("EUR", new Dictionary<string, IReadOnlyDictionary<string, decimal>>());

    private static TierFacts Facts(decimal wonEur = 0, int approved = 0, IEnumerable<HeldAward>? awards = null, Dictionary<string, bool>? manual = null,
        Dictionary<string, Dictionary<string, decimal>>? won = null) => new(
        (won ?? new() { ["2026-11"] = new() { ["EUR"] = wonEur } }).ToDictionary(m => m.Key, m => (IReadOnlyDictionary<string, decimal>)m.Value),
        new Dictionary<string, int> { ["2026-10"] = approved },
        (awards ?? []).ToList(),
        (manual ?? []).ToDictionary(m => m.Key, m => new ManualCriterionValue(m.Value, "evidence", "usr_cm", "Elena", Now)));

    private static HeldAward Award(string user, string track = "sales", string level = "associate", int validDays = 300, string? id = null) =>
        new(id ?? "crt_" + user + track + level, user, track, level, Now.AddDays(validDays));

    private static readonly HeldAward[] SilverPeople = [Award("u1")];

    [Fact]
    public void Values_that_meet_silver_but_not_gold_qualify_for_silver_and_name_each_gold_gap()
    {
        var e = TierRules.Evaluate(Facts(wonEur: 120_000m, approved: 3, awards: [Award("u1"), Award("u2"), Award("u3", "technical", id: "x")]), NoRates, Program, PartnerTier.Silver, Now);

        e.QualifiesFor.Should().Be("silver");
        e.Current!.Qualifies.Should().BeTrue();
        var gold = e.Next!;
        gold.Tier.Should().Be("gold");
        gold.Qualifies.Should().BeFalse();
        gold.Criteria.Single(c => c.Key == "wonDealValue").Should().BeEquivalentTo(new { Target = 250_000m, Actual = 120_000m, Gap = 130_000m, Met = false });
        gold.Criteria.Single(c => c.Key == "approvedRegistrations").Should().BeEquivalentTo(new { Target = 6m, Actual = 3m, Gap = 3m, Met = false });
        gold.Criteria.Single(c => c.Key == "certifiedPeople.sales.associate").Met.Should().BeTrue();
        gold.Criteria.Single(c => c.Key == "certifiedPeople.technical.associate").Met.Should().BeTrue();
        gold.Criteria.Single(c => c.Key == "activeCertifications").Should().BeEquivalentTo(new { Target = 3m, Actual = 3m, Gap = 0m, Met = true });
        gold.Criteria.Single(c => c.Key == "manual.businessPlan").Should().BeEquivalentTo(new { Actual = 0m, Gap = 1m, Met = false });
        gold.Gaps.Select(g => g.Key).Should().Equal("wonDealValue", "approvedRegistrations", "manual.businessPlan");
    }

    [Fact]
    public void Platinum_needs_every_criterion_and_one_missing_manual_criterion_keeps_the_partner_at_gold()
    {
        var all = Facts(wonEur: 2_000_000m, approved: 20,
            awards: [Award("a", "sales", "professional"), Award("b", "sales", "expert"), Award("c", "sales", "professional"), Award("d", "technical", "professional"), Award("e", "technical", "expert"),
                Award("f", "technical", "associate"), Award("g", "presales", "associate"), Award("h", "presales", "associate")],
            manual: new() { ["businessPlan"] = true, ["executiveSponsor"] = true });
        TierRules.Evaluate(all, NoRates, Program, PartnerTier.Registered, Now).QualifiesFor.Should().Be("platinum");
        var withoutSponsor = all with { Manual = all.Manual.ToDictionary(m => m.Key, m => m.Value with { Met = m.Key != "executiveSponsor" }) };
        var e = TierRules.Evaluate(withoutSponsor, NoRates, Program, PartnerTier.Gold, Now);
        e.QualifiesFor.Should().Be("gold");
        e.Next!.Gaps.Select(g => g.Key).Should().Equal("manual.executiveSponsor");
    }

    [Fact]
    public void Nobody_qualifying_for_anything_lands_on_the_first_tier_which_has_no_criteria()
    {
        var e = TierRules.Evaluate(TierFacts.Empty, NoRates, Program, PartnerTier.Gold, Now);
        e.QualifiesFor.Should().Be("registered");
        e.Current!.Tier.Should().Be("gold");
        e.Current.Qualifies.Should().BeFalse();
        e.Next!.Tier.Should().Be("platinum");
    }

    [Fact]
    public void The_trailing_window_is_the_twelve_calendar_months_ending_with_this_one()
    {
        TierRules.TrailingMonths(Now).Should().HaveCount(12).And.StartWith("2025-12").And.EndWith("2026-11");
        var won = new Dictionary<string, Dictionary<string, decimal>> { ["2025-11"] = new() { ["EUR"] = 1_000m }, ["2025-12"] = new() { ["EUR"] = 10m }, ["2026-11"] = new() { ["EUR"] = 5m }, ["2026-12"] = new() { ["EUR"] = 7m } };
        TierRules.Measure(Facts(won: won), NoRates, Now).WonDealValue.Should().Be(15m, "2025-11 fell out of the window; a future month is not in it");
        TierRules.Measure(Facts(won: won), NoRates, Now.AddMonths(1)).WonDealValue.Should().Be(12m, "a month later 2025-12 is gone and 2026-12 is in");
    }

    [Fact]
    public void Other_currencies_count_through_the_rate_of_their_month_and_a_missing_rate_is_a_named_gap_never_a_guess()
    {
        var won = new Dictionary<string, Dictionary<string, decimal>>
        {
            ["2026-09"] = new() { ["USD"] = 10_000m, ["EUR"] = 1_000m },
            ["2026-10"] = new() { ["USD"] = 20_000m, ["GBP"] = 3_000m },
        };
        var rates = new FxTable("EUR", new Dictionary<string, IReadOnlyDictionary<string, decimal>>
        {
            ["2026-09"] = new Dictionary<string, decimal> { ["USD"] = 0.9m },
            ["2026-10"] = new Dictionary<string, decimal> { ["USD"] = 0.8m },
        });
        var values = TierRules.Measure(Facts(won: won), rates, Now);
        values.WonDealValue.Should().Be(1_000m + 9_000m + 16_000m, "each month's USD at that month's rate, EUR at 1");
        values.MissingRates.Should().Equal(new MissingRate("2026-10", "GBP", 3_000m));
        var silver = TierRules.Evaluate(Facts(won: won, approved: 5, awards: SilverPeople), rates, Program, PartnerTier.Registered, Now).Next!;
        var criterion = silver.Criteria.Single(c => c.Key == "wonDealValue");
        criterion.Met.Should().BeFalse();
        criterion.Gap.Should().Be(50_000m - 26_000m);
        criterion.Note.Should().Contain("GBP in 2026-10").And.Contain("3000.00 GBP");
    }

    [Fact]
    public void Converted_sums_are_rounded_half_even_to_the_minor_unit_of_the_program_currency()
    {
        var won = new Dictionary<string, Dictionary<string, decimal>> { ["2026-11"] = new() { ["USD"] = 0.25m } };
        var rates = new FxTable("EUR", new Dictionary<string, IReadOnlyDictionary<string, decimal>> { ["2026-11"] = new Dictionary<string, decimal> { ["USD"] = 0.1m } });
        TierRules.Measure(Facts(won: won), rates, Now).WonDealValue.Should().Be(0.02m, "0.025 rounds to the even 0.02");
    }

    [Fact]
    public void A_certified_person_counts_once_per_track_at_their_level_or_above_and_an_award_past_its_grace_not_at_all()
    {
        var awards = new[]
        {
            Award("ann", "sales", "associate", id: "a1"), Award("ann", "sales", "professional", id: "a2"), // one person, two awards
            Award("bob", "sales", "expert", id: "b1"),
            Award("cy", "sales", "professional", validDays: -1, id: "c1"),      // grace ended
            Award("dee", "technical", "professional", id: "d1"),
        };
        var tier = new TierDefinition { Tier = "silver", Criteria = new() { CertifiedPeople = [new() { Track = "sales", Level = "professional", People = 3 }], ActiveCertifications = 4 } };
        var values = TierRules.Measure(Facts(awards: awards), NoRates, Now);
        values.ActiveCertifications.Should().Be(4);
        values.CertifiedPeople.Should().BeEquivalentTo(new[] { new CertifiedCount("sales", "associate", 1), new CertifiedCount("sales", "professional", 1), new CertifiedCount("sales", "expert", 1), new CertifiedCount("technical", "professional", 1) });
        var check = TierRules.Check(tier, values, awards.Where(a => a.GraceEndsAt > Now).ToList());
        check.Criteria.Single(c => c.Key == "certifiedPeople.sales.professional").Should().BeEquivalentTo(new { Target = 3m, Actual = 2m, Gap = 1m });
        check.Criteria.Single(c => c.Key == "activeCertifications").Met.Should().BeTrue();
        TierRules.Describe(check.Gaps).Should().Equal("People certified in sales, professional or above: 2 of 3 (1 more)");
    }

    [Fact]
    public void The_demo_program_is_valid_and_broken_programs_name_the_field()
    {
        TierSettings.Validate(Program);
        Fails(Program with { Tiers = [Program.Tiers[1], Program.Tiers[0]] }, "tiers[0].criteria");
        Fails(Program with { Tiers = [Program.Tiers[0], Program.Tiers[2], Program.Tiers[1]] }, "tiers[2].tier");
        Fails(Program with { Tiers = [Program.Tiers[0], Program.Tiers[0]] }, "tiers[1].tier");
        Fails(Program with { Tiers = [Program.Tiers[0], new TierDefinition { Tier = "diamond" }] }, "tiers[1].tier");
        Fails(Program with { Tiers = [Program.Tiers[0], Program.Tiers[1] with { Benefits = new() { MdfSharePercent = 101 } }] }, "tiers[1].benefits.mdfSharePercent");
        Fails(Program with { Tiers = [Program.Tiers[0], Program.Tiers[1] with { Criteria = new() { CertifiedPeople = [new() { Track = "juggling" }] } }] }, "tiers[1].criteria.certifiedPeople[0].track");
        Fails(Program with { Tiers = [Program.Tiers[0], Program.Tiers[1] with { Criteria = new() { Manual = [new() { Key = "has space", Title = "x" }] } }] }, "tiers[1].criteria.manual[0].key");
        Fails(Program with { WarningDaysBefore = [60, 120] }, "warningDaysBefore");
        Fails(Program with { Tiers = [Program.Tiers[0], Program.Tiers[1] with { Criteria = new() { CertifiedPeople = null! } }] }, "tiers[1].criteria");
        Fails(Program with { Tiers = [Program.Tiers[0], Program.Tiers[1] with { Benefits = null! }] }, "tiers[1].benefits");
    }

    private static void Fails(TierSettings s, string field)
    {
        var act = () => TierSettings.Validate(s);
        act.Should().Throw<ValidationFailedException>().Which.Errors.Should().ContainKey(field);
    }
}
