using Prm.Core.Common;
using Prm.Core.Training;

namespace Prm.Core.Tests.Training;

public class ExamScoringTests
{
    private static readonly Question Single = new("q1", "One?", QuestionKind.Single, [new("a", "A"), new("b", "B")], ["a"], 2);
    private static readonly Question Multi = new("q2", "Two?", QuestionKind.Multiple, [new("a", "A"), new("b", "B"), new("c", "C")], ["a", "c"], 3);
    private static readonly Question Third = new("q3", "Three?", QuestionKind.Single, [new("x", "X"), new("y", "Y")], ["y"], 5);
    private static readonly IReadOnlyList<Question> Drawn = [Single, Multi, Third];

    public static TheoryData<string[][], int, int> Cases => new()
    {
        // answers as [questionId, option...]; expected points and percent (rounded down)
        { [["q1", "a"], ["q2", "a", "c"], ["q3", "y"]], 10, 100 },
        { [["q1", "a"], ["q2", "c", "a"], ["q3", "x"]], 5, 50 },
        { [["q1", "b"], ["q2", "a"], ["q3", "y"]], 5, 50 },          // a partly right multiple choice scores nothing
        { [["q2", "a", "b", "c"]], 0, 0 },                            // too many options is wrong
        { [], 0, 0 },                                                 // nothing answered
        { [["q1", "a"], ["q3", "y"]], 7, 70 },
        { [["q2", "a", "c"], ["q3", "y"]], 8, 80 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Scores_exactly_right_answers_with_their_points(string[][] answers, int points, int percent)
    {
        var result = ExamScoring.Score(Drawn, answers.Select(a => new SubmittedAnswer(a[0], a[1..])).ToList());
        result.Points.Should().Be(points);
        result.MaxPoints.Should().Be(10);
        result.Percent.Should().Be(percent);
        result.Answers.Should().HaveCount(3, "every drawn question is recorded, answered or not");
    }

    [Fact]
    public void The_percentage_rounds_down_so_just_below_the_pass_score_fails()
    {
        var questions = Enumerable.Range(1, 6).Select(i => new Question($"q{i}", "?", QuestionKind.Single, [new("a", "A"), new("b", "B")], ["a"], 1)).ToList();
        var result = ExamScoring.Score(questions, questions.Take(5).Select(q => new SubmittedAnswer(q.Id, ["a"])).ToList());
        result.Percent.Should().Be(83); // 5/6 = 83.3
        var four = ExamScoring.Score(questions.Take(5).ToList(), questions.Take(4).Select(q => new SubmittedAnswer(q.Id, ["a"])).ToList());
        four.Percent.Should().Be(80);
    }

    public static TheoryData<string[][], string> BadAnswers => new()
    {
        { [["q9", "a"]], "answers[0].questionId" },
        { [["q1", "a"], ["q1", "b"]], "answers[1].questionId" },
        { [["q1", "z"]], "answers[0].selected" },
        { [["q1", "a", "b"]], "answers[0].selected" },
        { [["q2", "a", "a"]], "answers[0].selected" },
    };

    [Theory]
    [MemberData(nameof(BadAnswers))]
    public void Unknown_questions_duplicates_and_foreign_options_name_the_field(string[][] answers, string field)
    {
        var act = () => ExamScoring.Score(Drawn, answers.Select(a => new SubmittedAnswer(a[0], a[1..])).ToList());
        act.Should().Throw<ValidationFailedException>().Which.Errors.Keys.Should().Contain(field);
    }

    [Fact]
    public void A_draw_takes_the_configured_number_of_distinct_questions()
    {
        var exam = new Exam(Enumerable.Range(1, 20).Select(i => new Question($"q{i}", "?", QuestionKind.Single, [new("a", "A"), new("b", "B")], ["a"], 1)).ToList(), 7, 80, 3, TimeSpan.FromHours(24), TimeSpan.FromMinutes(30));
        var drawn = ExamScoring.Draw(exam);
        drawn.Should().HaveCount(7);
        drawn.Select(q => q.Id).Should().OnlyHaveUniqueItems();
    }
}

public class AttemptTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);
    private static readonly Question Q = new("q1", "?", QuestionKind.Single, [new("a", "A"), new("b", "B")], ["a"], 1);
    private static readonly Exam Exam = new([Q], 1, 80, 3, TimeSpan.FromHours(24), TimeSpan.FromMinutes(30));

    private static Attempt Open(DateTimeOffset at) => new()
    {
        Id = "att_" + new string('a', 48), UserId = "usr_" + new string('a', 32), CourseId = "crs_1", CourseVersion = 1, Questions = [Q], StartedAt = at, Deadline = at + Exam.TimeLimit, PassScore = 80,
    };

    [Fact]
    public void A_submit_in_time_with_the_right_answer_passes_and_records_it()
    {
        var done = Open(T0).Submit([new SubmittedAnswer("q1", ["a"])], T0.AddMinutes(10));
        done.Status.Should().Be(AttemptStatus.Passed);
        done.Score.Should().Be(100);
        done.Answers.Should().ContainSingle().Which.Selected.Should().Equal("a");
    }

    [Fact]
    public void A_submit_after_the_time_limit_fails_whatever_the_answers()
    {
        var done = Open(T0).Submit([new SubmittedAnswer("q1", ["a"])], T0.AddMinutes(30).AddTicks(1));
        done.Status.Should().Be(AttemptStatus.Failed);
        done.Late.Should().BeTrue();
        Open(T0).Submit([new SubmittedAnswer("q1", ["a"])], T0.AddMinutes(30)).Status.Should().Be(AttemptStatus.Passed, "the deadline itself is still in time");
    }

    [Fact]
    public void A_second_submit_is_a_conflict()
    {
        var done = Open(T0).Submit([new SubmittedAnswer("q1", ["b"])], T0.AddMinutes(1));
        var act = () => done.Submit([new SubmittedAnswer("q1", ["a"])], T0.AddMinutes(2));
        act.Should().Throw<ConflictException>();
    }

    private static Attempt Failed(DateTimeOffset at) => Open(at).Submit([new SubmittedAnswer("q1", ["b"])], at.AddMinutes(5));

    public static TheoryData<int, bool, double?> CooldownCases => new()
    {
        // minutes after the failed submit (at T0+5 min), allowed?, expected Retry-After seconds when refused
        { 60, false, (24 * 60 - 60) * 60 },
        { 24 * 60 - 1, false, 60 },
        { 24 * 60, true, null },
    };

    [Theory]
    [MemberData(nameof(CooldownCases))]
    public void The_cooldown_after_a_failure_is_a_429_with_the_wait(int minutesAfter, bool allowed, double? retryAfter)
    {
        var failedAt = T0.AddMinutes(5);
        var act = () => AttemptRules.Check(Exam, [Failed(T0)], TimeSpan.FromDays(30), failedAt.AddMinutes(minutesAfter));
        if (allowed) act.Should().NotThrow();
        else act.Should().Throw<TooManyRequestsException>().Which.RetryAfter.TotalSeconds.Should().Be(retryAfter!.Value);
    }

    [Fact]
    public void At_most_max_attempts_per_window_then_429_until_the_oldest_leaves_it()
    {
        var window = TimeSpan.FromDays(30);
        var attempts = new[] { Failed(T0), Failed(T0.AddDays(2)), Failed(T0.AddDays(4)) };
        var now = T0.AddDays(10);
        var act = () => AttemptRules.Check(Exam, attempts, window, now);
        act.Should().Throw<TooManyRequestsException>().Which.RetryAfter.Should().Be(T0 + window - now);
        AttemptRules.Check(Exam, attempts, window, T0 + window + TimeSpan.FromSeconds(1));
        AttemptRules.Check(Exam, attempts.Take(2).ToList(), window, now);
    }

    [Fact]
    public void An_open_attempt_within_its_limit_blocks_a_new_one_an_expired_open_one_counts_as_failed()
    {
        var act = () => AttemptRules.Check(Exam, [Open(T0)], TimeSpan.FromDays(30), T0.AddMinutes(10));
        act.Should().Throw<ConflictException>();
        var later = () => AttemptRules.Check(Exam, [Open(T0)], TimeSpan.FromDays(30), T0.AddHours(2));
        later.Should().Throw<TooManyRequestsException>("an attempt never submitted failed at its deadline, and the cooldown follows");
        AttemptRules.Check(Exam, [Open(T0)], TimeSpan.FromDays(30), T0.AddMinutes(30).AddHours(24));
    }
}

public class RenewalBoundaryTests
{
    private static readonly DateTimeOffset Expiry = new(2028, 6, 30, 12, 0, 0, TimeSpan.Zero);
    private static readonly CertificationCalendar Calendar = CertificationCalendar.Real;

    private static readonly CertificationDefinition Definition = new()
    {
        Id = "cdef_1", Name = "Sales Associate", Track = CourseTrack.Sales, Level = CertificationLevel.Associate, RequiredCourses = ["crs_a"],
        ValidityMonths = 24, GraceDays = 30, Renewal = new RenewalRule(90, ["crs_a"]), CreatedAt = Expiry.AddMonths(-24),
    };

    private static Award Award(AwardStatus status = AwardStatus.Active) => new()
    {
        Id = "crt_" + new string('b', 48), Number = "CERT-1", VerificationCode = "c", UserId = "usr_" + new string('b', 32), PersonName = "P", PersonEmail = "p@x.com",
        DefinitionId = "cdef_1", CertificationName = "Sales Associate", Track = CourseTrack.Sales, Level = CertificationLevel.Associate,
        EarnedAt = Expiry.AddMonths(-24), ExpiresAt = Expiry, GraceEndsAt = Expiry.AddDays(30), BasedOn = ["crs_a@1"], Status = status,
    };

    public static TheoryData<string, double, bool> Boundaries => new()
    {
        { "91 days before expiry", -91, false },
        { "90 days before expiry (window opens)", -90, true },
        { "89 days before expiry", -89, true },
        { "the expiry itself", 0, true },
        { "the last day of grace", 29.5, true },
        { "the last instant of grace", 30 - 1e-9, true },
        { "the day after grace", 30.5, false },
    };

    [Theory]
    [MemberData(nameof(Boundaries))]
    public void The_renewal_window_runs_from_window_days_before_expiry_to_the_end_of_grace(string when, double days, bool renews)
    {
        var at = Expiry + TimeSpan.FromDays(days);
        RenewalRules.InWindow(Award(), Definition, Calendar, at).Should().Be(renews, when);
    }

    [Fact]
    public void Renewing_early_costs_nothing_the_new_expiry_is_the_old_plus_validity()
    {
        var renewed = Award().Renew(Definition, Calendar, Expiry.AddDays(-89)).Award;
        renewed.ExpiresAt.Should().Be(Expiry.AddMonths(24));
        renewed.GraceEndsAt.Should().Be(Expiry.AddMonths(24).AddDays(30));
        renewed.Status.Should().Be(AwardStatus.Renewed);
        var late = Award().Renew(Definition, Calendar, Expiry.AddDays(29)).Award;
        late.ExpiresAt.Should().Be(Expiry.AddMonths(24), "a renewal in grace is dated from the old expiry too");
    }

    [Fact]
    public void Outside_the_window_renewal_is_refused_and_revoked_awards_never_renew()
    {
        var act = () => Award().Renew(Definition, Calendar, Expiry.AddDays(-91));
        act.Should().Throw<ConflictException>();
        RenewalRules.InWindow(Award(AwardStatus.Revoked), Definition, Calendar, Expiry).Should().BeFalse();
    }

    private static Enrollment Passed(string course, DateTimeOffset at) => new()
    {
        UserId = "usr_" + new string('b', 32), CourseId = course, CourseVersion = 2, Status = EnrollmentStatus.Passed, StartedAt = at.AddDays(-1), LastPassedAt = at,
    };

    private static readonly PersonFacts Person = new("usr_" + new string('b', 32), "p@x.com", "P", "ptn_1");

    [Fact]
    public void A_path_renews_inside_the_window_is_ignored_before_it_and_starts_again_after_grace()
    {
        var awards = new List<Versioned<Award>> { new(Award(), "e1") };
        // 91 days before: a retake never re-dates the award.
        CertificationPaths.Evaluate("crs_a", [Passed("crs_a", Expiry.AddDays(-91))], awards, [Definition], Person, Calendar, Expiry.AddDays(-91)).Should().BeEmpty();
        // 89 days before: renewal.
        var renewed = CertificationPaths.Evaluate("crs_a", [Passed("crs_a", Expiry.AddDays(-89))], awards, [Definition], Person, Calendar, Expiry.AddDays(-89));
        renewed.Should().ContainSingle().Which.Change.Action.Should().Be(TrainingEvents.CertificationRenewed);
        // The last day of grace: renewal.
        CertificationPaths.Evaluate("crs_a", [Passed("crs_a", Expiry.AddDays(29.9))], awards, [Definition], Person, Calendar, Expiry.AddDays(29.9))
            .Should().ContainSingle().Which.ETag.Should().Be("e1");
        // The day after grace: a new award (the full path, passed after the grace ended).
        var fresh = CertificationPaths.Evaluate("crs_a", [Passed("crs_a", Expiry.AddDays(31))], awards, [Definition], Person, Calendar, Expiry.AddDays(31));
        fresh.Should().ContainSingle().Which.Change.Action.Should().Be(TrainingEvents.CertificationEarned);
        fresh[0].ETag.Should().BeNull();
    }

    [Fact]
    public void A_path_is_earned_only_when_every_required_course_is_done()
    {
        var two = Definition with { RequiredCourses = ["crs_a", "crs_b"] };
        var now = Expiry;
        CertificationPaths.Evaluate("crs_a", [Passed("crs_a", now)], [], [two], Person, Calendar, now).Should().BeEmpty();
        var earned = CertificationPaths.Evaluate("crs_b", [Passed("crs_a", now.AddDays(-3)), Passed("crs_b", now)], [], [two], Person, Calendar, now);
        var award = earned.Should().ContainSingle().Subject.Change.Award;
        award.BasedOn.Should().Equal("crs_a@2", "crs_b@2");
        award.ExpiresAt.Should().Be(now.AddMonths(24));
        award.Number.Should().MatchRegex("^CERT-[0-9]{6}-[0-9A-Z]{6}$");
        TrainingIds.CodeHash(award.VerificationCode).Should().NotBeNull();
        TrainingIds.UserOf(award.Id, "crt").Should().Be(Person.UserId);
    }

    public static TheoryData<double, AwardStatus> StatusCases => new()
    {
        { -100, AwardStatus.Active },
        { -90, AwardStatus.ExpiringSoon },
        { -1, AwardStatus.ExpiringSoon },
        { 0, AwardStatus.Grace },
        { 29.9, AwardStatus.Grace },
        { 30, AwardStatus.Expired },
    };

    [Theory]
    [MemberData(nameof(StatusCases))]
    public void The_status_follows_the_calendar(double days, AwardStatus expected) =>
        Award().StatusAt(Expiry + TimeSpan.FromDays(days), TimeSpan.FromDays(90)).Should().Be(expected);

    [Fact]
    public void Workflow_steps_are_idempotent_per_expiry_and_skip_a_moved_expiry()
    {
        var award = Award();
        var (outcome, change) = award.Step(AwardStepKind.Remind, 90, Expiry, Expiry.AddDays(-90));
        outcome.Should().Be(StepOutcome.Done);
        change!.Events.Should().Equal(TrainingEvents.CertificationExpiringSoon);
        change.Award.Step(AwardStepKind.Remind, 90, Expiry, Expiry.AddDays(-90)).Outcome.Should().Be(StepOutcome.DoneAlready);
        change.Award.Step(AwardStepKind.Remind, 60, Expiry, Expiry.AddDays(-60)).Change!.Events.Should().BeEmpty("expiringSoon is published once per expiry");
        award.Step(AwardStepKind.Expire, 0, Expiry.AddDays(-1), Expiry).Outcome.Should().Be(StepOutcome.Skipped, "the step belongs to another expiry");
        var expired = award.Step(AwardStepKind.Expire, 0, Expiry, Expiry.AddDays(30)).Change!.Award;
        expired.Status.Should().Be(AwardStatus.Expired);
        expired.Step(AwardStepKind.Remind, 7, Expiry, Expiry).Outcome.Should().Be(StepOutcome.Closed);
        award.Revoke("fraud", Expiry).Award.Step(AwardStepKind.Grace, 0, Expiry, Expiry).Outcome.Should().Be(StepOutcome.Closed);
    }
}

public class CertifiedCountTests
{
    private static readonly DateTimeOffset Now = new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static Award Held(string user, CourseTrack track, CertificationLevel level, string earnedAtPartner, AwardStatus status = AwardStatus.Active, int graceEndsInDays = 400) => new()
    {
        Id = "crt_" + Guid.NewGuid().ToString("N") + "0000000000000000", Number = "n", VerificationCode = "c", UserId = user, PersonName = user, PersonEmail = user + "@x.com", PartnerId = earnedAtPartner,
        DefinitionId = "cdef_" + track + level, CertificationName = "c", Track = track, Level = level, EarnedAt = Now.AddDays(-10), ExpiresAt = Now.AddDays(graceEndsInDays - 30),
        GraceEndsAt = Now.AddDays(graceEndsInDays), BasedOn = [], Status = status,
    };

    [Fact]
    public void Counts_follow_the_current_membership_not_where_the_award_was_earned()
    {
        var awards = new[]
        {
            Held("u1", CourseTrack.Sales, CertificationLevel.Associate, "ptn_a"),
            Held("u2", CourseTrack.Sales, CertificationLevel.Associate, "ptn_b"),   // earned at b, works at a now
            Held("u3", CourseTrack.Sales, CertificationLevel.Associate, "ptn_a"),   // earned at a, moved to b
            Held("u1", CourseTrack.Technical, CertificationLevel.Expert, "ptn_a"),
        };
        var membership = new Dictionary<string, string?> { ["u1"] = "ptn_a", ["u2"] = "ptn_a", ["u3"] = "ptn_b" };
        CertifiedCounts.For("ptn_a", awards, membership, Now).Should().Equal(
            new CertifiedCount("sales", "associate", 2), new CertifiedCount("technical", "expert", 1));
        CertifiedCounts.For("ptn_b", awards, membership, Now).Should().Equal(new CertifiedCount("sales", "associate", 1));
    }

    [Fact]
    public void A_removed_person_leaves_the_counts_and_a_person_counts_once_per_track_and_level()
    {
        var awards = new[] { Held("u1", CourseTrack.Sales, CertificationLevel.Associate, "ptn_a"), Held("u1", CourseTrack.Sales, CertificationLevel.Associate, "ptn_a") };
        CertifiedCounts.For("ptn_a", awards, new Dictionary<string, string?> { ["u1"] = "ptn_a" }, Now).Should().Equal(new CertifiedCount("sales", "associate", 1));
        CertifiedCounts.For("ptn_a", awards, new Dictionary<string, string?> { ["u1"] = null }, Now).Should().BeEmpty();
    }

    [Fact]
    public void Revoked_and_lapsed_awards_do_not_count_grace_still_does()
    {
        var awards = new[]
        {
            Held("u1", CourseTrack.Sales, CertificationLevel.Associate, "ptn_a", AwardStatus.Revoked),
            Held("u2", CourseTrack.Sales, CertificationLevel.Associate, "ptn_a", graceEndsInDays: 0),
            Held("u3", CourseTrack.Sales, CertificationLevel.Associate, "ptn_a", AwardStatus.Grace, graceEndsInDays: 5),
        };
        var membership = new Dictionary<string, string?> { ["u1"] = "ptn_a", ["u2"] = "ptn_a", ["u3"] = "ptn_a" };
        CertifiedCounts.For("ptn_a", awards, membership, Now).Should().Equal(new CertifiedCount("sales", "associate", 1));
    }
}

public class TrainingInputTests
{
    private static CourseRequest Course(int? passScore = null, int per = 1) => new("Basics", null, ["core"], "sales", [new ModuleRequest("Intro", "text", "Hello", null, null)],
        new ExamRequest([new QuestionRequest("q1", "?", "single", [new OptionRequest("a", "A"), new OptionRequest("b", "B")], ["a"], 1)], per, passScore, null, null, null), null);

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    [InlineData(-5)]
    public void A_pass_score_outside_1_to_100_names_the_field(int score)
    {
        var act = () => TrainingInput.Course(Course(score), new TrainingSettings());
        act.Should().Throw<ValidationFailedException>().Which.Errors.Keys.Should().Contain("exam.passScore");
    }

    [Fact]
    public void Defaults_come_from_the_settings_and_the_bank_must_hold_the_draw()
    {
        var exam = TrainingInput.Course(Course(), new TrainingSettings()).Exam!;
        exam.PassScore.Should().Be(80);
        exam.MaxAttempts.Should().Be(3);
        exam.Cooldown.Should().Be(TimeSpan.FromHours(24));
        exam.TimeLimit.Should().Be(TimeSpan.FromMinutes(30));
        var act = () => TrainingInput.Course(Course(per: 2), new TrainingSettings());
        act.Should().Throw<ValidationFailedException>().Which.Errors.Keys.Should().Contain("exam.questionsPerAttempt");
    }

    [Fact]
    public void An_edit_after_publication_is_a_new_version_a_draft_edit_is_not()
    {
        var now = DateTimeOffset.UnixEpoch;
        var content = TrainingInput.Course(Course(), new TrainingSettings());
        var draft = new Course { Id = "crs_1", Version = 1, Title = "t", ProductLines = [], Track = CourseTrack.Sales, Modules = [], CreatedAt = now, UpdatedAt = now };
        draft.Edit(content, now).Version.Should().Be(1);
        draft.Publish(now).Edit(content, now.AddDays(1)).Version.Should().Be(2);
    }

    [Fact]
    public void Certification_requires_known_courses_and_ranges()
    {
        var act = () => TrainingInput.Certification(new CertificationRequest("C", "sales", "guru", ["crs_x"], 0, [90, 90], -1, new RenewalRequest(400, null)), new HashSet<string> { "crs_a" }, DateTimeOffset.UnixEpoch);
        act.Should().Throw<ValidationFailedException>().Which.Errors.Keys.Should().Contain(["level", "requiredCourses[0]", "validityMonths", "reminderDaysBefore", "graceDays", "renewal.windowDaysBefore"]);
    }

    [Theory]
    [InlineData("ABCDEFGHIJKLMNOPQRSTUV", true)]
    [InlineData("ABCDEFGHIJKLMNOPQRSTU", false)]
    [InlineData("ABCDEFGHIJKLMNOPQRST/V", false)]
    [InlineData("", false)]
    public void Only_well_formed_codes_reach_storage(string code, bool formed) => (TrainingIds.CodeHash(code) is not null).Should().Be(formed);
}

/// <summary>A course version invalidating awards resting on older versions: Grace at the date unless the holder passes the new version.</summary>
public class CourseInvalidationTests
{
    private static readonly DateTimeOffset Expiry = new(2028, 6, 30, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset From = new(2027, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly CertificationCalendar Calendar = CertificationCalendar.Real;
    private static readonly PersonFacts Person = new("usr_" + new string('b', 32), "p@x.com", "P", "ptn_1");

    private static readonly CertificationDefinition Definition = new()
    {
        Id = "cdef_1", Name = "Sales Associate", Track = CourseTrack.Sales, Level = CertificationLevel.Associate, RequiredCourses = ["crs_a", "crs_b"],
        ValidityMonths = 24, GraceDays = 30, Renewal = new RenewalRule(90, ["crs_b"]), CreatedAt = Expiry.AddMonths(-24),
    };

    private static Award Award(params string[] basedOn) => new()
    {
        Id = "crt_" + new string('b', 48), Number = "CERT-1", VerificationCode = "c", UserId = Person.UserId, PersonName = "P", PersonEmail = "p@x.com",
        DefinitionId = "cdef_1", CertificationName = "Sales Associate", Track = CourseTrack.Sales, Level = CertificationLevel.Associate,
        EarnedAt = Expiry.AddMonths(-24), ExpiresAt = Expiry, GraceEndsAt = Expiry.AddDays(30), BasedOn = basedOn.Length == 0 ? ["crs_a@1", "crs_b@1"] : basedOn,
    };

    private static Enrollment Passed(string course, int version, DateTimeOffset at) => new()
    {
        UserId = Person.UserId, CourseId = course, CourseVersion = version, Status = EnrollmentStatus.Passed, StartedAt = at.AddDays(-1), LastPassedAt = at,
    };

    [Fact]
    public void An_award_on_an_older_version_expires_at_the_date_then_runs_its_grace_and_a_second_delivery_changes_nothing()
    {
        var change = Award().Invalidate("crs_a", 2, From, Definition, Calendar, "note")!;
        change.Action.Should().Be(TrainingEvents.CertificationInvalidated);
        change.EmailTemplate.Should().Be("certification-invalidated");
        var a = change.Award;
        a.ExpiresAt.Should().Be(From);
        a.GraceEndsAt.Should().Be(From.AddDays(30));
        a.ExpiresBeforeInvalidation.Should().Be(Expiry);
        a.Requalify.Should().Equal("crs_a@2");
        a.StatusAt(From.AddDays(-1), TimeSpan.FromDays(90)).Should().Be(AwardStatus.ExpiringSoon);
        a.StatusAt(From, TimeSpan.FromDays(90)).Should().Be(AwardStatus.Grace);
        a.StatusAt(From.AddDays(30), TimeSpan.FromDays(90)).Should().Be(AwardStatus.Expired);
        a.Invalidate("crs_a", 2, From, Definition, Calendar, "note").Should().BeNull("the mark makes a redelivery a no-op");
    }

    [Theory]
    [InlineData("crs_a@2", "the award rests on the new version already")]
    [InlineData("crs_a@3", "the award rests on a later version")]
    [InlineData("crs_c@1", "the award does not rest on the course")]
    public void Awards_not_on_an_older_version_of_the_course_are_untouched(string basedOn, string because) =>
        Award(basedOn, "crs_b@1").Invalidate("crs_a", 2, From, Definition, Calendar, "note").Should().BeNull(because);

    [Fact]
    public void Revoked_expired_and_awards_ending_before_the_date_are_untouched()
    {
        (Award() with { Status = AwardStatus.Revoked }).Invalidate("crs_a", 2, From, Definition, Calendar, "n").Should().BeNull();
        (Award() with { Status = AwardStatus.Expired }).Invalidate("crs_a", 2, From, Definition, Calendar, "n").Should().BeNull();
        (Award() with { ExpiresAt = From.AddDays(-1) }).Invalidate("crs_a", 2, From, Definition, Calendar, "n").Should().BeNull("it ends before the date anyway");
    }

    [Fact]
    public void Passing_the_new_version_before_the_end_of_grace_restores_the_expiry_outside_any_renewal_window()
    {
        var invalidated = Award().Invalidate("crs_a", 2, From, Definition, Calendar, "n")!.Award;
        var awards = new List<Versioned<Award>> { new(invalidated, "e1") };
        // The old version passed again (a retake on v1) does not requalify.
        CertificationPaths.Evaluate("crs_a", [Passed("crs_a", 1, From.AddDays(-200)), Passed("crs_b", 1, From.AddDays(-700))], awards, [Definition], Person, Calendar, From.AddDays(-200)).Should().BeEmpty();
        // Version 2 passed 200 days before the date (far outside the 90-day renewal window): requalified, the expiry is back.
        var requalified = CertificationPaths.Evaluate("crs_a", [Passed("crs_a", 2, From.AddDays(-200)), Passed("crs_b", 1, From.AddDays(-700))], awards, [Definition], Person, Calendar, From.AddDays(-200));
        var change = requalified.Should().ContainSingle().Subject;
        change.ETag.Should().Be("e1");
        change.Change.Action.Should().Be(TrainingEvents.CertificationRequalified);
        change.Change.Award.ExpiresAt.Should().Be(Expiry);
        change.Change.Award.GraceEndsAt.Should().Be(Expiry.AddDays(30));
        change.Change.Award.BasedOn.Should().Equal("crs_a@2", "crs_b@1");
        change.Change.Award.Requalify.Should().BeEmpty();
        change.Change.Award.Status.Should().Be(AwardStatus.Active);
        // On the last day of grace it still requalifies; the day after grace it is a new award (the full path).
        CertificationPaths.Evaluate("crs_a", [Passed("crs_a", 2, From.AddDays(29.9)), Passed("crs_b", 1, From.AddDays(-700))], awards, [Definition], Person, Calendar, From.AddDays(29.9))
            .Should().ContainSingle().Which.Change.Action.Should().Be(TrainingEvents.CertificationRequalified);
        CertificationPaths.Evaluate("crs_a", [Passed("crs_a", 2, From.AddDays(31)), Passed("crs_b", 2, From.AddDays(30.5))], awards, [Definition], Person, Calendar, From.AddDays(31))
            .Should().ContainSingle().Which.Change.Action.Should().Be(TrainingEvents.CertificationEarned);
    }

    [Fact]
    public void Only_a_published_course_with_an_older_version_invalidates_and_a_second_mark_of_the_version_replaces_its_date()
    {
        var now = From.AddDays(-10);
        var course = new Course
        {
            Id = "crs_a", Version = 1, Title = "T", ProductLines = [], Track = CourseTrack.Sales, Modules = [], CreatedAt = now, UpdatedAt = now, Published = true,
        };
        var act = () => course.InvalidateOlderAwards(From, now);
        act.Should().Throw<ValidationFailedException>().Which.Errors.Should().ContainKey("from");
        var v2 = course with { Version = 2 };
        var marked = v2.InvalidateOlderAwards(From, now).InvalidateOlderAwards(From.AddDays(5), now);
        marked.Invalidations.Should().ContainSingle().Which.From.Should().Be(From.AddDays(5));
    }
}
