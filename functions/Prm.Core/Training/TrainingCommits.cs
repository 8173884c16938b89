using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Training;

/// <summary>What a progress step did to a person's partition: the rows to write and the course events, before the path is evaluated.</summary>
public sealed record ProgressChange(
    IReadOnlyList<(Enrollment Row, string? ETag)> Enrollments,
    IReadOnlyList<(Attempt Row, string? ETag)> Attempts,
    IReadOnlyList<(RecordedStatement Row, string? ETag)> Statements,
    IReadOnlyList<IntegrationEvent> Events,
    string? CompletedCourseId,
    IReadOnlyList<(AwardChange Change, string? ETag)> AwardChanges,
    string Action,
    string SubjectId);

/// <summary>
/// Commits a person's training changes: the rows of their partition, the awards a completed path earns or renews, the events and emails,
/// in one transaction of the person's partition; on a lost race it reads the partition again and decides again.
/// </summary>
public sealed class TrainingCommits(ITrainingStore store, TrainingNotices notices, ProgramSettings settings, TimeProvider clock)
{
    public async Task<TrainingSettings> SettingsAsync(CancellationToken ct) => await settings.GetAsync<TrainingSettings>(TrainingSettings.SectionName, ct);

    public async Task<CertificationCalendar> CalendarAsync(CancellationToken ct) => new((await SettingsAsync(ct)).DayLength);

    /// <summary>
    /// Reads the person's partition, lets <paramref name="decide"/> make the change, adds the awards the path earns or renews when a course
    /// was completed, and commits. Returns the change as committed.
    /// </summary>
    public Task<ProgressChange> CommitAsync(Caller actor, PersonFacts person, Func<PersonTraining, DateTimeOffset, ProgressChange?> decide, CancellationToken ct) =>
        ReadDecideCommit.RunAsync(async _ =>
        {
            var training = await store.ReadPersonAsync(person.UserId, ct);
            var now = clock.GetUtcNow();
            var change = decide(training, now);
            if (change is null) return null!;
            if (change.CompletedCourseId is { } courseId)
            {
                var enrollments = training.Enrollments.Select(e => e.Value).Where(e => change.Enrollments.All(c => c.Row.CourseId != e.CourseId)).Concat(change.Enrollments.Select(c => c.Row)).ToList();
                var definitions = await store.ListDefinitionsAsync(ct);
                var awards = CertificationPaths.Evaluate(courseId, enrollments, training.Awards, definitions, person, await CalendarAsync(ct), now);
                change = change with { AwardChanges = [.. change.AwardChanges, .. awards] };
            }
            await WriteAsync(actor, person.UserId, person.PartnerId, change, now, ct);
            return change;
        }, retryWhen: ex => ex is PreconditionFailedException, ct: ct);

    /// <summary>Writes a decided change (verification rows of new awards first, then the partition transaction).</summary>
    public async Task WriteAsync(Caller actor, string userId, string? currentPartnerId, ProgressChange change, DateTimeOffset now, CancellationToken ct)
    {
        var outbox = change.Events.Select(OutboxMessage.ForEvent).ToList();
        var audit = new List<AuditEntry> { new(Ids.New("aud"), now, actor.UserId, actor.DisplayName, change.Action, "training", change.SubjectId, [], null) };
        foreach (var (award, etag) in change.AwardChanges)
        {
            if (etag is null) await store.AddVerificationAsync(TrainingIds.CodeHash(award.Award.VerificationCode)!, award.Award.Id, ct);
            outbox.AddRange(await notices.OutboxAsync(award, currentPartnerId, now, ct));
            audit.Add(new AuditEntry(Ids.New("aud"), now, actor.UserId, actor.DisplayName, award.Action, "award", award.Award.Id, [], award.Note));
        }
        await store.CommitPersonAsync(userId, new PersonCommit(change.Enrollments, change.Attempts, change.AwardChanges.Select(a => (a.Change.Award, a.ETag)).ToList(), change.Statements,
            new ChangeSet(audit, outbox)), ct);
    }
}
