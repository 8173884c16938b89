using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Content;

/// <summary>
/// The admins' side of the content library: create and edit assets, upload versions (a write-only SAS URL for one blob, then a content
/// check: sniffed type, size limit, SHA-256; anything else is deleted and refused), publish (now, scheduled, or superseding) and archive.
/// </summary>
public sealed class ManageAssets(IAssetStore store, IAssetFiles files, IPartnerStore partners, AssetCommits commits, ICoBrandRenderer renderer, TimeProvider clock)
{
    public async Task<Versioned<AssetDto>> CreateAsync(Caller caller, AssetInput? body, CancellationToken ct)
    {
        if (!ContentAccess.MayManage(caller)) throw new ForbiddenException("Program admins manage assets.");
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        var errors = new Dictionary<string, string[]>();
        if (body.Title is null) errors["title"] = ["title is required."];
        if (body.Type is null) errors["type"] = ["type is required."];
        if (body.Locale is null) errors["locale"] = ["locale is required."];
        if (body.Visibility is null) errors["visibility"] = ["visibility is required: who among the partners sees the asset."];
        var now = clock.GetUtcNow();
        var blank = new Asset
        {
            Id = AssetIds.New(now),
            Title = "",
            Type = AssetType.Collateral,
            Locale = "",
            Visibility = new VisibilityRule(),
            Status = AssetStatus.Draft,
            OwnerId = caller.UserId,
            OwnerName = caller.DisplayName,
            OwnerEmail = caller.Email,
            CreatedAt = now,
            UpdatedAt = now,
        };
        var asset = AssetRules.Apply(blank, body, errors);
        await AssetRules.ValidateAsync(asset, errors, PartnerExistsAsync(ct));
        var change = Asset.Create(asset);
        var etag = await store.CreateAsync(change.Asset,
            new(new[] { AssetCommits.Entry(caller, now, change.Action, asset.Id, Audit.Diff.Between(null, change.Asset.Snapshot())) }, commits.Outbox(change, now)), ct);
        return new(AssetDto.From(change.Asset, vendorView: true), etag);
    }

    /// <summary>Edits present fields (If-Match required); the merged asset is validated as a whole (publishAt before expireAt, known partners).</summary>
    public async Task<Versioned<AssetDto>> EditAsync(Caller caller, string assetId, string? ifMatch, AssetInput? body, CancellationToken ct)
    {
        if (ifMatch is null) throw new PreconditionFailedException("If-Match is required: send the ETag of your last read.", required: true);
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        var found = await commits.LoadManagedAsync(caller, assetId, ct);
        var errors = new Dictionary<string, string[]>();
        var merged = AssetRules.Apply(found.Value, body, errors);
        await AssetRules.ValidateAsync(merged, errors, PartnerExistsAsync(ct));
        var result = await commits.TransitionAsync(caller, assetId, (a, _, now) => a.Edit(AssetRules.Apply(a, body, []), now), ct, ifMatch);
        return new(AssetDto.From(result.Value, vendorView: true), result.ETag);
    }

    /// <summary>A slot for the next version: a write-only SAS URL for one blob.</summary>
    public async Task<VersionUpload> AddVersionAsync(Caller caller, string assetId, VersionUploadInput? body, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (body?.FileName is { Length: > 200 }) errors["fileName"] = ["fileName takes at most 200 characters."];
        if (body?.ChangeNote is { Length: > 2000 }) errors["changeNote"] = ["changeNote takes at most 2000 characters."];
        await commits.LoadManagedAsync(caller, assetId, ct);
        if (errors.Count > 0) throw new ValidationFailedException(errors);
        var rules = await commits.SettingsAsync(ct);
        var number = 0;
        var result = await commits.TransitionAsync(caller, assetId, (a, s, now) =>
        {
            number = a.NextVersionNumber;
            return a.AddVersion(new AssetVersion(number, AssetVersionStatus.Pending, BlobOf(a.Id, number), body?.FileName?.Trim(), body?.ChangeNote?.Trim(),
                caller.UserId, caller.DisplayName, now), s.MaxVersionsPerAsset);
        }, ct);
        var url = await files.UploadUrlAsync(UploadBlobOf(assetId, number), rules.UploadLinkValidFor, ct);
        return new VersionUpload(assetId, number, url.ToString(), clock.GetUtcNow() + rules.UploadLinkValidFor, rules.MaxFileBytes, ContentSniffer.AllowedContentTypes);
    }

    /// <summary>The blob of a version: "{assetId}/v{number}" (no URL ever grants writing it).</summary>
    public static string BlobOf(string assetId, int number) => $"{assetId}/v{number}";

    /// <summary>Where a version's file is uploaded through its write-only URL; completion moves it to <see cref="BlobOf"/>.</summary>
    public static string UploadBlobOf(string assetId, int number) => $"uploads/{assetId}/v{number}";

    /// <summary>Checks the uploaded file (size, sniffed type), records its SHA-256; anything else is deleted, the slot dropped, and refused (422).</summary>
    public async Task<Versioned<AssetDto>> CompleteVersionAsync(Caller caller, string assetId, string versionText, CancellationToken ct)
    {
        var found = await commits.LoadManagedAsync(caller, assetId, ct);
        if (!int.TryParse(versionText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) || number is < 1 or > 1000)
        {
            throw new NotFoundException("Version");
        }
        var version = found.Value.Versions.FirstOrDefault(v => v.Number == number) ?? throw new NotFoundException("Version");
        if (version.Status == AssetVersionStatus.Ready) return new(AssetDto.From(found.Value, vendorView: true), found.ETag);
        var rules = await commits.SettingsAsync(ct);
        // The file is moved where no upload URL reaches before it is checked: what is checked and hashed is what stays.
        if (!await files.SealAsync(UploadBlobOf(assetId, number), version.BlobName, ct) && await files.InspectAsync(version.BlobName, 1, ct) is null)
        {
            throw new ValidationFailedException("version", "Nothing was uploaded for this version yet; PUT the file to the upload URL first.", unprocessable: true);
        }
        var inspected = await files.InspectAsync(version.BlobName, ContentSniffer.HeadBytes, ct)
            ?? throw new ValidationFailedException("version", "Nothing was uploaded for this version yet; PUT the file to the upload URL first.", unprocessable: true);
        var kind = ContentSniffer.Detect(inspected.Head);
        if (inspected.Size > rules.MaxFileBytes || kind == ContentKind.Unknown)
        {
            await files.DeleteAsync(version.BlobName, ct);
            await commits.TransitionAsync(caller, assetId, (a, _, now) => a.Versions.Any(v => v.Number == number && v.Status == AssetVersionStatus.Pending)
                ? a.DropVersion(number, $"Version {number} refused: {inspected.Size} bytes, {kind}.", now) : null, ct);
            throw inspected.Size > rules.MaxFileBytes
                ? new ValidationFailedException("file", $"The file has {inspected.Size} bytes; an asset file takes at most {rules.MaxFileBytes} bytes. It was deleted.", unprocessable: true)
                : new ValidationFailedException("file", "The file is not a PDF, PNG, JPEG, PPTX, DOCX, XLSX, MP4 or ZIP file (judged by its content, not its name). It was deleted.", unprocessable: true);
        }
        var sha = await files.Sha256Async(version.BlobName, ct);
        var contentType = ContentSniffer.ContentTypes[kind];
        await files.SetContentTypeAsync(version.BlobName, contentType, ct);
        // A PDF small enough to co-brand records its page sizes, so templates can be checked against its pages.
        var pages = kind == ContentKind.Pdf && inspected.Size <= CoBranding.MaxSourceBytes && await files.ReadAllAsync(version.BlobName, ct) is { } pdf ? renderer.Pages(pdf) : null;
        var result = await commits.TransitionAsync(caller, assetId, (a, _, now) =>
            a.Versions.FirstOrDefault(v => v.Number == number)?.Status == AssetVersionStatus.Ready ? null
                : a.CompleteVersion(number, inspected.Size, sha, contentType, Text.Camel(kind), now, pages?.Count, pages?.Sizes), ct);
        return new(AssetDto.From(result.Value, vendorView: true), result.ETag);
    }

    /// <summary>Publishes the newest checked version (now, or scheduled for publishAt), superseding the current one of a published asset.</summary>
    public async Task<Versioned<AssetDto>> PublishAsync(Caller caller, string assetId, CancellationToken ct)
    {
        var result = await commits.TransitionAsync(caller, assetId, (a, _, now) => a.Publish(now), ct);
        return new(AssetDto.From(result.Value, vendorView: true), result.ETag);
    }

    public async Task<Versioned<AssetDto>> ArchiveAsync(Caller caller, string assetId, ArchiveInput? body, CancellationToken ct)
    {
        await commits.LoadManagedAsync(caller, assetId, ct);
        var reason = body?.Reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > 1000) throw new ValidationFailedException("reason", "reason is required, at most 1000 characters.");
        var result = await commits.TransitionAsync(caller, assetId, (a, _, now) => a.Archive(reason, now), ct);
        return new(AssetDto.From(result.Value, vendorView: true), result.ETag);
    }

    private Func<string, Task<bool>> PartnerExistsAsync(CancellationToken ct) => async id => await partners.GetAsync(id, ct) is not null;
}
