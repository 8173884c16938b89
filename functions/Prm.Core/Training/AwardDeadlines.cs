using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Outbox;
using Prm.Core.Partners;

namespace Prm.Core.Training;

/// <summary>One reminder deadline of an award: when, and how many days before the expiry it is.</summary>
public sealed record AwardReminder(DateTimeOffset At, int DaysBefore);

/// <summary>What the award workflow needs to pick its phase: the status, the expiry (its cycle), the reminder instants and the end of grace.</summary>
public sealed record AwardWorkflowState(string Status, DateTimeOffset ExpiresAt, DateTimeOffset GraceEndsAt, IReadOnlyList<AwardReminder> Reminders);

/// <summary>The port the award workflow calls.</summary>
public interface IAwardSteps
{
    Task<AwardWorkflowState?> StateAsync(string awardId, CancellationToken ct);

    Task<StepOutcome> RunStepAsync(string awardId, AwardStepKind kind, int daysBefore, DateTimeOffset cycle, CancellationToken ct);
}

/// <summary>The award workflow's steps: reminders (person and partner admins), grace, expiry — each idempotent per expiry (cycle).</summary>
public sealed class AwardDeadlines(ITrainingStore store, Certifications certifications, TrainingCommits commits) : IAwardSteps
{
    public async Task<AwardWorkflowState?> StateAsync(string awardId, CancellationToken ct)
    {
        var award = (await store.GetAwardAsync(awardId, ct))?.Value;
        if (award is null) return null;
        var definition = await store.GetDefinitionAsync(award.DefinitionId, ct);
        var calendar = await commits.CalendarAsync(ct);
        var offsets = definition?.ReminderDaysBefore ?? [];
        return new AwardWorkflowState(award.Status.ToString(), award.ExpiresAt, award.GraceEndsAt,
            offsets.OrderDescending().Select(d => new AwardReminder(award.ExpiresAt - calendar.Days(d), d)).ToList());
    }

    public async Task<StepOutcome> RunStepAsync(string awardId, AwardStepKind kind, int daysBefore, DateTimeOffset cycle, CancellationToken ct)
    {
        var userId = TrainingIds.UserOf(awardId, "crt");
        var found = userId is null ? null : await store.GetAwardAsync(awardId, ct);
        if (found is null) return StepOutcome.Closed;
        var partnerId = await certifications.CurrentPartnerAsync(found.Value, ct);
        var outcome = StepOutcome.Closed;
        await commits.CommitAsync(Caller.System, new PersonFacts(userId!, found.Value.PersonEmail, found.Value.PersonName, partnerId), (training, now) =>
        {
            var award = training.Awards.FirstOrDefault(a => a.Value.Id == awardId);
            if (award is null) { outcome = StepOutcome.Closed; return null; }
            var (result, change) = award.Value.Step(kind, daysBefore, cycle, now);
            outcome = result;
            return change is null ? null : new ProgressChange([], [], [], [], null, [(change, award.ETag)], change.Action, awardId);
        }, ct);
        return outcome;
    }
}

/// <summary>
/// certification.gap: when a person is removed from a partner, each valid award they hold leaves the partner's counts; the event names
/// the certification and the partner's count of its track and level afterwards. Idempotent per removal and award (the event id follows
/// from both, a second delivery finds the outbox row written).
/// </summary>
public sealed class CertificationGapProjection(ITrainingStore store, IPartnerStore partners, TimeProvider clock) : IOutboxProjection
{
    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (e.Type != PartnerEvents.UserRemovedType || e.PartnerId is not { } partnerId) return;
        var data = System.Text.Json.JsonSerializer.Deserialize<PartnerEvents.UserData>(e.Data, OutboxJson.Options)!;
        var userId = data.User.Id;
        if (!userId.StartsWith("usr_", StringComparison.Ordinal) || userId.Length != 36) return;
        var now = clock.GetUtcNow();
        var held = (await store.ReadPersonAsync(userId, ct)).Awards.Select(a => a.Value).Where(a => a.IsValidAt(now)).ToList();
        if (held.Count == 0) return;
        var users = new List<PartnerUser>();
        string? cursor = null;
        do
        {
            var page = await partners.ListUsersAsync(partnerId, new PageRequest(100, cursor), ct);
            users.AddRange(page.Items.Where(u => u.Id != userId));
            cursor = page.NextCursor;
        } while (cursor is not null && users.Count < 5000);
        var remaining = (await Task.WhenAll(users.Select(u => store.ReadPersonAsync(u.Id, ct)))).SelectMany(t => t.Awards.Select(a => a.Value)).ToList();
        var counts = CertifiedCounts.For(partnerId, remaining, users.ToDictionary(u => u.Id, _ => (string?)partnerId, StringComparer.Ordinal), now);
        var outbox = new List<OutboxMessage>();
        foreach (var award in held.GroupBy(a => a.DefinitionId).Select(g => g.First()))
        {
            var people = counts.FirstOrDefault(c => c.Track == Text.Camel(award.Track) && c.Level == Text.Camel(award.Level))?.People ?? 0;
            var id = "evt_" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(e.Id + "|" + award.Id)))[..32];
            outbox.Add(OutboxMessage.ForEvent(IntegrationEvent.Create(id, TrainingEvents.CertificationGap, now, award.Id, partnerId, e.CorrelationId,
                new TrainingEvents.GapData(partnerId, userId, award.Id, award.DefinitionId, award.CertificationName, Text.Camel(award.Track), Text.Camel(award.Level), people))));
        }
        try
        {
            await store.CommitPersonAsync(userId, new PersonCommit([], [], [], [], new ChangeSet([], outbox)), ct);
        }
        catch (ConflictException)
        {
            // Delivered before: the gap events of this removal are written.
        }
    }
}

/// <summary>Keeps the course-stats index (a row per person and course with their latest status) from the course events.</summary>
public sealed class CourseStatsProjection(ITrainingStore store) : IOutboxProjection
{
    public Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (e.Type is not (TrainingEvents.ExamPassed or TrainingEvents.ExamFailed or TrainingEvents.CourseCompleted)) return Task.CompletedTask;
        var data = System.Text.Json.JsonSerializer.Deserialize<TrainingEvents.CourseData>(e.Data, OutboxJson.Options)!;
        var status = e.Type switch
        {
            TrainingEvents.ExamPassed => EnrollmentStatus.Passed,
            TrainingEvents.ExamFailed => EnrollmentStatus.Failed,
            _ => EnrollmentStatus.Completed,
        };
        return store.IndexEnrollmentAsync(data.CourseId, data.UserId, status, ct);
    }
}

/// <summary>
/// course.invalidatesAwards: every person who passed the course gets each award resting on an older version invalidated
/// (<see cref="AwardTransitions.Invalidate"/>), a person who already passed the new version excepted. At least once: each person's
/// commit is idempotent (the award carries the mark), so a redelivery after a partial run finishes the rest.
/// </summary>
public sealed class AwardInvalidationProjection(ITrainingStore store, Certifications certifications, TrainingCommits commits) : IOutboxProjection
{
    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (e.Type != TrainingEvents.CourseInvalidatesAwards) return;
        var data = System.Text.Json.JsonSerializer.Deserialize<TrainingEvents.InvalidationData>(e.Data, OutboxJson.Options)!;
        var definitions = (await store.ListDefinitionsAsync(ct)).ToDictionary(d => d.Id, StringComparer.Ordinal);
        var calendar = await commits.CalendarAsync(ct);
        var note = $"Version {data.Version} of the course \"{data.Title}\" replaces the one this certification rests on: pass it by "
            + data.From.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture) + " (or within the grace period after it) to keep the certification.";
        var people = await store.CoursePeopleAsync(data.CourseId, ct);
        await Parallel.ForEachAsync(people, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (userId, token) =>
        {
            if (!userId.StartsWith("usr_", StringComparison.Ordinal) || userId.Length != 36) return;
            var first = (await store.ReadPersonAsync(userId, token)).Awards.Select(a => a.Value).FirstOrDefault(a => a.VersionOf(data.CourseId) is { } v && v < data.Version);
            if (first is null) return;
            var partnerId = await certifications.CurrentPartnerAsync(first, token);
            await commits.CommitAsync(Caller.System, new PersonFacts(userId, first.PersonEmail, first.PersonName, partnerId), (training, now) =>
            {
                var passedNew = training.Enrollments.Any(x => x.Value.CourseId == data.CourseId && x.Value.IsDone && x.Value.CourseVersion >= data.Version);
                if (passedNew) return null;
                var changes = training.Awards
                    .Select(a => (Change: a.Value.Invalidate(data.CourseId, data.Version, data.From, definitions.GetValueOrDefault(a.Value.DefinitionId), calendar, note), a.ETag))
                    .Where(c => c.Change is not null).Select(c => (c.Change!, (string?)c.ETag)).ToList();
                return changes.Count == 0 ? null : new ProgressChange([], [], [], [], null, changes, "certification.invalidated", data.CourseId);
            }, token);
        });
    }
}
