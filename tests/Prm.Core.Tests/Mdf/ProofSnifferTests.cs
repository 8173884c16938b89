using System.IO.Compression;
using System.Text;
using Prm.Core.Mdf;

namespace Prm.Core.Tests.Mdf;

public class MdfProofSnifferTests
{
    private static ProofType Sniff(byte[] file) => ProofSniffer.Detect(file.AsSpan(0, Math.Min(file.Length, ProofSniffer.HeadBytes)), file.Length);

    private static byte[] Zip(params string[] names)
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var name in names)
            {
                using var writer = new StreamWriter(zip.CreateEntry(name).Open());
                writer.Write("<?xml version=\"1.0\"?><x/>");
            }
        }
        return stream.ToArray();
    }

    [Fact]
    public void A_minimal_pdf_is_a_pdf() =>
        Sniff(Encoding.ASCII.GetBytes("%PDF-1.7\n%\u00e2\u00e3\u00cf\u00d3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"))
            .Should().Be(ProofType.Pdf);

    [Fact]
    public void A_png_signature_is_a_png() =>
        Sniff([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01])
            .Should().Be(ProofType.Png);

    [Fact]
    public void A_jfif_header_is_a_jpeg() =>
        Sniff([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01])
            .Should().Be(ProofType.Jpeg);

    [Theory]
    [InlineData("name,email,company\nJane,jane@acme.com,Acme\n")]
    [InlineData("name;email\r\nJürgen;j@acme.de\r\n")]
    [InlineData("\uFEFFa\tb\n1\t2\n")]
    public void Delimited_utf8_text_is_a_csv(string text) =>
        Sniff(Encoding.UTF8.GetBytes(text)).Should().Be(ProofType.Csv);

    [Fact]
    public void A_csv_longer_than_the_head_cut_inside_a_character_is_still_a_csv()
    {
        var text = string.Concat(Enumerable.Repeat("Jürgen;Ölmühle;€ 12,50\n", 1000));
        var bytes = Encoding.UTF8.GetBytes(text);
        var cut = Enumerable.Range(ProofSniffer.HeadBytes - 3, 4).First(n => (bytes[n] & 0xC0) == 0x80);

        ProofSniffer.Detect(bytes.AsSpan(0, cut), bytes.Length).Should().Be(ProofType.Csv);
        ProofSniffer.Detect(bytes.AsSpan(0, cut), cut).Should().Be(ProofType.Unknown, "a complete file may not end inside a character");
    }

    [Fact]
    public void A_renamed_executable_is_unknown()
    {
        var mz = new byte[512];
        "MZ"u8.CopyTo(mz);
        mz[2] = 0x90;
        Encoding.ASCII.GetBytes("This program cannot be run in DOS mode.\r\n").CopyTo(mz, 0x4E);

        Sniff(mz).Should().Be(ProofType.Unknown);
    }

    [Fact]
    public void An_elf_binary_is_unknown() =>
        Sniff([0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x00, 0x3E, 0x00])
            .Should().Be(ProofType.Unknown);

    [Fact]
    public void A_plain_zip_is_unknown() =>
        Sniff(Zip("readme.txt", "photos/xl/booth.xml")).Should().Be(ProofType.Unknown);

    [Fact]
    public void An_ooxml_spreadsheet_package_is_an_xlsx()
    {
        Sniff(Zip("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/worksheets/sheet1.xml")).Should().Be(ProofType.Xlsx);
        Sniff(Zip("xl/workbook.xml")).Should().Be(ProofType.Xlsx);
    }

    [Fact]
    public void A_word_document_is_not_a_spreadsheet() =>
        Sniff(Zip("[Content_Types].xml", "_rels/.rels", "word/document.xml")).Should().Be(ProofType.Unknown);

    [Theory]
    [InlineData("just some words without any separator")]
    [InlineData("a,b\u0001c\n")]
    [InlineData("")]
    public void Text_that_is_not_delimited_or_holds_control_characters_is_unknown(string text) =>
        Sniff(Encoding.UTF8.GetBytes(text)).Should().Be(ProofType.Unknown);

    [Fact]
    public void Invalid_utf8_is_unknown() =>
        Sniff([0x61, 0x2C, 0x62, 0x0A, 0xC3, 0x28, 0x0A]).Should().Be(ProofType.Unknown);

    [Fact]
    public void An_empty_or_oversized_file_is_unknown()
    {
        ProofSniffer.Detect("%PDF-1.4"u8, 0).Should().Be(ProofType.Unknown);
        ProofSniffer.Detect("%PDF-1.4"u8, ProofSniffer.MaxSize + 1).Should().Be(ProofType.Unknown);
        ProofSniffer.Detect("%PDF-1.4"u8, ProofSniffer.MaxSize).Should().Be(ProofType.Pdf);
        ProofSniffer.IsTooLarge(ProofSniffer.MaxSize + 1).Should().BeTrue();
        ProofSniffer.MaxSize.Should().Be(25 * 1024 * 1024);
    }

    [Fact]
    public void Every_accepted_type_has_a_content_type()
    {
        ProofSniffer.ContentTypes.Keys.Should().BeEquivalentTo(Enum.GetValues<ProofType>().Where(t => t != ProofType.Unknown));
        ProofSniffer.AllowedContentTypes.Should().Contain(["application/pdf", "image/png", "image/jpeg", "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]);
    }
}
