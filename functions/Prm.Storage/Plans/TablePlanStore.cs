using System.Globalization;
using Azure.Data.Tables;
using Prm.Core.Common;
using Prm.Core.Partners;
using Prm.Core.Plans;
using Prm.Storage.Training;

namespace Prm.Storage.Plans;

/// <summary>
/// Joint business plans on Table Storage (table "plans"), a partition per partner: each plan's current row ("plan|{id}", with its
/// fiscal year as a property for lists), its immutable versions ("ver|{id}|{v:D4}"), a key row per fiscal year ("year|{fy}": one plan per
/// partner and year), timeline and outbox rows — so every change of a plan is one entity-group transaction.
/// </summary>
public sealed class TablePlanStore(PrmTables tables, PartitionWriter writer) : IPlanStore
{
    private TableClient Table => tables.Plans;

    private static string PlanRow(string planId) => "plan|" + planId;

    private static string VersionRow(string planId, int version) => "ver|" + planId + "|" + version.ToString("D4", CultureInfo.InvariantCulture);

    private static string YearRow(int year) => "year|" + year.ToString(CultureInfo.InvariantCulture);

    public async Task<Versioned<BusinessPlan>?> GetAsync(string planId, CancellationToken ct)
    {
        if (PlanIds.PartnerOf(planId) is not { } partnerId) return null;
        var found = await Table.GetEntityIfExistsAsync<TableEntity>(partnerId, PlanRow(planId), cancellationToken: ct);
        return found.HasValue ? new Versioned<BusinessPlan>(TableTrainingStore.Read<BusinessPlan>(found.Value!), found.Value!.ETag.ToString()) : null;
    }

    public async Task<string> CreateAsync(BusinessPlan plan, PlanVersion first, ChangeSet changes, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(first);
        var key = new TableEntity(plan.PartnerId, YearRow(plan.FiscalYear)) { ["PlanId"] = plan.Id };
        return (await writer.CommitAsync(Table, plan.PartnerId,
        [
            new(TableTransactionActionType.Add, PlanEntity(plan)),
            new(TableTransactionActionType.Add, TableTrainingStore.Entity(plan.PartnerId, VersionRow(plan.Id, first.Version), first)),
            new(TableTransactionActionType.Add, key),
        ], changes, ct))[0];
    }

    public async Task<string> SaveAsync(BusinessPlan plan, string etag, PlanVersion? newVersion, ChangeSet changes, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.UpdateReplace, PlanEntity(plan), new Azure.ETag(etag)) };
        if (newVersion is not null) actions.Add(new(TableTransactionActionType.Add, TableTrainingStore.Entity(plan.PartnerId, VersionRow(plan.Id, newVersion.Version), newVersion)));
        try
        {
            return (await writer.CommitAsync(Table, plan.PartnerId, actions, changes, ct))[0];
        }
        catch (ConflictException)
        {
            // The version row exists: someone else made that version from the same plan meanwhile.
            throw new PreconditionFailedException("The plan was changed since you read it; read it again and retry with the new ETag.");
        }
    }

    public Task<Page<BusinessPlan>> ListAsync(string? partnerId, int? fiscalYear, PageRequest page, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(page);
        var rows = $"RowKey ge 'plan|' and RowKey lt '{KeyEncoding.PrefixEnd("plan|")}'";
        var filter = partnerId is null ? rows : TableClient.CreateQueryFilter($"PartitionKey eq {partnerId}") + " and " + rows;
        if (fiscalYear is { } year) filter += " and FiscalYear eq " + year.ToString(CultureInfo.InvariantCulture);
        return PrmTables.PageAsync(Table, filter, page, TableTrainingStore.Read<BusinessPlan>, ct);
    }

    public async Task<IReadOnlyList<PlanVersion>> VersionsAsync(string planId, CancellationToken ct)
    {
        var list = new List<PlanVersion>();
        if (PlanIds.PartnerOf(planId) is not { } partnerId) return list;
        var prefix = "ver|" + planId + "|";
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partnerId} and RowKey ge {prefix} and RowKey lt {KeyEncoding.PrefixEnd(prefix)}");
        await foreach (var e in Table.QueryAsync<TableEntity>(filter, cancellationToken: ct)) list.Add(TableTrainingStore.Read<PlanVersion>(e));
        return list;
    }

    private static TableEntity PlanEntity(BusinessPlan plan)
    {
        var entity = TableTrainingStore.Entity(plan.PartnerId, PlanRow(plan.Id), plan);
        entity["FiscalYear"] = plan.FiscalYear;
        entity["Status"] = plan.Status;
        return entity;
    }
}
