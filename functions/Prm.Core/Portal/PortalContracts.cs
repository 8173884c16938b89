using Prm.Core.Common;
using Prm.Core.Tiers;

namespace Prm.Core.Portal;

/// <summary>The status of one section of the home: ok, unavailable (its reads failed; the rest of the page stands) or notApplicable (not for this caller).</summary>
public static class SectionStatus
{
    public const string Ok = "ok";
    public const string Unavailable = "unavailable";
    public const string NotApplicable = "notApplicable";
}

/// <summary>How one section fared: its status, why when it is unavailable, and whether it stopped at its read limit (truncated).</summary>
public sealed record HomeSection(string Status, string? Detail, bool Truncated)
{
    public static HomeSection Ok(bool truncated = false) => new(SectionStatus.Ok, null, truncated);
    public static HomeSection NotApplicable { get; } = new(SectionStatus.NotApplicable, null, false);
}

/// <summary>
/// Every section of the home and how it fared. Partner users: partner (profile, onboarding, invitations), tier, deals, leads, mdf,
/// training, incentives, content, channelManager. Vendor staff: deals, mdf, applications.
/// </summary>
public sealed record HomeSections(
    HomeSection Partner, HomeSection Tier, HomeSection Deals, HomeSection Leads, HomeSection Mdf, HomeSection Training, HomeSection Incentives,
    HomeSection Content, HomeSection ChannelManager, HomeSection Applications, HomeSection Plans);

/// <summary>The badge of a tier: the tier and its label.</summary>
public sealed record HomeTierBadge(string Tier, string Label);

/// <summary>The partner's tier, from the partner and its last tier evaluation: the next tier, the share of its criteria met, each of its criteria and the gaps.</summary>
public sealed record HomeTier(string Tier, HomeTierBadge Badge, string? NextTier, int? ProgressPercent, DateTimeOffset? EvaluatedAt,
    IReadOnlyList<CriterionResult> NextTierCriteria, IReadOnlyList<CriterionResult> GapsToNext);

/// <summary>Rebates of one currency over every period: accrued (accruals, reversals, re-rating and adjustments) and paid.</summary>
public sealed record RebateTile(string Currency, decimal Accrued, decimal Paid);

/// <summary>
/// The tiles: pipeline (approved registrations still in protection, value by currency, and their count), won this quarter (calendar
/// quarter, UTC, by close month), MDF available (budgets whose period includes today), rebates accrued vs paid, leads awaiting acceptance.
/// A tile is null when its section is unavailable.
/// </summary>
public sealed record HomeTiles(IReadOnlyList<Money>? Pipeline, int? PipelineDeals, IReadOnlyList<Money>? WonThisQuarter, IReadOnlyList<Money>? MdfAvailable,
    IReadOnlyList<RebateTile>? Rebates, int? LeadsAwaitingAcceptance);

/// <summary>An asset published for the caller's company since the caller's last visit.</summary>
public sealed record NewAsset(string Id, string Title, string Type, DateTimeOffset? PublishedAt, string Link);

/// <summary>A course the caller has started and not finished.</summary>
public sealed record TrainingInProgress(string CourseId, string Status, DateTimeOffset StartedAt, int? BestScore, string Link);

/// <summary>The partner's channel manager.</summary>
public sealed record ChannelManagerContact(string Id, string Name, string Email);

/// <summary>A partner with approved registrations whose protection ends within 14 days without an outcome.</summary>
public sealed record StalledPartner(string PartnerId, string PartnerName, int Deals, IReadOnlyList<Money> Value, DateTimeOffset EarliestProtectionEnd, string Link);

/// <summary>
/// GET /api/portal/home. audience: partnerAdmin, partnerUser or vendor. Partner users get tier, tiles, newAssets (with lastVisitAt, the
/// previous visit), trainingInProgress and channelManager; vendor staff get escalations and stalledPartners. Fields of the other audience
/// are null, as is a field whose section is unavailable.
/// </summary>
public sealed record PortalHomeDto(
    string Audience, DateTimeOffset GeneratedAt, HomeSections Sections, IReadOnlyList<InboxItem> Inbox,
    HomeTier? Tier, HomeTiles? Tiles, IReadOnlyList<NewAsset>? NewAssets, DateTimeOffset? LastVisitAt, IReadOnlyList<TrainingInProgress>? TrainingInProgress,
    ChannelManagerContact? ChannelManager, IReadOnlyList<InboxItem>? Escalations, IReadOnlyList<StalledPartner>? StalledPartners);
