using PdfSharp.Drawing;
using PdfSharp.Drawing.Layout;
using PdfSharp.Fonts;
using PdfSharp.Pdf;
using PdfSharp.Pdf.IO;
using Prm.Core.Common;
using Prm.Core.Content;

namespace Prm.Storage.Content;

/// <summary>Co-branded PDFs with PDFsharp: opens the asset's PDF, draws the logo and the filled text zones on their pages, saves a copy.</summary>
public sealed class PdfCoBranding : ICoBrandRenderer
{
    static PdfCoBranding() => InstalledFonts.Install();

    public (int Count, IReadOnlyList<PageSize> Sizes)? Pages(byte[] pdf)
    {
        try
        {
            using var document = PdfReader.Open(new MemoryStream(pdf, writable: false), PdfDocumentOpenMode.Import);
            var sizes = new List<PageSize>();
            for (var i = 0; i < Math.Min(document.PageCount, CoBranding.MaxPages); i++) sizes.Add(new PageSize(document.Pages[i].Width.Point, document.Pages[i].Height.Point));
            return (document.PageCount, sizes);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            // The parser meets untrusted files and fails in many ways; a file it cannot open is served as it is, never co-branded.
            return null;
        }
    }

    public byte[] Render(byte[] pdf, CoBrandTemplate template, IReadOnlyDictionary<string, string> values, byte[]? logo)
    {
        try
        {
            return Draw(pdf, template, values, logo);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException and not PrmException)
        {
            throw new ConflictException("This file could not be co-branded (the PDF or the logo did not open); download it as it is.", "coBrand");
        }
    }

    private static byte[] Draw(byte[] pdf, CoBrandTemplate template, IReadOnlyDictionary<string, string> values, byte[]? logo)
    {
        using var document = PdfReader.Open(new MemoryStream(pdf, writable: false), PdfDocumentOpenMode.Modify);
        var font = new XFont(InstalledFonts.Family(template.Font), template.FontSize, XFontStyleEx.Regular);
        using var image = logo is null ? null : XImage.FromStream(new MemoryStream(logo, writable: false));
        foreach (var zone in template.Zones.Where(z => z.Page <= document.PageCount))
        {
            var page = document.Pages[zone.Page - 1];
            using var graphics = XGraphics.FromPdfPage(page, XGraphicsPdfPageOptions.Append);
            if (zone.Text is { } text)
            {
                new XTextFormatter(graphics).DrawString(CoBranding.Fill(text, values), font, XBrushes.Black, new XRect(zone.X, zone.Y, zone.Width, zone.Height), XStringFormats.TopLeft);
            }
            else if (image is not null)
            {
                // Fit the logo into the zone, keeping its proportions, centred.
                var scale = Math.Min(zone.Width / image.PointWidth, zone.Height / image.PointHeight);
                var (w, h) = (image.PointWidth * scale, image.PointHeight * scale);
                graphics.DrawImage(image, zone.X + (zone.Width - w) / 2, zone.Y + (zone.Height - h) / 2, w, h);
            }
        }
        using var output = new MemoryStream();
        document.Save(output, closeStream: false);
        return output.ToArray();
    }
}

/// <summary>
/// The faces the template fonts map to (sans, serif, mono): DejaVu Sans, Serif and Sans Mono, embedded in this assembly, so rendering
/// needs no font on the host (the Azure Functions image has none to rely on) and looks the same everywhere. PDFsharp embeds the glyphs
/// it uses in the copy.
/// </summary>
internal sealed class InstalledFonts : IFontResolver
{
    private static readonly object Gate = new();
    private static bool installed;

    private static readonly Dictionary<string, string> Faces = new()
    {
        ["sans"] = "DejaVuSans.ttf",
        ["serif"] = "DejaVuSerif.ttf",
        ["mono"] = "DejaVuSansMono.ttf",
    };

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte[]> Loaded = new();

    public static void Install()
    {
        lock (Gate)
        {
            if (installed) return;
            GlobalFontSettings.FontResolver ??= new InstalledFonts();
            installed = true;
        }
    }

    public static string Family(string font) => "prm-" + font;

    public FontResolverInfo? ResolveTypeface(string familyName, bool isBold, bool isItalic) =>
        familyName.StartsWith("prm-", StringComparison.Ordinal) && Faces.ContainsKey(familyName[4..]) ? new FontResolverInfo(familyName[4..]) : new FontResolverInfo("sans");

    public byte[]? GetFont(string faceName) => Loaded.GetOrAdd(Faces.GetValueOrDefault(faceName, Faces["sans"]), file =>
    {
        using var stream = typeof(InstalledFonts).Assembly.GetManifestResourceStream("Prm.Storage.Content.Fonts." + file)
            ?? throw new InvalidOperationException($"The font {file} is not embedded in Prm.Storage.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });
}

/// <summary>Partner logos in the "assets" container ("logos/{partnerId}"), checked with ImageSharp (header only, never decoded in full).</summary>
public sealed class BlobPartnerLogos(Files.BlobFiles files, TimeProvider clock) : IPartnerLogos
{
    private static string BlobOf(string partnerId) => $"logos/{partnerId}";

    public ImageFacts? Identify(byte[] image)
    {
        try
        {
            var info = SixLabors.ImageSharp.Image.Identify(image, out var format);
            if (info is null || format is null) return null;
            var name = format.Name.ToLowerInvariant() switch { "png" => "png", "jpeg" or "jpg" => "jpeg", var other => other };
            return new ImageFacts(name, info.Width, info.Height);
        }
        catch (Exception ex) when (ex is SixLabors.ImageSharp.ImageFormatException or SixLabors.ImageSharp.UnknownImageFormatException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    public async Task<PartnerLogo> SaveAsync(string partnerId, byte[] image, ImageFacts facts, CancellationToken ct)
    {
        var contentType = facts.Format == "png" ? "image/png" : "image/jpeg";
        await files.Blob(Files.Containers.Assets, BlobOf(partnerId)).UploadAsync(new BinaryData(image),
            new Azure.Storage.Blobs.Models.BlobUploadOptions { HttpHeaders = new Azure.Storage.Blobs.Models.BlobHttpHeaders { ContentType = contentType } }, ct);
        return new PartnerLogo(partnerId, contentType, facts.Width, facts.Height, image.Length, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(image)), clock.GetUtcNow());
    }

    public async Task<(byte[] Image, string ETag)?> GetAsync(string partnerId, CancellationToken ct)
    {
        try
        {
            var download = await files.Blob(Files.Containers.Assets, BlobOf(partnerId)).DownloadContentAsync(ct);
            return (download.Value.Content.ToArray(), download.Value.Details.ETag.ToString());
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }
}
