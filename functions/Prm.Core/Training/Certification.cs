using Prm.Core.Common;

namespace Prm.Core.Training;

public enum CertificationLevel { Associate, Professional, Expert }

public enum AwardStatus { Active, ExpiringSoon, Grace, Expired, Revoked, Renewed }

/// <summary>What renews a certification: the courses to pass within <see cref="WindowDaysBefore"/> of the expiry or during grace.</summary>
public sealed record RenewalRule(int WindowDaysBefore, IReadOnlyList<string> RequiredCourses);

/// <summary>A certification definition (admin): the path (required courses), validity, reminders, grace and renewal.</summary>
public sealed record CertificationDefinition
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required CourseTrack Track { get; init; }
    public required CertificationLevel Level { get; init; }
    public required IReadOnlyList<string> RequiredCourses { get; init; }
    public int ValidityMonths { get; init; } = 24;
    public IReadOnlyList<int> ReminderDaysBefore { get; init; } = [90, 60, 30, 7];
    public int GraceDays { get; init; } = 30;
    public RenewalRule Renewal { get; init; } = new(90, []);
    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>
/// The certification calendar: validity, reminders, grace and the renewal window in days of <see cref="DayLength"/> (one real day in
/// production). With real days validity is calendar months; with shortened days a month is 30 of them.
/// </summary>
public sealed record CertificationCalendar(TimeSpan DayLength)
{
    public static CertificationCalendar Real { get; } = new(TimeSpan.FromDays(1));

    public TimeSpan Days(int days) => DayLength * days;

    public DateTimeOffset AddMonths(DateTimeOffset from, int months) =>
        DayLength == TimeSpan.FromDays(1) ? from.AddMonths(months) : from + DayLength * (30 * months);
}

/// <summary>
/// A person's award of a certification. It belongs to the person (their user id); the partner is only where they worked when they
/// earned it (counts follow the person's current membership, see <see cref="CertifiedCounts"/>). The number is human-readable; the
/// verification code is 128 random bits, stored only as its SHA-256 in the look-up row.
/// </summary>
public sealed record Award
{
    public required string Id { get; init; }
    public required string Number { get; init; }
    public required string VerificationCode { get; init; }
    public required string UserId { get; init; }
    public required string PersonName { get; init; }
    public required string PersonEmail { get; init; }
    public string? PartnerId { get; init; }
    public required string DefinitionId { get; init; }
    public required string CertificationName { get; init; }
    public required CourseTrack Track { get; init; }
    public required CertificationLevel Level { get; init; }
    public required DateTimeOffset EarnedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public required DateTimeOffset GraceEndsAt { get; init; }
    /// <summary>The courses (id@version) the award rests on; voiding one of them revokes it.</summary>
    public required IReadOnlyList<string> BasedOn { get; init; }
    public AwardStatus Status { get; init; } = AwardStatus.Active;
    public int Renewals { get; init; }
    public DateTimeOffset? RenewedAt { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
    public string? RevokedReason { get; init; }
    /// <summary>The steps the workflow ran, each stamped with the expiry it belonged to ("remind:90@2028-01-01T00:00:00Z").</summary>
    public IReadOnlyList<string> StepsDone { get; init; } = [];
    /// <summary>
    /// The course versions (id@version) the holder must pass to keep the award after a course version invalidated the one it rested on;
    /// empty when none. <see cref="ExpiresBeforeInvalidation"/> is the expiry that passing them restores.
    /// </summary>
    public IReadOnlyList<string> Requalify { get; init; } = [];
    public DateTimeOffset? ExpiresBeforeInvalidation { get; init; }

    /// <summary>The version of <paramref name="courseId"/> the award rests on, or null when it does not rest on that course.</summary>
    public int? VersionOf(string courseId) =>
        BasedOn.Select(b => b.Split('@')).Where(p => p.Length == 2 && p[0] == courseId && int.TryParse(p[1], System.Globalization.CultureInfo.InvariantCulture, out _))
            .Select(p => (int?)int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();

    /// <summary>Still counts: not revoked and not past grace at <paramref name="now"/>.</summary>
    public bool IsValidAt(DateTimeOffset now) => Status is not (AwardStatus.Revoked or AwardStatus.Expired) && now < GraceEndsAt;

    /// <summary>The status at <paramref name="now"/> as the calendar says (reads never show a stale status while a timer is due).</summary>
    public AwardStatus StatusAt(DateTimeOffset now, TimeSpan reminderWindow)
    {
        if (Status == AwardStatus.Revoked) return AwardStatus.Revoked;
        if (Status == AwardStatus.Expired || now >= GraceEndsAt) return AwardStatus.Expired;
        if (now >= ExpiresAt || Status == AwardStatus.Grace) return AwardStatus.Grace;
        if (now >= ExpiresAt - reminderWindow) return AwardStatus.ExpiringSoon;
        return Renewals > 0 ? AwardStatus.Renewed : AwardStatus.Active;
    }
}

/// <summary>Award ids carry the person (their partition) and are random within it.</summary>
public static class TrainingIds
{
    public static string Person(string userId) => userId.Length == 36 && userId.StartsWith("usr_", StringComparison.Ordinal) ? userId[4..] : throw new ArgumentException("Not a user id.", nameof(userId));

    public static string NewAttempt(string userId) => "att_" + Person(userId) + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));

    public static string NewAward(string userId) => "crt_" + Person(userId) + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));

    /// <summary>The user of a well-formed attempt or award id, or null.</summary>
    public static string? UserOf(string? id, string prefix) =>
        id is { Length: 4 + 32 + 16 } && id.StartsWith(prefix + "_", StringComparison.Ordinal) && id.AsSpan(4).IndexOfAnyExcept("0123456789abcdef") < 0
            ? "usr_" + id.Substring(4, 32)
            : null;

    /// <summary>A human-readable certificate number: CERT-yyMMdd-XXXXXX (30 random bits, Crockford base32).</summary>
    public static string Number(DateTimeOffset at)
    {
        const string alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        var value = BitConverter.ToUInt32(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4)) & 0x3FFFFFFF;
        var chars = new char[6];
        for (var i = 5; i >= 0; i--) { chars[i] = alphabet[(int)(value & 31)]; value >>= 5; }
        return $"CERT-{at.UtcDateTime:yyMMdd}-{new string(chars)}";
    }

    /// <summary>A verification code: 128 random bits, base64url (22 characters).</summary>
    public static string NewVerificationCode() => Base64Url(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    /// <summary>The look-up hash of a code; null when the text cannot be a code (no storage read for a malformed guess).</summary>
    public static string? CodeHash(string? code) =>
        code is { Length: 22 } && code.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            ? Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(code)))
            : null;

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
