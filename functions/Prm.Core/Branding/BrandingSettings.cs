using System.Globalization;
using System.Net.Mail;
using System.Text.RegularExpressions;
using Prm.Core.Common;
using Prm.Core.Settings;

namespace Prm.Core.Branding;

/// <summary>A link in the footer of every email and page (terms, privacy, imprint).</summary>
public sealed record LegalLink(string Label, string Url);

/// <summary>The program's logo as uploaded through <c>PUT /api/branding/logo</c>: its content hash (the blob's version), type and size.</summary>
public sealed record BrandLogo(string Sha256, string ContentType, int Width, int Height);

/// <summary>
/// The branding section of the program settings — the one place of the program's look in emails and pages: the program name, the logo,
/// the primary colour (white text on it must reach WCAG AA), the support address, the email footer and the legal links. Defaults are the
/// initializers; configuration section "Branding" may override them at start; admins at run time through <c>PUT /api/settings/branding</c>
/// (the logo only through <c>PUT /api/branding/logo</c>; a settings PUT that leaves <c>logo</c> out removes it).
/// </summary>
public sealed partial record BrandingSettings
{
    public const string SectionName = "branding";
    public const string ConfigurationSection = "Branding";

    /// <summary>WCAG 2.x AA contrast for normal text.</summary>
    public const double MinContrast = 4.5;

    public string ProgramName { get; init; } = "Partner Program";

    /// <summary>#RRGGBB; headings, buttons and links use it with white text.</summary>
    public string PrimaryColor { get; init; } = "#0B5CAD";

    public string? SupportEmail { get; init; }

    public string EmailFooter { get; init; } = "You receive this email because you take part in our partner program.";

    public IReadOnlyList<LegalLink> LegalLinks { get; init; } = [];

    public BrandLogo? Logo { get; init; }

    /// <summary>
    /// The partner portal's absolute http(s) address, the start of every portal link in emails; null takes configuration
    /// <c>Prm:PortalBaseUrl</c>.
    /// </summary>
    public string? PortalBaseUrl { get; init; }

    public static SettingsSection<BrandingSettings> Section(BrandingSettings defaults, Func<BrandLogo, CancellationToken, Task<bool>> logoIsStored) =>
        new(SectionName, () => defaults, async (s, ct) =>
        {
            var errors = Check(s);
            if (s.Logo is { } logo && !errors.ContainsKey("logo") && !await logoIsStored(logo, ct))
                errors["logo"] = ["logo is not the uploaded logo: upload one with PUT /api/branding/logo, or leave logo out to have none."];
            if (errors.Count > 0) throw new ValidationFailedException(errors, string.Join(" ", errors.Select(e => e.Value[0])), unprocessable: true);
        });

    /// <summary>Every problem of the values, by field (empty when they are acceptable).</summary>
    public static Dictionary<string, string[]> Check(BrandingSettings s)
    {
        var errors = new Dictionary<string, string[]>();
        void Fail(string field, string message) => errors[field] = [message];
        if (string.IsNullOrWhiteSpace(s.ProgramName) || s.ProgramName.Length > 80) Fail("programName", "programName takes 1 to 80 characters.");
        if (!TryParseColor(s.PrimaryColor, out var rgb)) Fail("primaryColor", "primaryColor must be a colour written #RRGGBB (e.g. #0B5CAD).");
        else if (ContrastWithWhite(rgb) is var ratio && ratio < MinContrast)
            Fail("primaryColor", $"White text on {s.PrimaryColor} has a contrast of {ratio.ToString("0.0", CultureInfo.InvariantCulture)}:1; WCAG AA needs {MinContrast.ToString(CultureInfo.InvariantCulture)}:1. Choose a darker colour.");
        if (s.SupportEmail is { } email && (email.Length > 254 || !MailAddress.TryCreate(email, out var parsed) || parsed.Address != email))
            Fail("supportEmail", "supportEmail must be one email address.");
        if (s.EmailFooter is null || s.EmailFooter.Length > 500) Fail("emailFooter", "emailFooter takes at most 500 characters.");
        if (s.LegalLinks is null || s.LegalLinks.Count > 10) Fail("legalLinks", "legalLinks holds at most 10 links.");
        else
        {
            for (var i = 0; i < s.LegalLinks.Count; i++)
            {
                var link = s.LegalLinks[i];
                if (link is null || string.IsNullOrWhiteSpace(link.Label) || link.Label.Length > 60) Fail($"legalLinks[{i}].label", "A link's label takes 1 to 60 characters.");
                if (link is null || !IsWebAddress(link.Url)) Fail($"legalLinks[{i}].url", "A link's url is an absolute https address (http only for localhost).");
            }
        }
        if (s.PortalBaseUrl is not null && !IsPortalAddress(s.PortalBaseUrl))
            Fail("portalBaseUrl", "portalBaseUrl is an absolute http or https address without query or fragment (e.g. https://partners.example.com/portal).");
        if (s.Logo is { } logo && (logo.Sha256 is null || !Sha256Pattern().IsMatch(logo.Sha256) || logo.ContentType is not ("image/png" or "image/jpeg")
            || logo.Width is < 1 or > 10_000 || logo.Height is < 1 or > 10_000))
            Fail("logo", "logo is set by PUT /api/branding/logo only; send back what GET returned, or leave it out to remove the logo.");
        return errors;
    }

    /// <summary>#RRGGBB (either case) to its three channels.</summary>
    public static bool TryParseColor(string? text, out (int R, int G, int B) rgb)
    {
        rgb = default;
        if (text is null || !ColorPattern().IsMatch(text)) return false;
        rgb = (Convert.ToInt32(text[1..3], 16), Convert.ToInt32(text[3..5], 16), Convert.ToInt32(text[5..7], 16));
        return true;
    }

    /// <summary>The WCAG 2.x contrast ratio of white against the colour (1 to 21).</summary>
    public static double ContrastWithWhite((int R, int G, int B) rgb)
    {
        static double Channel(int value)
        {
            var c = value / 255.0;
            return c <= 0.03928 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
        }
        var luminance = 0.2126 * Channel(rgb.R) + 0.7152 * Channel(rgb.G) + 0.0722 * Channel(rgb.B);
        return 1.05 / (luminance + 0.05);
    }

    private static bool IsWebAddress(string? url) =>
        url is { Length: <= 2000 } && Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback));

    private static bool IsPortalAddress(string url) =>
        url.Length is > 0 and <= 500 && Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
        && !string.IsNullOrEmpty(uri.Host) && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment) && string.IsNullOrEmpty(uri.UserInfo);

    [GeneratedRegex("^#[0-9A-Fa-f]{6}$")]
    private static partial Regex ColorPattern();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Pattern();
}
