using Prm.Core.Common;

namespace Prm.Core.Deals;

/// <summary>Where a deal registration stands.</summary>
public enum DealStatus { Draft, UnderReview, Approved, Rejected, Returned, Withdrawn, Expired, Won, Lost }

/// <summary>The customer of a registration, as entered and normalized.</summary>
public sealed record DealCustomer(string CompanyName, string? Domain, string Country, string? ContactName, string? ContactEmail, string? NameKey, IReadOnlyList<string> BlockingKeys);

/// <summary>A decision or system step in a deal's life (approve, reject, return, reminders, expiry).</summary>
public sealed record DealDecision(string Decision, string? Reason, string DecidedBy, string DecidedByName, DateTimeOffset DecidedAt);

/// <summary>A request to extend the protection period.</summary>
public sealed record DealExtension(string Id, int Days, string Reason, string RequestedBy, string RequestedByName, DateTimeOffset RequestedAt,
    string Status, string? DecidedByName = null, DateTimeOffset? DecidedAt = null, string? DecisionReason = null);

/// <summary>How the opportunity ended.</summary>
public sealed record DealOutcome(string Result, Money? Amount, DateOnly? CloseDate, string? Reason, string RecordedByName, DateTimeOffset RecordedAt);

/// <summary>The conflict assessment stored with a registration (evidence is anonymous; the matched deal ids are for reviewers only).</summary>
public sealed record DealConflict(string Level, int Score, IReadOnlyList<string> Evidence, IReadOnlyList<string> MatchedDealIds, bool HouseAccount, bool ClaimHeld);

/// <summary>A deal registration: a partner's claim on an opportunity, decided by rules and protected for a period once approved.</summary>
public sealed partial record Deal
{
    public required string Id { get; init; }
    public required string RegistrationNumber { get; init; }
    public required string PartnerId { get; init; }
    public required string PartnerName { get; init; }
    public string? ChannelManagerId { get; init; }
    public required string SubmittedBy { get; init; }
    public required string SubmittedByName { get; init; }
    public required string SubmittedByEmail { get; init; }
    public required DealStatus Status { get; init; }
    public required DealCustomer Customer { get; init; }
    public required IReadOnlyList<string> Products { get; init; }
    public required Money EstimatedValue { get; init; }
    public required DateOnly ExpectedCloseDate { get; init; }
    public string? Notes { get; init; }
    public string? MdfRequestId { get; init; }

    /// <summary>The lead this registration was converted from, if any (the lead links back with its dealId).</summary>
    public string? LeadId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>Server time of the (latest) submission: the time stamp that decides who was first.</summary>
    public DateTimeOffset? SubmittedAt { get; init; }
    public required DealConflict Conflict { get; init; }

    /// <summary>The claim key this registration holds (first come, first served), null when it holds none.</summary>
    public string? ClaimKey { get; init; }
    public DateTimeOffset? ReviewRemindAt { get; init; }
    public DateTimeOffset? ReviewEscalateAt { get; init; }
    public DateTimeOffset? ApprovedAt { get; init; }
    public DateTimeOffset? ProtectedUntil { get; init; }
    public IReadOnlyList<DealExtension> Extensions { get; init; } = [];
    public DealOutcome? Outcome { get; init; }
    public IReadOnlyList<DealDecision> Decisions { get; init; } = [];
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Active registrations take part in conflict detection and hold their claim.</summary>
    public bool IsActive => Status is DealStatus.UnderReview or DealStatus.Approved;

    public DealExtension? PendingExtension => Extensions.FirstOrDefault(e => e.Status == "Pending");

    public IReadOnlyDictionary<string, string?> Snapshot() => new Dictionary<string, string?>
    {
        ["status"] = Status.ToString(),
        ["customer.companyName"] = Customer.CompanyName,
        ["customer.domain"] = Customer.Domain,
        ["customer.country"] = Customer.Country,
        ["customer.contactName"] = Customer.ContactName,
        ["customer.contactEmail"] = Customer.ContactEmail,
        ["products"] = string.Join(",", Products),
        ["estimatedValue"] = EstimatedValue.ToString(),
        ["expectedCloseDate"] = ExpectedCloseDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
        ["notes"] = Notes,
        ["mdfRequestId"] = MdfRequestId,
        ["conflict.level"] = Conflict.Level,
        ["protectedUntil"] = ProtectedUntil?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>A product line deals are registered for.</summary>
public sealed record ProductLine(string Id, string Name, bool Active);

/// <summary>A customer reserved for direct sales: any registration matching it is a certain conflict and never auto-approved.</summary>
public sealed record HouseAccount(string Id, string Name, string? Domain, string? NameKey, IReadOnlyList<string> BlockingKeys, string CreatedByName, DateTimeOffset CreatedAt);
