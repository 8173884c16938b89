using Prm.Core.Common;
using Prm.Core.Outbox;

namespace Prm.Core.Training;

/// <summary>The integration events of training and certification.</summary>
public static class TrainingEvents
{
    [EventPayload(typeof(CourseData))]
    public const string CourseCompleted = "course.completed";
    [EventPayload(typeof(CourseData))]
    public const string ExamPassed = "exam.passed";
    [EventPayload(typeof(CourseData))]
    public const string ExamFailed = "exam.failed";
    [EventPayload(typeof(AwardData))]
    public const string CertificationEarned = "certification.earned";
    [EventPayload(typeof(AwardData))]
    public const string CertificationExpiringSoon = "certification.expiringSoon";
    [EventPayload(typeof(AwardData))]
    public const string CertificationExpired = "certification.expired";
    [EventPayload(typeof(AwardData))]
    public const string CertificationRenewed = "certification.renewed";
    [EventPayload(typeof(AwardData))]
    public const string CertificationRevoked = "certification.revoked";
    [EventPayload(typeof(GapData))]
    public const string CertificationGap = "certification.gap";
    /// <summary>A course version invalidated the version the award rests on: it expires at the new expiresAt unless its holder passes the new version.</summary>
    [EventPayload(typeof(AwardData))]
    public const string CertificationInvalidated = "certification.invalidated";
    /// <summary>The holder of an invalidated award passed the new course version: the award has its expiry back.</summary>
    [EventPayload(typeof(AwardData))]
    public const string CertificationRequalified = "certification.requalified";
    /// <summary>An admin marked a course version as invalidating the awards that rest on older versions, from a date.</summary>
    [EventPayload(typeof(InvalidationData))]
    public const string CourseInvalidatesAwards = "course.invalidatesAwards";

    /// <summary>Data of course.invalidatesAwards.</summary>
    public sealed record InvalidationData(string CourseId, string Title, int Version, DateTimeOffset From);

    /// <summary>Data of course and exam events.</summary>
    public sealed record CourseData(string UserId, string CourseId, int CourseVersion, string Source, string? AttemptId, int? Score, string? StatementId);

    /// <summary>Data of certification events (never the verification code).</summary>
    public sealed record AwardData(string AwardId, string Number, string UserId, string PersonName, string DefinitionId, string CertificationName, string Track, string Level,
        DateTimeOffset EarnedAt, DateTimeOffset ExpiresAt, DateTimeOffset GraceEndsAt, string Status, string? Reason);

    /// <summary>Data of certification.gap: the partner lost a certified person; <see cref="People"/> is its count of the track and level now.</summary>
    public sealed record GapData(string PartnerId, string UserId, string AwardId, string DefinitionId, string CertificationName, string Track, string Level, int People);

    public static IntegrationEvent Course(string type, CourseData data, string? partnerId, DateTimeOffset at) =>
        IntegrationEvent.Create(Ids.New("evt"), type, at, data.CourseId, partnerId, null, data);

    public static IntegrationEvent ForAward(string type, Award a, string? partnerId, DateTimeOffset at, string? reason = null) =>
        IntegrationEvent.Create(Ids.New("evt"), type, at, a.Id, partnerId, null,
            new AwardData(a.Id, a.Number, a.UserId, a.PersonName, a.DefinitionId, a.CertificationName, Text.Camel(a.Track), Text.Camel(a.Level), a.EarnedAt, a.ExpiresAt, a.GraceEndsAt, a.Status.ToString(), reason));
}
