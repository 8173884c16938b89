using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Content;

/// <summary>A co-branded copy: where to fetch it, and whether the partner's logo is in it.</summary>
public sealed record CoBrandedCopy(Uri Url, bool WithLogo);

/// <summary>
/// Each partner user's own co-branded copy of a PDF asset: the partner's logo in the logo zones, the partner's and the user's details in
/// the text zones. Rendered once and cached in Blob, keyed by (version, partner profile version, user): a profile or logo change, a
/// new version or a template edit renders anew. A partner without a logo gets a text-only copy.
/// </summary>
public sealed class CoBrandedCopies(IAssetStore store, IAssetFiles files, IPartnerStore partners, IPartnerLogos logos, ICoBrandRenderer renderer, AssetCommits commits, TimeProvider clock)
{
    public async Task<CoBrandedCopy> GetAsync(Caller caller, string assetId, CancellationToken ct)
    {
        var (found, _) = await commits.LoadAsync(caller, assetId, ct);
        if (caller.PartnerId is not { } partnerId) throw new ForbiddenException("Co-branded copies are made for partner users.");
        var asset = found.Value;
        var template = asset.CoBrand ?? throw new ConflictException("This asset has no co-brand template; download it as it is.", "coBrand");
        var version = asset.Current ?? throw new NotFoundException("Asset");
        if (version.Kind != "pdf" || version.Size > CoBranding.MaxSourceBytes) throw new ConflictException("Only PDFs up to 50 MiB are co-branded.", "coBrand");
        var partner = await partners.GetAsync(partnerId, ct) ?? throw new NotFoundException("Asset");
        var logo = await logos.GetAsync(partnerId, ct);
        var rules = await commits.SettingsAsync(ct);
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("|", partner.ETag, logo?.ETag ?? "-", JsonSerializer.Serialize(template)))))[..24];
        var blob = $"cobranded/{asset.Id}/v{version.Number}/{partnerId}/{caller.UserId}/{key}.pdf";
        if (!await files.ExistsAsync(blob, ct))
        {
            var source = await files.ReadAllAsync(version.BlobName, ct) ?? throw new NotFoundException("Asset");
            var p = partner.Value;
            var values = new Dictionary<string, string>
            {
                ["partner.name"] = p.Name,
                ["partner.website"] = p.Website ?? "",
                ["partner.phone"] = p.Phone ?? "",
                ["user.name"] = caller.DisplayName,
                ["user.email"] = caller.Email,
            };
            await files.WriteAsync(blob, renderer.Render(source, template, values, logo?.Image), "application/pdf", ct);
        }
        // A co-branded copy is a download of the version like any other (counted, and its user hears when it is superseded).
        var now = clock.GetUtcNow();
        await store.RecordDownloadAsync(new AssetDownload(Ids.New("dl"), asset.Id, version.Number, caller.UserId, caller.Email, caller.DisplayName, partnerId, now),
            Outbox.OutboxMessage.ForEvent(ContentEvents.Download(asset, version.Number, caller.UserId, partnerId, now)), ct);
        return new CoBrandedCopy(await files.ReadUrlAsync(blob, rules.DownloadLinkValidFor, Path.GetFileNameWithoutExtension(version.FileName ?? "asset") + " (co-branded).pdf", ct), logo is not null);
    }
}

/// <summary>
/// Partner logos: who manages the company's profile (its partner admins, the owning channel manager, admins; see
/// <see cref="PartnerAccess.CanManageCompany"/>) uploads a PNG or JPEG at least 300 px wide, checked by the image library, never by its name.
/// </summary>
public sealed class PartnerLogos(IPartnerStore partners, IPartnerLogos logos)
{
    public const long MaxBytes = 2 * 1024 * 1024;
    public const int MinWidth = 300;
    public const int MaxSide = 10_000;

    public async Task EnsureMayUploadAsync(Caller caller, string partnerId, CancellationToken ct)
    {
        var partner = await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct);
        if (!PartnerAccess.CanManageCompany(caller, partner.Value)) throw new ForbiddenException("Partner admins (and the partner's channel manager) upload the company's logo.");
    }

    public async Task<PartnerLogo> SaveAsync(Caller caller, string partnerId, byte[] image, CancellationToken ct)
    {
        await EnsureMayUploadAsync(caller, partnerId, ct);
        var facts = logos.Identify(image);
        if (facts is null || facts.Format is not ("png" or "jpeg"))
        {
            throw new ValidationFailedException("logo", "The logo must be a PNG or JPEG image (judged by its content).", unprocessable: true);
        }
        if (facts.Width < MinWidth) throw new ValidationFailedException("logo", $"The logo is {facts.Width} px wide; it needs at least {MinWidth} px.", unprocessable: true);
        if (facts.Width > MaxSide || facts.Height > MaxSide) throw new ValidationFailedException("logo", $"The logo may be at most {MaxSide} px on a side.", unprocessable: true);
        return await logos.SaveAsync(partnerId, image, facts, ct);
    }
}
