using Prm.Core.Common;
using Prm.Core.Incentives;

namespace Prm.Core.Tests.Incentives;

public class IncentiveProgramRulesTests
{
    private static readonly string[] Lines = ["cloud-backup", "endpoint-security"];

    private static IncentiveProgramRequest Rebate(params SlabInput?[] slabs) => new("Growth rebate", "rebate", "quarterly", "EUR", null, null,
        new RebateInput(slabs, "retrospective", null), null, 5, null, "2026-10-01", null, null);

    private static IncentiveProgram Build(IncentiveProgramRequest body, Func<string, bool>? hasRate = null) =>
        IncentiveProgramRules.Build("inp_0123456789abcdef0123456789abcdef", 1, body, Lines, hasRate ?? (c => c == "EUR"), "Avery", DateTimeOffset.UnixEpoch);

    private static ValidationFailedException Refused(IncentiveProgramRequest body, Func<string, bool>? hasRate = null)
    {
        var act = () => Build(body, hasRate);
        return act.Should().Throw<ValidationFailedException>().Which;
    }

    [Fact]
    public void A_valid_rebate_is_version_one_with_its_terms()
    {
        var p = Build(Rebate(new SlabInput(0, 100_000, 2), new SlabInput(100_000, null, 3)) with
        {
            Eligibility = new EligibilityInput(["Gold"], ["EMEA"], ["cloud-backup"]),
        });
        p.Version.Should().Be(1);
        p.Rebate!.Slabs.Should().Equal(new RebateSlab(0, 100_000, 2), new RebateSlab(100_000, null, 3));
        p.Eligibility.Tiers.Should().Equal("gold");
        p.Eligibility.Regions.Should().Equal("emea");
        p.CutoffOf(p.ParsePeriod("2026-Q4")!).Should().Be(new DateTimeOffset(2027, 1, 6, 0, 0, 0, TimeSpan.Zero));
    }

    [Fact]
    public void Overlapping_slabs_are_422_naming_the_slab()
    {
        var e = Refused(Rebate(new SlabInput(0, 100_000, 2), new SlabInput(90_000, null, 3)));
        e.Unprocessable.Should().BeTrue();
        e.Errors.Keys.Should().Equal("rebate.slabs[1].from");
        e.Errors["rebate.slabs[1].from"][0].Should().Contain("overlaps rebate.slabs[0]");
    }

    [Fact]
    public void Unordered_slabs_are_422_naming_the_slab()
    {
        var e = Refused(Rebate(new SlabInput(100_000, 200_000, 3), new SlabInput(0, null, 2)));
        e.Unprocessable.Should().BeTrue();
        e.Errors["rebate.slabs[1].from"][0].Should().Contain("ascending order");
    }

    [Fact]
    public void A_gap_between_slabs_and_an_upper_end_on_the_last_slab_are_refused()
    {
        Refused(Rebate(new SlabInput(0, 100_000, 2), new SlabInput(120_000, null, 3))).Errors["rebate.slabs[1].from"][0].Should().Contain("gap");
        Refused(Rebate(new SlabInput(0, 100_000, 2))).Errors.Keys.Should().Equal("rebate.slabs[0].to");
        Refused(Rebate(new SlabInput(0, null, 2), new SlabInput(100, null, 3))).Errors.Keys.Should().Contain("rebate.slabs[0].to");
    }

    [Theory]
    [InlineData(-0.01)]
    [InlineData(100.01)]
    [InlineData(250)]
    public void A_rate_outside_0_to_100_is_422_naming_it(double rate)
    {
        var e = Refused(Rebate(new SlabInput(0, null, (decimal)rate)));
        e.Unprocessable.Should().BeTrue();
        e.Errors.Keys.Should().Equal("rebate.slabs[0].rate");
    }

    [Fact]
    public void A_currency_without_fx_rates_is_422_naming_the_currency()
    {
        var e = Refused(Rebate(new SlabInput(0, null, 2)) with { Currency = "USD" });
        e.Unprocessable.Should().BeTrue();
        e.Errors.Keys.Should().Equal("currency");
        e.Errors["currency"][0].Should().Contain("no rate");
        Build(Rebate(new SlabInput(0, null, 2)) with { Currency = "USD" }, c => c is "EUR" or "USD").Currency.Should().Be("USD");
    }

    [Fact]
    public void Shape_errors_are_400_naming_each_field()
    {
        var e = Refused(new IncentiveProgramRequest(null, "bonus", "weekly", "XYZ", new EligibilityInput(["diamond"], null, ["no-such-line"]), null, null, null, null, null, "soon", null, null));
        e.Unprocessable.Should().BeFalse();
        e.Errors.Keys.Should().BeEquivalentTo("name", "type", "period", "currency", "startsOn", "eligibility.tiers[0]", "eligibility.productLines[0]");
    }

    [Fact]
    public void A_spif_names_its_amount_window_and_payee()
    {
        var body = new IncentiveProgramRequest("Backup SPIF", "spif", "monthly", "EUR", null, null, null,
            new SpifInput(250, ["cloud-backup"], 5_000, "2026-11-01", "2026-12-31", "registeringPerson"), 3, null, "2026-11-01", null, null);
        var p = Build(body);
        p.Spif!.PayeeValue.Should().Be(SpifPayee.RegisteringPerson);
        Refused(body with { Spif = body.Spif! with { To = "2026-10-01" } }).Errors.Keys.Should().Equal("spif.to");
        Refused(body with { Spif = body.Spif! with { Amount = 0 } }).Errors.Keys.Should().Equal("spif.amount");
        Refused(body with { Rebate = new RebateInput([new SlabInput(0, null, 1)], "retrospective", null) }).Errors.Keys.Should().Equal("rebate");
    }

    [Theory]
    [InlineData("monthly", "2026-11", "2026-11-01", "2026-11-30")]
    [InlineData("quarterly", "2026-Q4", "2026-10-01", "2026-12-31")]
    [InlineData("annual", "2026", "2026-01-01", "2026-12-31")]
    public void Periods_are_calendar_months_quarters_and_years(string kind, string text, string start, string end)
    {
        var p = IncentivePeriods.Parse(Text.ParseEnum<IncentivePeriodKind>(kind)!.Value, text)!;
        p.Start.Should().Be(DateOnly.Parse(start, System.Globalization.CultureInfo.InvariantCulture));
        p.End.Should().Be(DateOnly.Parse(end, System.Globalization.CultureInfo.InvariantCulture));
        IncentivePeriods.Containing(p.Kind, p.End).Should().Be(p);
        IncentivePeriods.Next(IncentivePeriods.Previous(p)).Should().Be(p);
        IncentivePeriods.Parse(p.Kind, "2026-13").Should().BeNull();
    }
}
