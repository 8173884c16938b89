using PdfSharp.Drawing;

using Prm.Core.Content;
using Prm.Storage.Content;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;


namespace Prm.Storage.Tests.Content;

/// <summary>Co-branding on a real multi-page PDF: the copy opens, keeps its pages, and carries the partner's name, the user's details and the logo.</summary>
public class PdfCoBrandingTests
{
    private readonly PdfCoBranding renderer = new();

    /// <summary>A real PDF (PDFsharp, A4 pages with text) of <paramref name="pages"/> pages.</summary>
    internal static byte[] MultiPagePdf(int pages)
    {
        _ = new PdfCoBranding(); // installs the font resolver
        using var document = new PdfSharp.Pdf.PdfDocument();
        var font = new XFont("prm-sans", 14);
        for (var i = 1; i <= pages; i++)
        {
            var page = document.AddPage();
            page.Width = XUnit.FromPoint(595);
            page.Height = XUnit.FromPoint(842);
            using var graphics = XGraphics.FromPdfPage(page);
            graphics.DrawString($"Edge Gateway datasheet, page {i}", font, XBrushes.Black, new XPoint(50, 100));
        }
        using var output = new MemoryStream();
        document.Save(output, closeStream: false);
        return output.ToArray();
    }

    internal static byte[] Png(int width, int height)
    {
        using var image = new Image<Rgba32>(width, height, new Rgba32(200, 30, 30));
        using var output = new MemoryStream();
        image.SaveAsPng(output);
        return output.ToArray();
    }

    private static readonly Dictionary<string, string> Values = new()
    {
        ["partner.name"] = "Northwind Traders",
        ["partner.website"] = "https://northwind.example",
        ["partner.phone"] = "+49 30 1234",
        ["user.name"] = "Anna Northwind",
        ["user.email"] = "anna@northwind.example",
    };

    private static readonly CoBrandTemplate Template = new([
        new CoBrandZone(1, 400, 20, 150, 60),
        new CoBrandZone(1, 50, 760, 400, 40, "Your contact: {{user.name}} ({{user.email}}) at {{partner.name}}"),
        new CoBrandZone(3, 50, 760, 400, 40, "{{partner.name}} · {{partner.website}} · {{partner.phone}}"),
    ]);

    [Fact]
    public void A_rendered_multi_page_pdf_opens_and_carries_the_partners_details_and_logo()
    {
        var source = MultiPagePdf(3);
        var copy = renderer.Render(source, Template, Values, Png(600, 200));

        using var pdf = PdfDocument_Open(copy);
        pdf.NumberOfPages.Should().Be(3);
        pdf.GetPage(1).Text.Should().Contain("Northwind").And.Contain("anna@northwind.example").And.Contain("page 1");
        pdf.GetPage(2).Text.Should().NotContain("Northwind", "page 2 has no zone");
        pdf.GetPage(3).Text.Should().Contain("Northwind").And.Contain("northwind.example");
        pdf.GetPage(1).GetImages().Should().HaveCount(1, "the logo is drawn in its zone");
    }

    [Fact]
    public void Without_a_logo_the_copy_has_the_text_only()
    {
        var copy = renderer.Render(MultiPagePdf(3), Template, Values, logo: null);
        using var pdf = PdfDocument_Open(copy);
        pdf.GetPage(1).Text.Should().Contain("Northwind");
        pdf.GetPage(1).GetImages().Should().BeEmpty();
    }

    [Fact]
    public void Page_sizes_are_read_from_the_file_and_a_zone_outside_them_is_named()
    {
        var pages = renderer.Pages(MultiPagePdf(3))!.Value;
        pages.Count.Should().Be(3);
        pages.Sizes.Should().AllSatisfy(s => s.Should().Be(new PageSize(595, 842)));
        var version = new AssetVersion(1, AssetVersionStatus.Ready, "b", "f.pdf", null, "u", "U", DateTimeOffset.UnixEpoch, Kind: "pdf", PageCount: 3, PageSizes: pages.Sizes);
        var errors = new Dictionary<string, string[]>();
        CoBranding.CheckFits(new CoBrandTemplate([new CoBrandZone(1, 500, 20, 150, 60), new CoBrandZone(4, 0, 0, 10, 10)]), version, errors);
        errors.Keys.Should().BeEquivalentTo(["coBrand.zones[0]", "coBrand.zones[1].page"]);
        renderer.Pages("%PDF-1.7 not really"u8.ToArray()).Should().BeNull();
    }

    private static PdfDocument_ PdfDocument_Open(byte[] bytes) => new(UglyToad.PdfPig.PdfDocument.Open(bytes));

    /// <summary>PdfPig's document (its name clashes with PDFsharp's).</summary>
    private sealed class PdfDocument_(UglyToad.PdfPig.PdfDocument inner) : IDisposable
    {
        public int NumberOfPages => inner.NumberOfPages;

        public UglyToad.PdfPig.Content.Page GetPage(int number) => inner.GetPage(number);

        public void Dispose() => inner.Dispose();
    }
}
