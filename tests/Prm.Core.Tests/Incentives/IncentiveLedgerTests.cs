using Prm.Core.Common;
using Prm.Core.Incentives;
using static Prm.Core.Tests.Incentives.IncentiveTestPrograms;

namespace Prm.Core.Tests.Incentives;

public class SlabMathTests
{
    [Fact]
    public void The_same_sales_pay_more_retrospectively_than_prospectively()
    {
        // claimds.com: the same 1.2 crore of sales pays 1.65 lakh prospectively and 2.4 lakh retrospectively (1 %, 1.5 %, 2 % slabs).
        SlabMath.Rebate(Slabs, RebateMethod.Prospective, null, 12_000_000m, "EUR").Should().Be(165_000m);
        SlabMath.Rebate(Slabs, RebateMethod.Retrospective, null, 12_000_000m, "EUR").Should().Be(240_000m);
        SlabMath.RateAt(Slabs, 12_000_000m).Should().Be(2m);
    }

    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(4_999_999.99, 49_999.9999, 49_999.9999)]
    [InlineData(5_000_000, 50_000, 75_000)]
    [InlineData(9_999_999.99, 124_999.99985, 149_999.99985)]
    [InlineData(10_000_000, 125_000, 200_000)]
    public void Slab_boundaries_belong_to_the_upper_slab(double total, double prospective, double retrospective)
    {
        SlabMath.Prospective(Slabs, (decimal)total).Should().Be((decimal)prospective);
        SlabMath.Retrospective(Slabs, (decimal)total).Should().Be((decimal)retrospective);
    }

    [Fact]
    public void A_rebate_is_rounded_once_half_even_to_the_minor_unit_and_capped()
    {
        RebateSlab[] slabs = [new(0m, null, 1.25m)];
        SlabMath.Rebate(slabs, RebateMethod.Retrospective, null, 2.00m, "EUR").Should().Be(0.02m, "0.025 rounds half-even to 0.02");
        SlabMath.Rebate(slabs, RebateMethod.Retrospective, null, 2.00m, "JPY").Should().Be(0m);
        SlabMath.Rebate(slabs, RebateMethod.Retrospective, 100m, 1_000_000m, "EUR").Should().Be(100m);
    }

    [Fact]
    public void Nothing_is_earned_below_the_first_slab()
    {
        RebateSlab[] slabs = [new(1_000m, null, 10m)];
        SlabMath.Retrospective(slabs, 999.99m).Should().Be(0m);
        SlabMath.Prospective(slabs, 1_500m).Should().Be(50m);
        SlabMath.Retrospective(slabs, 1_500m).Should().Be(150m);
    }
}

public class IncentiveLedgerTests
{
    private static readonly DateTimeOffset Nov = new(2026, 11, 20, 10, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset EndQ4 = new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Retrospective_accruals_use_the_rate_reached_so_far_and_the_close_rerates_the_whole_period()
    {
        var program = Rebate(RebateMethod.Retrospective);
        var (state, entries) = Fold(program,
            Deal(Won("d1", 4_000_000m, new(2026, 10, 5), Nov), Nov),
            Deal(Won("d2", 3_000_000m, new(2026, 11, 5), Nov), Nov.AddMinutes(1)),
            Deal(Won("d3", 5_000_000m, new(2026, 12, 5), Nov), Nov.AddMinutes(2)),
            Close("2026-Q4", EndQ4.AddDays(5)));

        entries.Select(e => (e.Kind, e.Amount.Amount, e.Rate)).Should().Equal(
            ("accrued", 40_000m, 1m), ("accrued", 45_000m, 1.5m), ("accrued", 100_000m, 2m), ("rerated", 55_000m, 2m));
        entries.Select(e => e.Sequence).Should().Equal(1, 2, 3, 4);
        var q4 = state.Periods["2026-Q4"];
        q4.Basis.Should().Be(12_000_000m);
        q4.Final.Should().Be(240_000m);
        q4.Earned.Should().Be(240_000m);
        q4.Closed.Should().BeTrue();
        entries.Sum(e => e.Amount.Amount).Should().Be(q4.Payable, "the entries add up to the balance");
    }

    [Fact]
    public void Prospective_accruals_earn_each_band_at_its_rate_so_the_close_has_nothing_to_rerate()
    {
        var program = Rebate(RebateMethod.Prospective);
        var (state, entries) = Fold(program,
            Deal(Won("d1", 4_000_000m, new(2026, 10, 5), Nov), Nov),
            Deal(Won("d2", 3_000_000m, new(2026, 11, 5), Nov), Nov.AddMinutes(1)),
            Deal(Won("d3", 5_000_000m, new(2026, 12, 5), Nov), Nov.AddMinutes(2)),
            Close("2026-Q4", EndQ4.AddDays(5)));

        entries.Select(e => (e.Kind, e.Amount.Amount)).Should().Equal(("accrued", 40_000m), ("accrued", 40_000m), ("accrued", 85_000m));
        state.Periods["2026-Q4"].Final.Should().Be(165_000m, "the same sales as the retrospective test");
    }

    [Fact]
    public void A_cap_limits_the_accruals_and_the_final_amount()
    {
        var program = Rebate(RebateMethod.Retrospective, cap: 60_000m);
        var (state, entries) = Fold(program,
            Deal(Won("d1", 4_000_000m, new(2026, 10, 5), Nov), Nov),
            Deal(Won("d2", 3_000_000m, new(2026, 11, 5), Nov), Nov.AddMinutes(1)),
            Deal(Won("d3", 5_000_000m, new(2026, 12, 5), Nov), Nov.AddMinutes(2)),
            Close("2026-Q4", EndQ4.AddDays(5)));
        entries.Select(e => e.Amount.Amount).Should().Equal(40_000m, 20_000m, 0m);
        state.Periods["2026-Q4"].Final.Should().Be(60_000m);
    }

    [Theory]
    [InlineData("2027-01-06T00:00:00Z", "2026-Q4")]
    [InlineData("2027-01-05T23:59:59.999Z", "2026-Q4")]
    [InlineData("2027-01-06T00:00:00.001Z", "2027-Q1")]
    [InlineData("2027-02-15T00:00:00Z", "2027-Q1")]
    [InlineData("2027-04-06T00:00:01Z", "2027-Q2")]
    public void A_transaction_dated_in_a_period_counts_in_it_when_recorded_by_its_end_plus_grace_and_in_the_next_open_period_after(string recorded, string period)
    {
        var at = DateTimeOffset.Parse(recorded, System.Globalization.CultureInfo.InvariantCulture);
        var (state, entries) = Fold(Rebate(grace: 5), Deal(Won("d1", 1_000m, new(2026, 12, 31), at), at));
        entries.Single().Period.Should().Be(period);
        state.Deals["d1"].Period.Should().Be(period);
    }

    [Fact]
    public void A_period_whose_close_began_takes_no_new_transaction_even_inside_its_grace()
    {
        var inGrace = EndQ4.AddDays(2);
        var (_, entries) = Fold(Rebate(grace: 5), Deal(Won("d1", 1_000m, new(2026, 12, 31), inGrace), inGrace, closing: ["2026-Q4"]));
        entries.Single().Period.Should().Be("2027-Q1");

        var (_, closed) = Fold(Rebate(grace: 5), Close("2026-Q4", EndQ4.AddDays(1)), Deal(Won("d2", 1_000m, new(2026, 12, 31), inGrace), inGrace));
        closed.Single(e => e.Kind == "accrued").Period.Should().Be("2027-Q1", "an early close ends the grace");
    }

    [Fact]
    public void Deals_in_other_currencies_count_at_their_close_months_rates_and_a_missing_rate_is_named_never_guessed()
    {
        // Program in EUR (the FX base): 10,000 USD at 0.9 EUR.
        var (eur, _) = Fold(Rebate(), Deal(Won("d1", 10_000m, new(2026, 11, 3), Nov, "USD", dealRate: 0.9m, programRate: 1m), Nov));
        eur.Deals["d1"].Value.Should().Be(9_000m);
        eur.Deals["d1"].Deal!.FxRate.Should().Be(0.9m);

        // Program in USD: 1,000 GBP at 1.15 EUR per GBP and 0.92 EUR per USD = 1,250 USD.
        var (usd, entries) = Fold(Rebate(currency: "USD"), Deal(Won("d2", 1_000m, new(2026, 11, 3), Nov, "GBP", dealRate: 1.15m, programRate: 0.92m), Nov));
        usd.Deals["d2"].Value.Should().Be(1_250m);
        entries.Single().Amount.Should().Be(new Money(12.50m, "USD"));

        // 1,000 GBP at 1.1 / 0.9 = 1,222.2222… USD: rounded half-even once, to 1,222.22.
        IncentiveLedgerRules.ValueOf(Won("d3", 1_000m, new(2026, 11, 3), Nov, "GBP", 1.1m, 0.9m), "USD").Should().Be(1_222.22m);

        var (missing, none) = Fold(Rebate(), Deal(Won("d4", 10_000m, new(2026, 11, 3), Nov, "USD"), Nov));
        none.Should().BeEmpty();
        missing.Deals["d4"].AwaitingPeriod.Should().Be("2026-Q4", "it awaits its rate");
        IncentiveLedgerRules.Qualify(Rebate(), Won("d4", 10_000m, new(2026, 11, 3), Nov, "USD")).Should().Be(((decimal?)null, "No FX rate for USD in 2026-11: not counted"));
    }

    [Fact]
    public void A_deal_awaiting_an_fx_rate_is_named_and_its_periods_close_prices_it_with_the_rate_then_known()
    {
        var program = Rebate();
        var gbp = Won("d1", 10_000m, new(2026, 11, 3), Nov, "GBP");
        var (waiting, none) = Fold(program, Deal(gbp, Nov));
        none.Should().BeEmpty("never guessed");
        waiting.Deals["d1"].Should().BeEquivalentTo(new { Period = (string?)null, AwaitingPeriod = "2026-Q4", Note = "No FX rate for GBP in 2026-11: not counted" });
        waiting.Periods.Should().ContainKey("2026-Q4");

        var reprice = Deal(gbp with { DealRate = 1.2m, ProgramRate = 1m }, EndQ4.AddDays(6), closing: []) with { Reprice = true };
        var (state, entries) = Fold(program, Deal(gbp, Nov), reprice, Close("2026-Q4", EndQ4.AddDays(6)));
        entries.Single().Should().BeEquivalentTo(new { Kind = "accrued", Period = "2026-Q4" }, "its recorded time, not the close's, places it");
        entries.Single().Amount.Amount.Should().Be(120m, "10,000 GBP at 1.2 = 12,000 EUR at 1 %");
        state.Deals["d1"].AwaitingFx.Should().BeNull();
        state.Periods["2026-Q4"].Final.Should().Be(120m);

        var (lost, _) = Fold(program, Deal(gbp, Nov), Deal(Lost("d1"), Nov.AddDays(1)));
        lost.Deals["d1"].AwaitingPeriod.Should().BeNull("a lost deal awaits nothing");
    }

    [Fact]
    public void A_deal_lost_in_an_open_period_reverses_exactly_its_accrual()
    {
        var (state, entries) = Fold(Rebate(),
            Deal(Won("d1", 6_000_000m, new(2026, 10, 5), Nov), Nov),
            Deal(Lost("d1"), Nov.AddDays(1)));
        entries.Select(e => (e.Kind, e.Amount.Amount, e.Period, e.OriginPeriod)).Should().Equal(("accrued", 90_000m, "2026-Q4", (string?)null), ("reversed", -90_000m, "2026-Q4", null));
        state.Periods["2026-Q4"].Basis.Should().Be(0m);
        state.Periods["2026-Q4"].Earned.Should().Be(0m);
        state.Deals["d1"].Period.Should().BeNull();
    }

    [Fact]
    public void A_deal_lost_after_its_period_was_closed_and_paid_is_a_negative_entry_of_the_next_open_period_and_the_paid_money_stays()
    {
        var program = Rebate(RebateMethod.Retrospective);
        var (state, entries) = Fold(program,
            Deal(Won("d1", 7_000_000m, new(2026, 10, 5), Nov), Nov),
            Deal(Won("d2", 5_000_000m, new(2026, 12, 5), Nov), Nov.AddMinutes(1)),
            Close("2026-Q4", EndQ4.AddDays(5)),
            Pay("2026-Q4", 240_000m, EndQ4.AddDays(10)),
            Deal(Lost("d2"), EndQ4.AddDays(20)));

        var q4 = state.Periods["2026-Q4"];
        q4.Final.Should().Be(240_000m);
        q4.Paid.Should().Be(240_000m);
        q4.Payable.Should().Be(0m, "paid money is never reduced");
        q4.ClawedBasis.Should().Be(5_000_000m);
        var claw = entries.Last();
        claw.Should().BeEquivalentTo(new { Kind = "reversed", Period = "2027-Q1", OriginPeriod = "2026-Q4" });
        // 12M at 2 % = 240,000 before; 7M at 1.5 % = 105,000 without the deal: the deal made 135,000 of the closed period.
        claw.Amount.Should().Be(new Money(-135_000m, "EUR"));
        state.Periods["2027-Q1"].Earned.Should().Be(-135_000m);
        state.Periods["2027-Q1"].Basis.Should().Be(0m, "the next period's own sales decide its slab");
        entries.Where(e => e.Period == "2026-Q4").Select(e => e.Kind).Should().Equal("accrued", "accrued", "rerated", "paid");
        entries.Single(e => e.Kind == "paid").Amount.Amount.Should().Be(-240_000m);
    }

    [Fact]
    public void A_corrected_win_reverses_the_old_accrual_and_accrues_the_new_amount()
    {
        var (state, entries) = Fold(Rebate(),
            Deal(Won("d1", 1_000_000m, new(2026, 10, 5), Nov), Nov),
            Deal(Won("d1", 2_000_000m, new(2026, 10, 5), Nov.AddDays(1)), Nov.AddDays(1)));
        entries.Select(e => (e.Kind, e.Amount.Amount)).Should().Equal(("accrued", 10_000m), ("reversed", -10_000m), ("accrued", 20_000m));
        state.Periods["2026-Q4"].Basis.Should().Be(2_000_000m);
    }

    [Fact]
    public void A_redelivered_or_older_event_changes_nothing()
    {
        var program = Rebate();
        var won = Deal(Won("d1", 1_000_000m, new(2026, 10, 5), Nov), Nov.AddDays(1));
        var (state, _) = Fold(program, won);
        var same = IncentiveLedgerRules.Apply(state, Deal(Won("d1", 1_000_000m, new(2026, 10, 5), Nov), Nov.AddDays(2)) with { Sequence = 2 }, _ => program);
        same.Changed.Should().BeFalse("the deal is counted as it is");
        var older = IncentiveLedgerRules.Apply(state, Deal(Lost("d1"), Nov) with { Sequence = 2 }, _ => program);
        older.Changed.Should().BeFalse("an event older than the last applied is late");
    }

    [Fact]
    public void A_spif_pays_its_fixed_amount_per_qualifying_deal_to_the_registering_person()
    {
        var program = Spif(SpifPayee.RegisteringPerson, minValue: 10_000m);
        var (state, entries) = Fold(program,
            Deal(Won("d1", 12_000m, new(2026, 11, 5), Nov, by: "usr_sam"), Nov),
            Deal(Won("d2", 9_999.99m, new(2026, 11, 6), Nov, by: "usr_sam"), Nov),
            Deal(Won("d3", 50_000m, new(2026, 11, 7), Nov, product: "managed-network"), Nov),
            Deal(Won("d4", 50_000m, new(2026, 10, 31), Nov), Nov),
            Deal(Won("d5", 50_000m, new(2026, 11, 8), Nov, by: "usr_rita"), Nov),
            Close("2026-11", new DateTimeOffset(2026, 12, 4, 0, 0, 0, TimeSpan.Zero)));
        entries.Select(e => (e.Kind, e.Amount.Amount, e.PayeeId)).Should().Equal(("accrued", 500m, "usr_sam"), ("accrued", 500m, "usr_rita"));
        IncentiveLedgerRules.Qualify(program, Won("d2", 9_999.99m, new(2026, 11, 6), Nov)).Why.Should().StartWith("below the SPIF's minimum value");
        IncentiveLedgerRules.Qualify(program, Won("d3", 50_000m, new(2026, 11, 7), Nov, product: "managed-network")).Why.Should().Be("no product line of the SPIF");
        IncentiveLedgerRules.Qualify(program, Won("d4", 50_000m, new(2026, 10, 31), Nov)).Why.Should().Be("closed outside the SPIF's window");
        state.Deals.Keys.Should().BeEquivalentTo("d1", "d5");
        state.Periods["2026-11"].Final.Should().Be(1_000m);
    }

    [Fact]
    public void Eligibility_by_tier_region_and_product_line_decides_what_counts()
    {
        var program = Rebate(eligibility: new IncentiveEligibility(["gold", "platinum"], ["emea"], ["cloud-backup"]));
        var (state, entries) = Fold(program,
            Deal(Won("d1", 1_000m, new(2026, 11, 5), Nov), Nov),
            Deal(Won("d2", 1_000m, new(2026, 11, 5), Nov, tier: "silver"), Nov),
            Deal(Won("d3", 1_000m, new(2026, 11, 5), Nov, region: "amer"), Nov),
            Deal(Won("d4", 1_000m, new(2026, 11, 5), Nov, product: "endpoint-security"), Nov));
        entries.Select(e => e.Deal!.DealId).Should().Equal("d1");
        state.Deals.Keys.Should().Equal("d1");
        IncentiveLedgerRules.Qualify(program, Won("d2", 1_000m, new(2026, 11, 5), Nov, tier: "silver")).Why.Should().Be("not eligible (tier, region or product line)");
    }

    [Fact]
    public void A_payment_is_never_above_the_payable_balance_and_only_of_a_closed_period()
    {
        var program = Rebate();
        var (open, _) = Fold(program, Deal(Won("d1", 1_000_000m, new(2026, 10, 5), Nov), Nov));
        var early = () => IncentiveLedgerRules.Apply(open, Pay("2026-Q4", 1m, Nov) with { Sequence = 2 }, _ => program);
        early.Should().Throw<ConflictException>().Which.Field.Should().Be("period");

        var (closed, _) = Fold(program, Deal(Won("d1", 1_000_000m, new(2026, 10, 5), Nov), Nov), Close("2026-Q4", EndQ4.AddDays(5)));
        var above = () => IncentiveLedgerRules.Apply(closed, Pay("2026-Q4", 10_000.01m, EndQ4.AddDays(6)) with { Sequence = 3 }, _ => program);
        above.Should().Throw<ValidationFailedException>().Which.Errors.Keys.Should().Equal("amount");
        var adjust = () => IncentiveLedgerRules.Apply(closed, new IncentiveInput(InputKinds.Adjust, "adj:1", EndQ4.AddDays(6), 1, "Avery", Period: "2026-Q4", Amount: 5m, Reason: "x") with { Sequence = 3 }, _ => program);
        adjust.Should().Throw<ConflictException>();
    }

    [Fact]
    public void Replaying_the_inputs_reproduces_the_entries_and_balances_exactly_with_the_versions_they_name()
    {
        var v1 = Rebate(RebateMethod.Retrospective, version: 1);
        var v2 = Rebate(RebateMethod.Retrospective, version: 2, slabs: [new(0m, 1_000_000m, 2m), new(1_000_000m, null, 3m)]);
        IncentiveProgram Versions(int v) => v == 1 ? v1 : v2;
        IncentiveInput[] inputs =
        [
            Deal(Won("d1", 700_000m, new(2026, 10, 5), Nov), Nov, version: 1),
            Deal(Won("d2", 600_000m, new(2026, 11, 5), Nov), Nov.AddMinutes(1), version: 1),
            Deal(Lost("d1"), Nov.AddMinutes(2), version: 2),
            Deal(Won("d3", 900_000m, new(2026, 12, 5), Nov), Nov.AddMinutes(3), version: 2),
            Close("2026-Q4", EndQ4.AddDays(5), version: 2),
            Deal(Lost("d3"), EndQ4.AddDays(6), version: 2),
        ];
        var (state, entries) = Fold(Versions, "EUR", inputs);
        var numbered = inputs.Select((input, i) => input with { Sequence = i + 1 }).ToList();
        var (replayed, again) = IncentiveLedgerRules.Replay(PartnerId, ProgramId, "EUR", numbered, Versions);
        again.Should().Equal(entries);
        replayed.Periods.Values.OrderBy(p => p.Period).Should().Equal(state.Periods.Values.OrderBy(p => p.Period));
        state.Periods["2026-Q4"].Final.Should().Be(1_500_000m * 3m / 100m, "closed with version 2 on 600,000 + 900,000");
        entries.Last().Amount.Amount.Should().Be(-(45_000m - 12_000m), "version 2 on 1.5M less version 2 on 600,000");
    }
}
