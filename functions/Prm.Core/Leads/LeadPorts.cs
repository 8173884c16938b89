using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Partners;

namespace Prm.Core.Leads;

/// <summary>What a lead list asks for: the vendor's (all) or a partner's (optionally one rep's), optionally by status.</summary>
public sealed record LeadQuery(string? PartnerId, string? AssignedTo, LeadStatus? Status);

/// <summary>A key row of leads: the externalId (idempotent intake) or the contact email (merge window) and the lead it points at.</summary>
public sealed record LeadKey(string LeadId, DateTimeOffset At, string ETag);

/// <summary>Storage port of leads.</summary>
public interface ILeadStore
{
    Task<Versioned<Lead>?> GetAsync(string leadId, CancellationToken ct);

    Task<string> CreateAsync(Lead lead, ChangeSet changes, CancellationToken ct);

    Task<string> UpdateAsync(Lead lead, string etag, ChangeSet changes, CancellationToken ct);

    Task<Page<AuditEntry>> TimelineAsync(string leadId, PageRequest page, CancellationToken ct);

    /// <summary>A page of leads from the lead index (vendor: all; partner: the leads offered to it).</summary>
    Task<Page<LeadListRow>> ListAsync(LeadQuery query, PageRequest page, CancellationToken ct);

    /// <summary>The key row of (<paramref name="kind"/>, <paramref name="value"/>), if any.</summary>
    Task<LeadKey?> FindKeyAsync(string kind, string value, CancellationToken ct);

    /// <summary>Adds the key row; false when it exists already (someone else took it).</summary>
    Task<bool> TryAddKeyAsync(string kind, string value, string leadId, DateTimeOffset at, CancellationToken ct);

    /// <summary>Points an existing key row at another lead (If-Match its ETag: false on a lost race).</summary>
    Task<bool> ReplaceKeyAsync(string kind, string value, string leadId, DateTimeOffset at, string etag, CancellationToken ct);

    /// <summary>Deletes the key row if it points at <paramref name="leadId"/>.</summary>
    Task ReleaseKeyAsync(string kind, string value, string leadId, CancellationToken ct);

    /// <summary>Offers made in a period (for the fairness report), from the offer log of the lead index.</summary>
    Task<IReadOnlyList<LeadOfferDto>> OffersBetweenAsync(DateTimeOffset from, DateTimeOffset to, int max, CancellationToken ct);
}

/// <summary>A lead as lists keep it: the vendor view and the partner it is listed for (masking is applied by the service).</summary>
public sealed record LeadListRow(Lead Lead);

/// <summary>The routing index port: candidates by partition (point reads of bucket rows), named partners, the deal holder, a partner's figures.</summary>
public interface ILeadRoutingIndex
{
    /// <summary>The entries of each index partition ("all", "r:{region}", "c:{country}"): one query per partition.</summary>
    Task<IReadOnlyDictionary<string, IReadOnlyList<RoutingEntry>>> ReadAsync(IReadOnlyList<string> partitions, CancellationToken ct);

    /// <summary>The entries of named partners (point reads of their bucket rows); a partner that is not Active is missing.</summary>
    Task<IReadOnlyDictionary<string, RoutingEntry>> EntriesAsync(IReadOnlyList<string> partnerIds, CancellationToken ct);

    /// <summary>The partner holding an active deal registration of the customer domain (the deal claim key row), if any.</summary>
    Task<string?> DealHolderAsync(string? domain, CancellationToken ct);

    /// <summary>A partner's lead figures.</summary>
    Task<LeadPartnerFigures> FiguresAsync(string partnerId, CancellationToken ct);

    /// <summary>
    /// Saves the routing profile into the figures when <paramref name="profileETag"/> is the current <see cref="LeadPartnerFigures.ProfileETag"/>
    /// (412 when stale; the lead events' own updates of the row are retried over, not reported) and into the partner's index entries; the new profile ETag.
    /// </summary>
    Task<string> SaveProfileAsync(string partnerId, double weight, DateTimeOffset? holidayUntil, string profileETag, CancellationToken ct);
}

/// <summary>The steps the lead workflow runs when a deadline passes.</summary>
public enum LeadStep { OfferReminder, OfferExpire, ConversionReminder, Recall }

/// <summary>What the lead workflow needs to know of a lead to pick its phase.</summary>
public sealed record LeadWorkflowState(string Status, string? OfferId, DateTimeOffset? OfferedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? ConvertBy, DateTimeOffset? RecallAt);

/// <summary>The port the lead workflow calls.</summary>
public interface ILeadSteps
{
    Task<LeadWorkflowState?> StateAsync(string leadId, CancellationToken ct);

    /// <summary>Runs the step unless the lead moved on; <paramref name="cycle"/> is the offer id (with "#n" for the n-th reminder) or the deadline's stamp.</summary>
    Task<StepOutcome> RunLeadStepAsync(string leadId, LeadStep step, string cycle, CancellationToken ct);
}

/// <summary>Lead ids: "lead_" and 128 random bits; each lead is its own partition.</summary>
public static class LeadIds
{
    public static string New() => Ids.New("lead");

    public static bool LooksLike(string? id) => Ids.LooksLike(id, "lead");
}
