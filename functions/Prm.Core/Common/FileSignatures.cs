namespace Prm.Core.Common;

/// <summary>What the entries of a ZIP package found in a file's head say it is.</summary>
public enum ZipPackageKind
{
    /// <summary>A ZIP archive without Office Open XML parts.</summary>
    Plain,

    /// <summary>Only "[Content_Types].xml" seen so far: an Office package of a kind the head does not show.</summary>
    OfficeUnknown,

    /// <summary>A spreadsheet ("xl/" parts).</summary>
    Spreadsheet,

    /// <summary>A word processing document ("word/" parts).</summary>
    Document,

    /// <summary>A presentation ("ppt/" parts).</summary>
    Presentation,
}

/// <summary>
/// File types told by their first bytes, never by name or declared content type — shared by every upload check (MDF proofs, content
/// assets).
/// </summary>
public static class FileSignatures
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly byte[] ZipLocalHeader = [0x50, 0x4B, 0x03, 0x04];

    public static bool IsPdf(ReadOnlySpan<byte> head) => head.StartsWith("%PDF-"u8);

    public static bool IsPng(ReadOnlySpan<byte> head) => head.StartsWith(PngSignature);

    public static bool IsJpeg(ReadOnlySpan<byte> head) => head.Length >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF;

    public static bool IsZip(ReadOnlySpan<byte> head) => head.StartsWith(ZipLocalHeader);

    /// <summary>An ISO base media file (MP4): a first box of type "ftyp" with an MP4-family brand.</summary>
    public static bool IsMp4(ReadOnlySpan<byte> head)
    {
        if (head.Length < 12 || !head[4..8].SequenceEqual("ftyp"u8)) return false;
        var size = (head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3];
        var brand = head[8..12];
        return size >= 12 && (brand.SequenceEqual("isom"u8) || brand.SequenceEqual("iso2"u8) || brand.SequenceEqual("mp41"u8) || brand.SequenceEqual("mp42"u8)
            || brand.SequenceEqual("avc1"u8) || brand.SequenceEqual("M4V "u8) || brand.SequenceEqual("dash"u8));
    }

    /// <summary>
    /// Reads the entry names of the ZIP local file headers found in the head. Headers are found by signature rather than by walking sizes,
    /// since writers that stream use data descriptors and leave sizes at zero. A "word/" or "ppt/" part decides the kind before "xl/".
    /// </summary>
    public static ZipPackageKind ZipKind(ReadOnlySpan<byte> head)
    {
        bool contentTypes = false, spreadsheet = false, document = false, presentation = false;
        var offset = 0;
        while (offset + 30 <= head.Length)
        {
            var found = head[offset..].IndexOf(ZipLocalHeader);
            if (found < 0) break;
            var start = offset + found;
            if (start + 30 > head.Length) break;
            var nameLength = head[start + 26] | (head[start + 27] << 8);
            var nameEnd = start + 30 + nameLength;
            if (nameLength > 0 && nameEnd <= head.Length)
            {
                var name = head[(start + 30)..nameEnd];
                if (name.SequenceEqual("[Content_Types].xml"u8)) contentTypes = true;
                else if (name.StartsWith("xl/"u8)) spreadsheet = true;
                else if (name.StartsWith("word/"u8)) document = true;
                else if (name.StartsWith("ppt/"u8)) presentation = true;
            }
            offset = start + 4;
        }
        return document ? ZipPackageKind.Document
            : presentation ? ZipPackageKind.Presentation
            : spreadsheet ? ZipPackageKind.Spreadsheet
            : contentTypes ? ZipPackageKind.OfficeUnknown
            : ZipPackageKind.Plain;
    }
}
