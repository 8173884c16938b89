using FluentValidation;
using Prm.Core.Common;
using Prm.Core.Mdf;

namespace Prm.Core.Tests.Mdf;

public class MdfValidatorTests
{
    private static IReadOnlyDictionary<string, string[]> Errors<T>(T body, IValidator<T> validator) where T : class
    {
        var act = () => Validate.Body(body, validator);
        return act.Should().Throw<ValidationFailedException>().Which.Errors;
    }

    private static MoneyInput Eur(decimal? amount) => new(amount, "EUR");

    private static FundRequestInput ValidRequest() => new("webinar", "Cloud migration webinar", "Two sessions for mid-market customers.", "2026-04-10", "2026-04-12",
        Eur(2_500m), 25m, "IT managers", 40, Eur(100_000m));

    [Fact]
    public void Valid_bodies_pass()
    {
        Validate.Body(new CreateBudgetRequest("p-1", "2026-Q4", Eur(10_000m), null, null), new CreateBudgetValidator());
        Validate.Body(new CreateBudgetRequest("p-1", "2026", null, 2.5m, "EUR"), new CreateBudgetValidator());
        Validate.Body(new BudgetAdjustmentRequest(Eur(-500m), "Reallocated to Q1"), new BudgetAdjustmentValidator());
        Validate.Body(ValidRequest(), new FundRequestValidator());
        Validate.Body(ValidRequest() with { ActivityType = "contentSyndication", ExpectedPipeline = null }, new FundRequestValidator());
        Validate.Body(new FundRequestDecisionInput("approve", null, Eur(2_000m), 50m, "2026-06-30"), new FundRequestDecisionValidator(new Money(2_500m, "EUR")));
        Validate.Body(new FundRequestDecisionInput("requestInfo", "Which audience?", null, null, null), new FundRequestDecisionValidator());
        Validate.Body(new ClaimInput(Eur(1_900m), 35, 120, "Invoice attached"), new ClaimValidator(new Money(2_000m, "EUR")));
        Validate.Body(new ClaimDecisionInput("approve", Eur(1_800m), null), new ClaimDecisionValidator(new Money(1_900m, "EUR")));
        Validate.Body(new PayoutInput("SEPA-2026-0042", "2026-07-15"), new PayoutValidator());
    }

    [Fact]
    public void Budget_fields_are_named()
    {
        var errors = Errors(new CreateBudgetRequest("", "2026-Q5", new MoneyInput(-1m, "XXX"), null, null), new CreateBudgetValidator());

        errors.Keys.Should().BeEquivalentTo("partnerId", "period", "amount.amount", "amount.currency");
        errors["period"].Should().ContainSingle().Which.Should().Contain("2026-Q4");
    }

    [Fact]
    public void A_budget_takes_either_an_amount_or_a_coop_percentage()
    {
        Errors(new CreateBudgetRequest("p-1", "2026", Eur(1m), 5m, null), new CreateBudgetValidator()).Keys.Should().Contain("amount");
        Errors(new CreateBudgetRequest("p-1", "2026", null, null, null), new CreateBudgetValidator()).Keys.Should().Contain("amount");
        Errors(new CreateBudgetRequest("p-1", "2026", null, 120m, null), new CreateBudgetValidator()).Keys.Should().BeEquivalentTo("coopPercent", "currency");
    }

    [Theory]
    [InlineData("0", "amount.amount")]
    [InlineData("1000000000.01", "amount.amount")]
    [InlineData("12.345", "amount.amount")]
    public void Money_amounts_are_checked_on_the_amount_path(string amount, string field) =>
        Errors(new CreateBudgetRequest("p-1", "2026", Eur(decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture)), null, null), new CreateBudgetValidator())
            .Keys.Should().Equal(field);

    [Fact]
    public void An_adjustment_needs_a_non_zero_amount_and_a_reason()
    {
        var errors = Errors(new BudgetAdjustmentRequest(Eur(0m), " "), new BudgetAdjustmentValidator());

        errors.Keys.Should().BeEquivalentTo("amount.amount", "reason");
        Errors(new BudgetAdjustmentRequest(null, "x"), new BudgetAdjustmentValidator()).Keys.Should().Equal("amount");
    }

    [Fact]
    public void Fund_request_fields_are_named_in_camel_case()
    {
        var body = new FundRequestInput("party", "", null, "2026-04-12", "2026-04-10", new MoneyInput(null, null), 120m, null, -1, new MoneyInput(-5m, "EUR"));

        var errors = Errors(body, new FundRequestValidator());

        errors.Keys.Should().BeEquivalentTo("activityType", "title", "description", "endDate", "requestedAmount.amount", "requestedAmount.currency",
            "partnerContributionPercent", "expectedLeads", "expectedPipeline.amount");
        errors["activityType"].Should().ContainSingle().Which.Should().Contain("digitalCampaign").And.Contain("contentSyndication");
        errors["endDate"].Should().ContainSingle().Which.Should().Be("endDate must not be before startDate.");
    }

    [Fact]
    public void Dates_must_be_iso_dates()
    {
        var errors = Errors(ValidRequest() with { StartDate = "10/04/2026", EndDate = "2026-02-30" }, new FundRequestValidator());

        errors.Keys.Should().BeEquivalentTo("startDate", "endDate");
        MdfRules.ParseDate("2026-04-10").Should().Be(new DateOnly(2026, 4, 10));
    }

    [Theory]
    [InlineData("reject")]
    [InlineData("requestInfo")]
    public void Reject_and_request_info_need_a_reason(string decision)
    {
        Errors(new FundRequestDecisionInput(decision, null, null, null, null), new FundRequestDecisionValidator()).Keys.Should().Equal("reason");
        Errors(new ClaimDecisionInput(decision, null, ""), new ClaimDecisionValidator()).Keys.Should().Equal("reason");
    }

    [Fact]
    public void An_approval_may_not_exceed_the_requested_amount()
    {
        var errors = Errors(new FundRequestDecisionInput("approve", null, Eur(2_500.01m), 0m, "soon"), new FundRequestDecisionValidator(new Money(2_500m, "EUR")));

        errors.Keys.Should().BeEquivalentTo("approvedAmount.amount", "maxReimbursementPercent", "claimDeadline");
        errors["approvedAmount.amount"].Should().ContainSingle().Which.Should().Contain("2500.00 EUR");
        Errors(new FundRequestDecisionInput("approve", null, new MoneyInput(10m, "USD"), null, null), new FundRequestDecisionValidator(new Money(2_500m, "EUR")))
            .Keys.Should().Equal("approvedAmount.currency");
    }

    [Fact]
    public void Approval_details_go_only_with_an_approval()
    {
        var errors = Errors(new FundRequestDecisionInput("reject", "Out of scope", Eur(1m), 50m, "2026-06-30"), new FundRequestDecisionValidator());

        errors.Keys.Should().BeEquivalentTo("approvedAmount", "maxReimbursementPercent", "claimDeadline");
        Errors(new FundRequestDecisionInput("maybe", null, null, null, null), new FundRequestDecisionValidator()).Keys.Should().Equal("decision");
    }

    [Fact]
    public void A_claim_may_not_exceed_the_approved_amount_and_counts_are_not_negative()
    {
        var errors = Errors(new ClaimInput(Eur(2_000.01m), -1, -3, null), new ClaimValidator(new Money(2_000m, "EUR")));

        errors.Keys.Should().BeEquivalentTo("claimedAmount.amount", "actualLeads", "attendees");
    }

    [Fact]
    public void A_claim_approval_may_not_exceed_the_claim()
    {
        Errors(new ClaimDecisionInput("approve", Eur(1_901m), null), new ClaimDecisionValidator(new Money(1_900m, "EUR"))).Keys.Should().Equal("amount.amount");
        Errors(new ClaimDecisionInput("reject", Eur(1m), "No invoice"), new ClaimDecisionValidator()).Keys.Should().Equal("amount");
    }

    [Fact]
    public void A_payout_needs_a_reference_and_a_date()
    {
        Errors(new PayoutInput(null, "15.07.2026"), new PayoutValidator()).Keys.Should().BeEquivalentTo("paymentReference", "paidOn");
    }
}
