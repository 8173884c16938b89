using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;
using Prm.Core.Common;
using Prm.Core.Content;
using Prm.Core.Outbox;
using Prm.Core.Partners;

namespace Prm.Storage.Content;

/// <summary>
/// Supersede digests in the "digest" partition of <c>prmassets</c>: pending lines (<c>p|{userId}|{assetId}|{version}</c>) and a marker per user
/// and day sent (<c>s|{yyyyMMdd}|{userId}</c>, added with AddEntity: the second digest of a day is a 409). Sending is one transaction: the
/// marker, the removal of exactly the lines read (their ETags) and the email's outbox row.
/// </summary>
public sealed class TableDigestStore(PrmTables tables, PartitionWriter writer, TimeProvider clock) : IDigestStore
{
    public const string Partition = "digest";
    private const string LinePrefix = "p|";
    private const string SentPrefix = "s|";

    /// <summary>Lines one digest removes at most (the transaction also holds the marker and the email).</summary>
    public const int MaxLines = 90;

    public async Task AddAsync(IReadOnlyList<DigestEntry> entries, CancellationToken ct)
    {
        foreach (var batch in entries.Chunk(100))
        {
            await tables.Assets.SubmitTransactionAsync(batch.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace,
                new TableEntity(Partition, $"{LinePrefix}{e.UserId}|{e.AssetId}|{e.Version:D4}") { ["Body"] = JsonSerializer.Serialize(e, TableAssetStore.Json) })), ct);
        }
    }

    public async Task<IReadOnlyList<PendingDigest>> PendingAsync(int maxUsers, CancellationToken ct)
    {
        await ForgetOldMarkersAsync(ct);
        var lines = new List<Versioned<DigestEntry>>();
        await foreach (var e in tables.Assets.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey ge {LinePrefix} and RowKey lt {KeyEncoding.PrefixEnd(LinePrefix)}"), 1000, cancellationToken: ct))
        {
            lines.Add(new(JsonSerializer.Deserialize<DigestEntry>(e.GetString("Body"), TableAssetStore.Json)!, e.ETag.ToString()));
        }
        return lines.GroupBy(l => l.Value.UserId).Take(maxUsers).Select(g => new PendingDigest(g.Key, g.Take(MaxLines).ToList())).ToList();
    }

    public async Task<bool> SendAsync(string userId, DateOnly day, IReadOnlyList<Versioned<DigestEntry>> entries, OutboxMessage email, CancellationToken ct)
    {
        var marker = new TableEntity(Partition, $"{SentPrefix}{day:yyyyMMdd}|{userId}") { ["At"] = clock.GetUtcNow() };
        if ((await tables.Assets.GetEntityIfExistsAsync<TableEntity>(Partition, marker.RowKey, cancellationToken: ct)).HasValue) return false;
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Add, marker) };
        actions.AddRange(entries.Select(x => new TableTransactionAction(TableTransactionActionType.Delete,
            new TableEntity(Partition, $"{LinePrefix}{x.Value.UserId}|{x.Value.AssetId}|{x.Value.Version:D4}"), new Azure.ETag(x.ETag))));
        try
        {
            await writer.CommitAsync(tables.Assets, Partition, actions, new ChangeSet([], [email]), ct);
            return true;
        }
        catch (Exception ex) when (ex is ConflictException or PreconditionFailedException)
        {
            return false; // sent today already, or a line was replaced meanwhile: the next run sends it.
        }
    }

    /// <summary>Markers of days before yesterday are of no use any more.</summary>
    private async Task ForgetOldMarkersAsync(CancellationToken ct)
    {
        var yesterday = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime).AddDays(-1).ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        await foreach (var e in tables.Assets.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey ge {SentPrefix} and RowKey lt {SentPrefix + yesterday}"), 100, cancellationToken: ct))
        {
            await tables.Assets.DeleteEntityAsync(Partition, e.RowKey, Azure.ETag.All, ct);
        }
    }
}
