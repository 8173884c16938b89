using System.Text;

namespace Prm.Core.Mdf;

/// <summary>The kinds of proof-of-performance file the program accepts, as detected from their content.</summary>
public enum ProofType
{
    /// <summary>Not an accepted type (or empty, or too large). The file is refused.</summary>
    Unknown,

    /// <summary>PDF document ("%PDF-").</summary>
    Pdf,

    /// <summary>PNG image.</summary>
    Png,

    /// <summary>JPEG image (FF D8 FF).</summary>
    Jpeg,

    /// <summary>Office Open XML spreadsheet (a ZIP package with spreadsheet parts).</summary>
    Xlsx,

    /// <summary>Comma-, semicolon- or tab-separated UTF-8 text.</summary>
    Csv,
}

/// <summary>
/// Detects the type of an uploaded proof from its first bytes, never from its name or declared content type.
/// Pass at least the first <see cref="HeadBytes"/> bytes (or the whole file when it is shorter): the XLSX check looks for
/// spreadsheet entry names in the ZIP local headers within that head, and the CSV check validates that much text.
/// </summary>
public static class ProofSniffer
{
    /// <summary>How many leading bytes <see cref="Detect"/> needs (8 KiB); more are ignored.</summary>
    public const int HeadBytes = 8 * 1024;

    /// <summary>The largest proof file accepted: 25 MiB.</summary>
    public const long MaxSize = 25L * 1024 * 1024;

    /// <summary>The content type stored and served for each accepted type.</summary>
    public static readonly IReadOnlyDictionary<ProofType, string> ContentTypes = new Dictionary<ProofType, string>
    {
        [ProofType.Pdf] = "application/pdf",
        [ProofType.Png] = "image/png",
        [ProofType.Jpeg] = "image/jpeg",
        [ProofType.Xlsx] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        [ProofType.Csv] = "text/csv",
    };

    /// <summary>The accepted content types.</summary>
    public static IReadOnlyCollection<string> AllowedContentTypes => [.. ContentTypes.Values];

    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly byte[] ZipLocalHeader = [0x50, 0x4B, 0x03, 0x04];
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>True when a file of that size is over <see cref="MaxSize"/>.</summary>
    public static bool IsTooLarge(long totalSize) => totalSize > MaxSize;

    /// <summary>
    /// The detected type of a file whose first bytes are <paramref name="head"/> and whose full length is
    /// <paramref name="totalSize"/>. <see cref="ProofType.Unknown"/> for an empty file, a file over <see cref="MaxSize"/>,
    /// or content that is none of the accepted types (executables, plain ZIP archives, other documents).
    /// </summary>
    public static ProofType Detect(ReadOnlySpan<byte> head, long totalSize)
    {
        if (totalSize <= 0 || IsTooLarge(totalSize) || head.IsEmpty) return ProofType.Unknown;
        if (head.Length > HeadBytes) head = head[..HeadBytes];
        var truncated = totalSize > head.Length;

        if (head.StartsWith("%PDF-"u8)) return ProofType.Pdf;
        if (head.StartsWith(PngSignature)) return ProofType.Png;
        if (head.Length >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF) return ProofType.Jpeg;
        if (head.StartsWith(ZipLocalHeader)) return IsSpreadsheetPackage(head) ? ProofType.Xlsx : ProofType.Unknown;
        return IsDelimitedText(head, truncated) ? ProofType.Csv : ProofType.Unknown;
    }

    /// <summary>
    /// Reads the entry names of the ZIP local file headers found in the head. A spreadsheet has an "xl/" entry; a package
    /// showing only "[Content_Types].xml" so far counts as well unless a word processing ("word/") or presentation
    /// ("ppt/") part shows it is another Office document. Headers are found by signature rather than by walking sizes,
    /// since writers that stream use data descriptors and leave sizes at zero.
    /// </summary>
    private static bool IsSpreadsheetPackage(ReadOnlySpan<byte> head)
    {
        bool contentTypes = false, spreadsheet = false, otherOffice = false;
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
                else if (name.StartsWith("word/"u8) || name.StartsWith("ppt/"u8)) otherOffice = true;
            }
            offset = start + 4;
        }
        return !otherOffice && (spreadsheet || contentTypes);
    }

    /// <summary>
    /// Valid UTF-8 (an optional BOM; a multi-byte character cut off at the end of a truncated head is allowed) without
    /// NUL or other control characters except tab, CR and LF, holding at least one separator (comma, semicolon, tab)
    /// or line break.
    /// </summary>
    private static bool IsDelimitedText(ReadOnlySpan<byte> head, bool truncated)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) head = head[3..];
        if (truncated) head = head[..CompleteUtf8Length(head)];
        if (head.IsEmpty) return false;
        string text;
        try
        {
            text = StrictUtf8.GetString(head);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
        var separated = false;
        foreach (var c in text)
        {
            if (c is ',' or ';' or '\t' or '\n' or '\r') separated = true;
            else if (char.IsControl(c)) return false;
        }
        return separated;
    }

    /// <summary>The length of the head without a trailing, incomplete UTF-8 sequence.</summary>
    private static int CompleteUtf8Length(ReadOnlySpan<byte> head)
    {
        // Look back over at most three continuation bytes for the lead byte of the last sequence.
        for (var back = 1; back <= Math.Min(4, head.Length); back++)
        {
            var b = head[^back];
            if ((b & 0xC0) == 0x80) continue; // continuation byte
            var needed = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            return needed > back ? head.Length - back : head.Length;
        }
        return head.Length;
    }
}
