using System.Security.Cryptography;
using System.Text;
using Prm.Core.Partners;

namespace Prm.Core.Onboarding;

/// <summary>Where an application stands.</summary>
public enum ApplicationStatus { UnderReview, InfoRequested, Approved, Rejected, Expired }

/// <summary>The company that applies.</summary>
public sealed record ApplicantCompany(string LegalName, string? Website, string Domain, string Country, string? Region, string? SizeBand, IReadOnlyList<string> Industries, PartnerType PartnerType);

/// <summary>The person who applies.</summary>
public sealed record ApplicantPerson(string Name, string Email, string? Phone, string? JobTitle);

/// <summary>What screening found: flags (never a rejection at the door), duplicate matches and the fit score with its reasons.</summary>
public sealed record Screening(IReadOnlyList<string> Flags, IReadOnlyList<string> DuplicateMatches, int FitScore, IReadOnlyList<string> FitReasons);

/// <summary>A decision on an application.</summary>
public sealed record ApplicationDecision(string Decision, string? Reason, string DecidedBy, string DecidedByName, DateTimeOffset DecidedAt);

/// <summary>The review deadlines of an application.</summary>
public sealed record ReviewDeadlines(DateTimeOffset RemindAt, DateTimeOffset EscalateAt, DateTimeOffset ExpiresAt);

/// <summary>The deadlines of an agreement offer (see <see cref="OnboardingSettings.AgreementDeadlinesFrom"/>).</summary>
public sealed record AgreementDeadlines(DateTimeOffset FirstReminderAt, DateTimeOffset SecondReminderAt, DateTimeOffset ExpiresAt);

/// <summary>A "become a partner" application, from the public form to a decision (its transitions: PartnerApplication.Transitions.cs).</summary>
public sealed partial record PartnerApplication
{
    public required string Id { get; init; }
    public required ApplicationStatus Status { get; init; }
    public required ApplicantCompany Company { get; init; }
    public required ApplicantPerson Applicant { get; init; }
    public string? ExpectedAnnualRevenueBand { get; init; }
    public required string AcceptedTermsVersion { get; init; }
    public required string AcceptedPrivacyVersion { get; init; }
    public required DateTimeOffset SubmittedAt { get; init; }
    public string? ClientIp { get; init; }
    public required Screening Screening { get; init; }
    public string? AssigneeId { get; init; }
    public required ReviewDeadlines Deadlines { get; init; }
    public IReadOnlyList<ApplicationDecision> Decisions { get; init; } = [];
    public string? InfoRequest { get; init; }
    public string? InfoAnswer { get; init; }

    /// <summary>When the applicant must have answered the open request for information.</summary>
    public DateTimeOffset? InfoDueAt { get; init; }

    /// <summary>SHA-256 of the single-use secret in the request-info email (null once answered).</summary>
    public string? InfoTokenHash { get; init; }

    /// <summary>The partner the approval created (<see cref="PartnerIdOf"/>), set with the approval.</summary>
    public string? PartnerId { get; init; }

    /// <summary>The tier the partner starts in, set with the approval.</summary>
    public PartnerTier? Tier { get; init; }

    /// <summary>SHA-256 of the secret in the applicant's status link.</summary>
    public required string StatusTokenHash { get; init; }

    /// <summary>
    /// SHA-256 of the secrets of the status links given to retries of the submission (same Idempotency-Key): only hashes are stored, so a
    /// retry gets a fresh link, and every link given out keeps working. At most <see cref="MaxReissuedStatusLinks"/>.
    /// </summary>
    public IReadOnlyList<string> ReissuedStatusTokenHashes { get; init; } = [];

    public const int MaxReissuedStatusLinks = 5;

    /// <summary>Whether <paramref name="secret"/> is the secret of one of the application's status links.</summary>
    public bool HasStatusSecret(string secret) =>
        InvitationCodes.Matches(secret, StatusTokenHash) || ReissuedStatusTokenHashes.Any(hash => InvitationCodes.Matches(secret, hash));

    public bool IsOpen => Status is ApplicationStatus.UnderReview or ApplicationStatus.InfoRequested;

    /// <summary>
    /// The id of the partner an approval of the application creates, derived from the application's: every attempt to approve it, the
    /// creation right after the commit and its retry from the outbox name the same partner, so the partner can be created idempotently.
    /// </summary>
    public static string PartnerIdOf(string applicationId) => "ptn_" + Derived("partner|" + applicationId);

    /// <summary>The user id of the applicant as the first partner admin of that partner, derived the same way.</summary>
    public static string AdminUserIdOf(string applicationId) => "usr_" + Derived("partner-admin|" + applicationId);

    private static string Derived(string seed) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(seed)))[..32];

    public IReadOnlyDictionary<string, string?> Snapshot() => new Dictionary<string, string?>
    {
        ["status"] = Status.ToString(), ["assigneeId"] = AssigneeId, ["partnerId"] = PartnerId, ["tier"] = Tier is { } tier ? Common.Text.Camel(tier) : null, ["infoRequest"] = InfoRequest, ["infoAnswer"] = InfoAnswer,
        ["infoDueAt"] = InfoDueAt?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
        ["deadlines.expiresAt"] = Deadlines.ExpiresAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
    };
}
