using Prm.Core.Common;
using Prm.Core.Outbox;

namespace Prm.Core.Deals;

/// <summary>Integration events of deal registration (each with the fields a CRM sync needs: the whole registration).</summary>
public static class DealEvents
{
    public const string Submitted = "deal.submitted";
    public const string Approved = "deal.approved";
    public const string Rejected = "deal.rejected";
    public const string Returned = "deal.returned";
    public const string Extended = "deal.extended";
    public const string Expired = "deal.expired";
    public const string Won = "deal.won";
    public const string Lost = "deal.lost";

    /// <summary>A won registration's outcome was corrected by its channel manager or an admin (amount or close date); a change to lost is deal.lost.</summary>
    public const string OutcomeChanged = "deal.outcomeChanged";
    public const string Withdrawn = "deal.withdrawn";
    public const string Updated = "deal.updated";
    public const string ExtensionRequested = "deal.extensionRequested";

    /// <summary>
    /// Event data: the registration (vendor view), the index keys, the review deadlines, the reason of the transition, and whether this is the
    /// last event of its commit (projections that rebuild from the whole registration skip the others).
    /// </summary>
    public sealed record DealData(DealDto Deal, string? ChannelManagerId, string? NameKey, IReadOnlyList<string> BlockingKeys,
        DateTimeOffset? ReviewRemindAt, DateTimeOffset? ReviewEscalateAt, string? Reason, bool Latest);

    public static IntegrationEvent Create(string type, Deal d, DateTimeOffset at, string? reason = null, bool latest = true) =>
        IntegrationEvent.Create(Ids.New("evt"), type, at, $"deals/{d.Id}", d.PartnerId, Correlation.Id,
            new DealData(DealDto.From(d, vendorView: true), d.ChannelManagerId, d.Customer.NameKey, d.Customer.BlockingKeys, d.ReviewRemindAt, d.ReviewEscalateAt, reason, latest));
}

