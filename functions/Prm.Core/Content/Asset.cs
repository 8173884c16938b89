using System.Globalization;
using Prm.Core.Common;

namespace Prm.Core.Content;

/// <summary>What kind of collateral an asset is.</summary>
public enum AssetType { Collateral, Playbook, Battlecard, Datasheet, Presentation, Video, LogoPack }

/// <summary>Where an asset stands: Draft (vendor only, possibly scheduled) → Published → Expired, or Archived with a reason.</summary>
public enum AssetStatus { Draft, Published, Expired, Archived }

/// <summary>An uploaded file of an asset: Pending while its upload URL is out, Ready once its content was checked.</summary>
public enum AssetVersionStatus { Pending, Ready }

/// <summary>
/// Who among the partners sees an asset — a security rule, evaluated where assets are read (<see cref="Visibility"/>). Dimensions
/// combine with AND, values within one with OR; a named denied partner never sees it. <see cref="Everyone"/> admits every partner.
/// </summary>
public sealed record VisibilityRule
{
    public bool Everyone { get; init; }
    public IReadOnlyList<string> Tiers { get; init; } = [];
    public IReadOnlyList<string> Regions { get; init; } = [];
    public IReadOnlyList<string> PartnerTypes { get; init; } = [];
    public IReadOnlyList<string> AllowedPartners { get; init; } = [];
    public IReadOnlyList<string> DeniedPartners { get; init; } = [];

    /// <summary>Partner roles (PartnerAdmin, PartnerUser) that see it, e.g. partner admins only.</summary>
    public IReadOnlyList<string> PartnerRoles { get; init; } = [];

    /// <summary>The rule as one line of text (timeline).</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (Everyone) parts.Add("everyone");
        void Add(string name, IReadOnlyList<string> values) { if (values.Count > 0) parts.Add(name + "=" + string.Join("|", values)); }
        Add("tiers", Tiers); Add("regions", Regions); Add("partnerTypes", PartnerTypes); Add("allowedPartners", AllowedPartners);
        Add("deniedPartners", DeniedPartners); Add("partnerRoles", PartnerRoles);
        return string.Join("; ", parts);
    }
}

/// <summary>One immutable file of an asset: its number, blob, size, SHA-256, sniffed type, change note, and who uploaded it when.</summary>
public sealed record AssetVersion(
    int Number, AssetVersionStatus Status, string BlobName, string? FileName, string? ChangeNote, string UploadedBy, string UploadedByName,
    DateTimeOffset CreatedAt, long? Size = null, string? Sha256 = null, string? ContentType = null, string? Kind = null, DateTimeOffset? CompletedAt = null,
    DateTimeOffset? PublishedAt = null, int? PageCount = null, IReadOnlyList<PageSize>? PageSizes = null);

/// <summary>A piece of the vendor's collateral with its versions, dates and visibility rule.</summary>
public sealed partial record Asset
{
    public required string Id { get; init; }
    public required string Title { get; init; }
    public string? Description { get; init; }
    public required AssetType Type { get; init; }
    public IReadOnlyList<string> ProductLines { get; init; } = [];
    public IReadOnlyList<string> Tags { get; init; } = [];
    public required string Locale { get; init; }
    public string? Folder { get; init; }
    public DateTimeOffset? PublishAt { get; init; }
    public DateTimeOffset? ExpireAt { get; init; }
    public required VisibilityRule Visibility { get; init; }

    /// <summary>Where a partner's logo and details go on a PDF asset's pages; null when the asset is not co-branded.</summary>
    public CoBrandTemplate? CoBrand { get; init; }
    public required AssetStatus Status { get; init; }

    /// <summary>True once publication was asked for a future <see cref="PublishAt"/>: the sweep publishes it then.</summary>
    public bool PublishScheduled { get; init; }
    public required string OwnerId { get; init; }
    public required string OwnerName { get; init; }
    public required string OwnerEmail { get; init; }
    public IReadOnlyList<AssetVersion> Versions { get; init; } = [];

    /// <summary>The published version partners download; null before the first publication.</summary>
    public int? CurrentVersion { get; init; }
    public DateTimeOffset? PublishedAt { get; init; }
    public DateTimeOffset? ExpiredAt { get; init; }
    public DateTimeOffset? ArchivedAt { get; init; }
    public string? ArchiveReason { get; init; }
    public DateTimeOffset? ExpiryNoticeSentAt { get; init; }

    /// <summary>The date-index entries written for this state (see <see cref="AssetSchedule"/>), kept so a commit removes exactly those.</summary>
    public IReadOnlyList<DueEntry> Due { get; init; } = [];
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The version partners get, if any.</summary>
    public AssetVersion? Current => CurrentVersion is { } n ? Versions.FirstOrDefault(v => v.Number == n) : null;

    /// <summary>The newest checked version (the one a publication makes current).</summary>
    public AssetVersion? LatestReady => Versions.Where(v => v.Status == AssetVersionStatus.Ready).MaxBy(v => v.Number);

    /// <summary>Whether partners may see it at <paramref name="now"/>: published, and its expiry (if any) not reached even before the sweep ran.</summary>
    public bool IsLiveAt(DateTimeOffset now) => Status == AssetStatus.Published && (ExpireAt is null || ExpireAt > now);

    /// <summary>Case- and accent-insensitive text of the title and tags, for search.</summary>
    public string SearchKey => Text.NameKey(Title + " " + string.Join(" ", Tags));

    public IReadOnlyDictionary<string, string?> Snapshot() => new Dictionary<string, string?>
    {
        ["title"] = Title,
        ["description"] = Description,
        ["type"] = Text.Camel(Type),
        ["productLines"] = string.Join(",", ProductLines),
        ["tags"] = string.Join(",", Tags),
        ["locale"] = Locale,
        ["folder"] = Folder,
        ["publishAt"] = Format(PublishAt),
        ["expireAt"] = Format(ExpireAt),
        ["visibility"] = Visibility.ToString(),
        ["coBrand"] = CoBrand is null ? null : $"{CoBrand.Zones.Count} zones, {CoBrand.Font} {CoBrand.FontSize}",
        ["status"] = Status.ToString(),
        ["publishScheduled"] = PublishScheduled ? "true" : null,
        ["currentVersion"] = CurrentVersion?.ToString(CultureInfo.InvariantCulture),
        ["versions"] = string.Join(",", Versions.Select(v => $"{v.Number}:{v.Status}")),
        ["archiveReason"] = ArchiveReason,
    };

    private static string? Format(DateTimeOffset? at) => at?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

/// <summary>Asset ids: "ast_" + 16 hex digits of inverted creation time + 16 random hex digits, so ids sort newest first.</summary>
public static class AssetIds
{
    private const string Prefix = "ast_";

    public static string New(DateTimeOffset at) =>
        Prefix + (DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("x16", CultureInfo.InvariantCulture)
        + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));

    /// <summary>True when the value is shaped like an asset id (checked before any storage read).</summary>
    public static bool LooksLike(string? value) =>
        value is { Length: 36 } && value.StartsWith(Prefix, StringComparison.Ordinal) && value.AsSpan(4).IndexOfAnyExcept("0123456789abcdef") < 0;
}
