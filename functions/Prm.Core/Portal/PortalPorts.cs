using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Core.Partners;
using Prm.Core.Tiers;

namespace Prm.Core.Portal;

/// <summary>What the home reads of a partner's partition in one query: the profile, the tier record, the certification index, the user rows and the caller's last visit.</summary>
public sealed record PartnerHomeRows(Partner? Partner, PartnerTierState? Tier, CertificationFacts? Certifications, IReadOnlyList<PartnerUser> Users, DateTimeOffset? LastVisitAt, bool Truncated);

/// <summary>What the home reads of a partner's deal partition in one query: the registrations in the asked statuses and the counters row.</summary>
public sealed record PartnerHomeDeals(IReadOnlyList<Deal> Deals, DealStats? Stats, bool Truncated);

/// <summary>What the home reads of the vendor deal index in one query (a channel manager's partition or all).</summary>
public sealed record VendorHomeDeals(IReadOnlyList<DealDto> Deals, bool Truncated);

/// <summary>
/// The storage port of the portal home: combined reads of partitions the modules already keep (each one storage round trip), and the
/// caller's visit row. Everything else the home reads goes through the modules' own ports.
/// </summary>
public interface IPortalHomeStore
{
    /// <summary>One query of the partner's partition: profile, tier record, certification index, the caller's visit row and, with <paramref name="withUsers"/>, the user rows.</summary>
    Task<PartnerHomeRows> PartnerRowsAsync(string partnerId, string userId, bool withUsers, CancellationToken ct);

    /// <summary>
    /// One query of the partner's deal partition: registrations in <paramref name="statuses"/> (only <paramref name="submittedBy"/>'s when given)
    /// and, with <paramref name="withStats"/>, the counters row; at most <paramref name="max"/> registrations (Truncated beyond).
    /// </summary>
    Task<PartnerHomeDeals> PartnerDealsAsync(string partnerId, string? submittedBy, IReadOnlyList<DealStatus> statuses, bool withStats, int max, CancellationToken ct);

    /// <summary>
    /// One query of the vendor deal index (<paramref name="channelManagerId"/>'s partition, or all when null): registrations under review,
    /// and approved ones with a pending extension request or whose protection ends before <paramref name="protectionEndsBefore"/>.
    /// </summary>
    Task<VendorHomeDeals> VendorDealsAsync(string? channelManagerId, DateTimeOffset protectionEndsBefore, int max, CancellationToken ct);

    /// <summary>One query of the partner's MDF budget index: the ids of its budgets of the named periods (the ones that include today).</summary>
    Task<IReadOnlyList<string>> BudgetIdsAsync(string partnerId, IReadOnlyList<string> periods, CancellationToken ct);

    /// <summary>Records the caller's visit of the home (the next visit's "new since").</summary>
    Task RecordVisitAsync(string partnerId, string userId, DateTimeOffset at, CancellationToken ct);
}
