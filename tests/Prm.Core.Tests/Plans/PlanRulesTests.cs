using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Mdf;
using Prm.Core.Plans;

namespace Prm.Core.Tests.Plans;

public class OnTrackRuleTests
{
    /// <summary>actual >= target x (elapsed share - 10 points): the rule as a table, its edges included.</summary>
    [Theory]
    [InlineData(0, 100, 0, "NotStarted")]      // the quarter has not begun: no verdict
    [InlineData(0, 100, 0.05, "OnTrack")]      // within the first 10 % nothing is expected yet
    [InlineData(0, 100, 0.10, "OnTrack")]
    [InlineData(0, 100, 0.11, "OffTrack")]     // 1 expected, 0 done
    [InlineData(40, 100, 0.50, "OnTrack")]     // exactly 50 % - 10 points
    [InlineData(39.99, 100, 0.50, "OffTrack")] // just below
    [InlineData(90, 100, 1.0, "OnTrack")]      // quarter over: 90 % of the target suffices
    [InlineData(89, 100, 1.0, "OffTrack")]
    [InlineData(0, 0, 0.75, "OnTrack")]        // a target of 0 is always met
    [InlineData(150, 100, 0.25, "OnTrack")]
    [InlineData(1_000, 1_000_000, 0.34, "OffTrack")]
    public void The_on_track_rule(double actual, double target, double elapsed, string expected)
    {
        PlanRules.Track((decimal)actual, (decimal)target, (decimal)elapsed).ToString().Should().Be(expected);
    }

    [Fact]
    public void What_the_rule_expects_by_now_is_never_negative()
    {
        PlanRules.Expected(100m, 0.05m).Should().Be(0m);
        PlanRules.Expected(100m, 0.5m).Should().Be(40m);
        PlanRules.Expected(100m, 1m).Should().Be(90m);
    }

    [Fact]
    public void The_elapsed_share_counts_today_and_stops_at_the_quarter_edges()
    {
        var q = new FiscalCalendar(1).FiscalQuarter(2027, 1); // 2027-01-01 .. 2027-03-31, 90 days
        PlanRules.ElapsedShare(q, new DateOnly(2026, 12, 31)).Should().Be(0m);
        PlanRules.ElapsedShare(q, new DateOnly(2027, 1, 1)).Should().Be(Math.Round(1m / 90, 4));
        PlanRules.ElapsedShare(q, new DateOnly(2027, 2, 14)).Should().Be(0.5m);
        PlanRules.ElapsedShare(q, new DateOnly(2027, 3, 31)).Should().Be(1m);
        PlanRules.ElapsedShare(q, new DateOnly(2027, 7, 1)).Should().Be(1m);
    }
}

public class PlanInputTests
{
    private static ObjectiveInput Objective(string? kind = "revenue", decimal?[]? targets = null, int? weight = 50, string? name = null) =>
        new(null, kind, name, targets ?? [100m, 200m, 300m, 400m], weight, null);

    private static ValidationFailedException Refused(params ObjectiveInput?[] objectives) =>
        FluentActions.Invoking(() => PlanRules.Build(objectives, null, "EUR", [], [])).Should().Throw<ValidationFailedException>().Which;

    [Fact]
    public void A_valid_plan_gets_ids_default_names_and_the_program_currency()
    {
        var (objectives, initiatives) = PlanRules.Build([Objective(), Objective("wonDeals", [1m, 2m, 3m, 4m])],
            [new InitiativeInput(null, "Joint webinar", "Anna", "2027-02-15", null, null)], "EUR", [], []);
        objectives.Should().HaveCount(2);
        objectives[0].Should().BeEquivalentTo(new { Kind = "revenue", Name = "Won revenue", Currency = "EUR", Weight = 50 });
        objectives[1].Currency.Should().BeNull();
        objectives.Select(o => o.Id).Should().OnlyHaveUniqueItems().And.AllSatisfy(id => id.Should().StartWith("obj_"));
        initiatives.Should().ContainSingle().Which.Status.Should().Be("open");
    }

    [Theory]
    [InlineData("profit")]
    [InlineData("Revenue")]
    [InlineData("")]
    public void An_unknown_kind_is_400_naming_the_kind(string kind)
    {
        var e = Refused(Objective(kind));
        e.Errors.Keys.Should().Equal("objectives[0].kind");
        e.Unprocessable.Should().BeFalse();
    }

    [Fact]
    public void A_negative_target_is_422_naming_the_quarter()
    {
        var e = Refused(Objective(targets: [100m, -1m, 0m, 0m]));
        e.Errors.Keys.Should().Equal("objectives[0].targets[1]");
        e.Unprocessable.Should().BeTrue();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public void A_weight_outside_1_to_100_is_422(int weight)
    {
        var e = Refused(Objective(weight: weight));
        e.Errors.Keys.Should().Equal("objectives[0].weight");
        e.Unprocessable.Should().BeTrue();
    }

    [Fact]
    public void Targets_are_four_numbers_and_counts_are_whole()
    {
        Refused(Objective(targets: [1m, 2m, 3m])).Errors.Keys.Should().Equal("objectives[0].targets");
        Refused(Objective("wonDeals", [1.5m, 2m, 3m, 4m])).Errors.Keys.Should().Equal("objectives[0].targets[0]");
    }

    [Fact]
    public void A_custom_objective_needs_a_name_and_an_unknown_id_is_refused()
    {
        Refused(Objective("custom")).Errors.Keys.Should().Equal("objectives[0].name");
        var e = FluentActions.Invoking(() => PlanRules.Build([Objective() with { Id = "obj_unknown" }], null, "EUR", ["obj_known"], [])).Should().Throw<ValidationFailedException>().Which;
        e.Errors.Keys.Should().Equal("objectives[0].id");
    }

    [Fact]
    public void Initiatives_name_their_bad_fields()
    {
        var e = FluentActions.Invoking(() => PlanRules.Build([Objective()], [new InitiativeInput(null, "", "Anna", "15.02.2027", "finished", null)], "EUR", [], []))
            .Should().Throw<ValidationFailedException>().Which;
        e.Errors.Keys.Should().BeEquivalentTo("initiatives[0].title", "initiatives[0].dueDate", "initiatives[0].status");
    }
}

public class PlanTransitionTests
{
    private static readonly DateTimeOffset Now = new(2027, 2, 1, 9, 0, 0, TimeSpan.Zero);
    private static readonly Caller Cm = new("usr_cm", "cm@vendor.example", "Carla CM", [AppRoles.ChannelManager], null, null);
    private static readonly Caller PartnerAdmin = new("usr_pa", "anna@northwind.example", "Anna", [], "ptn_00000000000000000000000000000001", PartnerRole.PartnerAdmin);

    private static BusinessPlan Draft()
    {
        var (objectives, initiatives) = PlanRules.Build([new ObjectiveInput(null, "wonDeals", null, [1m, 2m, 3m, 4m], 60, null)],
            [new InitiativeInput(null, "Webinar", "Anna", "2027-03-01", null, null)], "EUR", [], []);
        return new BusinessPlan
        {
            Id = PlanIds.New("ptn_00000000000000000000000000000001"),
            PartnerId = "ptn_00000000000000000000000000000001",
            PartnerName = "Northwind",
            FiscalYear = 2027,
            Status = "Draft",
            Version = 1,
            Title = "FY2027",
            Objectives = objectives,
            Initiatives = initiatives,
            CreatedBy = "Carla",
            CreatedAt = Now,
            UpdatedAt = Now,
        };
    }

    private static BusinessPlan Accepted(bool yearBegun = true) => Draft().Propose(Now).Updated.Accept(PartnerAdmin, yearBegun, Now).Updated;

    [Fact]
    public void Draft_to_proposed_to_active_when_the_year_has_begun()
    {
        var proposed = Draft().Propose(Now);
        proposed.Updated.Status.Should().Be("Proposed");
        proposed.Notice!.Kind.Should().Be(PlanNoticeKind.Proposed);
        var accepted = proposed.Updated.Accept(PartnerAdmin, yearBegun: true, Now);
        accepted.Updated.Should().BeEquivalentTo(new { Status = "Active", AcceptedVersion = 1, FirstAcceptedAt = (DateTimeOffset?)Now, ActivatedAt = (DateTimeOffset?)Now });
        accepted.Events.Select(e => e(Now).Type).Should().Equal(PlanEvents.Accepted, PlanEvents.Activated);
    }

    [Fact]
    public void Accepted_before_the_year_then_activated_once()
    {
        var plan = Accepted(yearBegun: false);
        plan.Status.Should().Be("Accepted");
        var active = plan.Activate(Now).Updated;
        active.Status.Should().Be("Active");
        active.Activate(Now).None.Should().BeTrue("a repeated activation changes nothing");
    }

    [Theory]
    [InlineData("Draft")]
    [InlineData("Accepted")]
    public void Only_a_proposed_plan_is_accepted(string status)
    {
        var plan = status == "Draft" ? Draft() : Accepted(false);
        FluentActions.Invoking(() => plan.Accept(PartnerAdmin, true, Now)).Should().Throw<ConflictException>().Which.Field.Should().Be("status");
    }

    [Fact]
    public void Editing_a_locked_plan_is_409_naming_what_changed()
    {
        var plan = Accepted();
        var more = plan.Objectives.Select(o => o with { Targets = [5m, 5m, 5m, 5m] }).ToList();
        var e = FluentActions.Invoking(() => plan.Edit(plan.Title, more, plan.Initiatives, Now)).Should().Throw<ConflictException>().Which;
        e.Field.Should().Be("objectives");
        e.Message.Should().Contain("/versions");
    }

    [Fact]
    public void A_locked_plan_takes_initiative_progress_in_place()
    {
        var plan = Accepted();
        var done = plan.Initiatives.Select(i => i with { Status = "done" }).ToList();
        var change = plan.Edit(plan.Title, plan.Objectives, done, Now);
        change.Updated.Should().BeEquivalentTo(new { Status = "Active", Version = 1 });
        change.Updated.Initiatives[0].Status.Should().Be("done");
    }

    [Fact]
    public void A_new_version_carries_its_diff_and_needs_acceptance_again()
    {
        var plan = Accepted();
        var objective = plan.Objectives[0];
        var change = plan.NewVersion(plan.Title, [objective with { Targets = [1m, 2m, 3m, 10m] }], plan.Initiatives, "Q4 push", Cm, Now);
        change.Updated.Should().BeEquivalentTo(new { Status = "Proposed", Version = 2, AcceptedVersion = 1 });
        change.NewVersion!.Changes.Should().Equal(new Audit.FieldChange($"objectives.{objective.Id}.targets.q4", "4", "10"));
        change.NewVersion.Reason.Should().Be("Q4 push");
        change.Updated.Accept(PartnerAdmin, true, Now).Updated.AcceptedVersion.Should().Be(2);
    }

    [Fact]
    public void A_new_version_is_for_locked_plans_only_and_must_change_something()
    {
        FluentActions.Invoking(() => Draft().NewVersion("x", Draft().Objectives, [], null, Cm, Now)).Should().Throw<ConflictException>();
        var plan = Accepted();
        FluentActions.Invoking(() => plan.NewVersion(plan.Title, plan.Objectives, plan.Initiatives, null, Cm, Now)).Should().Throw<ValidationFailedException>();
    }

    [Fact]
    public void Reviews_begin_with_acceptance_and_a_recorded_review_stops_the_reminder()
    {
        FluentActions.Invoking(() => Draft().RecordReview(Cm, 1, "notes", [], _ => true, Now)).Should().Throw<ConflictException>();
        var plan = Accepted();
        FluentActions.Invoking(() => plan.RecordReview(Cm, 3, "notes", [], q => q <= 1, Now)).Should().Throw<ValidationFailedException>().Which.Errors.Keys.Should().Equal("quarter");
        var reviewed = plan.RecordReview(Cm, 1, "Pipeline review", ["Add a webinar"], _ => true, Now).Updated;
        reviewed.Reviews.Should().ContainSingle().Which.Decisions.Should().Equal("Add a webinar");
        var agenda = new PlanEvents.ReviewDueData(plan.Id, plan.PartnerId, 2027, 1, new DateOnly(2027, 3, 31), []);
        reviewed.MarkReminder(1, agenda, Now).None.Should().BeTrue();
        var marked = plan.MarkAgenda(1, agenda, Now).Updated;
        marked.MarkAgenda(1, agenda, Now).None.Should().BeTrue("the agenda goes out once per quarter");
    }
}

public class PlanScheduleTests
{
    private static readonly FiscalCalendar Fiscal = new(1);

    private static BusinessPlan Plan(string status, DateTimeOffset firstAccepted, IReadOnlyList<PlanReview>? reviews = null, IReadOnlyList<PlanReviewMarks>? marks = null) => new()
    {
        Id = "jbp_x",
        PartnerId = "ptn_x",
        PartnerName = "Northwind",
        FiscalYear = 2027,
        Status = status,
        Version = 1,
        AcceptedVersion = 1,
        Title = "t",
        Objectives = [],
        Initiatives = [],
        CreatedBy = "c",
        CreatedAt = firstAccepted,
        UpdatedAt = firstAccepted,
        FirstAcceptedAt = firstAccepted,
        Reviews = reviews ?? [],
        ReviewMarks = marks ?? [],
    };

    private static DateTimeOffset Utc(int y, int m, int d) => new(y, m, d, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void An_accepted_plan_activates_reviews_each_quarter_and_closes_at_the_year_end()
    {
        var settings = new PlanSettings();
        var deadlines = PlanSchedule.Deadlines(Plan("Accepted", Utc(2026, 11, 1)), Fiscal, TimeZoneInfo.Utc, settings);
        deadlines.First().Should().Be(new PlanDeadline(Utc(2027, 1, 1), PlanStepKind.Activate, 0));
        deadlines.Where(d => d.Kind == PlanStepKind.ReviewDue).Select(d => d.At).Should().Equal(Utc(2027, 3, 18), Utc(2027, 6, 17), Utc(2027, 9, 17), Utc(2027, 12, 18));
        deadlines.Where(d => d.Kind == PlanStepKind.ReviewReminder).Select(d => d.At).Should().Equal(Utc(2027, 4, 8), Utc(2027, 7, 8), Utc(2027, 10, 8), Utc(2028, 1, 8));
        deadlines.Should().Contain(new PlanDeadline(Utc(2028, 1, 1), PlanStepKind.Close, 0));
        deadlines.Select(d => d.At).Should().BeInAscendingOrder();
    }

    [Fact]
    public void Quarters_that_ended_before_the_acceptance_and_done_steps_are_left_out()
    {
        var plan = Plan("Active", Utc(2027, 5, 10), reviews: [new PlanReview(2, "n", [], "u", "U", Utc(2027, 6, 20))], marks: [new PlanReviewMarks(2, Utc(2027, 6, 17), null)]);
        var deadlines = PlanSchedule.Deadlines(plan, Fiscal, TimeZoneInfo.Utc, new PlanSettings());
        deadlines.Should().NotContain(d => d.Quarter == 1);
        deadlines.Should().NotContain(d => d.Quarter == 2, "its agenda went out and its review is recorded");
        deadlines.Should().NotContain(d => d.Kind == PlanStepKind.Activate);
        deadlines.Count(d => d.Quarter == 3).Should().Be(2);
    }

    [Fact]
    public void A_plan_never_accepted_has_no_deadlines()
    {
        var plan = Plan("Proposed", Utc(2027, 1, 1)) with { FirstAcceptedAt = null, AcceptedVersion = null };
        PlanSchedule.Deadlines(plan, Fiscal, TimeZoneInfo.Utc, new PlanSettings()).Should().BeEmpty();
    }
}
