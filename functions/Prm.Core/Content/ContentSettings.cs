using Prm.Core.Common;
using Prm.Core.Settings;

namespace Prm.Core.Content;

/// <summary>
/// The content section of the program settings — the one settings type of the content library: upload and download link lifetimes, the
/// file size limit, the expiry notice, the supersede look-back and the number of versions an asset keeps. Defaults are the initializers;
/// configuration section "Content" may override them at start; admins at run time through <c>PUT /api/settings/content</c>.
/// </summary>
public sealed record ContentSettings
{
    public const string SectionName = "content";
    public const string ConfigurationSection = "Content";

    /// <summary>The largest file accepted (500 MiB), and the ceiling any override may set.</summary>
    public const long MaxFileBytesCeiling = 500L * 1024 * 1024;

    /// <summary>How long a version's write-only upload URL is valid.</summary>
    public TimeSpan UploadLinkValidFor { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How long a download's read-only URL is valid.</summary>
    public TimeSpan DownloadLinkValidFor { get; init; } = TimeSpan.FromMinutes(5);

    public long MaxFileBytes { get; init; } = MaxFileBytesCeiling;

    /// <summary>The owner's notice comes this long before expireAt.</summary>
    public TimeSpan ExpiryNoticeBefore { get; init; } = TimeSpan.FromDays(14);

    /// <summary>Partner users who downloaded an earlier version this many days back get the supersede digest.</summary>
    public int SupersedeLookbackDays { get; init; } = 180;

    public int MaxVersionsPerAsset { get; init; } = 50;

    public static SettingsSection<ContentSettings> Section(ContentSettings defaults) => new(SectionName, () => defaults, (s, _) => { Validate(s); return Task.CompletedTask; });

    public static void Validate(ContentSettings s)
    {
        var errors = new Dictionary<string, string[]>();
        void Fail(string field, string message) => errors[field] = [message];
        if (s.UploadLinkValidFor < TimeSpan.FromMinutes(1) || s.UploadLinkValidFor > TimeSpan.FromHours(24)) Fail("uploadLinkValidFor", "uploadLinkValidFor must be 1 minute to 24 hours.");
        if (s.DownloadLinkValidFor < TimeSpan.FromSeconds(10) || s.DownloadLinkValidFor > TimeSpan.FromHours(1)) Fail("downloadLinkValidFor", "downloadLinkValidFor must be 10 seconds to 1 hour.");
        if (s.MaxFileBytes is < 1 or > MaxFileBytesCeiling) Fail("maxFileBytes", $"maxFileBytes must be 1 to {MaxFileBytesCeiling} (500 MiB).");
        if (s.ExpiryNoticeBefore <= TimeSpan.Zero || s.ExpiryNoticeBefore > TimeSpan.FromDays(365)) Fail("expiryNoticeBefore", "expiryNoticeBefore must be above zero and at most 365 days.");
        if (s.SupersedeLookbackDays is < 1 or > 3650) Fail("supersedeLookbackDays", "supersedeLookbackDays must be 1 to 3650.");
        if (s.MaxVersionsPerAsset is < 1 or > 50) Fail("maxVersionsPerAsset", "maxVersionsPerAsset must be 1 to 50 (an asset's versions live in its row).");
        if (errors.Count > 0) throw new ValidationFailedException(errors, string.Join(" ", errors.Select(e => e.Value[0])), unprocessable: true);
    }
}
