using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Mdf;

namespace Prm.Core.Tests.Mdf;

public class FundRequestTransitionTests
{
    private static readonly DateTimeOffset Now = Make.Now;
    private static readonly MdfSettings Rules = new();

    private static Money Eur(decimal amount) => new(amount, "EUR");

    private static FundRequest Submitted(decimal requested = 5_000m) => new()
    {
        Id = "mdr_1", BudgetId = "mdb_1", PartnerId = Make.PartnerId(), PartnerName = "Acme", Period = "2025", Status = FundRequestStatus.Submitted,
        ActivityType = MdfActivityType.Webinar, Title = "Webinar", Description = "Two sessions", StartDate = new DateOnly(2025, 4, 10), EndDate = new DateOnly(2025, 4, 12),
        RequestedAmount = Eur(requested), RequesterId = "usr_rep", RequesterName = "Rita", RequesterEmail = "rita@acme.com", SubmittedAt = Now,
        RemindAt = Now.AddHours(48), EscalateAt = Now.AddHours(96),
    };

    private static MdfDecisionRecord By(string decision, string id = "usr_cm1", string? reason = null) => new(decision, reason, id, id == "usr_cm1" ? "Carl Manager" : "Ada Admin", Now.AddHours(1));

    private static FundRequest Approved(decimal amount = 5_000m) =>
        Submitted(amount).Decide(MdfDecision.Approve, By("approve"), null, 80m, null, Rules, byAdmin: false).Updated;

    private static FundRequest WithClaim(MdfClaimStatus status, bool verifiedProof = true) => Approved() with
    {
        Claim = new MdfClaim
        {
            Id = "mdc_1", Status = status, ClaimedAmount = Eur(3_000m), CreatedAt = Now, CreatedById = "usr_rep", Submission = status == MdfClaimStatus.Submitted ? 1 : 0,
            Proofs = verifiedProof ? [new MdfProof("mdp_1", "b", "invoice.pdf", ProofStatus.Verified, "pdf", "application/pdf", 10, Now, Now)] : [],
        },
    };

    [Fact]
    public void Submitting_reserves_the_requested_amount_and_asks_the_reviewers_with_a_decision_link()
    {
        var change = Submitted().Submit(Rules);
        change.Moves.Should().Equal(new MdfMove(LedgerEntryKind.RequestSubmitted, Eur(5_000m), "mdr_1"));
        change.Notices.Single().Should().Match<MdfNotice>(n => n.To == MdfAudience.Reviewers && n.Link == MdfLinkKind.RequestDecision && n.LinkValidFor == TimeSpan.FromHours(192));
    }

    [Fact]
    public void Approval_within_the_threshold_books_the_approved_amount_against_the_requested_one_and_schedules_the_claim_window()
    {
        var change = Submitted().Decide(MdfDecision.Approve, By("approve"), Eur(4_000m), 50m, new DateOnly(2025, 6, 30), Rules, byAdmin: false);

        change.Updated.Status.Should().Be(FundRequestStatus.Approved);
        change.Updated.MaxClaim.Should().Be(Eur(2_000m));
        change.Moves.Should().Equal(new MdfMove(LedgerEntryKind.RequestApproved, Eur(4_000m), "mdr_1", Eur(5_000m)));
        change.Events.Single().Schedule!.Select(s => s.Step).Should().Equal(MdfStepKind.ActivityEnded, MdfStepKind.ClaimDeadlineReminder, MdfStepKind.ClaimDeadlineReminder, MdfStepKind.ClaimExpire);
    }

    [Fact]
    public void Above_the_threshold_the_first_approval_waits_for_another_admin_and_moves_no_money()
    {
        var first = Submitted(12_000m).Decide(MdfDecision.Approve, By("approve"), null, null, null, Rules, byAdmin: false);
        first.Updated.Status.Should().Be(FundRequestStatus.AwaitingSecondApproval);
        first.Moves.Should().BeEmpty();
        first.Notices.Single().To.Should().Be(MdfAudience.AdminsButFirstApprover);

        var byManager = () => first.Updated.Decide(MdfDecision.Approve, By("approve"), null, null, null, Rules, byAdmin: false);
        byManager.Should().Throw<ForbiddenException>();
        var sameAdmin = () => first.Updated.Decide(MdfDecision.Approve, By("approve", "usr_cm1"), null, null, null, Rules, byAdmin: true);
        sameAdmin.Should().Throw<ConflictException>().Which.Field.Should().Be("decision");

        var second = first.Updated.Decide(MdfDecision.Approve, By("approve", "usr_admin"), null, null, null, Rules, byAdmin: true);
        second.Updated.Status.Should().Be(FundRequestStatus.Approved);
        second.Updated.ApprovedAmount.Should().Be(Eur(12_000m), "the second approval takes the first one's amount");
    }

    [Fact]
    public void A_lowered_amount_below_the_threshold_needs_no_second_approval() =>
        Submitted(12_000m).Decide(MdfDecision.Approve, By("approve"), Eur(9_000m), null, null, Rules, byAdmin: false).Updated.Status.Should().Be(FundRequestStatus.Approved);

    [Fact]
    public void A_claim_deadline_before_the_activity_ends_is_refused()
    {
        var act = () => Submitted().Decide(MdfDecision.Approve, By("approve"), null, null, new DateOnly(2025, 4, 11), Rules, byAdmin: false);
        act.Should().Throw<ValidationFailedException>().Which.Errors.Should().ContainKey("claimDeadline");
    }

    [Fact]
    public void A_claim_deadline_at_the_end_of_time_is_a_422_not_an_overflow()
    {
        var act = () => Submitted().Decide(MdfDecision.Approve, By("approve"), null, null, DateOnly.MaxValue, Rules, byAdmin: false);
        act.Should().Throw<ValidationFailedException>().Which.Unprocessable.Should().BeTrue();
        Submitted().Decide(MdfDecision.Approve, By("approve"), null, null, new DateOnly(2025, 4, 12).AddDays(FundRequest.MaxClaimWindowDays), Rules, byAdmin: false)
            .Updated.Status.Should().Be(FundRequestStatus.Approved, "the last day of the window is allowed");
    }

    [Fact]
    public void Rejection_returns_the_pending_amount_and_a_second_decision_names_the_first()
    {
        var rejected = Submitted().Decide(MdfDecision.Reject, By("reject", reason: "Out of scope"), null, null, null, Rules, byAdmin: false);
        rejected.Moves.Should().Equal(new MdfMove(LedgerEntryKind.RequestRejected, Eur(5_000m), "mdr_1"));
        var again = () => rejected.Updated.Decide(MdfDecision.Approve, By("approve"), null, null, null, Rules, byAdmin: false);
        again.Should().Throw<ConflictException>().WithMessage("The request is Rejected: reject by Carl Manager at 2025-03-14 10:00 UTC.");
    }

    [Fact]
    public void Cancelling_returns_pending_or_reserved_money_but_not_once_a_claim_was_submitted()
    {
        Submitted().Cancel(By("cancel", "usr_rep"), byPartner: true).Moves.Single().Kind.Should().Be(LedgerEntryKind.RequestWithdrawn);
        Submitted().Cancel(By("cancel"), byPartner: false).Moves.Single().Kind.Should().Be(LedgerEntryKind.RequestCancelled);
        Approved().Cancel(By("cancel"), byPartner: false).Moves.Should().Equal(new MdfMove(LedgerEntryKind.Released, Eur(5_000m), "mdr_1"));
        var late = () => WithClaim(MdfClaimStatus.Submitted).Cancel(By("cancel"), byPartner: true);
        late.Should().Throw<ConflictException>().Which.Field.Should().Be("status");
    }

    [Fact]
    public void A_claim_needs_a_verified_proof_and_stays_within_the_reimbursement()
    {
        var noProof = () => WithClaim(MdfClaimStatus.Draft, verifiedProof: false).SubmitClaim(null, Rules, Now);
        noProof.Should().Throw<ValidationFailedException>().Which.Errors.Should().ContainKey("proofs");
        var tooMuch = () => WithClaim(MdfClaimStatus.Draft).SubmitClaim(new ClaimInput(new MoneyInput(4_500m, "EUR"), 10, null, null), Rules, Now);
        tooMuch.Should().Throw<ValidationFailedException>().Which.Errors.Should().ContainKey("claimedAmount.amount");
        var late = () => WithClaim(MdfClaimStatus.Draft).SubmitClaim(null, Rules, new DateTimeOffset(2025, 12, 1, 0, 0, 0, TimeSpan.Zero));
        late.Should().Throw<ValidationFailedException>().Which.Errors.Should().ContainKey("claimDeadline");

        var submitted = WithClaim(MdfClaimStatus.Draft).SubmitClaim(null, Rules, Now);
        submitted.Moves.Should().Equal(new MdfMove(LedgerEntryKind.ClaimSubmitted, Eur(3_000m), "mdc_1/1"));
    }

    [Fact]
    public void Approving_less_than_reserved_releases_the_rest_and_payment_is_final()
    {
        var approved = WithClaim(MdfClaimStatus.Submitted).DecideClaim(MdfDecision.Approve, Eur(2_500m), By("claim"));
        approved.Moves.Should().Equal(new MdfMove(LedgerEntryKind.ClaimApproved, Eur(2_500m), "mdc_1/1", Eur(3_000m)), new MdfMove(LedgerEntryKind.Released, Eur(2_500m), "mdr_1"));

        var paid = approved.Updated.Pay("PAY-1", "2025-05-01", By("claimPaid", "usr_admin"));
        paid.Updated.Status.Should().Be(FundRequestStatus.Closed);
        paid.Moves.Should().Equal(new MdfMove(LedgerEntryKind.Paid, Eur(2_500m), "mdc_1"));
        var twice = () => paid.Updated.Pay("PAY-2", "2025-05-02", By("claimPaid", "usr_admin"));
        twice.Should().Throw<ConflictException>().Which.Field.Should().Be("paymentReference");
    }

    [Fact]
    public void The_claim_deadline_releases_the_reservation_once()
    {
        var (outcome, change) = Approved().RunStep(new MdfStep("mdr_1", MdfStepKind.ClaimExpire), Rules, Now);
        outcome.Should().Be(StepOutcome.Done);
        change!.Moves.Should().Equal(new MdfMove(LedgerEntryKind.Released, Eur(5_000m), "mdr_1"));
        change.Updated.RunStep(new MdfStep("mdr_1", MdfStepKind.ClaimExpire), Rules, Now).Outcome.Should().Be(StepOutcome.DoneAlready);
        WithClaim(MdfClaimStatus.Submitted).RunStep(new MdfStep("mdr_1", MdfStepKind.ClaimExpire), Rules, Now).Outcome.Should().Be(StepOutcome.Closed);
    }

    [Fact]
    public void A_claim_returned_for_information_is_in_the_claim_window_again_and_the_deadline_expires_it_without_repeating_reminders()
    {
        var reminded = WithClaim(MdfClaimStatus.Draft).RunStep(new MdfStep("mdr_1", MdfStepKind.ClaimDeadlineReminder, DaysBefore: 14), Rules, Now).Change!.Updated;
        var returned = reminded with { Claim = reminded.Claim! with { Status = MdfClaimStatus.InfoRequested, Submission = 1 } };
        returned.RunStep(new MdfStep("mdr_1", MdfStepKind.ClaimDeadlineReminder, DaysBefore: 14), Rules, Now).Outcome.Should().Be(StepOutcome.DoneAlready);
        var (outcome, change) = returned.RunStep(new MdfStep("mdr_1", MdfStepKind.ClaimExpire), Rules, Now);
        outcome.Should().Be(StepOutcome.Done);
        change!.Updated.Status.Should().Be(FundRequestStatus.Expired);
        change.Updated.Claim!.Status.Should().Be(MdfClaimStatus.Expired);
        change.Moves.Should().Equal(new MdfMove(LedgerEntryKind.Released, Eur(5_000m), "mdr_1"));
    }

    [Fact]
    public void The_claim_schedule_is_one_rule_whether_read_from_the_request_or_from_the_dates_an_event_carries()
    {
        var approved = Approved();
        var before = new DateTimeOffset(2025, 4, 1, 0, 0, 0, TimeSpan.Zero);
        var schedule = approved.ClaimSchedule(Rules, before);
        schedule.Should().Equal(FundRequest.ClaimScheduleOf(approved.EndDate, approved.ClaimDeadline!.Value, Rules, before));
        var deadlineAt = new DateTimeOffset(approved.ClaimDeadline!.Value.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        schedule.Should().Equal(
            new MdfEvents.ScheduledStep(new DateTimeOffset(2025, 4, 13, 0, 0, 0, TimeSpan.Zero), MdfStepKind.ActivityEnded),
            new MdfEvents.ScheduledStep(deadlineAt.AddDays(-14), MdfStepKind.ClaimDeadlineReminder, 14),
            new MdfEvents.ScheduledStep(deadlineAt.AddDays(-3), MdfStepKind.ClaimDeadlineReminder, 3),
            new MdfEvents.ScheduledStep(deadlineAt, MdfStepKind.ClaimExpire));
        FundRequest.ClaimScheduleOf(approved.EndDate, approved.ClaimDeadline!.Value, Rules, deadlineAt.AddDays(-5)).Select(s => s.Step)
            .Should().Equal([MdfStepKind.ActivityEnded, MdfStepKind.ClaimDeadlineReminder, MdfStepKind.ClaimExpire], "a reminder whose time passed is not scheduled");
    }
}

public class MdfAccessTests
{
    private static readonly string Own = Make.PartnerId('a');

    [Theory]
    [InlineData("partnerUser", MdfOperation.Read, true)]
    [InlineData("partnerUser", MdfOperation.ActForPartner, true)]
    [InlineData("partnerUser", MdfOperation.Manage, false)]
    [InlineData("partnerUser", MdfOperation.Pay, false)]
    [InlineData("otherPartner", MdfOperation.Read, false)]
    [InlineData("otherPartner", MdfOperation.ActForPartner, false)]
    [InlineData("owningCm", MdfOperation.Read, true)]
    [InlineData("owningCm", MdfOperation.Manage, true)]
    [InlineData("owningCm", MdfOperation.ActForPartner, false)]
    [InlineData("owningCm", MdfOperation.Pay, false)]
    [InlineData("otherCm", MdfOperation.Read, false)]
    [InlineData("otherCm", MdfOperation.Manage, false)]
    [InlineData("admin", MdfOperation.Read, true)]
    [InlineData("admin", MdfOperation.Manage, true)]
    [InlineData("admin", MdfOperation.Pay, true)]
    public void Allows(string caller, MdfOperation operation, bool expected)
    {
        Caller who = caller switch
        {
            "partnerUser" => Make.PartnerUser(Own),
            "otherPartner" => Make.PartnerAdmin(Make.PartnerId('b'), "usr_other"),
            "owningCm" => Make.ChannelManager("usr_cm1"),
            "otherCm" => Make.ChannelManager("usr_cm2"),
            _ => Make.Admin(),
        };
        MdfAccess.Allows(who, operation, Own, "usr_cm1").Should().Be(expected);
    }
}
