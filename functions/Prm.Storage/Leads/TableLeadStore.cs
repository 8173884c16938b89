using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Leads;
using Prm.Core.Partners;
using Prm.Storage.Deals;
using Prm.Storage.Outbox;

namespace Prm.Storage.Leads;

/// <summary>
/// Leads on Table Storage. Each lead is its own partition of the leads table (row "lead", timeline and outbox rows), so a transition
/// commits with its events and emails in one transaction. Key rows in the keys table make intake idempotent by externalId and remember
/// the last lead of a contact email (merge window). Lists and the offer log come from the lead index, kept by <see cref="LeadProjection"/>.
/// </summary>
public sealed class TableLeadStore(PrmTables tables, PartitionWriter writer) : ILeadStore
{
    public const string LeadRow = "lead";

    public async Task<Versioned<Lead>?> GetAsync(string leadId, CancellationToken ct)
    {
        if (!LeadIds.LooksLike(leadId)) return null;
        var found = await tables.Leads.GetEntityIfExistsAsync<TableEntity>(leadId, LeadRow, cancellationToken: ct);
        return found.HasValue ? new Versioned<Lead>(Read(found.Value!), found.Value!.ETag.ToString()) : null;
    }

    public async Task<string> CreateAsync(Lead lead, ChangeSet changes, CancellationToken ct) =>
        (await writer.CommitAsync(tables.Leads, lead.Id, [new(TableTransactionActionType.Add, Entity(lead))], changes, ct))[0];

    public async Task<string> UpdateAsync(Lead lead, string etag, ChangeSet changes, CancellationToken ct) =>
        (await writer.CommitAsync(tables.Leads, lead.Id, [new(TableTransactionActionType.UpdateReplace, Entity(lead), new Azure.ETag(etag))], changes, ct))[0];

    public Task<Page<AuditEntry>> TimelineAsync(string leadId, PageRequest page, CancellationToken ct) =>
        PrmTables.PageAsync(tables.Leads,
            TableClient.CreateQueryFilter($"PartitionKey eq {leadId} and RowKey ge {OutboxRows.AuditPrefix} and RowKey lt {KeyEncoding.PrefixEnd(OutboxRows.AuditPrefix)}"),
            page, OutboxRows.ReadAudit, ct);

    public Task<Page<LeadListRow>> ListAsync(LeadQuery query, PageRequest page, CancellationToken ct)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {(query.PartnerId is null ? LeadProjection.AllPartition : LeadProjection.PartnerPartition(query.PartnerId))}");
        if (query.AssignedTo is not null) filter += " and (" + TableClient.CreateQueryFilter($"AssignedTo eq {query.AssignedTo} or Pending eq {true}") + ")";
        if (query.Status is { } status) filter += " and " + TableClient.CreateQueryFilter($"Status eq {status.ToString()}");
        return PrmTables.PageAsync(tables.LeadIndex, filter, page, e => new LeadListRow(Read(e)), ct);
    }

    public async Task<LeadKey?> FindKeyAsync(string kind, string value, CancellationToken ct)
    {
        var key = KeyOf(kind, value);
        var found = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(key, key, cancellationToken: ct);
        return found.HasValue ? new LeadKey(found.Value!.GetString("LeadId"), found.Value.GetDateTimeOffset("At") ?? DateTimeOffset.MinValue, found.Value.ETag.ToString()) : null;
    }

    public async Task<bool> TryAddKeyAsync(string kind, string value, string leadId, DateTimeOffset at, CancellationToken ct)
    {
        var key = KeyOf(kind, value);
        try
        {
            await tables.Keys.AddEntityAsync(new TableEntity(key, key) { ["LeadId"] = leadId, ["At"] = at }, ct);
            return true;
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    public async Task<bool> ReplaceKeyAsync(string kind, string value, string leadId, DateTimeOffset at, string etag, CancellationToken ct)
    {
        var key = KeyOf(kind, value);
        try
        {
            await tables.Keys.UpdateEntityAsync(new TableEntity(key, key) { ["LeadId"] = leadId, ["At"] = at }, new Azure.ETag(etag), TableUpdateMode.Replace, ct);
            return true;
        }
        catch (Exception ex) when (LostRace.IsConflictOrGone(ex))
        {
            return false;
        }
    }

    public async Task ReleaseKeyAsync(string kind, string value, string leadId, CancellationToken ct)
    {
        var key = KeyOf(kind, value);
        var found = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(key, key, cancellationToken: ct);
        if (!found.HasValue || found.Value!.GetString("LeadId") != leadId) return;
        try
        {
            await tables.Keys.DeleteEntityAsync(key, key, found.Value.ETag, ct);
        }
        catch (Exception ex) when (LostRace.IsConflictOrGone(ex))
        {
            // Taken over or released meanwhile.
        }
    }

    public async Task<IReadOnlyList<LeadOfferDto>> OffersBetweenAsync(DateTimeOffset from, DateTimeOffset to, int max, CancellationToken ct)
    {
        var result = new List<LeadOfferDto>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {LeadProjection.OfferLogPartition} and RowKey ge {LeadProjection.TimeKey(from)} and RowKey lt {LeadProjection.TimeKey(to)}");
        await foreach (var e in tables.LeadIndex.QueryAsync<TableEntity>(filter, cancellationToken: ct))
        {
            result.Add(JsonSerializer.Deserialize<LeadOfferDto>(ChunkedText.Read(e, "Body"), TableDealStore.Json)!);
            if (result.Count >= max) break;
        }
        return result;
    }

    /// <summary>The key row of an externalId or contact email (hashed: the key carries no customer data and any length).</summary>
    public static string KeyOf(string kind, string value) =>
        "lead" + kind + ":" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(kind == CaptureLead.ContactKey ? value.ToLowerInvariant() : value)))[..40];

    public static TableEntity Entity(Lead l)
    {
        var e = new TableEntity(l.Id, LeadRow) { ["Status"] = l.Status.ToString(), ["CreatedAt"] = l.CreatedAt };
        ChunkedText.Write(e, "Body", JsonSerializer.Serialize(l, TableDealStore.Json));
        return e;
    }

    public static Lead Read(TableEntity e) => JsonSerializer.Deserialize<Lead>(ChunkedText.Read(e, "Body"), TableDealStore.Json)!;
}

/// <summary>Text longer than a table property holds (32K UTF-16 characters), split over numbered properties ("Body", "Body1", ...).</summary>
public static class ChunkedText
{
    public const int ChunkChars = 30_000;
    public const int MaxChunks = 30;

    public static void Write(TableEntity e, string name, string text)
    {
        var chunks = (text.Length + ChunkChars - 1) / ChunkChars;
        if (chunks > MaxChunks) throw new InvalidOperationException($"{name} holds {text.Length} characters, more than a row keeps.");
        for (var i = 0; i < Math.Max(1, chunks); i++) e[i == 0 ? name : name + i] = text.Substring(i * ChunkChars, Math.Min(ChunkChars, text.Length - i * ChunkChars));
    }

    public static string Read(TableEntity e, string name)
    {
        var first = e.GetString(name) ?? "";
        if (!e.ContainsKey(name + "1")) return first;
        var sb = new StringBuilder(first);
        for (var i = 1; e.GetString(name + i) is { } part; i++) sb.Append(part);
        return sb.ToString();
    }
}
