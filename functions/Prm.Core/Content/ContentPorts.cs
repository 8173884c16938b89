using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Outbox;
using Prm.Core.Partners;

namespace Prm.Core.Content;

/// <summary>What the sweep must do for an asset at a time: publish, expire, or send the owner's expiry notice.</summary>
public enum DueKind { Publish, Expire, Notice }

/// <summary>An entry of the date index the sweep reads (never a scan of the assets).</summary>
public sealed record DueEntry(DateTimeOffset At, string AssetId, DueKind Kind);

/// <summary>The date-index entries an asset needs in its current state (written with it in one transaction).</summary>
public static class AssetSchedule
{
    public static IReadOnlyList<DueEntry> Of(Asset a, ContentSettings settings)
    {
        var due = new List<DueEntry>();
        if (a.Status == AssetStatus.Draft && a.PublishScheduled && a.PublishAt is { } publishAt) due.Add(new(publishAt, a.Id, DueKind.Publish));
        if (a.Status == AssetStatus.Published && a.ExpireAt is { } expireAt)
        {
            due.Add(new(expireAt, a.Id, DueKind.Expire));
            // Range-checked: expireAt is after 2000, the notice at most 365 days.
            if (a.ExpiryNoticeSentAt is null) due.Add(new(expireAt - settings.ExpiryNoticeBefore, a.Id, DueKind.Notice));
        }
        return due;
    }
}

/// <summary>What a listing reads: partners only published assets, vendor staff all; the filters the store can apply itself.</summary>
public sealed record AssetScan(bool PublishedOnly, string? Type, string? Locale);

/// <summary>Storage port of the content library: assets with their versions, the listing, the date index, timelines and downloads.</summary>
public interface IAssetStore
{
    Task<Versioned<Asset>?> GetAsync(string assetId, CancellationToken ct);

    /// <summary>Adds the asset with its date-index entries (<see cref="Asset.Due"/>), timeline and outbox rows in one transaction.</summary>
    Task<string> CreateAsync(Asset asset, ChangeSet changes, CancellationToken ct);

    /// <summary>
    /// Replaces the asset (If-Match <paramref name="etag"/>; 412 when stale), its listing row (present while Published) and its date-index
    /// entries (those of <paramref name="before"/> removed, those of <paramref name="after"/> added), with timeline and outbox rows, in one transaction.
    /// </summary>
    Task<string> UpdateAsync(Asset before, Asset after, string etag, ChangeSet changes, CancellationToken ct);

    /// <summary>
    /// A page of the assets the predicate accepts, newest first, reading at most <paramref name="maxReads"/> storage pages: the page may be
    /// short with a cursor when the reads ran out. The predicate is awaited while the first page is read (it may read the caller's partner).
    /// </summary>
    Task<Page<Asset>> ListAsync(AssetScan scan, Task<Func<Asset, bool>> keep, PageRequest page, int maxReads, CancellationToken ct);

    /// <summary>Date-index entries due at or before <paramref name="until"/>, earliest first.</summary>
    Task<IReadOnlyList<DueEntry>> DueAsync(DateTimeOffset until, int max, CancellationToken ct);

    /// <summary>Removes a date-index entry whose asset no longer needs it.</summary>
    Task ForgetDueAsync(DueEntry entry, CancellationToken ct);

    Task<Page<AuditEntry>> TimelineAsync(string assetId, PageRequest page, CancellationToken ct);

    /// <summary>Records a download with its event in one transaction.</summary>
    Task RecordDownloadAsync(AssetDownload download, OutboxMessage downloaded, CancellationToken ct);

    /// <summary>The asset's downloads since <paramref name="since"/>, newest first (all when null).</summary>
    Task<IReadOnlyList<AssetDownload>> DownloadsAsync(string assetId, DateTimeOffset? since, CancellationToken ct);
}

/// <summary>Asset files in Blob Storage, reached only through short-lived SAS URLs of one blob.</summary>
public interface IAssetFiles
{
    Task<Uri> UploadUrlAsync(string blobName, TimeSpan lifetime, CancellationToken ct);

    Task<Uri> ReadUrlAsync(string blobName, TimeSpan lifetime, string? fileName, CancellationToken ct);

    /// <summary>The blob's size and first bytes; null when nothing was uploaded.</summary>
    Task<(long Size, byte[] Head)?> InspectAsync(string blobName, int headBytes, CancellationToken ct);

    /// <summary>SHA-256 (lower-case hex) of the whole blob, read as a stream.</summary>
    Task<string> Sha256Async(string blobName, CancellationToken ct);

    Task SetContentTypeAsync(string blobName, string contentType, CancellationToken ct);

    Task DeleteAsync(string blobName, CancellationToken ct);

    /// <summary>Moves an upload to its final name (never writable through a URL) and removes the upload; false when nothing was uploaded.</summary>
    Task<bool> SealAsync(string uploadName, string finalName, CancellationToken ct);

    /// <summary>The whole blob (callers check its size first); null when there is none.</summary>
    Task<byte[]?> ReadAllAsync(string blobName, CancellationToken ct);

    /// <summary>Writes a blob (a rendered copy) with its content type.</summary>
    Task WriteAsync(string blobName, byte[] content, string contentType, CancellationToken ct);

    Task<bool> ExistsAsync(string blobName, CancellationToken ct);
}
