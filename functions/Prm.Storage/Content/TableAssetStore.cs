using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Data.Tables;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Content;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Storage.Outbox;

namespace Prm.Storage.Content;

/// <summary>
/// The content library on Table Storage (<c>prmassets</c>). One "catalog" partition holds every asset row (<c>asset|{id}</c>: the asset with
/// its versions; ids sort newest first), a listing row per published asset (<c>pub|{id}</c>, the same body, so a partner's list reads
/// only published assets), the date index the sweep reads (<c>due|{yyyyMMddHHmmss}|{id}|{kind}</c>), and the timeline and outbox rows — so
/// every transition is one entity-group transaction. Downloads live in a partition per asset (<c>dl|{assetId}</c>) with their event.
/// A list request reads storage pages of the listing, filters them in memory by the visibility rule and the filters, and pages by the
/// last row key returned (an opaque cursor).
/// </summary>
public sealed class TableAssetStore(PrmTables tables, PartitionWriter writer) : IAssetStore
{
    public const string CatalogPartition = "catalog";
    public const string AssetPrefix = "asset|";
    public const string ListingPrefix = "pub|";
    public const string DuePrefix = "due|";
    private const string DownloadPartitionPrefix = "dl|";

    /// <summary>Rows one storage page of a list reads (the first page of 50 is usually one read).</summary>
    public const int ReadSize = 200;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private TableClient Table => tables.Assets;

    public async Task<Versioned<Asset>?> GetAsync(string assetId, CancellationToken ct)
    {
        var found = await Table.GetEntityIfExistsAsync<TableEntity>(CatalogPartition, AssetPrefix + assetId, cancellationToken: ct);
        return found.HasValue ? new Versioned<Asset>(Read(found.Value!), found.Value!.ETag.ToString()) : null;
    }

    public async Task<string> CreateAsync(Asset asset, ChangeSet changes, CancellationToken ct)
    {
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Add, Entity(AssetPrefix, asset)) };
        actions.AddRange(asset.Due.Select(d => new TableTransactionAction(TableTransactionActionType.UpsertReplace, DueRow(d))));
        if (asset.Status == AssetStatus.Published) actions.Add(new(TableTransactionActionType.UpsertReplace, Entity(ListingPrefix, asset)));
        return (await writer.CommitAsync(Table, CatalogPartition, actions, changes, ct))[0];
    }

    public async Task<string> UpdateAsync(Asset before, Asset after, string etag, ChangeSet changes, CancellationToken ct)
    {
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.UpdateReplace, Entity(AssetPrefix, after), new Azure.ETag(etag)) };
        if (after.Status == AssetStatus.Published) actions.Add(new(TableTransactionActionType.UpsertReplace, Entity(ListingPrefix, after)));
        else if (before.Status == AssetStatus.Published) actions.Add(new(TableTransactionActionType.Delete, new TableEntity(CatalogPartition, ListingPrefix + before.Id), Azure.ETag.All));
        var removed = before.Due.Select(DueKey).Except(after.Due.Select(DueKey)).ToList();
        actions.AddRange(removed.Select(key => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(CatalogPartition, key), Azure.ETag.All)));
        actions.AddRange(after.Due.Where(d => !before.Due.Select(DueKey).Contains(DueKey(d))).Select(d => new TableTransactionAction(TableTransactionActionType.UpsertReplace, DueRow(d))));
        return (await writer.CommitAsync(Table, CatalogPartition, actions, changes, ct))[0];
    }

    public async Task<Page<Asset>> ListAsync(AssetScan scan, Task<Func<Asset, bool>> keepTask, PageRequest page, int maxReads, CancellationToken ct)
    {
        Func<Asset, bool>? keep = null;
        var prefix = scan.PublishedOnly ? ListingPrefix : AssetPrefix;
        var after = prefix;
        if (page.Cursor is not null)
        {
            var continuation = PageCursor.Decode(page.Cursor);
            if (continuation is null || !continuation.StartsWith("k:" + prefix, StringComparison.Ordinal)) throw new ValidationFailedException("cursor", "cursor is not a cursor this API returned for this list.");
            after = continuation[2..];
        }
        var items = new List<Asset>(page.Limit);
        string? lastKey = null;
        for (var read = 0; read < maxReads; read++)
        {
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {CatalogPartition} and RowKey gt {after} and RowKey lt {KeyEncoding.PrefixEnd(prefix)}");
            if (scan.Type is not null) filter += " and " + TableClient.CreateQueryFilter($"Type eq {scan.Type}");
            // Read what the page still needs and half as much again (the rule and filters drop some), more on each later read.
            var needed = page.Limit - items.Count;
            var take = Math.Clamp(read == 0 ? needed + needed / 2 : needed * 4, 20, ReadSize);
            Azure.Page<TableEntity>? result = null;
            await foreach (var p in Table.QueryAsync<TableEntity>(filter, take, cancellationToken: ct).AsPages(null, take)) { result = p; break; }
            keep ??= await keepTask;
            if (result is null || result.Values.Count == 0) return new Page<Asset>(items, null);
            foreach (var entity in result.Values)
            {
                lastKey = entity.RowKey;
                var asset = Read(entity);
                if (!keep(asset)) continue;
                items.Add(asset);
                if (items.Count == page.Limit) return new Page<Asset>(items, PageCursor.Encode("k:" + entity.RowKey));
            }
            if (result.ContinuationToken is null && result.Values.Count < take) return new Page<Asset>(items, null);
            after = lastKey!;
        }
        return new Page<Asset>(items, lastKey is null ? null : PageCursor.Encode("k:" + lastKey));
    }

    public async Task<IReadOnlyList<DueEntry>> DueAsync(DateTimeOffset until, int max, CancellationToken ct)
    {
        var end = DuePrefix + Stamp(until) + "|~";
        var due = new List<DueEntry>();
        await foreach (var e in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {CatalogPartition} and RowKey ge {DuePrefix} and RowKey lt {end}"), Math.Min(max, 1000), cancellationToken: ct))
        {
            due.Add(new DueEntry(e.GetDateTimeOffset("At")!.Value, e.GetString("AssetId"), Enum.Parse<DueKind>(e.GetString("Kind"))));
            if (due.Count >= max) break;
        }
        return due;
    }

    public async Task ForgetDueAsync(DueEntry entry, CancellationToken ct) => await Table.DeleteEntityAsync(CatalogPartition, DueKey(entry), Azure.ETag.All, ct);

    public Task<Page<AuditEntry>> TimelineAsync(string assetId, PageRequest page, CancellationToken ct) =>
        PrmTables.PageAsync(Table,
            TableClient.CreateQueryFilter($"PartitionKey eq {CatalogPartition} and RowKey ge {OutboxRows.AuditPrefix} and RowKey lt {KeyEncoding.PrefixEnd(OutboxRows.AuditPrefix)} and SubjectId eq {assetId}"),
            page, OutboxRows.ReadAudit, ct);

    public async Task RecordDownloadAsync(AssetDownload download, OutboxMessage downloaded, CancellationToken ct)
    {
        var row = new TableEntity(DownloadPartitionPrefix + download.AssetId, KeyEncoding.Inverted(download.At) + "|" + download.Id)
        {
            ["Version"] = download.Version,
            ["UserId"] = download.UserId,
            ["UserEmail"] = download.UserEmail,
            ["UserName"] = download.UserName,
            ["PartnerId"] = download.PartnerId,
            ["At"] = download.At,
        };
        await writer.CommitAsync(Table, row.PartitionKey, [new(TableTransactionActionType.Add, row)], new ChangeSet([], [downloaded]), ct);
    }

    public async Task<IReadOnlyList<AssetDownload>> DownloadsAsync(string assetId, DateTimeOffset? since, CancellationToken ct)
    {
        var partition = DownloadPartitionPrefix + assetId;
        // Rows are newest first; the outbox rows of the partition sort after every download row ("outbox|" > digits).
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey lt {"9~"}");
        if (since is { } s) filter += " and " + TableClient.CreateQueryFilter($"RowKey le {KeyEncoding.Inverted(s) + "|~"}");
        var downloads = new List<AssetDownload>();
        await foreach (var e in Table.QueryAsync<TableEntity>(filter, 1000, cancellationToken: ct))
        {
            if (!char.IsAsciiDigit(e.RowKey[0])) continue;
            downloads.Add(new AssetDownload(e.RowKey[(e.RowKey.IndexOf('|') + 1)..], assetId, e.GetInt32("Version") ?? 0, e.GetString("UserId"), e.GetString("UserEmail"),
                e.GetString("UserName"), e.GetString("PartnerId"), e.GetDateTimeOffset("At") ?? default));
        }
        return downloads;
    }

    private static string Stamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);

    private static string DueKey(DueEntry d) => $"{DuePrefix}{Stamp(d.At)}|{d.AssetId}|{d.Kind}";

    private static TableEntity DueRow(DueEntry d) => new(CatalogPartition, DueKey(d)) { ["At"] = d.At, ["AssetId"] = d.AssetId, ["Kind"] = d.Kind.ToString() };

    private static TableEntity Entity(string prefix, Asset a) => new(CatalogPartition, prefix + a.Id)
    {
        ["Body"] = JsonSerializer.Serialize(a, Json),
        ["Type"] = a.Type.ToString(),
        ["Status"] = a.Status.ToString(),
    };

    private static Asset Read(TableEntity e) => JsonSerializer.Deserialize<Asset>(e.GetString("Body"), Json)!;
}

/// <summary>Asset files in the "assets" container ("{assetId}/v{number}"), reached only through short-lived SAS URLs of one blob.</summary>
public sealed class BlobAssetFiles(Files.BlobFiles files) : IAssetFiles
{
    public Task<Uri> UploadUrlAsync(string blobName, TimeSpan lifetime, CancellationToken ct) => files.UploadUrlAsync(Files.Containers.Assets, blobName, lifetime, ct);

    public Task<Uri> ReadUrlAsync(string blobName, TimeSpan lifetime, string? fileName, CancellationToken ct) => files.ReadUrlAsync(Files.Containers.Assets, blobName, lifetime, ct, fileName);

    public Task<(long Size, byte[] Head)?> InspectAsync(string blobName, int headBytes, CancellationToken ct) => files.InspectAsync(Files.Containers.Assets, blobName, headBytes, ct);

    public Task<string> Sha256Async(string blobName, CancellationToken ct) => files.Sha256Async(Files.Containers.Assets, blobName, ct);

    public Task SetContentTypeAsync(string blobName, string contentType, CancellationToken ct) => files.SetContentTypeAsync(Files.Containers.Assets, blobName, contentType, ct);

    public Task DeleteAsync(string blobName, CancellationToken ct) => files.DeleteAsync(Files.Containers.Assets, blobName, ct);

    public Task<bool> SealAsync(string uploadName, string finalName, CancellationToken ct) => files.SealAsync(Files.Containers.Assets, uploadName, finalName, ct);

    public async Task<byte[]?> ReadAllAsync(string blobName, CancellationToken ct)
    {
        try
        {
            return (await files.Blob(Files.Containers.Assets, blobName).DownloadContentAsync(ct)).Value.Content.ToArray();
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    public async Task WriteAsync(string blobName, byte[] content, string contentType, CancellationToken ct) =>
        await files.Blob(Files.Containers.Assets, blobName).UploadAsync(new BinaryData(content),
            new Azure.Storage.Blobs.Models.BlobUploadOptions { HttpHeaders = new Azure.Storage.Blobs.Models.BlobHttpHeaders { ContentType = contentType, ContentDisposition = "attachment" } }, ct);

    public async Task<bool> ExistsAsync(string blobName, CancellationToken ct) => (await files.Blob(Files.Containers.Assets, blobName).ExistsAsync(ct)).Value;
}
