using Prm.Core.Common;
using Prm.Core.Mdf;

namespace Prm.Core.Tests.Mdf;

public class MdfRoiTests
{
    private static Money Eur(decimal amount) => new(amount, "EUR");

    [Fact]
    public void Roi_counts_registrations_pipeline_won_value_cost_per_lead_and_return()
    {
        var deals = new[]
        {
            new AttributedDeal(AttributedDealStatus.Won, Eur(20_000m)),
            new AttributedDeal(AttributedDealStatus.Open, Eur(15_000m)),
            new AttributedDeal(AttributedDealStatus.Lost, Eur(5_000m)),
            new AttributedDeal(AttributedDealStatus.Rejected, Eur(99_000m)),
        };

        var roi = MdfRoi.Compute(Eur(3_000m), 7, deals);

        roi.Paid.Should().Be(Eur(3_000m));
        roi.Leads.Should().Be(7);
        roi.RegisteredDeals.Should().Be(3);
        roi.PipelineValue.Should().Be(Eur(40_000m));
        roi.WonValue.Should().Be(Eur(20_000m));
        roi.CostPerLead.Should().Be(Eur(428.57m)); // 428.571428...
        roi.ReturnOnSpend.Should().Be(6.67m);      // 6.666...
    }

    [Fact]
    public void Ratios_round_half_even()
    {
        // 0.125 EUR per lead -> 0.12; won / paid = 0.125 -> 0.12; 0.135 -> 0.14
        MdfRoi.Compute(Eur(1m), 8, [new AttributedDeal(AttributedDealStatus.Won, Eur(0.125m))]).CostPerLead.Should().Be(Eur(0.12m));
        MdfRoi.Compute(Eur(1000m), 0, [new AttributedDeal(AttributedDealStatus.Won, Eur(125m))]).ReturnOnSpend.Should().Be(0.12m);
        MdfRoi.Compute(Eur(1000m), 0, [new AttributedDeal(AttributedDealStatus.Won, Eur(135m))]).ReturnOnSpend.Should().Be(0.14m);
        MdfRoi.Compute(new Money(5m, "JPY"), 2, []).CostPerLead.Should().Be(new Money(2m, "JPY"));
    }

    [Fact]
    public void No_leads_or_nothing_paid_gives_null_ratios_not_a_division_by_zero()
    {
        var roi = MdfRoi.Compute(Eur(0m), 0, []);

        roi.CostPerLead.Should().BeNull();
        roi.ReturnOnSpend.Should().BeNull();
        roi.RegisteredDeals.Should().Be(0);
        roi.PipelineValue.Should().Be(Eur(0m));
    }

    [Fact]
    public void Deals_in_another_currency_are_refused()
    {
        var act = () => MdfRoi.Compute(Eur(100m), 1, [new AttributedDeal(AttributedDealStatus.Won, new Money(1m, "USD"))]);

        act.Should().Throw<CurrencyMismatchException>();
    }
}
