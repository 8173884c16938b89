using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Data.Tables;
using Prm.Core.Common;
using Prm.Core.Notifications;
using Prm.Core.Partners;

namespace Prm.Storage.Notifications;

/// <summary>
/// Notification preferences and digest items in <c>prmnotifications</c>, a partition per person (<c>u|{userId}</c>): the preferences row
/// (<c>prefs</c>, JSON, ETag), the digest items (<c>d|{cadence}|{ticks}|{messageId}</c>, oldest first) and the outbox rows of what
/// changes them. Recording an item and its event, and sending a digest with the removal of exactly the items it lists, are one
/// transaction each.
/// </summary>
public sealed class TableNotificationStore(PrmTables tables, PartitionWriter writer) : INotificationStore
{
    private const string PreferencesRow = "prefs";
    private const string ItemPrefix = "d|";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) } };

    public static string Partition(string userId) => "u|" + userId;

    public async Task<Versioned<NotificationPreferences>?> GetAsync(string userId, CancellationToken ct)
    {
        var found = await tables.Notifications.GetEntityIfExistsAsync<TableEntity>(Partition(userId), PreferencesRow, cancellationToken: ct);
        return found.HasValue ? new(JsonSerializer.Deserialize<NotificationPreferences>(found.Value!.GetString("Json"), Json)!, found.Value.ETag.ToString()) : null;
    }

    public async Task<string> SaveAsync(string userId, NotificationPreferences preferences, string? etag, ChangeSet changes, CancellationToken ct)
    {
        var entity = new TableEntity(Partition(userId), PreferencesRow) { ["Json"] = JsonSerializer.Serialize(preferences, Json) };
        var action = etag is null
            ? new TableTransactionAction(TableTransactionActionType.Add, entity)
            : new TableTransactionAction(TableTransactionActionType.UpdateReplace, entity, new Azure.ETag(etag));
        try
        {
            return (await writer.CommitAsync(tables.Notifications, Partition(userId), [action], changes, ct))[0];
        }
        catch (ConflictException)
        {
            throw new PreconditionFailedException("Your notification preferences were saved meanwhile; read them again and retry.");
        }
    }

    public async Task RecordAsync(DigestItem item, ChangeSet changes, CancellationToken ct)
    {
        var entity = new TableEntity(Partition(item.UserId), ItemRow(item)) { ["Json"] = JsonSerializer.Serialize(item, Json) };
        try
        {
            await writer.CommitAsync(tables.Notifications, Partition(item.UserId), [new TableTransactionAction(TableTransactionActionType.Add, entity)], changes, ct);
        }
        catch (ConflictException)
        {
            // Recorded by an earlier delivery of the same email (at least once): nothing to do.
        }
    }

    public async Task<IReadOnlyList<Versioned<DigestItem>>> PendingAsync(string userId, DigestCadence cadence, int max, CancellationToken ct)
    {
        var prefix = $"{ItemPrefix}{Digests.Name(cadence)}|";
        var list = new List<Versioned<DigestItem>>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition(userId)} and RowKey ge {prefix} and RowKey lt {KeyEncoding.PrefixEnd(prefix)}");
        await foreach (var e in tables.Notifications.QueryAsync<TableEntity>(filter, Math.Min(max, 1000), cancellationToken: ct))
        {
            list.Add(new(JsonSerializer.Deserialize<DigestItem>(e.GetString("Json"), Json)!, e.ETag.ToString()));
            if (list.Count >= max) break;
        }
        return list;
    }

    public async Task<bool> ClearAsync(string userId, IReadOnlyList<Versioned<DigestItem>> items, ChangeSet changes, CancellationToken ct)
    {
        if (items.Count == 0 && changes.Outbox.Count == 0) return true;
        var actions = items.Select(i => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(Partition(userId), ItemRow(i.Value)), new Azure.ETag(i.ETag))).ToList();
        try
        {
            await writer.CommitAsync(tables.Notifications, Partition(userId), actions, changes, ct);
            return true;
        }
        catch (Exception ex) when (ex is PreconditionFailedException or ConflictException)
        {
            return false; // an item was removed meanwhile (a digest sent by a retried step): the next run reads again
        }
    }

    private static string ItemRow(DigestItem item) => $"{ItemPrefix}{Digests.Name(item.Cadence)}|{item.At.UtcTicks:D19}|{item.MessageId}";
}
