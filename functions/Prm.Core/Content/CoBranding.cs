using System.Text.RegularExpressions;
using Prm.Core.Common;

namespace Prm.Core.Content;

/// <summary>A rectangle on a page, in points from the page's top-left corner: a logo zone, or a text zone holding placeholders.</summary>
public sealed record CoBrandZone(int Page, double X, double Y, double Width, double Height, string? Text = null);

/// <summary>A PDF asset's co-brand template: its zones and the font and size of the text zones.</summary>
public sealed record CoBrandTemplate(IReadOnlyList<CoBrandZone> Zones, string Font = "sans", double FontSize = 10);

/// <summary>The size of a PDF page in points.</summary>
public sealed record PageSize(double Width, double Height);

/// <summary>What a co-brand template may say, and its checks (each naming the field).</summary>
public static partial class CoBranding
{
    /// <summary>The placeholders a text zone may hold.</summary>
    public static readonly IReadOnlyList<string> Placeholders = ["partner.name", "partner.website", "partner.phone", "user.name", "user.email"];

    /// <summary>The fonts a template may name (the renderer maps them to installed faces).</summary>
    public static readonly IReadOnlyList<string> Fonts = ["sans", "serif", "mono"];

    /// <summary>Pages whose sizes a version records, and the last page a zone may address.</summary>
    public const int MaxPages = 50;

    public const int MaxZones = 20;

    /// <summary>The largest PDF the service co-brands (it is rendered in memory).</summary>
    public const long MaxSourceBytes = 50L * 1024 * 1024;

    [GeneratedRegex(@"\{\{\s*([^{}]*?)\s*\}\}")]
    private static partial Regex Placeholder();

    /// <summary>Checks the template on its own: zones on pages 1 to 50, finite non-negative positions, positive sizes, known placeholders, font and size.</summary>
    public static void Check(CoBrandTemplate t, Dictionary<string, string[]> errors)
    {
        void Fail(string field, string message) => errors.TryAdd(field, [message]);
        if (!Fonts.Contains(t.Font)) Fail("coBrand.font", "coBrand.font must be one of: " + string.Join(", ", Fonts) + ".");
        if (!double.IsFinite(t.FontSize) || t.FontSize is < 4 or > 72) Fail("coBrand.fontSize", "coBrand.fontSize must be 4 to 72 points.");
        if (t.Zones.Count is 0 or > MaxZones) { Fail("coBrand.zones", $"coBrand.zones holds 1 to {MaxZones} zones."); return; }
        for (var i = 0; i < t.Zones.Count; i++)
        {
            var z = t.Zones[i];
            var field = $"coBrand.zones[{i}]";
            if (z.Page is < 1 or > MaxPages) Fail(field + ".page", $"{field}.page must be 1 to {MaxPages}.");
            else if (!new[] { z.X, z.Y, z.Width, z.Height }.All(double.IsFinite) || z.X < 0 || z.Y < 0 || z.Width <= 0 || z.Height <= 0 || z.X + z.Width > 14400 || z.Y + z.Height > 14400)
            {
                Fail(field, $"{field} needs x, y >= 0 and width, height > 0, in points, within 14400.");
            }
            if (z.Text is { } text)
            {
                if (text.Length is 0 or > 500) Fail(field + ".text", $"{field}.text takes 1 to 500 characters.");
                foreach (Match m in Placeholder().Matches(text))
                {
                    if (!Placeholders.Contains(m.Groups[1].Value)) { Fail(field + ".text", $"{field}.text names an unknown placeholder {{{{{m.Groups[1].Value}}}}}; known: " + string.Join(", ", Placeholders.Select(p => "{{" + p + "}}")) + "."); break; }
                }
            }
        }
    }

    /// <summary>Checks that every zone lies on a page of the file and inside it (422 naming the zone).</summary>
    public static void CheckFits(CoBrandTemplate t, AssetVersion version, Dictionary<string, string[]> errors)
    {
        if (version.Kind != "pdf") { errors.TryAdd("coBrand", [$"Co-branding needs a PDF; version {version.Number} is {version.Kind}."]); return; }
        if (version.PageSizes is not { } pages) { errors.TryAdd("coBrand", [$"Version {version.Number} could not be read as a PDF to co-brand (encrypted or damaged)."]); return; }
        for (var i = 0; i < t.Zones.Count; i++)
        {
            var z = t.Zones[i];
            if (z.Page > pages.Count) { errors.TryAdd($"coBrand.zones[{i}].page", [$"coBrand.zones[{i}] is on page {z.Page}; version {version.Number} has {version.PageCount} pages (sizes known for the first {pages.Count})."]); continue; }
            var size = pages[z.Page - 1];
            if (z.X + z.Width > size.Width || z.Y + z.Height > size.Height)
            {
                errors.TryAdd($"coBrand.zones[{i}]", [$"coBrand.zones[{i}] lies outside page {z.Page} ({size.Width:0.#} × {size.Height:0.#} points)."]);
            }
        }
    }

    /// <summary>The text of a zone with its placeholders replaced.</summary>
    public static string Fill(string text, IReadOnlyDictionary<string, string> values) =>
        Placeholder().Replace(text, m => values.TryGetValue(m.Groups[1].Value, out var v) ? v : "");
}

/// <summary>Renders co-branded copies and reads PDF page sizes (PDFsharp in the storage adapters).</summary>
public interface ICoBrandRenderer
{
    /// <summary>The page count and the sizes of the first <see cref="CoBranding.MaxPages"/> pages; null when the file does not open as a PDF.</summary>
    (int Count, IReadOnlyList<PageSize> Sizes)? Pages(byte[] pdf);

    /// <summary>The PDF with the logo in each logo zone (skipped without a logo) and the filled text zones.</summary>
    byte[] Render(byte[] pdf, CoBrandTemplate template, IReadOnlyDictionary<string, string> values, byte[]? logo);
}

/// <summary>A partner's logo: PNG or JPEG, at least 300 px wide.</summary>
public sealed record PartnerLogo(string PartnerId, string ContentType, int Width, int Height, long Size, string Sha256, DateTimeOffset UpdatedAt);

/// <summary>What the image library says about an uploaded logo; null when it is no image it can read.</summary>
public sealed record ImageFacts(string Format, int Width, int Height);

/// <summary>Partner logos in Blob Storage and their check.</summary>
public interface IPartnerLogos
{
    ImageFacts? Identify(byte[] image);

    Task<PartnerLogo> SaveAsync(string partnerId, byte[] image, ImageFacts facts, CancellationToken ct);

    /// <summary>The logo and its blob version (part of the co-branded copy's key); null without one.</summary>
    Task<(byte[] Image, string ETag)?> GetAsync(string partnerId, CancellationToken ct);
}
