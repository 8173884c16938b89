using Prm.Core.Analytics;
using Prm.Core.Common;
using Prm.Core.Deals;

namespace Prm.Core.Tests.Analytics;

public class KpiFactTests
{
    private static readonly AnalyticsCalendar Utc = new(TimeZoneInfo.Utc);
    private static readonly DateTimeOffset Submitted = new(2026, 9, 20, 10, 0, 0, TimeSpan.Zero);

    internal static DealDto Deal(DealStatus status, DateTimeOffset? approvedAt = null, DealOutcome? outcome = null, IReadOnlyList<DealDecision>? decisions = null, decimal value = 10_000m)
    {
        var d = new Deal
        {
            Id = DealIds.New("ptn_0123456789abcdef0123456789abcdef", Submitted),
            RegistrationNumber = DealIds.RegistrationNumber(Submitted),
            PartnerId = "ptn_0123456789abcdef0123456789abcdef",
            PartnerName = "P",
            SubmittedBy = "usr_x",
            SubmittedByName = "X",
            SubmittedByEmail = "x@p.example",
            Status = status,
            Customer = new DealCustomer("Acme", "acme.example", "DE", null, null, "acme", ["t-acme"]),
            Products = ["cloud-backup", "edge"],
            EstimatedValue = new Money(value, "EUR"),
            ExpectedCloseDate = new DateOnly(2026, 10, 30),
            CreatedAt = Submitted,
            SubmittedAt = Submitted,
            ApprovedAt = approvedAt,
            ProtectedUntil = approvedAt?.AddDays(90),
            Decisions = decisions ?? [],
            Conflict = new DealConflict("none", 0, [], [], false, true),
            UpdatedAt = outcome?.RecordedAt ?? approvedAt ?? Submitted,
            Outcome = outcome,
        };
        return DealDto.From(d, vendorView: true);
    }

    [Fact]
    public void An_approved_registration_counts_its_submission_approval_decision_time_and_pipeline_under_its_first_product_line()
    {
        var facts = KpiFactRules.OfDeal(Deal(DealStatus.Approved, Submitted.AddHours(30)), Utc);
        facts.Select(f => (f.Metric, f.Day, f.ProductLine)).Should().Equal(
            (KpiMetrics.Submitted, new DateOnly(2026, 9, 20), "cloud-backup"),
            (KpiMetrics.Approved, new DateOnly(2026, 9, 21), "cloud-backup"));
        facts[1].Hours.Should().Be(30);
        var counters = facts.SelectMany(KpiFactRules.Counters).ToDictionary(c => c.Key, c => c.Value);
        counters.Should().Equal(new Dictionary<string, decimal>
        {
            ["cloud-backup|registrationsSubmitted"] = 1,
            ["cloud-backup|registrationsApproved"] = 1,
            ["cloud-backup|pipeline:EUR"] = 10_000m,
            ["cloud-backup|decisionHours:le48"] = 1,
        });
    }

    [Fact]
    public void A_won_registration_counts_on_its_close_date_with_the_outcome_amount_and_leaves_the_pipeline_when_recorded()
    {
        var recorded = new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);
        var deal = Deal(DealStatus.Won, Submitted.AddHours(2), new DealOutcome("won", new Money(12_500m, "USD"), new DateOnly(2026, 10, 28), null, "X", recorded));
        var facts = KpiFactRules.OfDeal(deal, Utc);
        facts.Should().ContainSingle(f => f.Metric == KpiMetrics.Won).Which.Should().Match<KpiFact>(f => f.Day == new DateOnly(2026, 10, 28) && f.Amount == 12_500m && f.Currency == "USD");
        facts.Should().ContainSingle(f => f.Metric == KpiMetrics.ProtectionEnded).Which.Should().Match<KpiFact>(f => f.Day == new DateOnly(2026, 11, 2) && f.Amount == 10_000m && f.Currency == "EUR");
        // The pipeline over all time is zero again; won revenue stays.
        var delta = KpiFactRules.Delta([], facts)[KpiRows.Total];
        delta.Should().NotContainKey("cloud-backup|pipeline:EUR");
        delta["cloud-backup|wonRevenue:USD"].Should().Be(12_500m);
    }

    [Fact]
    public void A_rejection_counts_with_its_decision_time_and_a_draft_counts_nothing()
    {
        var rejected = Deal(DealStatus.Rejected, decisions: [new DealDecision("reject", "dup", "usr_cm", "CM", Submitted.AddHours(100))]);
        KpiFactRules.OfDeal(rejected, Utc).Select(f => (f.Metric, f.Hours)).Should().Equal((KpiMetrics.Submitted, (double?)null), (KpiMetrics.Rejected, 100d));
        KpiFactRules.OfDeal(Deal(DealStatus.Draft), Utc).Should().BeEmpty();
    }

    [Fact]
    public void The_delta_between_the_same_facts_is_empty_and_between_two_states_moves_only_what_changed()
    {
        var approved = KpiFactRules.OfDeal(Deal(DealStatus.Approved, Submitted.AddHours(3)), Utc);
        KpiFactRules.Delta(approved, approved).Should().BeEmpty();
        var lost = KpiFactRules.OfDeal(Deal(DealStatus.Lost, Submitted.AddHours(3), new DealOutcome("lost", null, null, "budget", "X", Submitted.AddDays(10))), Utc);
        var delta = KpiFactRules.Delta(approved, lost);
        delta.Keys.Should().BeEquivalentTo("d|20260930", "m|202609", "y|2026", "t");
        delta["d|20260930"].Should().Equal(new Dictionary<string, decimal> { ["cloud-backup|lost"] = 1, ["cloud-backup|pipeline:EUR"] = -10_000m });
    }

    [Fact]
    public void The_median_is_the_upper_edge_of_the_bin_holding_the_middle_observation()
    {
        var counters = new Dictionary<string, decimal> { ["decisionHours:le1"] = 2, ["decisionHours:le24"] = 1, ["decisionHours:le168"] = 2 };
        KpiFigures.Median(counters, "decisionHours:").Should().Be(24);
        KpiFigures.Median(new Dictionary<string, decimal> { ["decisionHours:gt720"] = 1 }, "decisionHours:").Should().Be(720);
        KpiFigures.Median(new Dictionary<string, decimal>(), "decisionHours:").Should().BeNull();
        KpiFactRules.Bin(24).Should().Be("le24");
        KpiFactRules.Bin(24.01).Should().Be("le48");
    }

    [Fact]
    public void Rates_need_a_denominator()
    {
        var values = KpiFigures.Values(1, new Dictionary<string, decimal> { ["registrationsApproved"] = 3, ["registrationsRejected"] = 1, ["won"] = 1, ["lost"] = 2, ["leadsAccepted"] = 2, ["leadsDeclined"] = 2, ["leadsConverted"] = 1 },
            new Dictionary<string, decimal> { ["pipeline:EUR"] = 5m });
        values.ApprovalRate.Should().Be(0.75);
        values.WinRate.Should().Be(0.3333);
        values.LeadAcceptanceRate.Should().Be(0.5);
        values.LeadConversionRate.Should().Be(0.5);
        values.Pipeline.Should().Equal(new Dictionary<string, decimal> { ["EUR"] = 5m });
        KpiFigures.Values(0, new Dictionary<string, decimal>(), new Dictionary<string, decimal>()).WinRate.Should().BeNull();
    }

    [Fact]
    public void The_activation_funnel_counts_creation_activation_and_the_first_registration_with_the_hours_between()
    {
        var created = new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);
        var partner = new Prm.Core.Partners.Partner
        {
            Id = "ptn_" + new string('3', 32),
            Name = "P",
            Domain = "p.example",
            Status = Prm.Core.Partners.PartnerStatus.Active,
            Tier = Prm.Core.Partners.PartnerTier.Silver,
            Type = Prm.Core.Partners.PartnerType.Reseller,
            Country = "DE",
            Region = "emea",
            CreatedAt = created,
            UpdatedAt = created,
            AgreementAcceptedAt = created.AddDays(2),
        };
        var facts = KpiFactRules.OfPartner(partner, Utc, firstDeal: created.AddDays(2).AddHours(30));
        facts.Select(f => (f.Metric, f.Day)).Should().Equal(
            (KpiMetrics.PartnersOnboarded, new DateOnly(2026, 3, 1)), (KpiMetrics.PartnersActivated, new DateOnly(2026, 3, 3)), (KpiMetrics.PartnersFirstDeal, new DateOnly(2026, 3, 4)));
        facts[2].Hours.Should().Be(30);
        KpiFactRules.Counters(facts[2]).Should().Contain(new KeyValuePair<string, decimal>("none|activationHours:le48", 1));
        // The record's own first registration wins over the stand-in; without an agreement a partner created Active is active from its creation.
        var recorded = partner with { AgreementAcceptedAt = null, FirstDealRegisteredAt = created.AddHours(5) };
        KpiFactRules.OfPartner(recorded, Utc, firstDeal: created.AddDays(9)).Select(f => (f.Metric, f.Day, f.Hours)).Should().Equal(
            (KpiMetrics.PartnersOnboarded, new DateOnly(2026, 3, 1), (double?)null), (KpiMetrics.PartnersActivated, new DateOnly(2026, 3, 1), null), (KpiMetrics.PartnersFirstDeal, new DateOnly(2026, 3, 1), 5d));
        KpiFactRules.OfPartner(partner with { Status = Prm.Core.Partners.PartnerStatus.AgreementPending, AgreementAcceptedAt = null }, Utc).Select(f => f.Metric).Should().Equal(KpiMetrics.PartnersOnboarded);
    }

    [Fact]
    public void Only_a_registration_after_the_partners_recorded_first_one_leaves_the_funnel_alone()
    {
        var first = new DateTimeOffset(2026, 3, 4, 14, 0, 0, TimeSpan.Zero);
        var partner = new Prm.Core.Partners.Partner
        {
            Id = "ptn_" + new string('4', 32), Name = "P", Domain = "p.example", Status = Prm.Core.Partners.PartnerStatus.Active,
            Tier = Prm.Core.Partners.PartnerTier.Silver, Type = Prm.Core.Partners.PartnerType.Reseller, Country = "DE", Region = "emea",
            CreatedAt = first.AddDays(-3), UpdatedAt = first, FirstDealRegisteredAt = first,
        };

        KpiFactRules.LeavesFunnelAlone(DealEvents.Submitted, first.AddMinutes(1), partner).Should().BeTrue("a second registration changes no funnel fact");
        KpiFactRules.LeavesFunnelAlone(DealEvents.Submitted, first, partner).Should().BeFalse("the first registration's own event (redelivered) still applies it");
        KpiFactRules.LeavesFunnelAlone(DealEvents.Submitted, first.AddMinutes(1), partner with { FirstDealRegisteredAt = null })
            .Should().BeFalse("without a recorded first registration this one may be it");
        KpiFactRules.LeavesFunnelAlone(Prm.Core.Partners.PartnerEvents.UpdatedType, first.AddMinutes(1), partner).Should().BeFalse("a change of the partner may move it");
        // Whether left alone or not, the funnel's facts are the same: the recorded first registration wins over the event's.
        KpiFactRules.OfPartner(partner, Utc, firstDeal: first.AddMinutes(1)).Should().Equal(KpiFactRules.OfPartner(partner, Utc));
    }

    [Fact]
    public void A_certification_counts_on_its_earning_day_until_it_is_revoked()
    {
        var earned = new DateTimeOffset(2026, 5, 31, 23, 30, 0, TimeSpan.Zero);
        var award = new Prm.Core.Training.TrainingEvents.AwardData("awd_1", "C-1", "usr_1", "Pat", "def_1", "Sales", "sales", "associate", earned, earned.AddYears(2), earned.AddYears(2), "Active", null);
        KpiFactRules.OfAward(award, Utc).Should().ContainSingle().Which.Day.Should().Be(new DateOnly(2026, 5, 31));
        KpiFactRules.OfAward(award, new AnalyticsCalendar(TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"))).Single().Day.Should().Be(new DateOnly(2026, 6, 1));
        KpiFactRules.OfAward(award with { Status = "Expired" }, Utc).Should().HaveCount(1, "an expired certification was still earned in its period");
        KpiFactRules.OfAward(award with { Status = "Revoked" }, Utc).Should().BeEmpty();
    }

    [Fact]
    public void A_won_registration_naming_an_mdf_request_is_also_won_value_attributed_to_mdf_and_one_without_is_not()
    {
        var outcome = new DealOutcome("won", new Money(42_000m, "EUR"), new DateOnly(2026, 10, 15), null, "X", Submitted.AddDays(30));
        var plain = Deal(DealStatus.Won, Submitted.AddHours(2), outcome);
        KpiFactRules.OfDeal(plain, Utc).Should().NotContain(f => f.Metric == KpiMetrics.MdfAttributedWon);

        var funded = KpiFactRules.OfDeal(plain with { MdfRequestId = "mdr_1" }, Utc);
        var attributed = funded.Should().ContainSingle(f => f.Metric == KpiMetrics.MdfAttributedWon).Subject;
        (attributed.Day, attributed.Amount, attributed.Currency).Should().Be((new DateOnly(2026, 10, 15), 42_000m, "EUR"));
        KpiFactRules.Counters(attributed).Should().Equal(
            new KeyValuePair<string, decimal>("cloud-backup|mdfAttributedWon", 1),
            new KeyValuePair<string, decimal>("cloud-backup|mdfAttributedWon:EUR", 42_000m));
    }

    private static Prm.Core.Mdf.FundRequest Request(Prm.Core.Mdf.MdfClaimStatus? claim, string? paidOn = null) => new()
    {
        Id = "mdr_1", BudgetId = "mdb_1", PartnerId = "ptn_1", PartnerName = "Acme", Period = "2026", Status = Prm.Core.Mdf.FundRequestStatus.Approved,
        ActivityType = Prm.Core.Mdf.MdfActivityType.Webinar, Title = "Webinar", Description = "Two sessions", StartDate = new DateOnly(2026, 4, 10), EndDate = new DateOnly(2026, 4, 12),
        RequestedAmount = new Money(5_000m, "EUR"), RequesterId = "usr_rep", RequesterName = "Rita", RequesterEmail = "rita@acme.example", SubmittedAt = Submitted,
        ApprovedAmount = new Money(5_000m, "EUR"),
        Claim = claim is { } status ? new Prm.Core.Mdf.MdfClaim
        {
            Id = "mdc_1", Status = status, ClaimedAmount = new Money(3_000m, "EUR"), ApprovedAmount = new Money(2_400m, "EUR"), PaidOn = paidOn, CreatedAt = Submitted, CreatedById = "usr_rep",
        } : null,
    };

    [Fact]
    public void Mdf_counts_as_paid_on_the_payment_day_with_the_claims_approved_amount_and_not_before()
    {
        KpiFactRules.OfFundRequest(Request(null)).Should().BeEmpty();
        KpiFactRules.OfFundRequest(Request(Prm.Core.Mdf.MdfClaimStatus.Approved)).Should().BeEmpty("an approved claim is not paid yet");
        var paid = KpiFactRules.OfFundRequest(Request(Prm.Core.Mdf.MdfClaimStatus.Paid, "2026-11-29")).Should().ContainSingle().Subject;
        (paid.Metric, paid.Day, paid.Amount, paid.Currency, paid.SubjectId).Should().Be((KpiMetrics.MdfPaid, new DateOnly(2026, 11, 29), 2_400m, "EUR", "mdr_1"));
        KpiFactRow.From(paid).Record.Should().Be("mdf/requests/mdr_1");
    }

    [Fact]
    public void The_return_on_mdf_is_attributed_won_over_paid_per_currency_paid_rounded_half_even_to_two_decimals()
    {
        var flows = new Dictionary<string, decimal>
        {
            ["mdfPaid"] = 2, ["mdfPaid:EUR"] = 3_000m, ["mdfPaid:USD"] = 1_000m,
            ["mdfAttributedWon"] = 1, ["mdfAttributedWon:EUR"] = 10_000m, ["mdfAttributedWon:GBP"] = 500m,
        };
        var values = KpiFigures.Values(1, flows, new Dictionary<string, decimal>());
        values.MdfClaimsPaid.Should().Be(2);
        values.MdfAttributedDealsWon.Should().Be(1);
        values.MdfPaid.Should().Equal(new Dictionary<string, decimal> { ["EUR"] = 3_000m, ["USD"] = 1_000m });
        values.MdfReturnOnSpend.Should().Equal(new Dictionary<string, decimal> { ["EUR"] = 3.33m, ["USD"] = 0m }, "GBP was won but never paid: no ratio, currencies are not converted");
    }

    [Fact]
    public void An_application_counts_as_submitted_on_its_submission_day_and_approved_or_rejected_on_its_decision_day()
    {
        var application = Onboarding.ApplicationTransitionTests.Application();
        var submittedDay = Utc.DayOf(application.SubmittedAt);
        KpiFactRules.OfApplication(application, Utc).Select(f => (f.Metric, f.Day)).Should().Equal((KpiMetrics.ApplicationsSubmitted, submittedDay));

        var decidedAt = application.SubmittedAt.AddDays(3);
        var approved = application with { Status = Prm.Core.Onboarding.ApplicationStatus.Approved, Decisions = [new("requestInfo", null, "u", "U", application.SubmittedAt.AddDays(1)), new("approve", null, "u", "U", decidedAt)] };
        KpiFactRules.OfApplication(approved, Utc).Select(f => (f.Metric, f.Day)).Should().Equal((KpiMetrics.ApplicationsSubmitted, submittedDay), (KpiMetrics.ApplicationsApproved, Utc.DayOf(decidedAt)));
        var rejected = application with { Status = Prm.Core.Onboarding.ApplicationStatus.Rejected, Decisions = [new("reject", "no fit", "u", "U", decidedAt)] };
        KpiFactRules.OfApplication(rejected, Utc).Select(f => f.Metric).Should().Equal(KpiMetrics.ApplicationsSubmitted, KpiMetrics.ApplicationsRejected);
        KpiFactRules.OfApplication(application with { Status = Prm.Core.Onboarding.ApplicationStatus.Expired }, Utc).Should().ContainSingle("an expired application was submitted, never decided");
        KpiFactRow.From(KpiFactRules.OfApplication(application, Utc)[0]).Record.Should().StartWith("partner-applications/app_");
    }
}
