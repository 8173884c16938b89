using Prm.Core.Common;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Core.Training;
using Prm.Storage.Training;

namespace Prm.Storage.Tests;

/// <summary>The training table: a person's partition read in one query (never its timeline or outbox rows), large rows split and joined, ETags on every row.</summary>
public sealed class TrainingStoreTests
{
    private static readonly string UserId = "usr_" + Guid.NewGuid().ToString("N");

    private static Attempt BigAttempt(string userId) => new()
    {
        Id = TrainingIds.NewAttempt(userId), UserId = userId, CourseId = "crs_1", CourseVersion = 1, StartedAt = Make.T0, Deadline = Make.T0.AddMinutes(30), PassScore = 80,
        // About 100,000 characters of JSON: more than three 30,000-character properties.
        Questions = Enumerable.Range(1, 50).Select(i => new Question($"q{i}", new string('x', 1000) + "é", QuestionKind.Single,
            Enumerable.Range(1, 5).Select(o => new QuestionOption($"o{o}", new string('y', 200))).ToList(), ["o1"], 1)).ToList(),
    };

    [Fact]
    public async Task A_person_partition_round_trips_large_rows_and_leaves_out_timeline_and_outbox_rows()
    {
        var s = await TestStores.CreateAsync();
        var store = new TableTrainingStore(s.Tables, s.Writer);
        var attempt = BigAttempt(UserId);
        var changes = new ChangeSet([Make.Audit("attempt.started", attempt.Id, Make.T0)],
            [OutboxMessage.ForEvent(IntegrationEvent.Create(Ids.New("evt"), "exam.failed", Make.T0, "crs_1", null, null, new { }))]);
        await store.CommitPersonAsync(UserId, new PersonCommit([], [(attempt, null)], [], [], changes), CancellationToken.None);
        var read = await store.ReadPersonAsync(UserId, CancellationToken.None);
        read.Attempts.Should().ContainSingle();
        read.Attempts[0].Value.Questions.Should().HaveCount(50);
        read.Attempts[0].Value.Questions[49].Text.Should().EndWith("é");
        read.Enrollments.Should().BeEmpty();
        read.Awards.Should().BeEmpty();
        read.Statements.Should().BeEmpty();
        (await store.GetAttemptAsync(attempt.Id, CancellationToken.None))!.ETag.Should().Be(read.Attempts[0].ETag);
    }

    [Fact]
    public async Task A_stale_etag_or_a_row_written_meanwhile_is_a_lost_race_and_writes_nothing()
    {
        var s = await TestStores.CreateAsync();
        var store = new TableTrainingStore(s.Tables, s.Writer);
        var userId = "usr_" + Guid.NewGuid().ToString("N");
        var attempt = BigAttempt(userId) with { Questions = [] };
        await store.CommitPersonAsync(userId, new PersonCommit([], [(attempt, null)], [], [], new ChangeSet([], [])), CancellationToken.None);
        var first = (await store.ReadPersonAsync(userId, CancellationToken.None)).Attempts[0];
        await store.CommitPersonAsync(userId, new PersonCommit([], [(attempt with { Score = 10 }, first.ETag)], [], [], new ChangeSet([], [])), CancellationToken.None);
        var stale = () => store.CommitPersonAsync(userId, new PersonCommit([], [(attempt with { Score = 99 }, first.ETag)], [], [], new ChangeSet([], [])), CancellationToken.None);
        await stale.Should().ThrowAsync<PreconditionFailedException>();
        var again = () => store.CommitPersonAsync(userId, new PersonCommit([], [(attempt, null)], [], [], new ChangeSet([], [])), CancellationToken.None);
        await again.Should().ThrowAsync<PreconditionFailedException>("a new row that exists by now is a lost race too");
        (await store.ReadPersonAsync(userId, CancellationToken.None)).Attempts.Single().Value.Score.Should().Be(10);
    }

    [Fact]
    public async Task Course_stats_keep_each_persons_best_status()
    {
        var s = await TestStores.CreateAsync();
        var store = new TableTrainingStore(s.Tables, s.Writer);
        var courseId = Ids.New("crs");
        await store.IndexEnrollmentAsync(courseId, "usr_a", EnrollmentStatus.Failed, CancellationToken.None);
        await store.IndexEnrollmentAsync(courseId, "usr_a", EnrollmentStatus.Passed, CancellationToken.None);
        await store.IndexEnrollmentAsync(courseId, "usr_a", EnrollmentStatus.Completed, CancellationToken.None); // the course.completed of the same pass
        await store.IndexEnrollmentAsync(courseId, "usr_b", EnrollmentStatus.Failed, CancellationToken.None);
        var stats = await store.CourseStatsAsync(courseId, CancellationToken.None);
        stats.Enrollments.Should().Be(2);
        stats.Passed.Should().Be(1);
        stats.Failed.Should().Be(1);
        stats.PassRate.Should().Be(0.5);
    }
}
