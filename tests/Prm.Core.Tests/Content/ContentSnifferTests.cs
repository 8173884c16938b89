using System.IO.Compression;
using System.Text;
using Prm.Core.Content;

namespace Prm.Core.Tests.Content;

public class ContentSnifferTests
{
    private static byte[] Zip(params string[] entries)
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var name in entries)
            {
                using var writer = new StreamWriter(zip.CreateEntry(name).Open());
                writer.Write("<x/>");
            }
        }
        return stream.ToArray();
    }

    public static TheoryData<string, byte[], ContentKind> Files() => new()
    {
        { "pdf", Encoding.ASCII.GetBytes("%PDF-1.7\n%%EOF"), ContentKind.Pdf },
        { "png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0], ContentKind.Png },
        { "jpeg", [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10], ContentKind.Jpeg },
        { "mp4", [0, 0, 0, 0x20, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'i', (byte)'s', (byte)'o', (byte)'m', 0, 0, 2, 0], ContentKind.Mp4 },
        { "pptx", Zip("[Content_Types].xml", "ppt/presentation.xml"), ContentKind.Pptx },
        { "docx", Zip("[Content_Types].xml", "word/document.xml"), ContentKind.Docx },
        { "xlsx", Zip("[Content_Types].xml", "xl/workbook.xml"), ContentKind.Xlsx },
        { "zip", Zip("logos/logo.svg"), ContentKind.Zip },
        { "exe renamed .pdf", [(byte)'M', (byte)'Z', 0x90, 0, 3, 0], ContentKind.Unknown },
        { "shell script", Encoding.ASCII.GetBytes("#!/bin/sh\nrm -rf /\n"), ContentKind.Unknown },
        { "empty", [], ContentKind.Unknown },
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void The_kind_comes_from_the_content(string what, byte[] content, ContentKind kind) =>
        ContentSniffer.Detect(content).Should().Be(kind, what);

    [Fact]
    public void Every_accepted_kind_has_a_content_type() =>
        Enum.GetValues<ContentKind>().Where(k => k != ContentKind.Unknown).Should().OnlyContain(k => ContentSniffer.ContentTypes.ContainsKey(k));
}
