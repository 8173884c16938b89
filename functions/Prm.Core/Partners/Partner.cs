using System.Globalization;
using Prm.Core.Identity;

namespace Prm.Core.Partners;

/// <summary>Where a partner stands in the program.</summary>
public enum PartnerStatus { Active, AgreementPending, AgreementExpired, Suspended, Terminated }

/// <summary>Program tiers, lowest first.</summary>
public enum PartnerTier { Registered, Silver, Gold, Platinum }

/// <summary>What kind of business the partner is.</summary>
public enum PartnerType { Reseller, Distributor, Agent, Msp, Referral }

/// <summary>Whether a partner user has signed in yet.</summary>
public enum PartnerUserStatus { Invited, Active }

/// <summary>A partner company in the program. Owned data of a partner lives in its partition.</summary>
public sealed record Partner
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string Domain { get; init; }
    public required PartnerStatus Status { get; init; }
    public required PartnerTier Tier { get; init; }
    public required PartnerType Type { get; init; }
    public required string Country { get; init; }
    public required string Region { get; init; }
    public string? ChannelManagerId { get; init; }
    public string? Website { get; init; }
    public string? Phone { get; init; }
    public string? Description { get; init; }
    public string? City { get; init; }
    public int UserCount { get; init; }
    public int AdminCount { get; init; }

    /// <summary>Onboarding checklist dates (null until done). Later capabilities complete the deal and certification items through events.</summary>
    public DateTimeOffset? ProfileCompletedAt { get; init; }
    public string? AgreementVersion { get; init; }
    public DateTimeOffset? AgreementAcceptedAt { get; init; }
    public DateTimeOffset? FirstUserInvitedAt { get; init; }
    public DateTimeOffset? FirstDealRegisteredAt { get; init; }
    public DateTimeOffset? FirstCertificationAt { get; init; }

    /// <summary>How many onboarding checklist reminders were sent (a retried reminder sends nothing twice).</summary>
    public int ChecklistRemindersSent { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>
    /// How many times the record was committed: the store writes the one it read plus one with every change (a change starts from the
    /// record read with its ETag, as every If-Match write does), so it orders the copies of the record (the list index keeps the highest)
    /// where clocks cannot. Zero for a record never stored.
    /// </summary>
    public long Revision { get; init; }

    /// <summary>The profile a partner completes during onboarding: website, phone and city.</summary>
    public bool HasCompleteProfile => !string.IsNullOrWhiteSpace(Website) && !string.IsNullOrWhiteSpace(Phone) && !string.IsNullOrWhiteSpace(City);

    /// <summary>The fields that the timeline records changes of.</summary>
    public IReadOnlyDictionary<string, string?> Snapshot() => new Dictionary<string, string?>
    {
        ["name"] = Name, ["domain"] = Domain, ["status"] = Status.ToString(), ["tier"] = Common.Text.Camel(Tier),
        ["partnerType"] = Common.Text.Camel(Type), ["country"] = Country, ["region"] = Region, ["channelManagerId"] = ChannelManagerId,
        ["website"] = Website, ["phone"] = Phone, ["description"] = Description, ["city"] = City,
    };
}

/// <summary>A person at a partner company with access to the portal.</summary>
public sealed record PartnerUser
{
    public required string Id { get; init; }
    public required string PartnerId { get; init; }
    public required string Email { get; init; }
    public required string DisplayName { get; init; }
    public required PartnerRole Role { get; init; }
    public required PartnerUserStatus Status { get; init; }
    public required DateTimeOffset InvitedAt { get; init; }
    public string? InvitedBy { get; init; }
    public DateTimeOffset? JoinedAt { get; init; }

    /// <summary>SHA-256 (hex) of the secret in the current invitation link; null once the invitation is accepted.</summary>
    public string? InvitationCodeHash { get; init; }

    /// <summary>When the invitation reminder went out (at most one per invitation).</summary>
    public DateTimeOffset? ReminderSentAt { get; init; }
    public string? TenantId { get; init; }
    public string? ObjectId { get; init; }

    public IReadOnlyDictionary<string, string?> Snapshot() => new Dictionary<string, string?>
    {
        ["email"] = Email, ["displayName"] = DisplayName, ["role"] = Role.ToString(), ["status"] = Status.ToString(),
        ["joinedAt"] = JoinedAt?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
    };
}

/// <summary>A vendor staff member (program admin, channel manager) known to the directory.</summary>
public sealed record StaffMember(string Id, string Email, string DisplayName, IReadOnlyList<string> Roles, string? Region);

/// <summary>Filters of the partner list.</summary>
public sealed record PartnerQuery(string? ChannelManagerId, PartnerStatus? Status, PartnerTier? Tier, string? Region, string? NamePrefix);
