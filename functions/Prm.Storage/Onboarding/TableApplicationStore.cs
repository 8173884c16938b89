using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Onboarding;
using Prm.Core.Partners;
using Prm.Storage.Outbox;
using Prm.Storage.Partners;

namespace Prm.Storage.Onboarding;

/// <summary>
/// Applications on Table Storage: a partition per application (the application row, its timeline and outbox rows), a queue index
/// (all, and per assignee, newest first), a key row per company domain held by an open application, and rate-limit counters.
/// </summary>
public sealed class TableApplicationStore(PrmTables tables, PartitionWriter writer, TimeProvider clock, ILogger<TableApplicationStore> log) : IApplicationStore
{
    private const string Row = "application";
    private const string AllPartition = "all";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public async Task<string> CreateAsync(PartnerApplication application, ChangeSet changes, CancellationToken ct, Task? alongside = null)
    {
        var etags = await writer.CommitAsync(tables.Applications, application.Id, [new(TableTransactionActionType.Add, Entity(application, application.Id, Row))], changes, ct, alongside);
        // The domain's key row and the queue index are independent of each other: side by side.
        await Task.WhenAll(HoldDomainAsync(application, ct), IndexAsync(application, ct));
        return etags[0];
    }

    public async Task<Versioned<PartnerApplication>?> GetAsync(string applicationId, CancellationToken ct)
    {
        var found = await tables.Applications.GetEntityIfExistsAsync<TableEntity>(applicationId, Row, cancellationToken: ct);
        return found.HasValue ? new Versioned<PartnerApplication>(Read(found.Value!), found.Value!.ETag.ToString()) : null;
    }

    public async Task<string> UpdateAsync(PartnerApplication application, string etag, ChangeSet changes, CancellationToken ct, Task? alongside = null, TaskCompletionSource? committed = null)
    {
        IReadOnlyList<string> etags;
        try
        {
            etags = await writer.CommitAsync(tables.Applications, application.Id,
                [new(TableTransactionActionType.UpdateReplace, Entity(application, application.Id, Row), new Azure.ETag(etag))], changes, ct, alongside);
        }
        catch (Exception ex)
        {
            committed?.TrySetException(ex);
            throw;
        }
        committed?.TrySetResult();
        // The domain's key row and the queue index are independent of each other: side by side.
        await Task.WhenAll(application.IsOpen ? Task.CompletedTask : LetGoOfDomainAsync(application, ct), IndexAsync(application, ct));
        return etags[0];
    }

    /// <summary>A closed application gives its domain's key row back (if it holds it).</summary>
    private async Task LetGoOfDomainAsync(PartnerApplication application, CancellationToken ct)
    {
        var key = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(DomainKey(application.Company.Domain), "", cancellationToken: ct);
        if (key.HasValue && key.Value!.GetString("ApplicationId") == application.Id)
        {
            await tables.Keys.DeleteEntityAsync(key.Value.PartitionKey, key.Value.RowKey, key.Value.ETag, ct);
        }
    }

    public Task<Prm.Core.Common.Page<PartnerApplication>> ListAsync(string? assigneeId, ApplicationStatus? status, PageRequest page, CancellationToken ct)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {(assigneeId is null ? AllPartition : "assignee:" + assigneeId)}");
        if (status is { } s) filter += " and " + TableClient.CreateQueryFilter($"Status eq {s.ToString()}");
        return PrmTables.PageAsync(tables.ApplicationIndex, filter, page, Read, ct);
    }

    public Task<Prm.Core.Common.Page<AuditEntry>> TimelineAsync(string applicationId, PageRequest page, CancellationToken ct) =>
        PrmTables.PageAsync(tables.Applications,
            TableClient.CreateQueryFilter($"PartitionKey eq {applicationId} and RowKey ge {OutboxRows.AuditPrefix} and RowKey lt {KeyEncoding.PrefixEnd(OutboxRows.AuditPrefix)}"),
            page, OutboxRows.ReadAudit, ct);

    public async Task<(int Current, int Previous)> CountAttemptAsync(string key, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        string Partition(DateTime hour) => "rate:" + KeyEncoding.Encode(key) + ":" + hour.ToString("yyyyMMddHH", CultureInfo.InvariantCulture);
        var partition = Partition(now);
        var previous = tables.Keys.GetEntityIfExistsAsync<TableEntity>(Partition(now.AddHours(-1)), "", cancellationToken: ct);
        var current = CountAsync(partition, ct);
        await Task.WhenAll(previous, current);
        return (current.Result, previous.Result.HasValue ? previous.Result.Value!.GetInt32("Count") ?? 0 : 0);
    }

    public async Task<bool> CountSubmissionOnceAsync(string applicationId, CancellationToken ct)
    {
        try
        {
            await tables.Keys.AddEntityAsync(new TableEntity("submission:" + applicationId, "") { ["At"] = clock.GetUtcNow() }, ct);
            return true;
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    public async Task ForgetSubmissionAsync(string applicationId, CancellationToken ct) =>
        await tables.Keys.DeleteEntityAsync("submission:" + applicationId, "", Azure.ETag.All, ct);

    private async Task<int> CountAsync(string partition, CancellationToken ct)
    {
        try
        {
            // Another request counting at the same moment makes this one count again.
            return await ReadDecideCommit.RunAsync(async _ =>
            {
                var found = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(partition, "", cancellationToken: ct);
                if (!found.HasValue)
                {
                    await tables.Keys.AddEntityAsync(new TableEntity(partition, "") { ["Count"] = 1 }, ct);
                    return 1;
                }
                var row = found.Value!;
                var count = (row.GetInt32("Count") ?? 0) + 1;
                row["Count"] = count;
                await tables.Keys.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, ct);
                return count;
            }, attempts: 10, retryWhen: LostRace.IsConflict, ct: ct);
        }
        catch (Exception ex) when (LostRace.IsConflict(ex))
        {
            throw new ServiceUnavailableException("The request counter is too busy; try again.");
        }
    }

    public async Task<string?> FindOpenByDomainAsync(string domain, CancellationToken ct)
    {
        var found = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(DomainKey(domain), "", cancellationToken: ct);
        return found.HasValue ? found.Value!.GetString("ApplicationId") : null;
    }

    /// <summary>The first open application of a domain holds its key row (later ones are flagged as duplicates, not refused).</summary>
    private async Task HoldDomainAsync(PartnerApplication application, CancellationToken ct)
    {
        try
        {
            await tables.Keys.AddEntityAsync(new TableEntity(DomainKey(application.Company.Domain), "") { ["ApplicationId"] = application.Id }, ct);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 409)
        {
        }
    }

    private async Task IndexAsync(PartnerApplication application, CancellationToken ct)
    {
        var rowKey = KeyEncoding.Inverted(application.SubmittedAt) + "|" + application.Id;
        try
        {
            // Two partitions, two upserts, side by side.
            await Task.WhenAll(
                application.AssigneeId is null ? Task.CompletedTask
                    : tables.ApplicationIndex.UpsertEntityAsync(Entity(application, "assignee:" + application.AssigneeId, rowKey), TableUpdateMode.Replace, ct),
                tables.ApplicationIndex.UpsertEntityAsync(Entity(application, AllPartition, rowKey), TableUpdateMode.Replace, ct));
        }
        catch (Azure.RequestFailedException ex)
        {
            log.LogWarning(ex, "Application index refresh for {ApplicationId} failed; the next change of the application refreshes it", application.Id);
        }
    }

    private static string DomainKey(string domain) => "appdomain:" + KeyEncoding.Encode(domain);

    private static TableEntity Entity(PartnerApplication a, string partition, string row) => new(partition, row)
    {
        ["ApplicationId"] = a.Id,
        ["Status"] = a.Status.ToString(),
        ["AssigneeId"] = a.AssigneeId,
        ["SubmittedAt"] = a.SubmittedAt,
        ["Body"] = JsonSerializer.Serialize(a, Json),
    };

    private static PartnerApplication Read(TableEntity e) => JsonSerializer.Deserialize<PartnerApplication>(e.GetString("Body"), Json)!;
}
