using System.Text.Json;
using Azure.Data.Tables;
using Prm.Core.Common;
using Prm.Core.Integration;
using Prm.Core.Outbox;

namespace Prm.Storage.Integration;

/// <summary>
/// CRM events in, on Table Storage. Table <c>integration</c>: a key row per received event (<c>in:{system}:{eventId}</c>, Processing then Done
/// with its result), a row per CRM record with the version last applied (<c>rec:{system}:{kind}:{externalId}</c>), parked events
/// (partition <c>parked</c>, newest first). External ids: key rows in <c>keys</c> (<c>ext:{recordType}:{system}:{externalId}</c> → the
/// record, so a look-up is one point read) and the record's own list (<c>extof:{recordType}:{recordId}</c>, a row per system).
/// </summary>
public sealed class TableCrmInbox(PrmTables tables, TimeProvider clock) : ICrmInbox
{
    private static string InKey(string system, string eventId) => $"in:{system}:{KeyEncoding.Encode(eventId)}";

    private static string RecordKey(string system, string kind, string externalId) => $"rec:{system}:{kind}:{KeyEncoding.Encode(externalId)}";

    private static string ExtKey(string recordType, string system, string externalId) => $"ext:{recordType}:{system}:{KeyEncoding.Encode(externalId)}";

    private static string ExtOf(string recordType, string recordId) => $"extof:{recordType}:{recordId}";

    public async Task<(bool Claimed, CrmEventResult? Earlier)> ClaimAsync(string system, string eventId, TimeSpan lease, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var row = new TableEntity(InKey(system, eventId), "") { ["Status"] = "Processing", ["ClaimedAt"] = now };
        try
        {
            await tables.Integration.AddEntityAsync(row, ct);
            return (true, null);
        }
        catch (Azure.RequestFailedException taken) when (taken.Status == 409)
        {
            var found = await tables.Integration.GetEntityIfExistsAsync<TableEntity>(row.PartitionKey, "", cancellationToken: ct);
            if (!found.HasValue) return await ClaimAsync(system, eventId, lease, ct);
            var existing = found.Value!;
            if (existing.GetString("Status") == "Done") return (false, JsonSerializer.Deserialize<CrmEventResult>(existing.GetString("Result"), OutboxJson.Options));
            if (existing.GetDateTimeOffset("ClaimedAt") is { } at && now - at < lease) return (false, null);
            try
            {
                await tables.Integration.UpdateEntityAsync(row, existing.ETag, TableUpdateMode.Replace, ct); // the first processing died: take it over
                return (true, null);
            }
            catch (Azure.RequestFailedException lost) when (lost.Status is 404 or 412)
            {
                return (false, null);
            }
        }
    }

    public Task CompleteAsync(string system, string eventId, CrmEventResult result, CancellationToken ct) =>
        tables.Integration.UpsertEntityAsync(new TableEntity(InKey(system, eventId), "")
        {
            ["Status"] = "Done", ["Result"] = JsonSerializer.Serialize(result, OutboxJson.Options), ["CompletedAt"] = clock.GetUtcNow(),
        }, TableUpdateMode.Replace, ct);

    public async Task ReleaseAsync(string system, string eventId, CancellationToken ct)
    {
        try { await tables.Integration.DeleteEntityAsync(InKey(system, eventId), "", Azure.ETag.All, ct); }
        catch (Azure.RequestFailedException gone) when (gone.Status == 404) { }
    }

    public async Task<CrmRecordState?> RecordAsync(string system, string kind, string externalId, CancellationToken ct)
    {
        var found = await tables.Integration.GetEntityIfExistsAsync<TableEntity>(RecordKey(system, kind, externalId), "", cancellationToken: ct);
        return found.HasValue ? new CrmRecordState(found.Value!.GetInt64("Version") ?? 0, found.Value.GetString("EventId"), found.Value.ETag.ToString()) : null;
    }

    public async Task<bool> SaveRecordAsync(string system, string kind, string externalId, long version, string eventId, string? etag, CancellationToken ct)
    {
        var row = new TableEntity(RecordKey(system, kind, externalId), "") { ["Version"] = version, ["EventId"] = eventId, ["AppliedAt"] = clock.GetUtcNow() };
        try
        {
            if (etag is null) await tables.Integration.AddEntityAsync(row, ct);
            else await tables.Integration.UpdateEntityAsync(row, new Azure.ETag(etag), TableUpdateMode.Replace, ct);
            return true;
        }
        catch (Azure.RequestFailedException lost) when (lost.Status is 409 or 412)
        {
            return false;
        }
    }

    public Task ParkAsync(ParkedCrmEvent parked, CancellationToken ct) =>
        tables.Integration.UpsertEntityAsync(new TableEntity("parked", KeyEncoding.Inverted(parked.ReceivedAt) + "|" + KeyEncoding.Encode(parked.System + ":" + parked.EventId))
        {
            ["EventId"] = parked.EventId, ["System"] = parked.System, ["Kind"] = parked.Kind, ["ExternalId"] = parked.ExternalId, ["ReceivedAt"] = parked.ReceivedAt,
            ["Reason"] = parked.Reason, ["Body"] = parked.Body.Length > 30_000 ? parked.Body[..30_000] : parked.Body,
        }, TableUpdateMode.Replace, ct);

    public Task<Page<ParkedCrmEvent>> ParkedAsync(PageRequest page, CancellationToken ct) =>
        PrmTables.PageAsync(tables.Integration, TableClient.CreateQueryFilter($"PartitionKey eq {"parked"}"), page,
            e => new ParkedCrmEvent(e.GetString("EventId"), e.GetString("System"), e.GetString("Kind"), e.GetString("ExternalId"), e.GetDateTimeOffset("ReceivedAt") ?? default,
                e.GetString("Reason"), e.GetString("Body")), ct);

    public async Task<ExternalIdDto?> FindAsync(string recordType, string system, string externalId, CancellationToken ct)
    {
        var found = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(ExtKey(recordType, system, externalId), "", cancellationToken: ct);
        return found.HasValue ? Read(found.Value!) : null;
    }

    public async Task<bool> LinkAsync(ExternalIdDto link, CancellationToken ct)
    {
        var key = new TableEntity(ExtKey(link.RecordType, link.System, link.ExternalId), "")
        {
            ["RecordType"] = link.RecordType, ["RecordId"] = link.RecordId, ["System"] = link.System, ["ExternalId"] = link.ExternalId, ["LinkedAt"] = link.LinkedAt, ["LinkedBy"] = link.LinkedBy,
        };
        try
        {
            await tables.Keys.AddEntityAsync(key, ct);
        }
        catch (Azure.RequestFailedException taken) when (taken.Status == 409)
        {
            var existing = await FindAsync(link.RecordType, link.System, link.ExternalId, ct);
            if (existing is not null && existing.RecordId != link.RecordId) return false;
        }
        // The record's previous id in this system no longer points at it.
        var own = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(ExtOf(link.RecordType, link.RecordId), link.System, cancellationToken: ct);
        if (own.HasValue && own.Value!.GetString("ExternalId") is { } previous && previous != link.ExternalId)
        {
            var old = await FindAsync(link.RecordType, link.System, previous, ct);
            if (old?.RecordId == link.RecordId) await tables.Keys.DeleteEntityAsync(ExtKey(link.RecordType, link.System, previous), "", Azure.ETag.All, ct);
        }
        var of = new TableEntity(ExtOf(link.RecordType, link.RecordId), link.System);
        foreach (var (k, v) in key) if (k is not ("PartitionKey" or "RowKey" or "odata.etag" or "Timestamp")) of[k] = v;
        await tables.Keys.UpsertEntityAsync(of, TableUpdateMode.Replace, ct);
        return true;
    }

    public async Task<IReadOnlyList<ExternalIdDto>> OfRecordAsync(string recordType, string recordId, CancellationToken ct)
    {
        var list = new List<ExternalIdDto>();
        await foreach (var e in tables.Keys.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {ExtOf(recordType, recordId)}"), cancellationToken: ct)) list.Add(Read(e));
        return list;
    }

    private static ExternalIdDto Read(TableEntity e) => new(e.GetString("RecordType"), e.GetString("RecordId"), e.GetString("System"), e.GetString("ExternalId"),
        e.GetDateTimeOffset("LinkedAt") ?? default, e.GetString("LinkedBy"));
}
