using System.Globalization;
using System.Text;
using Prm.Core.Common;

namespace Prm.Core.Training;

/// <summary>
/// The certificate as a one-page PDF 1.4 (A4 landscape, the standard Helvetica fonts, WinAnsi text): the person, the certification,
/// its number, dates and the verification URL. Written directly (objects, cross-reference table with exact byte offsets).
/// </summary>
public static class CertificatePdf
{
    public static byte[] Render(Award award, string status, string verifyUrl)
    {
        static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("d MMMM yyyy", CultureInfo.InvariantCulture);
        var lines = new List<(string Font, int Size, int Y, string Text)>
        {
            ("F2", 34, 470, "Certificate"),
            ("F1", 16, 420, "This certifies that"),
            ("F2", 28, 375, award.PersonName),
            ("F1", 16, 335, "holds the certification"),
            ("F2", 22, 295, award.CertificationName),
            ("F1", 13, 250, $"{Text.Camel(award.Track)} track, {Text.Camel(award.Level)} level"),
            ("F1", 13, 200, $"Certificate number {award.Number}"),
            ("F1", 13, 180, $"Earned {Day(award.EarnedAt)}, valid until {Day(award.ExpiresAt)}. Status: {status}."),
            ("F1", 10, 120, "Verify at " + verifyUrl),
        };
        var content = new StringBuilder();
        foreach (var (font, size, y, text) in lines)
        {
            // Centred on the 842 pt wide page: Helvetica averages about half the font size per character.
            var x = Math.Max(30, (int)(421 - text.Length * size * (font == "F2" ? 0.29 : 0.26)));
            content.Append(CultureInfo.InvariantCulture, $"BT /{font} {size} Tf {x} {y} Td ({Escape(text)}) Tj ET\n");
        }
        content.Append("0.2 0.3 0.6 RG 4 w 20 20 802 555 re S\n");
        var stream = Encoding.Latin1.GetBytes(content.ToString());
        var objects = new List<byte[]>
        {
            Ascii("<< /Type /Catalog /Pages 2 0 R >>"),
            Ascii("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
            Ascii("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 842 595] /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>"),
            Ascii("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"),
            Ascii("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"),
            Ascii($"<< /Length {stream.Length} >>\nstream\n").Concat(stream).Concat(Ascii("\nendstream")).ToArray(),
            Ascii($"<< /Title ({Escape("Certificate " + award.Number)}) /Producer (PrmFunctions) >>"),
        };
        using var pdf = new MemoryStream();
        void Write(byte[] bytes) => pdf.Write(bytes);
        Write(Ascii("%PDF-1.4\n"));
        Write([0x25, 0xE2, 0xE3, 0xCF, 0xD3, 0x0A]);
        var offsets = new List<long>();
        for (var i = 0; i < objects.Count; i++)
        {
            offsets.Add(pdf.Position);
            Write(Ascii($"{i + 1} 0 obj\n"));
            Write(objects[i]);
            Write(Ascii("\nendobj\n"));
        }
        var xref = pdf.Position;
        var table = new StringBuilder($"xref\n0 {objects.Count + 1}\n0000000000 65535 f \n");
        foreach (var offset in offsets) table.Append(CultureInfo.InvariantCulture, $"{offset:D10} 00000 n \n");
        table.Append(CultureInfo.InvariantCulture, $"trailer\n<< /Size {objects.Count + 1} /Root 1 0 R /Info 7 0 R >>\nstartxref\n{xref}\n%%EOF\n");
        Write(Ascii(table.ToString()));
        return pdf.ToArray();
    }

    private static byte[] Ascii(string text) => Encoding.Latin1.GetBytes(text);

    /// <summary>A PDF literal string in WinAnsi: backslash, parentheses escaped; characters outside Latin-1 become '?'; control characters dropped.</summary>
    private static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is '\\' or '(' or ')') sb.Append('\\').Append(c);
            else if (c < 0x20) continue;
            else sb.Append(c <= 0xFF ? c : '?');
        }
        return sb.ToString();
    }
}
