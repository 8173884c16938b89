using Prm.Core.Common;

namespace Prm.Core.Training;

public enum CourseTrack { Sales, Presales, Technical }

public enum ModuleKind { Text, Video, Asset }

public enum QuestionKind { Single, Multiple }

/// <summary>A course module: text (body), video (url) or asset (assetId).</summary>
public sealed record CourseModule(string Title, ModuleKind Kind, string? Body, string? Url, string? AssetId);

public sealed record QuestionOption(string Id, string Text);

/// <summary>A question of the bank. <see cref="Correct"/> never leaves the server.</summary>
public sealed record Question(string Id, string Text, QuestionKind Kind, IReadOnlyList<QuestionOption> Options, IReadOnlyList<string> Correct, int Points);

/// <summary>An exam: the bank, how many questions an attempt draws, the pass score (%), attempts per window, cooldown, time limit.</summary>
public sealed record Exam(IReadOnlyList<Question> Questions, int QuestionsPerAttempt, int PassScore, int MaxAttempts, TimeSpan Cooldown, TimeSpan TimeLimit);

/// <summary>
/// A course. Versioned: <see cref="Version"/> grows with every edit made after publication (attempts and passes name the version they
/// were taken on); an unpublished draft is edited in place. <see cref="ExternalActivities"/> are the xAPI activity ids mapped to it.
/// </summary>
public sealed record Course
{
    public required string Id { get; init; }
    public required int Version { get; init; }
    public required string Title { get; init; }
    public string? Description { get; init; }
    public required IReadOnlyList<string> ProductLines { get; init; }
    public required CourseTrack Track { get; init; }
    public required IReadOnlyList<CourseModule> Modules { get; init; }
    public Exam? Exam { get; init; }
    public bool Published { get; init; }
    public DateTimeOffset? PublishedAt { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    public IReadOnlyList<string> ExternalActivities { get; init; } = [];
    /// <summary>The marks of versions that invalidate awards resting on older versions (latest per version).</summary>
    public IReadOnlyList<AwardInvalidation> Invalidations { get; init; } = [];

    /// <summary>
    /// The course after an edit: a published course gets the next version (published at once: the edit is the new release); a draft
    /// keeps its version.
    /// </summary>
    public Course Edit(CourseContent content, DateTimeOffset now) => this with
    {
        Version = Published ? Version + 1 : Version,
        Title = content.Title,
        Description = content.Description,
        ProductLines = content.ProductLines,
        Track = content.Track,
        Modules = content.Modules,
        Exam = content.Exam,
        PublishedAt = Published ? now : PublishedAt,
        UpdatedAt = now,
    };

    public Course Publish(DateTimeOffset now) => Published ? this : this with { Published = true, PublishedAt = now, UpdatedAt = now };

    /// <summary>
    /// Marks the current version as invalidating the awards that rest on an older version of this course from <paramref name="from"/>:
    /// only a published course with an older version can (422 naming the field otherwise). Marking the same version again replaces its date.
    /// </summary>
    public Course InvalidateOlderAwards(DateTimeOffset from, DateTimeOffset now)
    {
        if (!Published || Version < 2)
            throw new ValidationFailedException("from", "Only a published course with an older version invalidates awards: edit the published course first (the edit is version 2).", unprocessable: true);
        return this with { Invalidations = [.. Invalidations.Where(i => i.Version != Version), new AwardInvalidation(Version, from, now)], UpdatedAt = now };
    }
}

/// <summary>Awards resting on a version of the course older than <see cref="Version"/> enter Grace at <see cref="From"/> unless their holder passes the new version.</summary>
public sealed record AwardInvalidation(int Version, DateTimeOffset From, DateTimeOffset MarkedAt);

/// <summary>A course's editable content (validated).</summary>
public sealed record CourseContent(string Title, string? Description, IReadOnlyList<string> ProductLines, CourseTrack Track, IReadOnlyList<CourseModule> Modules, Exam? Exam);
