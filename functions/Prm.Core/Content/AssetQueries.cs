using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Content;

/// <summary>Filters of the asset list, validated.</summary>
public sealed record AssetFilter(string? Search, AssetType? Type, string? ProductLine, string? Tag, string? Locale)
{
    public static AssetFilter From(string? search, string? type, string? productLine, string? tag, string? locale)
    {
        var errors = new Dictionary<string, string[]>();
        if (search is { Length: > 100 }) errors["search"] = ["search takes at most 100 characters."];
        AssetType? parsed = null;
        if (!string.IsNullOrEmpty(type) && (parsed = Text.ParseEnum<AssetType>(type)) is null)
        {
            errors["type"] = ["type must be one of: " + string.Join(", ", Enum.GetValues<AssetType>().Select(t => Text.Camel(t))) + "."];
        }
        if (productLine is { Length: > 100 }) errors["productLine"] = ["productLine takes at most 100 characters."];
        if (tag is { Length: > 50 }) errors["tag"] = ["tag takes at most 50 characters."];
        if (locale is { Length: > 10 }) errors["locale"] = ["locale takes at most 10 characters."];
        if (errors.Count > 0) throw new ValidationFailedException(errors);
        return new(string.IsNullOrWhiteSpace(search) ? null : Text.NameKey(search), parsed, Empty(productLine), Empty(tag), Empty(locale));
    }

    private static string? Empty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>Whether the asset matches: search over title and tags (every word, case- and accent-insensitive), exact type, product line, tag and locale.</summary>
    public bool Matches(Asset a) =>
        (Type is null || a.Type == Type)
        && (Locale is null || string.Equals(a.Locale, Locale, StringComparison.OrdinalIgnoreCase))
        && (ProductLine is null || a.ProductLines.Contains(ProductLine, StringComparer.OrdinalIgnoreCase))
        && (Tag is null || a.Tags.Contains(Tag, StringComparer.OrdinalIgnoreCase))
        && (Search is null || Search.Split(' ', StringSplitOptions.RemoveEmptyEntries).All(word => a.SearchKey.Contains(word, StringComparison.Ordinal)));
}

/// <summary>
/// Reading the content library: the list (what the caller may see, newest first, visibility evaluated now against the caller's company
/// as it is now), one asset, a partner's view of an asset, the timeline and the download counts.
/// </summary>
public sealed class AssetQueries(IAssetStore store, IPartnerStore partners, AssetCommits commits, TimeProvider clock)
{
    /// <summary>Storage pages a list request reads at most (with the caller's partner, at most 4 storage round trips).</summary>
    public const int MaxListReads = 3;

    public async Task<Page<AssetDto>> ListAsync(Caller caller, AssetFilter filter, PageRequest page, CancellationToken ct)
    {
        if (caller.PartnerId is null && !caller.IsVendor) return new Page<AssetDto>([], null);
        var now = clock.GetUtcNow();
        if (caller.PartnerId is null)
        {
            var all = await store.ListAsync(new AssetScan(false, filter.Type is { } t ? t.ToString() : null, null), Task.FromResult<Func<Asset, bool>>(filter.Matches), page, MaxListReads, ct);
            return all.Map(a => AssetDto.From(a, vendorView: true));
        }
        // The caller's partner (as it is now) is read while the first listing page is read: one round trip of latency, not two.
        async Task<Func<Asset, bool>> VisibleAsync()
        {
            var partner = await commits.CallerPartnerAsync(caller, ct);
            return a => partner is not null && ContentAccess.MayRead(caller, a, partner, now) && filter.Matches(a);
        }
        var visible = await store.ListAsync(new AssetScan(true, filter.Type is { } type ? type.ToString() : null, null), VisibleAsync(), page, MaxListReads, ct);
        return visible.Map(a => AssetDto.From(a, vendorView: false));
    }

    public async Task<Versioned<AssetDto>> GetAsync(Caller caller, string assetId, CancellationToken ct)
    {
        var (found, _) = await commits.LoadAsync(caller, assetId, ct);
        return new(AssetDto.From(found.Value, caller.PartnerId is null), found.ETag);
    }

    /// <summary>Whether <paramref name="partnerId"/> sees the asset now (company view: the role dimension is not a user's), and if not, why.</summary>
    public async Task<VisibilityAnswer> VisibilityAsync(Caller caller, string assetId, string? partnerId, CancellationToken ct)
    {
        if (!ContentAccess.MayInspect(caller)) throw new NotFoundException("Asset");
        if (string.IsNullOrEmpty(partnerId)) throw new ValidationFailedException("partnerId", "partnerId is required.");
        var (found, _) = await commits.LoadAsync(caller, assetId, ct);
        var partner = Ids.LooksLike(partnerId, "ptn") ? await partners.GetAsync(partnerId, ct) : null;
        if (partner is null) throw new NotFoundException("Partner");
        var asset = found.Value;
        var now = clock.GetUtcNow();
        var verdict = Visibility.Check(asset.Visibility, PartnerFacts.Of(partner.Value), role: null);
        if (verdict.Visible && !asset.IsLiveAt(now)) verdict = VisibilityVerdict.No("status");
        return new VisibilityAnswer(asset.Id, partnerId, verdict.Visible, verdict.ExcludedBy, asset.Status.ToString());
    }

    public async Task<Page<AuditEntry>> TimelineAsync(Caller caller, string assetId, PageRequest page, CancellationToken ct)
    {
        if (!ContentAccess.MayInspect(caller)) throw new NotFoundException("Asset");
        await commits.LoadAsync(caller, assetId, ct);
        return await store.TimelineAsync(assetId, page, ct);
    }

    public async Task<DownloadCounts> DownloadCountsAsync(Caller caller, string assetId, CancellationToken ct)
    {
        if (!ContentAccess.MayInspect(caller)) throw new NotFoundException("Asset");
        await commits.LoadAsync(caller, assetId, ct);
        var downloads = await store.DownloadsAsync(assetId, null, ct);
        return new DownloadCounts(assetId, downloads.Count,
            downloads.GroupBy(d => d.PartnerId).Select(g => new PartnerDownloads(g.Key, g.Count())).OrderByDescending(p => p.Downloads).ThenBy(p => p.PartnerId, StringComparer.Ordinal).ToList());
    }
}

/// <summary>Downloads: a read-only SAS URL of the current published version (partners) or the newest checked one (vendor staff), recorded with its event.</summary>
public sealed class AssetDownloads(IAssetStore store, IAssetFiles files, AssetCommits commits, TimeProvider clock)
{
    public async Task<Uri> DownloadAsync(Caller caller, string assetId, CancellationToken ct)
    {
        var (found, _) = await commits.LoadAsync(caller, assetId, ct);
        var asset = found.Value;
        var version = caller.PartnerId is null ? asset.Current ?? asset.LatestReady : asset.Current;
        if (version is null) throw new ConflictException("The asset has no checked version yet.", "versions");
        var rules = await commits.SettingsAsync(ct);
        if (caller.PartnerId is { } partnerId)
        {
            var now = clock.GetUtcNow();
            var download = new AssetDownload(Ids.New("dl"), asset.Id, version.Number, caller.UserId, caller.Email, caller.DisplayName, partnerId, now);
            await store.RecordDownloadAsync(download, Outbox.OutboxMessage.ForEvent(ContentEvents.Download(asset, version.Number, caller.UserId, partnerId, now)), ct);
        }
        return await files.ReadUrlAsync(version.BlobName, rules.DownloadLinkValidFor, version.FileName, ct);
    }
}
