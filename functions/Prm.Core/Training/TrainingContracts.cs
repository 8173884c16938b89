using Prm.Core.Common;

namespace Prm.Core.Training;

public sealed record ModuleRequest(string? Title, string? Kind, string? Body, string? Url, string? AssetId);
public sealed record OptionRequest(string? Id, string? Text);
public sealed record QuestionRequest(string? Id, string? Text, string? Kind, IReadOnlyList<OptionRequest>? Options, IReadOnlyList<string>? Correct, int? Points);
public sealed record ExamRequest(IReadOnlyList<QuestionRequest>? Questions, int? QuestionsPerAttempt, int? PassScore, int? MaxAttempts, int? CooldownHours, int? TimeLimitMinutes);

/// <summary>Body of POST /api/courses and PUT /api/courses/{id}.</summary>
public sealed record CourseRequest(string? Title, string? Description, IReadOnlyList<string>? ProductLines, string? Track, IReadOnlyList<ModuleRequest>? Modules, ExamRequest? Exam, bool? Publish);

/// <summary>Body of POST /api/courses/{id}/invalidate-older-awards: from when (a date or instant, today up to a year ahead) older-version awards expire.</summary>
public sealed record InvalidateAwardsRequest(string? From);

/// <summary>A version's mark: awards resting on older versions expire at <see cref="From"/> unless requalified.</summary>
public sealed record AwardInvalidationDto(int Version, DateTimeOffset From, DateTimeOffset MarkedAt);

/// <summary>Body of PUT /api/courses/{id}/external-activities: the xAPI activity ids (IRIs) that complete the course.</summary>
public sealed record ExternalActivitiesRequest(IReadOnlyList<string>? ActivityIds);

public sealed record OptionDto(string Id, string Text);
/// <summary>A question as the client sees it: never its correct options.</summary>
public sealed record QuestionDto(string Id, string Text, string Kind, IReadOnlyList<OptionDto> Options, int Points);
public sealed record ExamDto(int QuestionCount, int QuestionsPerAttempt, int PassScore, int MaxAttempts, int CooldownHours, int TimeLimitMinutes);
public sealed record ModuleDto(string Title, string Kind, string? Body, string? Url, string? AssetId);

/// <summary>A course (the exam's bank is not listed: questions reach a person only inside an attempt, without answers).</summary>
public sealed record CourseDto(string Id, int Version, string Title, string? Description, IReadOnlyList<string> ProductLines, string Track, IReadOnlyList<ModuleDto> Modules,
    ExamDto? Exam, bool Published, DateTimeOffset? PublishedAt, DateTimeOffset UpdatedAt, IReadOnlyList<string> ExternalActivities, IReadOnlyList<AwardInvalidationDto> AwardInvalidations)
{
    public static CourseDto From(Course c) => new(c.Id, c.Version, c.Title, c.Description, c.ProductLines, Text.Camel(c.Track),
        c.Modules.Select(m => new ModuleDto(m.Title, Text.Camel(m.Kind), m.Body, m.Url, m.AssetId)).ToList(),
        c.Exam is { } e ? new ExamDto(e.Questions.Count, e.QuestionsPerAttempt, e.PassScore, e.MaxAttempts, (int)e.Cooldown.TotalHours, (int)Math.Ceiling(e.TimeLimit.TotalMinutes)) : null,
        c.Published, c.PublishedAt, c.UpdatedAt, c.ExternalActivities, c.Invalidations.Select(i => new AwardInvalidationDto(i.Version, i.From, i.MarkedAt)).ToList());
}

/// <summary>An attempt: its questions without answers; after the submit its score and result.</summary>
public sealed record AttemptDto(string Id, string CourseId, int CourseVersion, string Status, DateTimeOffset StartedAt, DateTimeOffset Deadline, int PassScore,
    IReadOnlyList<QuestionDto> Questions, DateTimeOffset? SubmittedAt, int? Score, int? Points, int? MaxPoints, bool? Passed, bool Late)
{
    public static AttemptDto From(Attempt a) =>
        new(a.Id, a.CourseId, a.CourseVersion, a.Status.ToString(), a.StartedAt, a.Deadline, a.PassScore,
            a.Questions.Select(q => new QuestionDto(q.Id, q.Text, Text.Camel(q.Kind), q.Options.Select(o => new OptionDto(o.Id, o.Text)).ToList(), q.Points)).ToList(),
            a.SubmittedAt, a.Score, a.Points, a.MaxPoints, a.Status == AttemptStatus.Open ? null : a.Status == AttemptStatus.Passed, a.Late);
}

public sealed record AnswerRequest(string? QuestionId, IReadOnlyList<string>? Selected);

/// <summary>Body of POST /api/attempts/{id}/submit.</summary>
public sealed record SubmitAttemptRequest(IReadOnlyList<AnswerRequest>? Answers);

public sealed record RenewalRequest(int? WindowDaysBefore, IReadOnlyList<string>? RequiredCourses);

/// <summary>Body of POST /api/certifications.</summary>
public sealed record CertificationRequest(string? Name, string? Track, string? Level, IReadOnlyList<string>? RequiredCourses, int? ValidityMonths,
    IReadOnlyList<int>? ReminderDaysBefore, int? GraceDays, RenewalRequest? Renewal);

public sealed record RenewalDto(int WindowDaysBefore, IReadOnlyList<string> RequiredCourses);

public sealed record CertificationDto(string Id, string Name, string Track, string Level, IReadOnlyList<string> RequiredCourses, int ValidityMonths,
    IReadOnlyList<int> ReminderDaysBefore, int GraceDays, RenewalDto Renewal)
{
    public static CertificationDto From(CertificationDefinition d) => new(d.Id, d.Name, Text.Camel(d.Track), Text.Camel(d.Level), d.RequiredCourses, d.ValidityMonths,
        d.ReminderDaysBefore, d.GraceDays, new RenewalDto(d.Renewal.WindowDaysBefore, d.Renewal.RequiredCourses));
}

/// <summary>An award. The verification code only reaches its holder and admins.</summary>
public sealed record AwardDto(string Id, string Number, string? VerificationCode, string UserId, string PersonName, string? PartnerId, string DefinitionId, string CertificationName,
    string Track, string Level, DateTimeOffset EarnedAt, DateTimeOffset ExpiresAt, DateTimeOffset GraceEndsAt, string Status, int Renewals, DateTimeOffset? RevokedAt, string? RevokedReason)
{
    public static AwardDto From(Award a, AwardStatus status, bool withCode) => new(a.Id, a.Number, withCode ? a.VerificationCode : null, a.UserId, a.PersonName, a.PartnerId, a.DefinitionId,
        a.CertificationName, Text.Camel(a.Track), Text.Camel(a.Level), a.EarnedAt, a.ExpiresAt, a.GraceEndsAt, status.ToString(), a.Renewals, a.RevokedAt, a.RevokedReason);
}

public sealed record EnrollmentDto(string CourseId, int CourseVersion, string Status, DateTimeOffset StartedAt, DateTimeOffset? CompletedAt, DateTimeOffset? LastPassedAt, int? BestScore, string? Source)
{
    public static EnrollmentDto From(Enrollment e) => new(e.CourseId, e.CourseVersion, e.Status.ToString(), e.StartedAt, e.CompletedAt, e.LastPassedAt, e.BestScore, e.Source);
}

/// <summary>GET /api/people/me/certifications.</summary>
public sealed record MyCertificationsDto(IReadOnlyList<AwardDto> Awards, IReadOnlyList<EnrollmentDto> Enrollments);

public sealed record HeldCertification(string AwardId, string CertificationName, string Track, string Level, string Status, DateTimeOffset ExpiresAt);
public sealed record CertificationHolder(string UserId, string DisplayName, IReadOnlyList<HeldCertification> Certifications);

/// <summary>GET /api/partners/{id}/certifications: counts by track and level, awards expiring within 60 days, who holds what.</summary>
public sealed record PartnerCertificationsDto(string PartnerId, IReadOnlyList<CertifiedCount> Counts, IReadOnlyList<AwardDto> ExpiringSoon, IReadOnlyList<CertificationHolder> Holders);

/// <summary>The public verification: the person's name, the certification, its status and dates, nothing else.</summary>
public sealed record VerificationDto(string PersonName, string Certification, string Status, DateTimeOffset EarnedAt, DateTimeOffset ExpiresAt);

/// <summary>Body of POST /api/awards/{id}/revoke.</summary>
public sealed record RevokeAwardRequest(string? Reason);

/// <summary>The outcome of one xAPI statement: recorded, duplicate (seen before: nothing changed), parked (unknown actor or activity), voided.</summary>
public sealed record XapiResult(string StatementId, string Outcome, string? CourseId, string? UserId);

public sealed record XapiResponse(IReadOnlyList<XapiResult> Results);

public sealed record ParkedStatementDto(string Id, string Verb, string ActorEmail, string? ActivityId, DateTimeOffset Timestamp, DateTimeOffset StoredAt, string Reason);
