using Azure.Data.Tables;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Partners;
using Prm.Core.Settings;
using Prm.Storage.Outbox;

namespace Prm.Storage.Settings;

/// <summary>Program settings: one partition ("program") with a row per section (JSON, ETag) and the settings timeline.</summary>
public sealed class TableSettingsStore(PrmTables tables, PartitionWriter writer) : ISettingsStore
{
    private const string Partition = "program";

    public async Task<Versioned<string>?> GetAsync(string section, CancellationToken ct)
    {
        var found = await tables.Settings.GetEntityIfExistsAsync<TableEntity>(Partition, Row(section), cancellationToken: ct);
        return found.HasValue ? new Versioned<string>(found.Value!.GetString("Json"), found.Value.ETag.ToString()) : null;
    }

    public async Task<string> SaveAsync(string section, string json, string? etag, AuditEntry audit, CancellationToken ct)
    {
        var entity = new TableEntity(Partition, Row(section)) { ["Json"] = json };
        var action = etag is null
            ? new TableTransactionAction(TableTransactionActionType.Add, entity)
            : new TableTransactionAction(TableTransactionActionType.UpdateReplace, entity, new Azure.ETag(etag));
        try
        {
            return (await writer.CommitAsync(tables.Settings, Partition, [action], new ChangeSet([audit], []), ct))[0];
        }
        catch (ConflictException)
        {
            throw new PreconditionFailedException("The settings were saved meanwhile; read them again and retry with the new ETag.");
        }
    }

    public Task<Page<AuditEntry>> TimelineAsync(PageRequest page, CancellationToken ct) =>
        PrmTables.PageAsync(tables.Settings,
            TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey ge {OutboxRows.AuditPrefix} and RowKey lt {KeyEncoding.PrefixEnd(OutboxRows.AuditPrefix)}"),
            page, OutboxRows.ReadAudit, ct);

    private static string Row(string section) => "section:" + section;
}
