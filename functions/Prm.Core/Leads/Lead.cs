using Prm.Core.Common;

namespace Prm.Core.Leads;

/// <summary>Where a lead stands.</summary>
public enum LeadStatus { New, Offered, Accepted, Contacted, Qualified, Converted, Disqualified, ClosedLost, Recalled, VendorPool, VendorOnly }

/// <summary>Where one offer of a lead to a partner stands.</summary>
public enum OfferStatus { Pending, Accepted, Declined, Expired, Withdrawn }

/// <summary>Why a partner declines an offer. badData and duplicate send the lead to vendor review instead of rerouting it.</summary>
public enum DeclineReason { NotMyTerritory, NoCapacity, NotAFit, BadData, Duplicate }

/// <summary>The customer company of a lead (name and domain are customer data: hidden from a partner until it accepts).</summary>
public sealed record LeadCompany(string Name, string? Domain, string Country, string Region, string? PostalCode, string? Industry, string? SizeBand);

/// <summary>The customer contact of a lead (customer data: hidden until acceptance).</summary>
public sealed record LeadContact(string Name, string Email, string? Phone, string? JobTitle);

/// <summary>Where a lead came from (campaign attribution is kept on the deal it converts into).</summary>
public sealed record LeadSource(string? Campaign, string? Channel);

/// <summary>A timeline note of a lead (merge, vendor action, status update).</summary>
public sealed record LeadNote(string Action, string? Text, string ByName, DateTimeOffset At);

/// <summary>A candidate the routing saw: its effective weight and why it was left out (null when eligible).</summary>
public sealed record RoutingCandidate(string PartnerId, string PartnerName, double Weight, double AcceptanceRate, double EffectiveWeight, string? ExcludedBecause);

/// <summary>
/// Why a lead went where it went: the rules evaluated (index, name, whether it matched, what it decided), the candidates of the deciding
/// rule with their effective weights, the random seed and the pick. <see cref="LeadRouting.Replay"/> reproduces the pick from it.
/// </summary>
public sealed record RoutingTrace(
    IReadOnlyList<string> RulesEvaluated, int? RuleIndex, string? RuleName, string Action, IReadOnlyList<RoutingCandidate> Candidates,
    int CandidateCount, long Seed, string? PickedPartnerId, string Outcome, DateTimeOffset At);

/// <summary>An offer of a lead to a partner company.</summary>
public sealed record LeadOffer
{
    public required string Id { get; init; }
    public required string PartnerId { get; init; }
    public required string PartnerName { get; init; }
    public string? ChannelManagerId { get; init; }
    public required OfferStatus Status { get; init; }
    public required int Hop { get; init; }
    public required DateTimeOffset OfferedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset? OpenedAt { get; init; }
    public DateTimeOffset? DecidedAt { get; init; }
    public string? DecidedBy { get; init; }
    public string? DecidedByName { get; init; }
    public DeclineReason? DeclineReason { get; init; }
    public string? DeclineNote { get; init; }

    /// <summary>When the partner held the lead and it was recalled (counts against the partner when automatic).</summary>
    public DateTimeOffset? RecalledAt { get; init; }

    /// <summary>Set when a vendor assigned the lead to this partner directly (rules overridden).</summary>
    public string? AssignedByName { get; init; }
    public required RoutingTrace Trace { get; init; }
}

/// <summary>
/// A lead: a prospective customer the vendor's marketing produced, routed by rules to a partner that accepts (or declines, or lets the
/// offer expire), works and converts it into a deal registration. One row per lead in its own partition (with timeline and outbox rows).
/// </summary>
public sealed partial record Lead
{
    public required string Id { get; init; }
    public required LeadStatus Status { get; init; }
    public required LeadCompany Company { get; init; }
    public required LeadContact Contact { get; init; }
    public required IReadOnlyList<string> ProductLines { get; init; }
    public LeadSource? Source { get; init; }
    public string? Grade { get; init; }
    public Money? EstimatedValue { get; init; }
    public string? Notes { get; init; }
    public string? ExternalId { get; init; }
    public required bool ConsentToShare { get; init; }
    public required string CreatedBy { get; init; }
    public required string CreatedByName { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public IReadOnlyList<LeadOffer> Offers { get; init; } = [];

    /// <summary>The partner that holds the lead (accepted, or assigned by the vendor and accepted); null otherwise.</summary>
    public string? PartnerId { get; init; }
    public string? PartnerName { get; init; }

    /// <summary>The rep of the holding partner who works it.</summary>
    public string? AssignedTo { get; init; }
    public string? AssignedToName { get; init; }
    public DateTimeOffset? AcceptedAt { get; init; }

    /// <summary>The conversion clock: convert or update the status by then (a reminder), the lead is recalled at <see cref="RecallAt"/>.</summary>
    public DateTimeOffset? ConvertBy { get; init; }
    public DateTimeOffset? RecallAt { get; init; }
    public string? DealId { get; init; }
    public string? CloseReason { get; init; }

    /// <summary>Why the lead is in the vendor pool (noCandidate, maxHops, review:badData, review:duplicate, recalled).</summary>
    public string? PoolReason { get; init; }
    public IReadOnlyList<LeadNote> History { get; init; } = [];

    /// <summary>Workflow steps that ran ("step|cycle"): each runs once per cycle.</summary>
    public IReadOnlyList<string> StepsDone { get; init; } = [];
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The offer waiting for an answer, if any.</summary>
    public LeadOffer? PendingOffer => Offers.LastOrDefault(o => o.Status == OfferStatus.Pending);

    /// <summary>The offer the holding partner accepted (the last accepted one).</summary>
    public LeadOffer? AcceptedOffer => Offers.LastOrDefault(o => o.Status == OfferStatus.Accepted);

    /// <summary>Routing hops: offers made by the rules (vendor assignments do not count).</summary>
    public int Hops => Offers.Count(o => o.AssignedByName is null);

    /// <summary>Partners that may not get this lead again: they declined, let it expire, or had it recalled.</summary>
    public IReadOnlySet<string> ExcludedPartners => Offers
        .Where(o => o.Status is OfferStatus.Declined or OfferStatus.Expired || o.RecalledAt is not null)
        .Select(o => o.PartnerId).ToHashSet(StringComparer.Ordinal);

    /// <summary>A partner works the lead (accepted and not ended).</summary>
    public bool IsWorked => Status is LeadStatus.Accepted or LeadStatus.Contacted or LeadStatus.Qualified;

    /// <summary>Still open for routing or work (a merge target).</summary>
    public bool IsOpen => Status is LeadStatus.New or LeadStatus.Offered or LeadStatus.Accepted or LeadStatus.Contacted or LeadStatus.Qualified or LeadStatus.Recalled or LeadStatus.VendorPool or LeadStatus.VendorOnly;

    public IReadOnlyDictionary<string, string?> Snapshot() => new Dictionary<string, string?>
    {
        ["status"] = Status.ToString(),
        ["company.name"] = Company.Name,
        ["company.domain"] = Company.Domain,
        ["company.country"] = Company.Country,
        ["company.region"] = Company.Region,
        ["contact.email"] = Contact.Email,
        ["productLines"] = string.Join(",", ProductLines),
        ["grade"] = Grade,
        ["estimatedValue"] = EstimatedValue?.ToString(),
        ["notes"] = Notes,
        ["partnerId"] = PartnerId,
        ["assignedTo"] = AssignedTo,
        ["dealId"] = DealId,
        ["offers"] = Offers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["pendingOffer"] = PendingOffer?.PartnerId,
    };
}
