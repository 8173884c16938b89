using Azure.Data.Tables;
using Prm.Core.Common;
using Prm.Core.Tiers;
using Prm.Storage.Partners;

namespace Prm.Storage.Tiers;

/// <summary>
/// Tiers on Table Storage. The tier record ("tier|state") and the certification counters ("tier|certs") live in the partner's partition
/// of the partners table, so a tier change commits the partner row (its tier field), the record, the timeline entry and the outbox rows in
/// one transaction. The deal counters the evaluation reads are the deal module's stats row (month buckets). FX rates are rows of the
/// settings table's partition "fx", one per month.
/// </summary>
public sealed class TableTierStore(PrmTables tables, PartitionWriter writer, TablePartnerStore partners) : ITierStore
{
    private const string RecordPrefix = "tier|";
    internal const string StateRow = RecordPrefix + "state";
    internal const string CertsRow = RecordPrefix + "certs";
    internal const string FxPartition = "fx";

    public async Task<Versioned<PartnerTierState>?> GetStateAsync(string partnerId, CancellationToken ct) => await GetAsync<PartnerTierState>(tables.Partners, partnerId, StateRow, ct);

    public async Task<Versioned<CertificationFacts>?> GetCertificationsAsync(string partnerId, CancellationToken ct) => await GetAsync<CertificationFacts>(tables.Partners, partnerId, CertsRow, ct);

    /// <summary>Both rows by one range query of the partner's partition (only they carry the "tier|" prefix).</summary>
    public async Task<(Versioned<PartnerTierState>? State, Versioned<CertificationFacts>? Certifications)> GetRecordsAsync(string partnerId, CancellationToken ct)
    {
        Versioned<PartnerTierState>? state = null;
        Versioned<CertificationFacts>? certs = null;
        await foreach (var row in tables.Partners.QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {partnerId} and RowKey ge {RecordPrefix} and RowKey lt {KeyEncoding.PrefixEnd(RecordPrefix)}"), cancellationToken: ct))
        {
            if (row.RowKey == StateRow) state = new Versioned<PartnerTierState>(Training.TableTrainingStore.Read<PartnerTierState>(row), row.ETag.ToString());
            else if (row.RowKey == CertsRow) certs = new Versioned<CertificationFacts>(Training.TableTrainingStore.Read<CertificationFacts>(row), row.ETag.ToString());
        }
        return (state, certs);
    }

    public async Task CommitAsync(TierCommit commit, CancellationToken ct)
    {
        var entity = Entity(commit.PartnerId, StateRow, commit.State);
        var state = commit.StateETag is null
            ? new TableTransactionAction(TableTransactionActionType.Add, entity)
            : new TableTransactionAction(TableTransactionActionType.UpdateReplace, entity, new Azure.ETag(commit.StateETag));
        try
        {
            if (commit.Partner is { } partner) await partners.UpdateWithAsync(partner, commit.PartnerETag!, [state], commit.Changes, ct);
            else await writer.CommitAsync(tables.Partners, commit.PartnerId, [state], commit.Changes, ct);
        }
        catch (ConflictException)
        {
            throw new PreconditionFailedException("The partner's tier record was written meanwhile; read it again.");
        }
    }

    public async Task SaveCertificationsAsync(string partnerId, CertificationFacts facts, string? etag, CancellationToken ct)
    {
        try
        {
            if (etag is null) await tables.Partners.AddEntityAsync(Entity(partnerId, CertsRow, facts), ct);
            else await tables.Partners.UpdateEntityAsync(Entity(partnerId, CertsRow, facts), new Azure.ETag(etag), TableUpdateMode.Replace, ct);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            throw new PreconditionFailedException("The certification counters changed meanwhile.");
        }
    }

    public async Task<Versioned<FxMonth>?> GetFxMonthAsync(string month, CancellationToken ct) => await GetAsync<FxMonth>(tables.Settings, FxPartition, month, ct);

    public async Task<string> SaveFxMonthAsync(FxMonth month, string? etag, CancellationToken ct)
    {
        try
        {
            var entity = Entity(FxPartition, month.Month, month);
            var response = etag is null
                ? await tables.Settings.AddEntityAsync(entity, ct)
                : await tables.Settings.UpdateEntityAsync(entity, new Azure.ETag(etag), TableUpdateMode.Replace, ct);
            return response.Headers.ETag?.ToString() ?? "";
        }
        catch (Azure.RequestFailedException ex) when (ex.Status is 409 or 412 or 404)
        {
            throw new PreconditionFailedException($"The rates of {month.Month} were changed since you read them; read them again and retry with the new ETag.");
        }
    }

    /// <summary>Bodies over 30K characters are split over several properties (the training store's rows).</summary>
    private static TableEntity Entity<T>(string partition, string row, T value) => Training.TableTrainingStore.Entity(partition, row, value);

    private static async Task<Versioned<T>?> GetAsync<T>(TableClient table, string partition, string row, CancellationToken ct)
    {
        var found = await table.GetEntityIfExistsAsync<TableEntity>(partition, row, cancellationToken: ct);
        return found.HasValue ? new Versioned<T>(Training.TableTrainingStore.Read<T>(found.Value!), found.Value!.ETag.ToString()) : null;
    }
}
