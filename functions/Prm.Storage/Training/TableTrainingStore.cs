using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Data.Tables;
using Prm.Core.Common;
using Prm.Core.Partners;
using Prm.Core.Training;

namespace Prm.Storage.Training;

/// <summary>
/// Training and certification on Table Storage, one table. Everything of a person lives in their partition ("p|{user}": enrollments,
/// attempts, awards, xAPI statements, timeline and outbox rows), so a submit, the awards it earns and their events commit in one
/// transaction. Courses ("courses", versions in "coursever|{id}"), definitions ("defs"), look-up rows (verification codes by SHA-256,
/// activity ids, statement ids), parked statements and the course-stats index have partitions of their own.
/// </summary>
public sealed class TableTrainingStore(PrmTables tables, PartitionWriter writer) : ITrainingStore
{
    internal const string CoursesPartition = "courses";
    internal const string DefinitionsPartition = "defs";
    internal const string VerifyPartition = "verify";
    internal const string ActivityPartition = "activities";
    internal const string StatementIndexPartition = "stmtidx";
    internal const string ParkedPartition = "parked";
    internal const string EnrollmentPrefix = "enr|", AttemptPrefix = "att|", AwardPrefix = "award|", StatementPrefix = "stmt|";

    /// <summary>A string property holds at most 32K characters: JSON bodies are split over Body, Body1, Body2, ...</summary>
    private const int ChunkChars = 30_000;
    private const int MaxChunks = 16;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private TableClient Table => tables.Training;

    public static string PersonPartition(string userId) => "p|" + TrainingIds.Person(userId);

    private static string VersionPartition(string courseId) => "coursever|" + courseId;

    private static string VersionRow(int version) => "v" + version.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

    private static string Hash(string text) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

    internal static TableEntity Entity<T>(string partition, string row, T value)
    {
        var json = JsonSerializer.Serialize(value, Json);
        var chunks = (json.Length + ChunkChars - 1) / ChunkChars;
        if (chunks > MaxChunks) throw new ValidationFailedException("body", "The record is too large to store.", unprocessable: true);
        var entity = new TableEntity(partition, row);
        for (var i = 0; i < Math.Max(1, chunks); i++) entity[i == 0 ? "Body" : "Body" + i] = json.Substring(i * ChunkChars, Math.Min(ChunkChars, json.Length - i * ChunkChars));
        return entity;
    }

    internal static T Read<T>(TableEntity entity)
    {
        var json = new System.Text.StringBuilder(entity.GetString("Body"));
        for (var i = 1; entity.GetString("Body" + i) is { } more; i++) json.Append(more);
        return JsonSerializer.Deserialize<T>(json.ToString(), Json)!;
    }

    private async Task<Versioned<T>?> GetAsync<T>(string partition, string row, CancellationToken ct)
    {
        var found = await Table.GetEntityIfExistsAsync<TableEntity>(partition, row, cancellationToken: ct);
        return found.HasValue ? new Versioned<T>(Read<T>(found.Value!), found.Value!.ETag.ToString()) : null;
    }

    public Task<Versioned<Course>?> GetCourseAsync(string courseId, CancellationToken ct) => GetAsync<Course>(CoursesPartition, courseId, ct);

    public async Task<string> CreateCourseAsync(Course course, ChangeSet changes, CancellationToken ct) =>
        (await writer.CommitAsync(Table, CoursesPartition, [new(TableTransactionActionType.Add, Entity(CoursesPartition, course.Id, course))], changes, ct))[0];

    public async Task<string> UpdateCourseAsync(Course course, Course before, string etag, ChangeSet changes, CancellationToken ct)
    {
        // The version being replaced is kept first (an upsert: a retry writes the same row); then the course with its ETag.
        if (course.Version != before.Version) await Table.UpsertEntityAsync(Entity(VersionPartition(course.Id), VersionRow(before.Version), before), TableUpdateMode.Replace, ct);
        return (await writer.CommitAsync(Table, CoursesPartition, [new(TableTransactionActionType.UpdateReplace, Entity(CoursesPartition, course.Id, course), new Azure.ETag(etag))], changes, ct))[0];
    }

    public async Task<IReadOnlyList<Course>> ListCoursesAsync(CancellationToken ct)
    {
        var list = new List<Course>();
        await foreach (var e in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {CoursesPartition} and RowKey ge {"crs_"} and RowKey lt {"crs`"}"), cancellationToken: ct)) list.Add(Read<Course>(e));
        return list;
    }

    public async Task<Course?> GetCourseVersionAsync(string courseId, int version, CancellationToken ct)
    {
        var current = (await GetCourseAsync(courseId, ct))?.Value;
        if (current?.Version == version) return current;
        return (await GetAsync<Course>(VersionPartition(courseId), VersionRow(version), ct))?.Value;
    }

    public async Task MapActivitiesAsync(string courseId, IReadOnlyList<string> add, IReadOnlyList<string> remove, CancellationToken ct)
    {
        foreach (var activity in add)
        {
            var row = new TableEntity(ActivityPartition, Hash(activity)) { ["CourseId"] = courseId, ["ActivityId"] = activity };
            try
            {
                await Table.AddEntityAsync(row, ct);
            }
            catch (Azure.RequestFailedException ex) when (ex.Status == 409)
            {
                var holder = await Table.GetEntityIfExistsAsync<TableEntity>(ActivityPartition, Hash(activity), cancellationToken: ct);
                if (holder.HasValue && holder.Value!.GetString("CourseId") != courseId)
                    throw new ConflictException($"Activity {activity} is mapped to course {holder.Value.GetString("CourseId")}.", "activityIds");
            }
        }
        foreach (var activity in remove)
        {
            var holder = await Table.GetEntityIfExistsAsync<TableEntity>(ActivityPartition, Hash(activity), cancellationToken: ct);
            if (holder.HasValue && holder.Value!.GetString("CourseId") == courseId) await Table.DeleteEntityAsync(ActivityPartition, Hash(activity), holder.Value.ETag, ct);
        }
    }

    public async Task<string?> CourseOfActivityAsync(string activityId, CancellationToken ct)
    {
        var found = await Table.GetEntityIfExistsAsync<TableEntity>(ActivityPartition, Hash(activityId), cancellationToken: ct);
        return found.HasValue ? found.Value!.GetString("CourseId") : null;
    }

    public async Task<IReadOnlyList<CertificationDefinition>> ListDefinitionsAsync(CancellationToken ct)
    {
        var list = new List<CertificationDefinition>();
        await foreach (var e in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {DefinitionsPartition} and RowKey ge {"cdef_"} and RowKey lt {"cdef`"}"), cancellationToken: ct)) list.Add(Read<CertificationDefinition>(e));
        return list;
    }

    public async Task<CertificationDefinition?> GetDefinitionAsync(string id, CancellationToken ct) =>
        Ids.LooksLike(id, "cdef") ? (await GetAsync<CertificationDefinition>(DefinitionsPartition, id, ct))?.Value : null;

    public Task CreateDefinitionAsync(CertificationDefinition definition, ChangeSet changes, CancellationToken ct) =>
        writer.CommitAsync(Table, DefinitionsPartition, [new(TableTransactionActionType.Add, Entity(DefinitionsPartition, definition.Id, definition))], changes, ct);

    public async Task<PersonTraining> ReadPersonAsync(string userId, CancellationToken ct)
    {
        var partition = PersonPartition(userId);
        string Range(string prefix) => TableClient.CreateQueryFilter($"(RowKey ge {prefix} and RowKey lt {KeyEncoding.PrefixEnd(prefix)})");
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition}") + " and (" + string.Join(" or ", new[] { EnrollmentPrefix, AttemptPrefix, AwardPrefix, StatementPrefix }.Select(Range)) + ")";
        var enrollments = new List<Versioned<Enrollment>>();
        var attempts = new List<Versioned<Attempt>>();
        var awards = new List<Versioned<Award>>();
        var statements = new List<Versioned<RecordedStatement>>();
        await foreach (var e in Table.QueryAsync<TableEntity>(filter, cancellationToken: ct))
        {
            var etag = e.ETag.ToString();
            if (e.RowKey.StartsWith(EnrollmentPrefix, StringComparison.Ordinal)) enrollments.Add(new(Read<Enrollment>(e), etag));
            else if (e.RowKey.StartsWith(AttemptPrefix, StringComparison.Ordinal)) attempts.Add(new(Read<Attempt>(e), etag));
            else if (e.RowKey.StartsWith(AwardPrefix, StringComparison.Ordinal)) awards.Add(new(Read<Award>(e), etag));
            else statements.Add(new(Read<RecordedStatement>(e), etag));
        }
        return new PersonTraining(enrollments, attempts, awards, statements);
    }

    public async Task<Versioned<Award>?> GetAwardAsync(string awardId, CancellationToken ct) =>
        TrainingIds.UserOf(awardId, "crt") is { } userId ? await GetAsync<Award>(PersonPartition(userId), AwardPrefix + awardId, ct) : null;

    public async Task<Versioned<Attempt>?> GetAttemptAsync(string attemptId, CancellationToken ct) =>
        TrainingIds.UserOf(attemptId, "att") is { } userId ? await GetAsync<Attempt>(PersonPartition(userId), AttemptPrefix + attemptId, ct) : null;

    public async Task CommitPersonAsync(string userId, PersonCommit commit, CancellationToken ct)
    {
        var partition = PersonPartition(userId);
        var actions = new List<TableTransactionAction>();
        void Put<T>(string row, T value, string? etag) => actions.Add(etag is null
            ? new TableTransactionAction(TableTransactionActionType.Add, Entity(partition, row, value))
            : new TableTransactionAction(TableTransactionActionType.UpdateReplace, Entity(partition, row, value), new Azure.ETag(etag)));
        foreach (var (row, etag) in commit.Enrollments) Put(EnrollmentPrefix + row.CourseId, row, etag);
        foreach (var (row, etag) in commit.Attempts) Put(AttemptPrefix + row.Id, row, etag);
        foreach (var (row, etag) in commit.Awards) Put(AwardPrefix + row.Id, row, etag);
        foreach (var (row, etag) in commit.Statements) Put(StatementPrefix + row.Id, row, etag);
        try
        {
            await writer.CommitAsync(Table, partition, actions, commit.Changes, ct);
        }
        catch (ConflictException) when (actions.Count > 0)
        {
            // A new row that exists by now: someone committed first; read again and decide again.
            throw new PreconditionFailedException("The person's training changed meanwhile; read it again and retry.");
        }
    }

    public Task AddVerificationAsync(string codeHash, string awardId, CancellationToken ct) =>
        Table.UpsertEntityAsync(new TableEntity(VerifyPartition, codeHash) { ["AwardId"] = awardId }, TableUpdateMode.Replace, ct);

    public async Task<string?> FindAwardByCodeAsync(string codeHash, CancellationToken ct)
    {
        var found = await Table.GetEntityIfExistsAsync<TableEntity>(VerifyPartition, codeHash, cancellationToken: ct);
        return found.HasValue ? found.Value!.GetString("AwardId") : null;
    }

    public Task IndexStatementAsync(string statementId, string userId, CancellationToken ct) =>
        Table.UpsertEntityAsync(new TableEntity(StatementIndexPartition, statementId) { ["UserId"] = userId }, TableUpdateMode.Replace, ct);

    public async Task<string?> UserOfStatementAsync(string statementId, CancellationToken ct)
    {
        var found = await Table.GetEntityIfExistsAsync<TableEntity>(StatementIndexPartition, statementId, cancellationToken: ct);
        return found.HasValue ? found.Value!.GetString("UserId") : null;
    }

    public async Task ParkAsync(RecordedStatement statement, string rawJson, CancellationToken ct)
    {
        var entity = Entity(ParkedPartition, statement.Id, statement);
        entity["Raw"] = rawJson.Length <= ChunkChars ? rawJson : rawJson[..ChunkChars];
        try
        {
            await Table.AddEntityAsync(entity, ct);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 409)
        {
            // Parked before: a retry of the same statement.
        }
    }

    public async Task<IReadOnlyList<RecordedStatement>> ListParkedAsync(CancellationToken ct)
    {
        var list = new List<RecordedStatement>();
        await foreach (var e in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {ParkedPartition}"), maxPerPage: 200, cancellationToken: ct))
        {
            list.Add(Read<RecordedStatement>(e));
            if (list.Count >= 1000) break;
        }
        return list;
    }

    private static int Rank(EnrollmentStatus s) => s switch { EnrollmentStatus.Passed => 4, EnrollmentStatus.Completed => 3, EnrollmentStatus.Failed => 2, EnrollmentStatus.InProgress => 1, _ => 0 };

    public Task IndexEnrollmentAsync(string courseId, string userId, EnrollmentStatus status, CancellationToken ct) =>
        ReadDecideCommit.RunAsync(async _ =>
        {
            var partition = "stats|" + courseId;
            var found = await Table.GetEntityIfExistsAsync<TableEntity>(partition, userId, cancellationToken: ct);
            var row = new TableEntity(partition, userId) { ["Status"] = status.ToString() };
            if (!found.HasValue) await Table.AddEntityAsync(row, ct);
            else if (Enum.TryParse<EnrollmentStatus>(found.Value!.GetString("Status"), out var before) && Rank(before) < Rank(status)) await Table.UpdateEntityAsync(row, found.Value.ETag, TableUpdateMode.Replace, ct);
        }, retryWhen: LostRace.IsConflictOrGone, ct: ct);

    public async Task<IReadOnlyList<string>> CoursePeopleAsync(string courseId, CancellationToken ct)
    {
        var people = new List<string>();
        await foreach (var e in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"stats|" + courseId}"), select: ["RowKey", "Status"], cancellationToken: ct))
        {
            if (e.GetString("Status") is nameof(EnrollmentStatus.Passed) or nameof(EnrollmentStatus.Completed)) people.Add(e.RowKey);
        }
        return people;
    }

    public async Task<CourseStats> CourseStatsAsync(string courseId, CancellationToken ct)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var total = 0;
        await foreach (var e in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"stats|" + courseId}"), select: ["Status"], cancellationToken: ct))
        {
            total++;
            var s = e.GetString("Status") ?? "";
            counts[s] = counts.GetValueOrDefault(s) + 1;
        }
        int Of(EnrollmentStatus s) => counts.GetValueOrDefault(s.ToString());
        var passed = Of(EnrollmentStatus.Passed);
        var failed = Of(EnrollmentStatus.Failed);
        return new CourseStats(courseId, total, Of(EnrollmentStatus.InProgress), Of(EnrollmentStatus.Completed), passed, failed, passed + failed == 0 ? null : Math.Round(passed * 1.0 / (passed + failed), 4));
    }
}
