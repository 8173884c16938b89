using Prm.Core.Common;
using Prm.Core.Partners;

namespace Prm.Core.Training;

public enum EnrollmentStatus { NotStarted, InProgress, Completed, Passed, Failed }

/// <summary>A person's progress in a course. Passing dates never move an award, except through renewal.</summary>
public sealed record Enrollment
{
    public required string UserId { get; init; }
    public required string CourseId { get; init; }
    public required int CourseVersion { get; init; }
    public required EnrollmentStatus Status { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    /// <summary>The latest pass or completion (exam or LMS); what the path and renewal rules read.</summary>
    public DateTimeOffset? LastPassedAt { get; init; }
    public int? BestScore { get; init; }
    /// <summary>exam or xapi.</summary>
    public string? Source { get; init; }
    /// <summary>The xAPI statement that completed it, if any (voiding it revokes the completion).</summary>
    public string? StatementId { get; init; }

    public bool IsDone => Status is EnrollmentStatus.Passed or EnrollmentStatus.Completed;
}

/// <summary>An xAPI statement as recorded (idempotency by its id; voiding by its id).</summary>
public sealed record RecordedStatement(string Id, string Verb, string ActorEmail, string? ActivityId, string? CourseId, string? UserId, DateTimeOffset Timestamp, DateTimeOffset StoredAt, string Outcome, string? VoidedBy = null);

/// <summary>Everything of one person the training rules read: one partition read.</summary>
public sealed record PersonTraining(
    IReadOnlyList<Versioned<Enrollment>> Enrollments,
    IReadOnlyList<Versioned<Attempt>> Attempts,
    IReadOnlyList<Versioned<Award>> Awards,
    IReadOnlyList<Versioned<RecordedStatement>> Statements)
{
    public static PersonTraining Empty { get; } = new([], [], [], []);
}

/// <summary>What one commit of a person's partition writes (ETag null: a new row), with its timeline and outbox rows.</summary>
public sealed record PersonCommit(
    IReadOnlyList<(Enrollment Row, string? ETag)> Enrollments,
    IReadOnlyList<(Attempt Row, string? ETag)> Attempts,
    IReadOnlyList<(Award Row, string? ETag)> Awards,
    IReadOnlyList<(RecordedStatement Row, string? ETag)> Statements,
    ChangeSet Changes);

/// <summary>A course's figures: people enrolled by status, passes of exams taken, and the pass rate.</summary>
public sealed record CourseStats(string CourseId, int Enrollments, int InProgress, int Completed, int Passed, int Failed, double? PassRate);

/// <summary>Storage port of training and certification.</summary>
public interface ITrainingStore
{
    Task<Versioned<Course>?> GetCourseAsync(string courseId, CancellationToken ct);
    Task<string> CreateCourseAsync(Course course, ChangeSet changes, CancellationToken ct);
    /// <summary>Replaces the course (If-Match); a new version keeps the previous one as a version row.</summary>
    Task<string> UpdateCourseAsync(Course course, Course before, string etag, ChangeSet changes, CancellationToken ct);
    Task<IReadOnlyList<Course>> ListCoursesAsync(CancellationToken ct);
    /// <summary>A version of a course as it was (the current one included); null when it never existed.</summary>
    Task<Course?> GetCourseVersionAsync(string courseId, int version, CancellationToken ct);

    /// <summary>Maps xAPI activity ids to the course (key rows: an activity maps to one course; 409 when another holds it) and drops the ones it no longer lists.</summary>
    Task MapActivitiesAsync(string courseId, IReadOnlyList<string> add, IReadOnlyList<string> remove, CancellationToken ct);
    Task<string?> CourseOfActivityAsync(string activityId, CancellationToken ct);

    Task<IReadOnlyList<CertificationDefinition>> ListDefinitionsAsync(CancellationToken ct);
    Task<CertificationDefinition?> GetDefinitionAsync(string id, CancellationToken ct);
    Task CreateDefinitionAsync(CertificationDefinition definition, ChangeSet changes, CancellationToken ct);

    /// <summary>Every row of the person's partition the rules read (one query).</summary>
    Task<PersonTraining> ReadPersonAsync(string userId, CancellationToken ct);
    Task<Versioned<Award>?> GetAwardAsync(string awardId, CancellationToken ct);
    Task<Versioned<Attempt>?> GetAttemptAsync(string attemptId, CancellationToken ct);
    /// <summary>Writes the rows in one transaction of the person's partition (412 when a row changed, 409-as-412 when a new row exists).</summary>
    Task CommitPersonAsync(string userId, PersonCommit commit, CancellationToken ct);

    /// <summary>The look-up rows written before the award they point to (a row without its award finds nothing).</summary>
    Task AddVerificationAsync(string codeHash, string awardId, CancellationToken ct);
    Task<string?> FindAwardByCodeAsync(string codeHash, CancellationToken ct);
    Task IndexStatementAsync(string statementId, string userId, CancellationToken ct);
    Task<string?> UserOfStatementAsync(string statementId, CancellationToken ct);

    /// <summary>Parks a statement whose actor or activity is unknown (idempotent by statement id).</summary>
    Task ParkAsync(RecordedStatement statement, string rawJson, CancellationToken ct);
    Task<IReadOnlyList<RecordedStatement>> ListParkedAsync(CancellationToken ct);

    /// <summary>The course-stats index row of a person (from the outbox, idempotent: the person's latest status).</summary>
    Task IndexEnrollmentAsync(string courseId, string userId, EnrollmentStatus status, CancellationToken ct);
    Task<CourseStats> CourseStatsAsync(string courseId, CancellationToken ct);

    /// <summary>The people who passed or completed the course (any version), from the course-stats index.</summary>
    Task<IReadOnlyList<string>> CoursePeopleAsync(string courseId, CancellationToken ct);
}
