using Prm.Core.Common;
using Prm.Core.Outbox;

namespace Prm.Core.Leads;

/// <summary>Integration events of lead distribution.</summary>
public static class LeadEvents
{
    public const string Created = "lead.created";
    public const string Offered = "lead.offered";
    public const string Accepted = "lead.accepted";
    public const string Declined = "lead.declined";
    public const string Expired = "lead.expired";
    public const string Recalled = "lead.recalled";
    public const string Assigned = "lead.assigned";
    public const string Converted = "lead.converted";
    public const string Closed = "lead.closed";

    /// <summary>A partner was paused from routing after repeated expired or recalled offers (from the partner's figures).</summary>
    [EventPayload(typeof(LeadStats))]
    public const string PartnerPaused = "lead.partnerPaused";

    public static readonly IReadOnlyList<string> All = [Created, Offered, Accepted, Declined, Expired, Recalled, Assigned, Converted, Closed];

    /// <summary>
    /// Event data: the routing facts a CRM needs (status, offers with partners, deadlines and traces without their candidate lists, the holding partner,
    /// the deal) and the lead itself — its contact and company name only once a partner accepted it. <see cref="PartnerId"/> is the partner
    /// the event concerns; <see cref="Latest"/> marks the last event of its commit (projections that rebuild from the whole lead skip the others).
    /// </summary>
    public sealed record LeadData(LeadDto Lead, string? PartnerId, string? Reason, bool Latest);

    public static IntegrationEvent Create(string type, Lead l, DateTimeOffset at, string? partnerId, string? reason, bool latest)
    {
        var view = LeadDto.Vendor(l);
        var shared = l.IsWorked || l.Status == LeadStatus.Converted || l.AcceptedAt is not null || l.Status is LeadStatus.Disqualified or LeadStatus.ClosedLost;
        if (!shared) view = view with { Contact = null, Company = view.Company with { Name = null, Domain = null }, Notes = null };
        // The traces' candidate lists stay on the lead (an event keeps rule, seed, pick and the candidate count: messages stay small).
        view = view with { Offers = view.Offers.Select(o => o with { Trace = o.Trace is null ? null : o.Trace with { Candidates = [] } }).ToList() };
        return IntegrationEvent.Create(Ids.New("evt"), type, at, $"leads/{l.Id}", partnerId, Correlation.Id, new LeadData(view, partnerId, reason, latest));
    }
}
