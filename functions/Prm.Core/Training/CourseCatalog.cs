using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Outbox;
using Prm.Core.Partners;

namespace Prm.Core.Training;

/// <summary>Courses (admin): create, edit (a new version once published), publish, map xAPI activities; reading for everyone signed in.</summary>
public sealed class CourseCatalog(ITrainingStore store, TrainingCommits commits, TimeProvider clock)
{
    public async Task<Versioned<CourseDto>> CreateAsync(Caller caller, CourseRequest? body, CancellationToken ct)
    {
        var content = TrainingInput.Course(body, await commits.SettingsAsync(ct));
        var now = clock.GetUtcNow();
        var course = new Course
        {
            Id = Ids.New("crs"), Version = 1, Title = content.Title, Description = content.Description, ProductLines = content.ProductLines, Track = content.Track,
            Modules = content.Modules, Exam = content.Exam, CreatedAt = now, UpdatedAt = now,
        };
        if (body!.Publish == true) course = course.Publish(now);
        var etag = await store.CreateCourseAsync(course, Changes(caller, now, "course.created", course.Id), ct);
        return new(CourseDto.From(course), etag);
    }

    public async Task<Versioned<CourseDto>> UpdateAsync(Caller caller, string courseId, string? ifMatch, CourseRequest? body, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(ifMatch)) throw new PreconditionFailedException("If-Match is required: the ETag of the course you read.", required: true);
        var found = await LoadAsync(courseId, ct);
        if (found.ETag != ifMatch) throw new PreconditionFailedException("The course was changed since you read it; read it again and retry.");
        var content = TrainingInput.Course(body, await commits.SettingsAsync(ct));
        var now = clock.GetUtcNow();
        var course = found.Value.Edit(content, now);
        if (body!.Publish == true) course = course.Publish(now);
        var etag = await store.UpdateCourseAsync(course, found.Value, found.ETag, Changes(caller, now, course.Version != found.Value.Version ? "course.versioned" : "course.edited", course.Id), ct);
        return new(CourseDto.From(course), etag);
    }

    public async Task<Versioned<CourseDto>> PublishAsync(Caller caller, string courseId, CancellationToken ct) =>
        await ReadDecideCommit.RunAsync(async _ =>
        {
            var found = await LoadAsync(courseId, ct);
            if (found.Value.Published) return new Versioned<CourseDto>(CourseDto.From(found.Value), found.ETag);
            if (found.Value.Exam is null && found.Value.Modules.Count == 0) throw new ValidationFailedException("modules", "A course needs modules or an exam before it is published.", unprocessable: true);
            var now = clock.GetUtcNow();
            var course = found.Value.Publish(now);
            var etag = await store.UpdateCourseAsync(course, found.Value, found.ETag, Changes(caller, now, "course.published", course.Id), ct);
            return new Versioned<CourseDto>(CourseDto.From(course), etag);
        }, ct: ct);

    /// <summary>Replaces the xAPI activity ids mapped to the course (absolute IRIs, at most 20; an id mapped to another course is 409).</summary>
    public async Task<Versioned<CourseDto>> MapActivitiesAsync(Caller caller, string courseId, ExternalActivitiesRequest? body, CancellationToken ct)
    {
        var ids = body?.ActivityIds ?? throw new ValidationFailedException("activityIds", "activityIds is required: the xAPI activity ids (IRIs) of the course.");
        if (ids.Count > 20) throw new ValidationFailedException("activityIds", "activityIds holds at most 20 ids.");
        for (var i = 0; i < ids.Count; i++)
        {
            if (ids[i] is not { Length: > 0 and <= 500 } id || !Uri.TryCreate(id, UriKind.Absolute, out _))
                throw new ValidationFailedException($"activityIds[{i}]", "Each activity id is an absolute IRI of at most 500 characters.");
        }
        if (ids.Distinct(StringComparer.Ordinal).Count() != ids.Count) throw new ValidationFailedException("activityIds", "activityIds names an id more than once.");
        return await ReadDecideCommit.RunAsync(async _ =>
        {
            var found = await LoadAsync(courseId, ct);
            var before = found.Value.ExternalActivities;
            await store.MapActivitiesAsync(courseId, ids.Except(before).ToList(), before.Except(ids).ToList(), ct);
            var now = clock.GetUtcNow();
            var course = found.Value with { ExternalActivities = ids.ToList(), UpdatedAt = now };
            var etag = await store.UpdateCourseAsync(course, found.Value, found.ETag, Changes(caller, now, "course.activitiesMapped", course.Id), ct);
            return new Versioned<CourseDto>(CourseDto.From(course), etag);
        }, ct: ct);
    }

    /// <summary>
    /// Marks the course's current version as invalidating the awards that rest on older versions from <c>from</c> (today up to a year
    /// ahead; a past instant of today counts as now). The awards follow from the outbox (<see cref="AwardInvalidationProjection"/>).
    /// </summary>
    public async Task<Versioned<CourseDto>> InvalidateOlderAwardsAsync(Caller caller, string courseId, InvalidateAwardsRequest? body, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var from = TrainingInput.InvalidationFrom(body, now);
        return await ReadDecideCommit.RunAsync(async _ =>
        {
            var found = await LoadAsync(courseId, ct);
            var course = found.Value.InvalidateOlderAwards(from, now);
            var changes = Changes(caller, now, "course.invalidatesAwards", course.Id);
            var e = IntegrationEvent.Create(Ids.New("evt"), TrainingEvents.CourseInvalidatesAwards, now, course.Id, null, null,
                new TrainingEvents.InvalidationData(course.Id, course.Title, course.Version, from));
            var etag = await store.UpdateCourseAsync(course, found.Value, found.ETag, changes with { Outbox = [.. changes.Outbox, OutboxMessage.ForEvent(e)] }, ct);
            return new Versioned<CourseDto>(CourseDto.From(course), etag);
        }, ct: ct);
    }

    /// <summary>Published courses for everyone; admins also see drafts.</summary>
    public async Task<IReadOnlyList<CourseDto>> ListAsync(Caller caller, CancellationToken ct) =>
        (await store.ListCoursesAsync(ct)).Where(c => c.Published || caller.IsAdmin).OrderBy(c => c.Title, StringComparer.OrdinalIgnoreCase).Select(CourseDto.From).ToList();

    public async Task<Versioned<CourseDto>> GetAsync(Caller caller, string courseId, CancellationToken ct)
    {
        var found = await LoadAsync(courseId, ct);
        if (!found.Value.Published && !caller.IsAdmin) throw new NotFoundException("Course");
        return new(CourseDto.From(found.Value), found.ETag);
    }

    public async Task<CourseStats> StatsAsync(string courseId, CancellationToken ct)
    {
        await LoadAsync(courseId, ct);
        return await store.CourseStatsAsync(courseId, ct);
    }

    private async Task<Versioned<Course>> LoadAsync(string courseId, CancellationToken ct)
    {
        if (!Ids.LooksLike(courseId, "crs")) throw new NotFoundException("Course");
        return await store.GetCourseAsync(courseId, ct) ?? throw new NotFoundException("Course");
    }

    private static ChangeSet Changes(Caller caller, DateTimeOffset now, string action, string courseId) =>
        new([new AuditEntry(Ids.New("aud"), now, caller.UserId, caller.DisplayName, action, "course", courseId, [], null)], []);
}
