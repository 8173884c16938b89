using System.Globalization;
using System.Text.Json;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Training;

/// <summary>
/// xAPI 1.0.3 statements from an external LMS (app-only token with Prm.Integration). <c>passed</c> and <c>completed</c> of an activity
/// mapped to a course complete it for the partner user whose email is the actor's mbox; the statement id makes a retry a no-op;
/// <c>voided</c> revokes the completion it names and every award resting on it. An unknown actor or activity is parked for review.
/// </summary>
public sealed class XapiStatements(ITrainingStore store, IIdentityDirectory identities, IPartnerStore partners, TrainingCommits commits, TimeProvider clock)
{
    public const string Passed = "http://adlnet.gov/expapi/verbs/passed";
    public const string Completed = "http://adlnet.gov/expapi/verbs/completed";
    public const string Voided = "http://adlnet.gov/expapi/verbs/voided";

    /// <summary>How far ahead of this server's clock a timestamp may be (clock skew).</summary>
    public static readonly TimeSpan AllowedSkew = TimeSpan.FromMinutes(5);

    public const int MaxStatements = 50;

    /// <summary>A statement checked field by field.</summary>
    public sealed record Parsed(string Id, string Verb, string Email, string? ActivityId, string? TargetStatementId, DateTimeOffset Timestamp, string Raw);

    public async Task<XapiResponse> ReceiveAsync(Caller caller, JsonElement body, CancellationToken ct)
    {
        var items = body.ValueKind switch
        {
            JsonValueKind.Array => body.EnumerateArray().ToList(),
            JsonValueKind.Object => [body],
            _ => throw new ValidationFailedException("body", "The body is an xAPI statement or an array of statements."),
        };
        if (items.Count is 0 or > MaxStatements) throw new ValidationFailedException("body", $"Send 1 to {MaxStatements} statements.");
        var now = clock.GetUtcNow();
        // Every statement is checked before any is recorded: a bad batch writes nothing.
        var parsed = items.Select((s, i) => Parse(s, items.Count == 1 ? "" : $"[{i}].", now)).ToList();
        if (parsed.Select(p => p.Id).Distinct().Count() != parsed.Count) throw new ValidationFailedException("id", "A batch names a statement id more than once.");
        var results = new List<XapiResult>();
        foreach (var statement in parsed) results.Add(await RecordAsync(caller, statement, ct));
        return new XapiResponse(results);
    }

    public static Parsed Parse(JsonElement s, string prefix, DateTimeOffset now)
    {
        if (s.ValueKind != JsonValueKind.Object) throw new ValidationFailedException(prefix.TrimEnd('.') is { Length: > 0 } p ? p : "body", "A statement is a JSON object.");
        string? Str(JsonElement e, string name) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        JsonElement Obj(JsonElement e, string name) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v : default;
        var id = Str(s, "id");
        if (id is null || !Guid.TryParse(id, out var guid)) throw new ValidationFailedException(prefix + "id", "id is required: the statement's UUID (it makes a retry idempotent).");
        var actor = Obj(s, "actor");
        if (actor.ValueKind != JsonValueKind.Object) throw new ValidationFailedException(prefix + "actor", "actor is required: an Agent with mbox (mailto:email).");
        if (Str(actor, "objectType") is { } ot && ot != "Agent") throw new ValidationFailedException(prefix + "actor.objectType", "actor must be an Agent (groups are not accepted).");
        var mbox = Str(actor, "mbox");
        var email = mbox is { Length: > 7 and <= 327 } && mbox.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase) ? Text.NormalizeEmail(mbox[7..]) : null;
        if (email is null) throw new ValidationFailedException(prefix + "actor.mbox", "actor.mbox must be mailto: followed by an email address.");
        var verb = Str(Obj(s, "verb"), "id");
        if (verb is not (Passed or Completed or Voided)) throw new ValidationFailedException(prefix + "verb.id", $"verb.id must be one of: {Passed}, {Completed}, {Voided}.");
        var obj = Obj(s, "object");
        string? activity = null, target = null;
        if (verb == Voided)
        {
            if (Str(obj, "objectType") != "StatementRef" || Str(obj, "id") is not { } t || !Guid.TryParse(t, out var tg)) throw new ValidationFailedException(prefix + "object", "A voided statement's object is a StatementRef with the voided statement's id.");
            target = tg.ToString("D");
        }
        else
        {
            activity = Str(obj, "id");
            if (activity is not { Length: > 0 and <= 500 } || !Uri.TryCreate(activity, UriKind.Absolute, out _) || (Str(obj, "objectType") is { } kind && kind != "Activity"))
                throw new ValidationFailedException(prefix + "object.id", "object is an Activity whose id is an absolute IRI of at most 500 characters.");
        }
        var stamp = Str(s, "timestamp");
        DateTimeOffset timestamp = now;
        if (stamp is not null && !DateTimeOffset.TryParse(stamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out timestamp))
            throw new ValidationFailedException(prefix + "timestamp", "timestamp must be an ISO 8601 instant.");
        if (timestamp > now + AllowedSkew) throw new ValidationFailedException(prefix + "timestamp", "timestamp lies in the future.");
        if (timestamp < new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero)) throw new ValidationFailedException(prefix + "timestamp", "timestamp lies before 2000.");
        return new Parsed(guid.ToString("D"), verb, email, activity, target, timestamp, s.GetRawText());
    }

    private async Task<XapiResult> RecordAsync(Caller caller, Parsed s, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var verbName = s.Verb[(s.Verb.LastIndexOf('/') + 1)..];
        if (s.Verb == Voided) return await VoidAsync(caller, s, verbName, now, ct);
        var courseId = await store.CourseOfActivityAsync(s.ActivityId!, ct);
        var registration = await identities.FindEmailAsync(s.Email, ct);
        var user = registration?.PartnerId is { } pid ? (await partners.GetUserAsync(pid, registration.UserId, ct))?.Value : null;
        if (courseId is null || user is null)
        {
            await store.ParkAsync(new RecordedStatement(s.Id, verbName, s.Email, s.ActivityId, courseId, null, s.Timestamp, now, courseId is null ? "unknown activity" : "unknown actor"), s.Raw, ct);
            return new XapiResult(s.Id, "parked", courseId, null);
        }
        var course = (await store.GetCourseAsync(courseId, ct))?.Value ?? throw new NotFoundException("Course");
        await store.IndexStatementAsync(s.Id, user.Id, ct);
        var person = new PersonFacts(user.Id, user.Email, user.DisplayName, user.PartnerId);
        var outcome = "recorded";
        await commits.CommitAsync(caller, person, (training, at) =>
        {
            if (training.Statements.Any(x => x.Value.Id == s.Id)) { outcome = "duplicate"; return null; }
            var enrollment = training.Enrollments.FirstOrDefault(e => e.Value.CourseId == courseId);
            var before = enrollment?.Value ?? new Enrollment { UserId = user.Id, CourseId = courseId, CourseVersion = course.Version, Status = EnrollmentStatus.InProgress, StartedAt = s.Timestamp };
            var after = before with
            {
                Status = s.Verb == Passed ? EnrollmentStatus.Passed : before.Status == EnrollmentStatus.Passed ? EnrollmentStatus.Passed : EnrollmentStatus.Completed,
                CourseVersion = course.Version, CompletedAt = before.CompletedAt ?? s.Timestamp,
                LastPassedAt = before.LastPassedAt is { } last && last > s.Timestamp ? last : s.Timestamp, Source = "xapi", StatementId = s.Id,
            };
            var data = new TrainingEvents.CourseData(user.Id, courseId, course.Version, "xapi", null, null, s.Id);
            var events = s.Verb == Passed
                ? new[] { TrainingEvents.Course(TrainingEvents.ExamPassed, data, user.PartnerId, at), TrainingEvents.Course(TrainingEvents.CourseCompleted, data, user.PartnerId, at) }
                : [TrainingEvents.Course(TrainingEvents.CourseCompleted, data, user.PartnerId, at)];
            var row = new RecordedStatement(s.Id, verbName, s.Email, s.ActivityId, courseId, user.Id, s.Timestamp, at, "recorded");
            return new ProgressChange([(after, enrollment?.ETag)], [], [(row, null)], events, courseId, [], "xapi." + verbName, s.Id);
        }, ct);
        return new XapiResult(s.Id, outcome, courseId, user.Id);
    }

    private async Task<XapiResult> VoidAsync(Caller caller, Parsed s, string verbName, DateTimeOffset now, CancellationToken ct)
    {
        var userId = await store.UserOfStatementAsync(s.TargetStatementId!, ct);
        if (userId is null)
        {
            await store.ParkAsync(new RecordedStatement(s.Id, verbName, s.Email, s.TargetStatementId, null, null, s.Timestamp, now, "voids an unknown statement"), s.Raw, ct);
            return new XapiResult(s.Id, "parked", null, null);
        }
        var training0 = await store.ReadPersonAsync(userId, ct);
        // The person as the LMS named them in the voided statement; their partner as the directory says now.
        var target0 = training0.Statements.FirstOrDefault(x => x.Value.Id == s.TargetStatementId)?.Value;
        var email = target0?.ActorEmail ?? s.Email;
        var registration = await identities.FindEmailAsync(email, ct);
        var partnerId = registration?.UserId == userId ? registration.PartnerId : null;
        var person = new PersonFacts(userId, email, email, partnerId);
        var outcome = "voided";
        string? courseId = null;
        await commits.CommitAsync(caller, person, (training, at) =>
        {
            if (training.Statements.Any(x => x.Value.Id == s.Id)) { outcome = "duplicate"; return null; }
            var target = training.Statements.FirstOrDefault(x => x.Value.Id == s.TargetStatementId);
            var row = new RecordedStatement(s.Id, verbName, s.Email, s.TargetStatementId, target?.Value.CourseId, userId, s.Timestamp, at, "voided");
            if (target is null || target.Value.VoidedBy is not null)
            {
                outcome = target is null ? "voids an unknown statement" : "duplicate";
                return new ProgressChange([], [], [(row, null)], [], null, [], "xapi.voided", s.Id);
            }
            courseId = target.Value.CourseId;
            var enrollments = new List<(Enrollment, string?)>();
            var awards = new List<(AwardChange, string?)>();
            if (training.Enrollments.FirstOrDefault(e => e.Value.CourseId == courseId && e.Value.StatementId == s.TargetStatementId) is { } enrollment)
            {
                enrollments.Add((enrollment.Value with { Status = EnrollmentStatus.InProgress, CompletedAt = null, LastPassedAt = null, StatementId = null, Source = null }, enrollment.ETag));
                foreach (var award in training.Awards.Where(a => a.Value.Status != AwardStatus.Revoked && a.Value.BasedOn.Any(b => b.StartsWith(courseId + "@", StringComparison.Ordinal))))
                {
                    awards.Add((award.Value.Revoke($"The LMS voided the completion of course {courseId} (statement {s.TargetStatementId}).", at), award.ETag));
                }
            }
            return new ProgressChange(enrollments, [], [(row, null), (target.Value with { VoidedBy = s.Id }, target.ETag)], [], null, awards, "xapi.voided", s.Id);
        }, ct);
        return new XapiResult(s.Id, outcome, courseId, userId);
    }
}
