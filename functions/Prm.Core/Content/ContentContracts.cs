using System.Globalization;
using System.Text.RegularExpressions;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Content;

/// <summary>A visibility rule in a request body; left-out dimensions name nothing.</summary>
public sealed record VisibilityInput(bool? Everyone, IReadOnlyList<string>? Tiers, IReadOnlyList<string>? Regions, IReadOnlyList<string>? PartnerTypes,
    IReadOnlyList<string>? AllowedPartners, IReadOnlyList<string>? DeniedPartners, IReadOnlyList<string>? PartnerRoles)
{
    public VisibilityRule ToRule() => new()
    {
        Everyone = Everyone ?? false,
        Tiers = Clean(Tiers),
        Regions = Clean(Regions),
        PartnerTypes = Clean(PartnerTypes),
        AllowedPartners = Clean(AllowedPartners),
        DeniedPartners = Clean(DeniedPartners),
        PartnerRoles = Clean(PartnerRoles),
    };

    private static List<string> Clean(IReadOnlyList<string>? values) => values is null ? [] : [.. values.Select(v => v?.Trim() ?? "").Distinct(StringComparer.Ordinal)];
}

/// <summary>A co-brand zone in a request body: page (from 1), x, y, width, height in points from the top-left corner; text for a text zone, none for the logo.</summary>
public sealed record CoBrandZoneInput(int? Page, double? X, double? Y, double? Width, double? Height, string? Text);

/// <summary>A co-brand template in a request body; zones: [] removes co-branding.</summary>
public sealed record CoBrandInput(IReadOnlyList<CoBrandZoneInput>? Zones, string? Font, double? FontSize)
{
    public CoBrandTemplate? ToTemplate() => Zones is { Count: 0 } ? null : new(
        [.. (Zones ?? []).Select(z => new CoBrandZone(z?.Page ?? 0, z?.X ?? -1, z?.Y ?? -1, z?.Width ?? 0, z?.Height ?? 0, z?.Text))], Font ?? "sans", FontSize ?? 10);
}

/// <summary>Body of POST /api/assets (and of PATCH /api/assets/{id}, where only present fields change). Dates are ISO 8601 with an offset.</summary>
public sealed record AssetInput(string? Title, string? Description, string? Type, IReadOnlyList<string>? ProductLines, IReadOnlyList<string>? Tags, string? Locale,
    string? Folder, string? PublishAt, string? ExpireAt, VisibilityInput? Visibility, CoBrandInput? CoBrand = null);

/// <summary>Body of POST /api/assets/{id}/versions.</summary>
public sealed record VersionUploadInput(string? FileName, string? ChangeNote);

/// <summary>Body of POST /api/assets/{id}/archive.</summary>
public sealed record ArchiveInput(string? Reason);

/// <summary>A slot for a version's file: PUT it to the write-only URL (x-ms-blob-type: BlockBlob) before it expires, then complete the version.</summary>
public sealed record VersionUpload(string AssetId, int Version, string UploadUrl, DateTimeOffset ExpiresAt, long MaxSize, IReadOnlyCollection<string> AcceptedContentTypes);

/// <summary>A version as the API shows it.</summary>
public sealed record AssetVersionDto(int Number, string Status, string? FileName, string? ChangeNote, long? Size, string? Sha256, string? ContentType, string? Kind,
    string UploadedByName, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt, DateTimeOffset? PublishedAt);

/// <summary>An asset as the API shows it: partners see the published version only, vendor staff everything including the rule.</summary>
public sealed record AssetDto(
    string Id, string Title, string? Description, string Type, IReadOnlyList<string> ProductLines, IReadOnlyList<string> Tags, string Locale, string? Folder,
    DateTimeOffset? PublishAt, DateTimeOffset? ExpireAt, string Status, bool PublishScheduled, int? CurrentVersion, DateTimeOffset? PublishedAt,
    IReadOnlyList<AssetVersionDto> Versions, bool CoBranded, CoBrandTemplate? CoBrand, VisibilityRule? Visibility, string? OwnerName, string? ArchiveReason, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static AssetDto From(Asset a, bool vendorView)
    {
        var versions = vendorView ? a.Versions : a.Current is { } current ? [current] : [];
        return new(a.Id, a.Title, a.Description, Text.Camel(a.Type), a.ProductLines, a.Tags, a.Locale, a.Folder, a.PublishAt, a.ExpireAt, a.Status.ToString(),
            a.PublishScheduled, a.CurrentVersion, a.PublishedAt,
            versions.Select(v => new AssetVersionDto(v.Number, v.Status.ToString(), v.FileName, v.ChangeNote, v.Size, v.Sha256, v.ContentType, v.Kind,
                v.UploadedByName, v.CreatedAt, v.CompletedAt, v.PublishedAt)).ToList(),
            a.CoBrand is not null, vendorView ? a.CoBrand : null, vendorView ? a.Visibility : null, vendorView ? a.OwnerName : null, vendorView ? a.ArchiveReason : null, a.CreatedAt, a.UpdatedAt);
    }
}

/// <summary>Answer of GET /api/assets/{id}/visibility: whether the partner sees the asset now, and if not, the dimension (or status) that excludes it.</summary>
public sealed record VisibilityAnswer(string AssetId, string PartnerId, bool Visible, string? ExcludedBy, string Status);

/// <summary>Downloads of one partner.</summary>
public sealed record PartnerDownloads(string PartnerId, int Downloads);

/// <summary>Answer of GET /api/assets/{id}/downloads: counts per asset and per partner.</summary>
public sealed record DownloadCounts(string AssetId, int Total, IReadOnlyList<PartnerDownloads> ByPartner);

/// <summary>One recorded download.</summary>
public sealed record AssetDownload(string Id, string AssetId, int Version, string UserId, string UserEmail, string UserName, string PartnerId, DateTimeOffset At);

/// <summary>
/// The checks of an asset's metadata, in one style (field → message), each naming its JSON field: required fields, lengths, the type,
/// the locale, dates in range and in order, and a visibility rule naming only known tiers, regions, types, roles and partners.
/// </summary>
public static partial class AssetRules
{
    public const int MaxListValues = 50;
    private static readonly DateTimeOffset Earliest = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Latest = new(2100, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [GeneratedRegex("^[a-z]{2,3}(-[A-Z]{2})?$")]
    private static partial Regex LocalePattern();

    /// <summary>Applies the present fields of <paramref name="input"/> to <paramref name="asset"/>; collects what does not parse.</summary>
    public static Asset Apply(Asset asset, AssetInput input, Dictionary<string, string[]> errors)
    {
        void Fail(string field, string message) => errors[field] = [message];
        var result = asset;
        if (input.Title is not null) result = result with { Title = input.Title.Trim() };
        if (input.Description is not null) result = result with { Description = input.Description.Trim() is { Length: > 0 } d ? d : null };
        if (input.Type is not null)
        {
            if (Text.ParseEnum<AssetType>(input.Type) is { } type) result = result with { Type = type };
            else Fail("type", "type must be one of: " + string.Join(", ", Enum.GetValues<AssetType>().Select(t => Text.Camel(t))) + ".");
        }
        if (input.ProductLines is not null) result = result with { ProductLines = [.. input.ProductLines.Select(p => p?.Trim() ?? "").Distinct(StringComparer.Ordinal)] };
        if (input.Tags is not null) result = result with { Tags = [.. input.Tags.Select(t => t?.Trim() ?? "").Distinct(StringComparer.OrdinalIgnoreCase)] };
        if (input.Locale is not null) result = result with { Locale = input.Locale.Trim() };
        if (input.Folder is not null) result = result with { Folder = input.Folder.Trim() is { Length: > 0 } f ? f : null };
        if (input.PublishAt is not null) result = result with { PublishAt = Date(input.PublishAt, "publishAt", errors) };
        if (input.ExpireAt is not null) result = result with { ExpireAt = Date(input.ExpireAt, "expireAt", errors) };
        if (input.Visibility is not null) result = result with { Visibility = input.Visibility.ToRule() };
        if (input.CoBrand is not null) result = result with { CoBrand = input.CoBrand.ToTemplate() };
        return result;
    }

    /// <summary>An ISO 8601 instant with an offset between 2000 and 2100; "" clears it.</summary>
    private static DateTimeOffset? Date(string text, string field, Dictionary<string, string[]> errors)
    {
        if (text.Length == 0) return null;
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) || at < Earliest || at >= Latest)
        {
            errors[field] = [$"{field} must be an ISO 8601 date and time between 2000 and 2100, such as 2027-01-31T09:00:00Z."];
            return null;
        }
        return at.ToUniversalTime();
    }

    /// <summary>Checks the merged asset; <paramref name="partnerExists"/> answers whether a named partner exists. Throws 400/422 naming the fields.</summary>
    public static async Task ValidateAsync(Asset a, Dictionary<string, string[]> errors, Func<string, Task<bool>> partnerExists)
    {
        void Fail(string field, string message) => errors.TryAdd(field, [message]);
        if (a.Title.Length is 0 or > 200) Fail("title", "title is required, at most 200 characters.");
        if (a.Description is { Length: > 4000 }) Fail("description", "description takes at most 4000 characters.");
        if (!LocalePattern().IsMatch(a.Locale)) Fail("locale", "locale must be a language code such as en or de-DE.");
        if (a.Folder is { Length: > 200 }) Fail("folder", "folder takes at most 200 characters.");
        CheckList("productLines", a.ProductLines, 100);
        CheckList("tags", a.Tags, 50);
        if (a.PublishAt is { } p && a.ExpireAt is { } e && p >= e) Fail("publishAt", "publishAt must come before expireAt.");
        if (a.CoBrand is { } template)
        {
            CoBranding.Check(template, errors);
            // A zone must fit the pages of the file it will be drawn on: the newest checked version (publication checks again).
            if (errors.Count == 0 && a.LatestReady is { } latest) CoBranding.CheckFits(template, latest, errors);
        }
        var rule = a.Visibility;
        if (rule.Everyone && Visibility.NamesAnyone(rule)) Fail("visibility.everyone", "everyone admits every partner; leave the other inclusion dimensions empty (deniedPartners may still exclude some).");
        if (!rule.Everyone && !Visibility.NamesAnyone(rule)) Fail("visibility", "The rule admits nobody: set everyone, or name tiers, regions, partner types, partners or roles.");
        CheckValues("visibility.tiers", rule.Tiers, v => Text.ParseEnum<PartnerTier>(v) is not null, "tiers are " + string.Join(", ", Enum.GetValues<PartnerTier>().Select(t => Text.Camel(t))));
        CheckValues("visibility.regions", rule.Regions, Regions.IsKnown, "regions are " + string.Join(", ", Regions.All));
        CheckValues("visibility.partnerTypes", rule.PartnerTypes, v => Text.ParseEnum<PartnerType>(v) is not null, "partner types are " + string.Join(", ", Enum.GetValues<PartnerType>().Select(t => Text.Camel(t))));
        CheckValues("visibility.partnerRoles", rule.PartnerRoles, v => Text.ParseEnum<PartnerRole>(v) is not null, "roles are PartnerAdmin, PartnerUser");
        foreach (var (field, ids) in new[] { ("visibility.allowedPartners", rule.AllowedPartners), ("visibility.deniedPartners", rule.DeniedPartners) })
        {
            if (ids.Count > MaxListValues) { Fail(field, $"{field} names at most {MaxListValues} partners."); continue; }
            for (var i = 0; i < ids.Count; i++)
            {
                if (!Ids.LooksLike(ids[i], "ptn") || !await partnerExists(ids[i])) { Fail($"{field}[{i}]", $"{field}[{i}] names no partner of the program: {Cut(ids[i])}."); break; }
            }
        }
        if (errors.Count > 0) throw new ValidationFailedException(errors, string.Join(" ", errors.Select(x => x.Value[0])));

        void CheckList(string field, IReadOnlyList<string> values, int maxLength)
        {
            if (values.Count > MaxListValues) Fail(field, $"{field} takes at most {MaxListValues} values.");
            else if (values.FirstOrDefault(v => v.Length is 0 || v.Length > maxLength) is { } bad) Fail(field, $"{field} values are 1 to {maxLength} characters: {Cut(bad)}.");
        }
        void CheckValues(string field, IReadOnlyList<string> values, Func<string, bool> known, string allowed)
        {
            if (values.Count > MaxListValues) { Fail(field, $"{field} takes at most {MaxListValues} values."); return; }
            for (var i = 0; i < values.Count; i++)
            {
                if (!known(values[i])) { Fail($"{field}[{i}]", $"{field}[{i}] is unknown ({Cut(values[i])}); {allowed}."); return; }
            }
        }
    }

    private static string Cut(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
