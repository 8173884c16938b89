using Prm.Core.Common;
using Prm.Core.Identity;

namespace Prm.Core.Training;

/// <summary>
/// Exams: starting an attempt (the attempt rules, a random draw, the questions without answers) and submitting it (scored on the
/// server, every answer recorded, once; late is failed). A pass completes the course and may earn or renew a certification.
/// </summary>
public sealed class TakeExam(ITrainingStore store, TrainingCommits commits)
{
    public async Task<AttemptDto> StartAsync(Caller caller, string courseId, CancellationToken ct)
    {
        if (caller.PartnerId is null) throw new ForbiddenException("Exams are taken by partner users.");
        var course = await PublishedCourseAsync(courseId, ct);
        var exam = course.Exam ?? throw new ConflictException("This course has no exam.", "courseId");
        var person = Person(caller);
        var settings = await commits.SettingsAsync(ct);
        Attempt? started = null;
        await commits.CommitAsync(caller, person, (training, now) =>
        {
            AttemptRules.Check(exam, training.Attempts.Where(a => a.Value.CourseId == courseId).Select(a => a.Value).ToList(), settings.AttemptWindow, now);
            started = new Attempt
            {
                Id = TrainingIds.NewAttempt(caller.UserId), UserId = caller.UserId, PartnerId = caller.PartnerId, CourseId = courseId, CourseVersion = course.Version,
                Questions = ExamScoring.Draw(exam), StartedAt = now, Deadline = now + exam.TimeLimit, PassScore = exam.PassScore,
            };
            var enrollment = training.Enrollments.FirstOrDefault(e => e.Value.CourseId == courseId);
            var enrollments = enrollment is null
                ? [(new Enrollment { UserId = caller.UserId, CourseId = courseId, CourseVersion = course.Version, Status = EnrollmentStatus.InProgress, StartedAt = now }, null)]
                : enrollment.Value.Status is EnrollmentStatus.NotStarted or EnrollmentStatus.Failed
                    ? new List<(Enrollment, string?)> { (enrollment.Value with { Status = EnrollmentStatus.InProgress }, enrollment.ETag) }
                    : [];
            return new ProgressChange(enrollments, [(started, null)], [], [], null, [], "attempt.started", started.Id);
        }, ct);
        return AttemptDto.From(started!);
    }

    /// <summary>An attempt as its taker sees it: the questions without answers, after the submit the score and result (anyone else: 404).</summary>
    public async Task<AttemptDto> GetAsync(Caller caller, string attemptId, CancellationToken ct)
    {
        if (TrainingIds.UserOf(attemptId, "att") != caller.UserId) throw new NotFoundException("Attempt");
        var found = await store.GetAttemptAsync(attemptId, ct);
        if (found is null || !TrainingAccess.MayUseAttempt(caller, found.Value)) throw new NotFoundException("Attempt");
        return AttemptDto.From(found.Value);
    }

    public async Task<AttemptDto> SubmitAsync(Caller caller, string attemptId, SubmitAttemptRequest? body, CancellationToken ct)
    {
        if (body?.Answers is not { } answers) throw new ValidationFailedException("answers", "answers is required: a list of { questionId, selected }.");
        if (answers.Count > 500) throw new ValidationFailedException("answers", "answers holds at most 500 answers.");
        if (TrainingIds.UserOf(attemptId, "att") != caller.UserId) throw new NotFoundException("Attempt");
        var person = Person(caller);
        var submitted = answers.Select(a => new SubmittedAnswer(a?.QuestionId, a?.Selected)).ToList();
        Attempt? result = null;
        await commits.CommitAsync(caller, person, (training, now) =>
        {
            var found = training.Attempts.FirstOrDefault(a => a.Value.Id == attemptId) ?? throw new NotFoundException("Attempt");
            var attempt = found.Value;
            result = attempt.Submit(submitted, now);
            var passed = result.Status == AttemptStatus.Passed;
            var enrollment = training.Enrollments.FirstOrDefault(e => e.Value.CourseId == attempt.CourseId);
            var before = enrollment?.Value ?? new Enrollment { UserId = caller.UserId, CourseId = attempt.CourseId, CourseVersion = attempt.CourseVersion, Status = EnrollmentStatus.InProgress, StartedAt = attempt.StartedAt };
            var after = passed
                ? before with { Status = EnrollmentStatus.Passed, CourseVersion = attempt.CourseVersion, CompletedAt = before.CompletedAt ?? now, LastPassedAt = now, BestScore = Math.Max(before.BestScore ?? 0, result.Score ?? 0), Source = "exam", StatementId = null }
                : before with { Status = before.IsDone ? before.Status : EnrollmentStatus.Failed, BestScore = Math.Max(before.BestScore ?? 0, result.Score ?? 0) };
            var data = new TrainingEvents.CourseData(caller.UserId, attempt.CourseId, attempt.CourseVersion, "exam", attempt.Id, result.Score, null);
            var events = passed
                ? new[] { TrainingEvents.Course(TrainingEvents.ExamPassed, data, caller.PartnerId, now), TrainingEvents.Course(TrainingEvents.CourseCompleted, data, caller.PartnerId, now) }
                : [TrainingEvents.Course(TrainingEvents.ExamFailed, data, caller.PartnerId, now)];
            return new ProgressChange([(after, enrollment?.ETag)], [(result, found.ETag)], [], events, passed ? attempt.CourseId : null, [], passed ? "exam.passed" : "exam.failed", attempt.Id);
        }, ct);
        return AttemptDto.From(result!);
    }

    private async Task<Course> PublishedCourseAsync(string courseId, CancellationToken ct)
    {
        if (!Ids.LooksLike(courseId, "crs")) throw new NotFoundException("Course");
        var course = (await store.GetCourseAsync(courseId, ct))?.Value;
        if (course is null || !course.Published) throw new NotFoundException("Course");
        return course;
    }

    private static PersonFacts Person(Caller caller) => new(caller.UserId, caller.Email, caller.DisplayName, caller.PartnerId);
}
