using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Settings;

namespace Prm.Core.Branding;

/// <summary>The program's look as clients and templates use it: <c>GET /api/branding</c> (anonymous: a portal shows it before sign-in).</summary>
/// <remarks><see cref="PortalBaseUrl"/> is the branding's portal address, else configuration <c>Prm:PortalBaseUrl</c>: every portal link in emails starts with it.</remarks>
public sealed record Brand(string ProgramName, string PrimaryColor, string? LogoUrl, string? SupportEmail, string EmailFooter, IReadOnlyList<LegalLink> LegalLinks,
    string PortalBaseUrl)
{
    /// <summary>The brand of the settings; the logo's URL carries its hash, so a new logo is a new URL (mail clients and browsers cache them).</summary>
    public static Brand From(BrandingSettings s, ProgramOptions program) =>
        new(s.ProgramName, s.PrimaryColor, s.Logo is { } logo ? $"{program.ApiBaseUrl.TrimEnd('/')}/branding/logo?v={logo.Sha256[..16]}" : null,
            s.SupportEmail, s.EmailFooter, s.LegalLinks, string.IsNullOrWhiteSpace(s.PortalBaseUrl) ? program.PortalBaseUrl : s.PortalBaseUrl);
}

/// <summary>Where the program's logo is kept (one blob), checked by the image library.</summary>
public interface IProgramLogo
{
    /// <summary>Format ("png", "jpeg", …) and size judged by the content; null when it is no image.</summary>
    Prm.Core.Content.ImageFacts? Identify(byte[] image);

    Task SaveAsync(byte[] image, string contentType, string sha256, CancellationToken ct);

    /// <summary>The stored logo and its hash; null without one.</summary>
    Task<(byte[] Image, string ContentType, string Sha256)?> GetAsync(CancellationToken ct);
}

/// <summary>
/// The current brand for code that renders synchronously (email templates, pages): the settings read through their per-instance cache,
/// so a save on this instance applies to the next email at once and another instance's save within the settings cache time.
/// </summary>
public sealed class BrandSource(ProgramSettings settings, ProgramOptions program)
{
    private Brand? last;

    public Brand Current
    {
        get
        {
            var read = settings.GetAsync<BrandingSettings>(BrandingSettings.SectionName, CancellationToken.None);
            if (read.IsCompletedSuccessfully) return last = Brand.From(read.Result, program);
            // Not cached yet (first use, or storage slow): the last known brand now, the fresh one from the next email on.
            _ = read.ContinueWith(t => { if (t.IsCompletedSuccessfully) last = Brand.From(t.Result, program); }, TaskScheduler.Default);
            return last ?? Brand.From(new BrandingSettings(), program);
        }
    }

    public async Task<Brand> GetAsync(CancellationToken ct) => last = Brand.From(await settings.GetAsync<BrandingSettings>(BrandingSettings.SectionName, ct), program);
}

/// <summary>The program logo: admins upload a PNG or JPEG (judged by its content, 16 to 4,000 px a side, at most 512 KiB); anyone reads it.</summary>
public sealed class ProgramLogos(IProgramLogo store, ProgramSettings settings)
{
    public const long MaxBytes = 512 * 1024;
    public const int MinSide = 16;
    public const int MaxSide = 4_000;

    public async Task<Versioned<object>> UploadAsync(Caller caller, byte[] image, CancellationToken ct)
    {
        if (!caller.IsAdmin) throw new ForbiddenException("Only program admins change the branding.");
        var facts = store.Identify(image);
        if (facts is null || facts.Format is not ("png" or "jpeg"))
            throw new ValidationFailedException("logo", "The logo must be a PNG or JPEG image (judged by its content).", unprocessable: true);
        if (facts.Width < MinSide || facts.Height < MinSide || facts.Width > MaxSide || facts.Height > MaxSide)
            throw new ValidationFailedException("logo", $"The logo is {facts.Width}×{facts.Height} px; each side must be {MinSide} to {MaxSide} px.", unprocessable: true);
        var contentType = facts.Format == "png" ? "image/png" : "image/jpeg";
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(image));
        await store.SaveAsync(image, contentType, sha, ct);
        var logo = new BrandLogo(sha, contentType, facts.Width, facts.Height);
        return await settings.UpdateAsync<BrandingSettings>(caller, BrandingSettings.SectionName, s => s with { Logo = logo }, ct);
    }

    public async Task<(byte[] Image, string ContentType, string Sha256)> GetAsync(CancellationToken ct)
    {
        var current = await settings.GetAsync<BrandingSettings>(BrandingSettings.SectionName, ct);
        if (current.Logo is null) throw new NotFoundException("Logo");
        return await store.GetAsync(ct) ?? throw new NotFoundException("Logo");
    }
}
