using Prm.Core.Partners;
using Prm.Core.Tiers;

namespace Prm.Core.Tests.Tiers;

public class TierTransitionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 15, 10, 0, 0, TimeSpan.Zero);
    private static readonly TierSettings Program = new();

    private static TierEvaluation Qualifying(string tier) =>
        new(Now, tier, new TierValues("EUR", "2025-12", "2026-11", 0, 0, [], 0, new Dictionary<string, bool>(), []), null, null);

    private static PartnerTierState State() => PartnerTierState.New("ptn_1");

    [Fact]
    public void A_higher_qualifying_tier_upgrades_at_once_and_records_the_history()
    {
        var d = TierTransitions.AfterEvaluation(State(), PartnerTier.Registered, Qualifying("silver"), Program, Now, "deal.won");
        d.Tier.Should().Be(PartnerTier.Silver);
        d.Moves.Should().Equal(TierMove.Upgraded);
        d.State.History.Should().ContainSingle().Which.Should().BeEquivalentTo(new { From = "registered", To = "silver", Reason = "deal.won" });
    }

    [Fact]
    public void With_confirmation_on_an_upgrade_waits_and_the_confirmation_makes_it()
    {
        var d = TierTransitions.AfterEvaluation(State(), PartnerTier.Registered, Qualifying("gold"), Program with { UpgradeNeedsConfirmation = true }, Now, "nightly");
        d.Tier.Should().Be(PartnerTier.Registered);
        d.Moves.Should().Equal(TierMove.UpgradePending);
        d.State.Upgrade!.To.Should().Be("gold");
        var again = TierTransitions.AfterEvaluation(d.State, PartnerTier.Registered, Qualifying("gold"), Program with { UpgradeNeedsConfirmation = true }, Now.AddDays(1), "nightly");
        again.Moves.Should().BeEmpty("the same pending upgrade is not announced twice");
        again.State.Upgrade!.Since.Should().Be(Now);
        var confirmed = TierTransitions.ConfirmUpgrade(again.State, PartnerTier.Registered, "Elena", Now.AddDays(2));
        confirmed.Tier.Should().Be(PartnerTier.Gold);
        confirmed.State.Upgrade.Should().BeNull();
    }

    [Fact]
    public void Falling_below_schedules_a_downgrade_after_grace_days_and_a_lower_fall_moves_only_its_target()
    {
        var d = TierTransitions.AfterEvaluation(State(), PartnerTier.Gold, Qualifying("silver"), Program, Now, "certification.gap");
        d.Tier.Should().Be(PartnerTier.Gold, "a downgrade is not immediate");
        d.Moves.Should().Equal(TierMove.DowngradeScheduled);
        d.State.Downgrade!.Should().BeEquivalentTo(new { To = "silver", ScheduledAt = Now, EffectiveAt = Now.AddDays(90) });
        var lower = TierTransitions.AfterEvaluation(d.State, PartnerTier.Gold, Qualifying("registered"), Program, Now.AddDays(10), "nightly");
        lower.Moves.Should().BeEmpty();
        lower.State.Downgrade!.Should().BeEquivalentTo(new { d.State.Downgrade.Id, To = "registered", EffectiveAt = Now.AddDays(90) });
    }

    [Fact]
    public void Qualifying_again_before_the_date_cancels_the_downgrade()
    {
        var scheduled = TierTransitions.AfterEvaluation(State(), PartnerTier.Gold, Qualifying("silver"), Program, Now, "x").State;
        var d = TierTransitions.AfterEvaluation(scheduled, PartnerTier.Gold, Qualifying("gold"), Program, Now.AddDays(40), "certification.earned");
        d.Moves.Should().Equal(TierMove.DowngradeCancelled);
        d.State.Downgrade.Should().BeNull();
        d.Tier.Should().Be(PartnerTier.Gold);
    }

    [Fact]
    public void At_the_date_a_partner_still_below_moves_down_and_one_that_qualifies_again_keeps_its_tier()
    {
        var scheduled = TierTransitions.AfterEvaluation(State(), PartnerTier.Gold, Qualifying("silver"), Program, Now, "x").State;
        var down = TierTransitions.AtDowngradeDate(scheduled, PartnerTier.Gold, Qualifying("silver"), Program, Now.AddDays(90));
        down.Tier.Should().Be(PartnerTier.Silver);
        down.Moves.Should().Equal(TierMove.Downgraded);
        down.State.Downgrade.Should().BeNull();
        down.State.History.Single().Should().BeEquivalentTo(new { From = "gold", To = "silver" });
        var kept = TierTransitions.AtDowngradeDate(scheduled, PartnerTier.Gold, Qualifying("gold"), Program, Now.AddDays(90));
        kept.Tier.Should().Be(PartnerTier.Gold);
        kept.Moves.Should().Equal(TierMove.DowngradeCancelled);
    }

    [Fact]
    public void An_evaluation_after_the_date_carries_out_a_downgrade_the_workflow_missed()
    {
        var scheduled = TierTransitions.AfterEvaluation(State(), PartnerTier.Gold, Qualifying("silver"), Program, Now, "x").State;
        var before = TierTransitions.AfterEvaluation(scheduled, PartnerTier.Gold, Qualifying("silver"), Program, Now.AddDays(89), "nightly");
        before.Moves.Should().BeEmpty();
        var after = TierTransitions.AfterEvaluation(scheduled, PartnerTier.Gold, Qualifying("silver"), Program, Now.AddDays(91), "nightly");
        after.Tier.Should().Be(PartnerTier.Silver);
        after.Moves.Should().Equal(TierMove.Downgraded);
        after.State.Downgrade.Should().BeNull();
    }

    [Fact]
    public void With_no_grace_the_downgrade_is_immediate()
    {
        var d = TierTransitions.AfterEvaluation(State(), PartnerTier.Gold, Qualifying("registered"), Program with { GraceDays = 0, WarningDaysBefore = [] }, Now, "x");
        d.Tier.Should().Be(PartnerTier.Registered);
        d.Moves.Should().Equal(TierMove.Downgraded);
    }

    [Fact]
    public void An_override_sets_the_tier_cancels_a_pending_downgrade_and_holds_until_its_date()
    {
        var scheduled = TierTransitions.AfterEvaluation(State(), PartnerTier.Gold, Qualifying("silver"), Program, Now, "x").State;
        var o = TierTransitions.Override(scheduled, PartnerTier.Gold, PartnerTier.Platinum, "strategic account", "usr_a", "Avery", Now.AddDays(30), Now);
        o.Tier.Should().Be(PartnerTier.Platinum);
        o.Moves.Should().Equal(TierMove.Overridden, TierMove.DowngradeCancelled);
        var held = TierTransitions.AfterEvaluation(o.State, PartnerTier.Platinum, Qualifying("registered"), Program, Now.AddDays(29), "nightly");
        held.Tier.Should().Be(PartnerTier.Platinum);
        held.Moves.Should().BeEmpty();
        var after = TierTransitions.AfterEvaluation(o.State, PartnerTier.Platinum, Qualifying("registered"), Program, Now.AddDays(31), "nightly");
        after.Moves.Should().Equal([TierMove.DowngradeScheduled], "after the override's date the rules apply again");
    }

    [Fact]
    public void A_warning_is_marked_once_per_downgrade_and_days_before()
    {
        var scheduled = TierTransitions.AfterEvaluation(State(), PartnerTier.Gold, Qualifying("silver"), Program, Now, "x").State;
        var warned = TierTransitions.Warned(TierTransitions.Warned(scheduled, 60), 60);
        warned.Downgrade!.WarningsSent.Should().Equal(60);
        TierTransitions.Warned(warned, 30).Downgrade!.WarningsSent.Should().Equal(60, 30);
    }

    [Fact]
    public void Certification_counters_apply_an_awards_events_in_time_order_and_a_leaver_takes_their_awards()
    {
        static Prm.Core.Training.TrainingEvents.AwardData Data(string id, string user, string status) =>
            new(id, "CERT-1", user, "P", "def", "Cert", "sales", "associate", Now, Now.AddYears(1), Now.AddYears(1).AddDays(30), status, null);
        var facts = CertificationFactsRules.Apply(new CertificationFacts(), Data("a1", "u1", "Active"), Now)!;
        facts.Awards.Should().ContainKey("a1");
        CertificationFactsRules.Apply(facts, Data("a1", "u1", "Active"), Now.AddMinutes(-5)).Should().BeNull("an older event delivered late changes nothing");
        var expired = CertificationFactsRules.Apply(facts, Data("a1", "u1", "Expired"), Now.AddDays(400))!;
        expired.Awards.Should().BeEmpty();
        CertificationFactsRules.Apply(expired, Data("a1", "u1", "Active"), Now.AddDays(1)).Should().BeNull("the removal is newer");
        var two = CertificationFactsRules.Apply(facts, Data("a2", "u2", "Active"), Now)!;
        var left = CertificationFactsRules.RemovePerson(two, "u1", Now.AddDays(1))!;
        left.Awards.Keys.Should().Equal("a2");
        CertificationFactsRules.RemovePerson(left, "u1", Now.AddDays(2)).Should().BeNull();
    }
}
