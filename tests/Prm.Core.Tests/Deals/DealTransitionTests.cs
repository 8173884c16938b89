using Prm.Core.Common;
using Prm.Core.Deals;

namespace Prm.Core.Tests.Deals;

public class DealTransitionTests
{
    private static readonly DateTimeOffset Now = Make.Now;
    private static readonly DealSettings Rules = new();

    public static Deal Registration(string? partnerId = null, string submittedBy = "usr_rep") => new()
    {
        Id = DealIds.New(partnerId ?? Make.PartnerId(), Now),
        RegistrationNumber = "DR-250314-ABCDEF",
        PartnerId = partnerId ?? Make.PartnerId(),
        PartnerName = "Acme",
        ChannelManagerId = "usr_cm1",
        SubmittedBy = submittedBy,
        SubmittedByName = "Rita Rep",
        SubmittedByEmail = "rita@acme.com",
        Status = DealStatus.Draft,
        Customer = new DealCustomer("Contoso Ltd", "contoso.com", "DE", null, null, "contoso", ["contoso"]),
        Products = ["pl_core"],
        EstimatedValue = new Money(20_000m, "EUR"),
        ExpectedCloseDate = new DateOnly(2025, 6, 30),
        CreatedAt = Now,
        Conflict = new DealConflict("none", 0, [], [], false, false),
        UpdatedAt = Now,
    };

    private static readonly DealConflict Clean = new("none", 0, [], [], false, true);

    private static DealDecision By(string decision, string? reason = null, DateTimeOffset? at = null) => new(decision, reason, "usr_cm1", "Carl Manager", at ?? Now.AddHours(1));

    private static Deal UnderReview() => Registration().Submit(Clean, "d:contoso.com", autoApprove: false, Rules, Now).Deal;

    private static Deal Approved() => UnderReview().Approve(By("approve"), TimeSpan.FromDays(90), "d:contoso.com").Deal;

    [Fact]
    public void Submit_for_review_sets_the_review_deadlines_and_asks_the_reviewers_with_a_link()
    {
        var change = Registration().Submit(Clean, "d:contoso.com", autoApprove: false, Rules, Now);

        change.Deal.Status.Should().Be(DealStatus.UnderReview);
        change.Deal.SubmittedAt.Should().Be(Now);
        change.Deal.ReviewRemindAt.Should().Be(Now.AddHours(24));
        change.Deal.ReviewEscalateAt.Should().Be(Now.AddHours(48));
        change.Deal.ClaimKey.Should().Be("d:contoso.com");
        change.Action.Should().Be("deal.submitted");
        change.Events.Should().Equal(new DealRaised(DealEvents.Submitted));
        change.Notices.Select(n => (n.Template, n.To)).Should().Equal(("deal-under-review", DealAudience.RegisteringUser), ("deal-review", DealAudience.Reviewers));
        change.Notices[1].Link!.Decisions.Should().Equal("approve", "reject", "return");
        change.Notices[1].Link!.Kind.Should().Be(DealLink.ReviewKind);
    }

    [Fact]
    public void Auto_approval_protects_at_once_and_raises_submitted_then_approved()
    {
        var change = Registration().Submit(Clean, "d:contoso.com", autoApprove: true, Rules, Now);

        change.Deal.Status.Should().Be(DealStatus.Approved);
        change.Deal.ProtectedUntil.Should().Be(Now.AddDays(90));
        change.Deal.ReviewRemindAt.Should().BeNull();
        change.Deal.Decisions.Single().Decision.Should().Be("auto-approve");
        change.Events.Select(e => e.Type).Should().Equal(DealEvents.Submitted, DealEvents.Approved);
        change.Notices.Single().Template.Should().Be("deal-approved");
    }

    [Fact]
    public void A_resubmission_is_recorded_as_such()
    {
        var returned = UnderReview().Return(By("return", "Add the contact")).Deal;
        returned.Submit(Clean, "d:contoso.com", false, Rules, Now.AddDays(1)).Action.Should().Be("deal.resubmitted");
    }

    [Fact]
    public void Submitting_an_approved_registration_is_a_conflict_on_status()
    {
        var act = () => Approved().Submit(Clean, null, false, Rules, Now);
        act.Should().Throw<ConflictException>().Which.Field.Should().Be("status");
    }

    [Fact]
    public void Approve_starts_protection_holds_the_claim_and_tells_the_registering_user()
    {
        var at = Now.AddHours(1);
        var change = UnderReview().Approve(By("approve", at: at), TimeSpan.FromDays(30), "d:contoso.com");

        change.Deal.Status.Should().Be(DealStatus.Approved);
        change.Deal.ApprovedAt.Should().Be(at);
        change.Deal.ProtectedUntil.Should().Be(at.AddDays(30));
        change.Deal.Conflict.ClaimHeld.Should().BeTrue();
        change.Action.Should().Be(DealEvents.Approved);
        change.Notices.Single().Should().Be(new DealNotice("deal-approved", DealAudience.RegisteringUser));
    }

    [Theory]
    [InlineData("reject", DealStatus.Rejected, "deal-rejected")]
    [InlineData("return", DealStatus.Returned, "deal-returned")]
    public void Reject_and_return_give_up_the_claim_and_tell_the_reason(string decision, DealStatus status, string template)
    {
        var deal = UnderReview();
        var change = decision == "reject" ? deal.Reject(By(decision, "Duplicate")) : deal.Return(By(decision, "Duplicate"));

        change.Deal.Status.Should().Be(status);
        change.Deal.ClaimKey.Should().BeNull();
        change.Deal.Conflict.ClaimHeld.Should().BeFalse();
        change.Note.Should().Be("Duplicate");
        change.Events.Single().Reason.Should().Be("Duplicate");
        change.Notices.Single().Should().Be(new DealNotice(template, DealAudience.RegisteringUser, "Duplicate"));
    }

    [Fact]
    public void A_second_decision_names_who_decided_first_and_when()
    {
        var act = () => Approved().Reject(By("reject", "late"));
        act.Should().Throw<ConflictException>().WithMessage("Already decided (approve) by Carl Manager at 2025-03-14 10:00:00Z.")
            .Which.Field.Should().Be("decision");
    }

    [Theory]
    [InlineData(DealStatus.Draft, true)]
    [InlineData(DealStatus.UnderReview, true)]
    [InlineData(DealStatus.Approved, true)]
    [InlineData(DealStatus.Returned, true)]
    [InlineData(DealStatus.Rejected, false)]
    [InlineData(DealStatus.Won, false)]
    [InlineData(DealStatus.Expired, false)]
    public void Withdraw_is_open_until_the_registration_ended(DealStatus status, bool allowed)
    {
        var act = () => (Registration() with { Status = status }).Withdraw(By("withdraw"));
        if (allowed) act().Deal.Status.Should().Be(DealStatus.Withdrawn);
        else act.Should().Throw<ConflictException>();
    }

    [Fact]
    public void An_extension_request_is_refused_beyond_the_programs_extensions()
    {
        var deal = Approved();
        var first = deal.RequestExtension(Extension("ext_1"), Rules).Deal.DecideExtension("ext_1", By("approve")).Deal;

        var act = () => first.RequestExtension(Extension("ext_2"), Rules);
        act.Should().Throw<ValidationFailedException>().Which.Errors.Should().ContainKey("days");
        (first.RequestExtension(Extension("ext_2"), Rules with { MaxExtensions = 2 })).Deal.PendingExtension!.Id.Should().Be("ext_2");
    }

    [Fact]
    public void One_pending_extension_at_a_time()
    {
        var pending = Approved().RequestExtension(Extension("ext_1"), Rules).Deal;
        var act = () => pending.RequestExtension(Extension("ext_2"), Rules with { MaxExtensions = 5 });
        act.Should().Throw<ConflictException>().Which.Field.Should().Be("days");
    }

    [Fact]
    public void An_approved_extension_moves_the_protection_end_by_its_days_a_rejected_one_does_not()
    {
        var pending = Approved().RequestExtension(Extension("ext_1", days: 15), Rules).Deal;
        var end = pending.ProtectedUntil!.Value;

        var approved = pending.DecideExtension("ext_1", By("approve"));
        approved.Deal.ProtectedUntil.Should().Be(end.AddDays(15));
        approved.Events.Single().Type.Should().Be(DealEvents.Extended);
        approved.Action.Should().Be("deal.extension.approved");

        var rejected = pending.DecideExtension("ext_1", By("reject", "No"));
        rejected.Deal.ProtectedUntil.Should().Be(end);
        rejected.Events.Should().BeEmpty();
        rejected.Notices.Single().Extension!.Status.Should().Be("Rejected");
    }

    [Fact]
    public void Won_needs_an_approved_registration_and_its_currency()
    {
        var outcome = new DealOutcome("won", new Money(18_000m, "EUR"), new DateOnly(2025, 5, 1), null, "Rita Rep", Now);
        var act = () => UnderReview().RecordOutcome(outcome);
        act.Should().Throw<ConflictException>().Which.Field.Should().Be("result");

        var inDollars = () => Approved().RecordOutcome(outcome with { Amount = new Money(18_000m, "USD") });
        inDollars.Should().Throw<ValidationFailedException>().Which.Errors.Should().ContainKey("amount.currency");

        var won = Approved().RecordOutcome(outcome);
        won.Deal.Status.Should().Be(DealStatus.Won);
        won.Deal.ClaimKey.Should().BeNull();
        won.Events.Single().Type.Should().Be(DealEvents.Won);
    }

    [Fact]
    public void A_won_outcome_is_changed_only_by_vendor_staff_with_a_reason_to_lost_or_to_a_corrected_win()
    {
        var won = Approved().RecordOutcome(new DealOutcome("won", new Money(18_000m, "EUR"), new DateOnly(2025, 5, 1), null, "Rita Rep", Now)).Deal;
        var lost = new DealOutcome("lost", null, null, "Order cancelled", "Carl Manager", Now.AddDays(3));
        var byPartner = () => won.ChangeOutcome(lost, byVendor: false);
        byPartner.Should().Throw<ConflictException>().Which.Field.Should().Be("result");
        var noReason = () => won.ChangeOutcome(lost with { Reason = null }, byVendor: true);
        noReason.Should().Throw<ValidationFailedException>().Which.Errors.Should().ContainKey("reason");

        var toLost = won.ChangeOutcome(lost, byVendor: true);
        toLost.Deal.Status.Should().Be(DealStatus.Lost);
        toLost.Events.Single().Type.Should().Be(DealEvents.Lost);

        var corrected = won.ChangeOutcome(new DealOutcome("won", new Money(16_500m, "EUR"), new DateOnly(2025, 5, 2), "Discount agreed", "Carl Manager", Now.AddDays(3)), byVendor: true);
        corrected.Deal.Status.Should().Be(DealStatus.Won);
        corrected.Deal.Outcome!.Amount.Should().Be(new Money(16_500m, "EUR"));
        corrected.Events.Single().Type.Should().Be(DealEvents.OutcomeChanged);
        var unchanged = () => won.ChangeOutcome(won.Outcome! with { Reason = "again" }, byVendor: true);
        unchanged.Should().Throw<ConflictException>();
        var notWon = () => Approved().ChangeOutcome(lost, byVendor: true);
        notWon.Should().Throw<ConflictException>();
    }

    [Fact]
    public void Lost_is_open_while_under_review_or_returned_too()
    {
        var lost = new DealOutcome("lost", null, null, "Budget cut", "Rita Rep", Now);
        UnderReview().RecordOutcome(lost).Deal.Status.Should().Be(DealStatus.Lost);
        var act = () => (Registration() with { Status = DealStatus.Expired }).RecordOutcome(lost);
        act.Should().Throw<ConflictException>();
    }

    [Fact]
    public void Editing_a_customer_gives_up_the_claim_of_the_old_one_and_no_change_is_no_write()
    {
        var returned = UnderReview() with { Status = DealStatus.Returned };
        var same = returned.Edit(returned.Customer, returned.Products, returned.EstimatedValue, returned.ExpectedCloseDate, returned.Notes, returned.MdfRequestId, Now);
        same.Should().BeNull();

        var other = returned.Customer with { Domain = "fabrikam.com" };
        var edited = returned.Edit(other, returned.Products, returned.EstimatedValue, returned.ExpectedCloseDate, returned.Notes, returned.MdfRequestId, Now)!;
        edited.Deal.ClaimKey.Should().BeNull();
        edited.Events.Single().Type.Should().Be(DealEvents.Updated);

        var act = () => Approved().Edit(other, returned.Products, returned.EstimatedValue, returned.ExpectedCloseDate, null, null, Now);
        act.Should().Throw<ConflictException>().Which.Field.Should().Be("status");
    }

    [Fact]
    public void A_review_step_runs_once_per_submission_and_closes_once_decided()
    {
        var deal = UnderReview();
        var (result, change) = deal.RunStep(DealStep.ReviewRemind, Now, Now.AddHours(24));
        result.Should().Be(StepOutcome.Done);
        change!.Notices.Single().Should().Be(new DealNotice("deal-review-reminder", DealAudience.Reviewers));

        change.Deal.RunStep(DealStep.ReviewRemind, Now, Now.AddHours(25)).Result.Should().Be(StepOutcome.DoneAlready);
        deal.RunStep(DealStep.ReviewRemind, Now.AddSeconds(-1), Now.AddHours(24)).Result.Should().Be(StepOutcome.Closed);
        Approved().RunStep(DealStep.ReviewEscalate, Now, Now.AddHours(48)).Result.Should().Be(StepOutcome.Closed);
    }

    [Fact]
    public void Expiry_releases_the_claim_and_tells_the_user_and_the_assigned_reviewer()
    {
        var deal = Approved();
        var (result, change) = deal.RunStep(DealStep.Expire, deal.ProtectedUntil!.Value, deal.ProtectedUntil!.Value);

        result.Should().Be(StepOutcome.Done);
        change!.Deal.Status.Should().Be(DealStatus.Expired);
        change.Deal.ClaimKey.Should().BeNull();
        change.Events.Single().Type.Should().Be(DealEvents.Expired);
        change.Notices.Select(n => n.To).Should().Equal(DealAudience.RegisteringUser, DealAudience.AssignedReviewer);
        deal.RunStep(DealStep.Expire, deal.ProtectedUntil!.Value.AddDays(1), Now).Result.Should().Be(StepOutcome.Closed);
    }

    private static DealExtension Extension(string id, int days = 30) => new(id, days, "Customer delayed", "usr_rep", "Rita Rep", Now.AddDays(10), "Pending");
}
