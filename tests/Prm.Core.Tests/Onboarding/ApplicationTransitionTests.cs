using Prm.Core.Approvals;
using Prm.Core.Common;
using Prm.Core.Onboarding;
using Prm.Core.Partners;

namespace Prm.Core.Tests.Onboarding;

public class ApplicationTransitionTests
{
    private static readonly DateTimeOffset Now = Make.Now;
    private static readonly OnboardingSettings Rules = new();

    public static PartnerApplication Application(string? assigneeId = "usr_cm1") => new()
    {
        Id = "app_" + new string('1', 32),
        Status = ApplicationStatus.UnderReview,
        Company = new ApplicantCompany("Contoso GmbH", "https://contoso.com", "contoso.com", "DE", "emea", "11-50", ["software"], PartnerType.Reseller),
        Applicant = new ApplicantPerson("Alex Applicant", "alex@contoso.com", null, null),
        AcceptedTermsVersion = "2026-01",
        AcceptedPrivacyVersion = "2026-01",
        SubmittedAt = Now,
        Screening = new Screening([], [], 95, []),
        AssigneeId = assigneeId,
        Deadlines = Rules.ReviewDeadlinesFrom(Now),
        StatusTokenHash = "hash",
    };

    private static ApplicationDecision By(string decision, string? reason = null, DateTimeOffset? at = null) => new(decision, reason, "usr_cm1", "Carl Manager", at ?? Now.AddHours(1));

    private static PartnerApplication InfoRequested() => Application().RequestInfo(By("requestInfo", "Which vendors?"), "tokenhash", Now.AddDays(10)).Application;

    [Fact]
    public void A_submission_sends_the_receipt_and_asks_the_reviewers_with_links()
    {
        var change = (Application() with { Screening = new Screening(["freeMailDomain"], [], 40, []) }).Submitted();

        change.Action.Should().Be("application.submitted");
        change.Events.Should().Equal(new ApplicationRaised(ApplicationEvents.Submitted));
        change.Notices.Select(n => (n.Template, n.To, n.DecisionLink)).Should().Equal(
            ("application-received", ApplicationAudience.Applicant, false), ("application-assigned", ApplicationAudience.Reviewers, true));
        change.Note.Should().Be("Flags: freeMailDomain");
    }

    [Fact]
    public void Approval_names_the_partner_it_becomes_and_its_tier_and_tells_the_applicant()
    {
        var change = Application().Approve(By("approve", "Strong fit"), PartnerTier.Silver);

        change.Application.Status.Should().Be(ApplicationStatus.Approved);
        change.Application.PartnerId.Should().Be(PartnerApplication.PartnerIdOf(Application().Id));
        change.Application.Tier.Should().Be(PartnerTier.Silver);
        change.Application.Decisions.Single().Decision.Should().Be("approve");
        change.Action.Should().Be("application.approved");
        change.Events.Should().Equal(new ApplicationRaised(ApplicationEvents.Approved));
        change.Notices.Should().Equal(new ApplicationNotice("application-approved", ApplicationAudience.Applicant));
        change.Note.Should().Be("Strong fit");
    }

    [Fact]
    public void The_partner_and_its_first_admin_have_ids_derived_from_the_application()
    {
        var id = Application().Id;
        Ids.LooksLike(PartnerApplication.PartnerIdOf(id), "ptn").Should().BeTrue();
        Ids.LooksLike(PartnerApplication.AdminUserIdOf(id), "usr").Should().BeTrue();
        PartnerApplication.PartnerIdOf(id).Should().Be(PartnerApplication.PartnerIdOf(id), "every approval attempt names the same partner");
        PartnerApplication.PartnerIdOf("app_" + new string('2', 32)).Should().NotBe(PartnerApplication.PartnerIdOf(id));
    }

    [Fact]
    public void Rejection_is_final_and_tells_the_applicant_why()
    {
        var change = InfoRequested().Reject(By("reject", "Outside our markets"));

        change.Application.Status.Should().Be(ApplicationStatus.Rejected);
        change.Application.InfoTokenHash.Should().BeNull("the answer link dies with the decision");
        change.Application.PartnerId.Should().BeNull();
        change.Events.Should().Equal(new ApplicationRaised(ApplicationEvents.Rejected, "Outside our markets"));
        change.Notices.Should().Equal(new ApplicationNotice("application-rejected", ApplicationAudience.Applicant, "Outside our markets"));
    }

    [Theory]
    [InlineData("approve")]
    [InlineData("reject")]
    [InlineData("requestInfo")]
    public void A_decided_application_refuses_every_decision_naming_who_decided(string decision)
    {
        var approved = Application().Approve(By("approve"), PartnerTier.Registered).Application;
        Action act = decision switch
        {
            "approve" => () => approved.Approve(By("approve"), PartnerTier.Gold),
            "reject" => () => approved.Reject(By("reject", "late")),
            _ => () => approved.RequestInfo(By("requestInfo", "late"), "h", Now.AddDays(1)),
        };
        var conflict = act.Should().Throw<ConflictException>().Which;
        conflict.Field.Should().Be("decision");
        conflict.Message.Should().Contain("Already decided (approve) by Carl Manager at 2025-03-14 10:00:00Z");
    }

    [Fact]
    public void An_expired_application_can_no_longer_be_decided()
    {
        var expired = Application().RunStep(ReviewStep.Expire, Application().Deadlines.ExpiresAt, Now.AddDays(14)).Change!.Application;
        expired.Status.Should().Be(ApplicationStatus.Expired);
        var act = () => expired.Approve(By("approve"), PartnerTier.Registered);
        act.Should().Throw<ConflictException>().Which.Field.Should().Be("decision");
    }

    [Fact]
    public void A_request_for_information_parks_the_review_until_the_answer_is_due()
    {
        var change = Application().RequestInfo(By("requestInfo", "Which vendors?"), "tokenhash", Now.AddDays(14));

        change.Application.Status.Should().Be(ApplicationStatus.InfoRequested);
        change.Application.InfoRequest.Should().Be("Which vendors?");
        change.Application.InfoDueAt.Should().Be(Now.AddDays(14));
        change.Application.InfoTokenHash.Should().Be("tokenhash");
        change.Application.Deadlines.Should().Be(Application().Deadlines, "the answer sets the next deadlines");
        change.Events.Should().Equal(new ApplicationRaised(ApplicationEvents.InfoRequested, "Which vendors?"));
        change.Notices.Should().Equal(new ApplicationNotice("application-info-requested", ApplicationAudience.Applicant, "Which vendors?", AskedBy: "Carl Manager"));
    }

    [Fact]
    public void One_request_for_information_at_a_time()
    {
        var act = () => InfoRequested().RequestInfo(By("requestInfo", "again"), "h2", Now.AddDays(20));
        act.Should().Throw<ConflictException>().WithMessage("*requested already*");
    }

    [Fact]
    public void The_answer_starts_a_new_review_cycle_and_sends_the_reviewers_new_links()
    {
        var answeredAt = Now.AddDays(2);
        var change = InfoRequested().AnswerInfo("Contoso and Litware.", answeredAt, Rules.ReviewDeadlinesFrom(answeredAt));

        change.Application.Status.Should().Be(ApplicationStatus.UnderReview);
        change.Application.InfoAnswer.Should().Be("Contoso and Litware.");
        change.Application.InfoTokenHash.Should().BeNull("the answer link works once");
        change.Application.Deadlines.Should().Be(Rules.ReviewDeadlinesFrom(answeredAt));
        change.Application.Decisions.Last().Should().Be(new ApplicationDecision("infoAnswered", null, "applicant", "Alex Applicant", answeredAt));
        change.Events.Should().Equal(new ApplicationRaised(ApplicationEvents.InfoAnswered));
        change.Notices.Should().Equal(new ApplicationNotice("application-info-answered", ApplicationAudience.Reviewers, DecisionLink: true));
    }

    [Fact]
    public void An_answer_is_refused_when_nothing_waits_for_it_or_too_late()
    {
        var notWaiting = () => Application().AnswerInfo("x", Now, Rules.ReviewDeadlinesFrom(Now));
        notWaiting.Should().Throw<ConflictException>().Which.Field.Should().Be("token");
        var late = () => InfoRequested().AnswerInfo("x", Now.AddDays(11), Rules.ReviewDeadlinesFrom(Now.AddDays(11)));
        late.Should().Throw<LinkExpiredException>();
        var lapsed = () => (InfoRequested() with { Status = ApplicationStatus.Expired }).AnswerInfo("x", Now.AddMinutes(1), Rules.ReviewDeadlinesFrom(Now.AddMinutes(1)));
        lapsed.Should().Throw<LinkExpiredException>("an application that lapsed with another deadline took the answer link with it (410, not 409)");
    }

    [Fact]
    public void Review_steps_run_once_per_cycle_and_close_when_the_application_moved_on()
    {
        var a = Application();
        var cycle = a.Deadlines.ExpiresAt;

        var (result, change) = a.RunStep(ReviewStep.Remind, cycle, Now.AddHours(24));
        result.Should().Be(StepOutcome.Done);
        change!.Action.Should().Be("application.reminded");
        change.Notices.Should().Equal(new ApplicationNotice("application-reminder", ApplicationAudience.Reviewers));
        change.Application.RunStep(ReviewStep.Remind, cycle, Now.AddHours(25)).Result.Should().Be(StepOutcome.DoneAlready);

        var escalated = change.Application.RunStep(ReviewStep.Escalate, cycle, Now.AddHours(48)).Change!;
        escalated.Notices.Should().Equal(new ApplicationNotice("application-escalated", ApplicationAudience.Admins, DecisionLink: true));
        escalated.Events.Should().BeEmpty();

        a.RunStep(ReviewStep.Remind, cycle.AddDays(1), Now).Result.Should().Be(StepOutcome.Closed, "another cycle's step");
        a.Reject(By("reject", "no")).Application.RunStep(ReviewStep.Remind, cycle, Now).Result.Should().Be(StepOutcome.Closed);
    }

    [Fact]
    public void While_information_is_requested_only_the_answer_deadline_expires_the_application()
    {
        var waiting = InfoRequested();
        waiting.RunStep(ReviewStep.Remind, waiting.Deadlines.ExpiresAt, Now).Result.Should().Be(StepOutcome.Closed);
        waiting.RunStep(ReviewStep.Expire, waiting.Deadlines.ExpiresAt, Now).Result.Should().Be(StepOutcome.Closed, "the review cycle's expiry waits for the answer");

        var (result, change) = waiting.RunStep(ReviewStep.Expire, waiting.InfoDueAt!.Value, Now.AddDays(10));
        result.Should().Be(StepOutcome.Done);
        change!.Application.Status.Should().Be(ApplicationStatus.Expired);
        change.Events.Should().Equal(new ApplicationRaised(ApplicationEvents.Expired));
        change.Notices.Should().Equal(new ApplicationNotice("application-expired", ApplicationAudience.Applicant, Unanswered: true));
        var late = () => change.Application.AnswerInfo("Too late.", waiting.InfoDueAt!.Value.AddSeconds(1), Rules.ReviewDeadlinesFrom(Now.AddDays(11)));
        late.Should().Throw<LinkExpiredException>("an answer after its due time is 410, also once the application expired");
    }

    [Fact]
    public void An_answered_application_is_not_expired_by_the_answer_deadline_and_its_new_cycle_reminds_again()
    {
        var reminded = Application().RunStep(ReviewStep.Remind, Application().Deadlines.ExpiresAt, Now.AddHours(24)).Change!.Application;
        var waiting = reminded.RequestInfo(By("requestInfo", "Which vendors?", Now.AddHours(30)), "h", Now.AddDays(3)).Application;
        var answeredAt = Now.AddDays(2);
        var answered = waiting.AnswerInfo("Litware.", answeredAt, Rules.ReviewDeadlinesFrom(answeredAt)).Application;

        answered.RunStep(ReviewStep.Expire, waiting.InfoDueAt!.Value, Now.AddDays(3)).Result.Should().Be(StepOutcome.Closed);
        answered.RunStep(ReviewStep.Remind, answered.Deadlines.ExpiresAt, answeredAt.AddHours(24)).Result.Should().Be(StepOutcome.Done, "a new cycle has its own reminder");
    }
}
