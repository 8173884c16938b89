using System.Text;
using Prm.Core.Common;

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

        if (FileSignatures.IsPdf(head)) return ProofType.Pdf;
        if (FileSignatures.IsPng(head)) return ProofType.Png;
        if (FileSignatures.IsJpeg(head)) return ProofType.Jpeg;
        if (FileSignatures.IsZip(head)) return FileSignatures.ZipKind(head) is ZipPackageKind.Spreadsheet or ZipPackageKind.OfficeUnknown ? ProofType.Xlsx : ProofType.Unknown;
        return IsDelimitedText(head, truncated) ? ProofType.Csv : ProofType.Unknown;
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
