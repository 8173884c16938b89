using Prm.Core.Common;

namespace Prm.Core.Content;

/// <summary>The kinds of file an asset version may hold, as detected from their content.</summary>
public enum ContentKind { Unknown, Pdf, Png, Jpeg, Pptx, Docx, Xlsx, Mp4, Zip }

/// <summary>Detects an asset file's kind from its first bytes (<see cref="FileSignatures"/>), never from its name or declared type.</summary>
public static class ContentSniffer
{
    /// <summary>How many leading bytes <see cref="Detect"/> looks at (8 KiB).</summary>
    public const int HeadBytes = 8 * 1024;

    public static readonly IReadOnlyDictionary<ContentKind, string> ContentTypes = new Dictionary<ContentKind, string>
    {
        [ContentKind.Pdf] = "application/pdf",
        [ContentKind.Png] = "image/png",
        [ContentKind.Jpeg] = "image/jpeg",
        [ContentKind.Pptx] = "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        [ContentKind.Docx] = "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        [ContentKind.Xlsx] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        [ContentKind.Mp4] = "video/mp4",
        [ContentKind.Zip] = "application/zip",
    };

    public static IReadOnlyCollection<string> AllowedContentTypes => [.. ContentTypes.Values];

    /// <summary>The kind of a non-empty file whose first bytes are <paramref name="head"/>; <see cref="ContentKind.Unknown"/> for anything else (executables, scripts, text).</summary>
    public static ContentKind Detect(ReadOnlySpan<byte> head)
    {
        if (head.IsEmpty) return ContentKind.Unknown;
        if (head.Length > HeadBytes) head = head[..HeadBytes];
        if (FileSignatures.IsPdf(head)) return ContentKind.Pdf;
        if (FileSignatures.IsPng(head)) return ContentKind.Png;
        if (FileSignatures.IsJpeg(head)) return ContentKind.Jpeg;
        if (FileSignatures.IsMp4(head)) return ContentKind.Mp4;
        if (FileSignatures.IsZip(head))
        {
            return FileSignatures.ZipKind(head) switch
            {
                ZipPackageKind.Presentation => ContentKind.Pptx,
                ZipPackageKind.Document => ContentKind.Docx,
                ZipPackageKind.Spreadsheet => ContentKind.Xlsx,
                _ => ContentKind.Zip,
            };
        }
        return ContentKind.Unknown;
    }
}
