using System.Globalization;
using Azure.Data.Tables;
using Prm.Core.Common;
using Prm.Core.Incentives;
using Prm.Core.Partners;
using Prm.Storage.Training;

namespace Prm.Storage.Incentives;

/// <summary>
/// Incentives on Table Storage (table "incentives"). Partition "programs": the current row of each program ("program|{id}") and its
/// immutable versions ("version|{id}|{v:D6}"). Partition "periods|{programId}": a record per period ("period|{text}"). Partition
/// "members|{programId}|{period}": a row per partner with a ledger in the period (what the close visits). A partition per partner holds
/// everything money of that partner, so each movement is one entity-group transaction: per program the head ("head|{programId}": the
/// input count, its ETag guards every movement), the inputs ("src|{programId}|{seq:D10}", the source log a recompute folds), one key row
/// per input ("key|{programId}|{key}"), the entries ("entry|{programId}|{period}|{seq:D10}"), the balances ("bal|{programId}|{period}")
/// and the deals' accruals ("deal|{programId}|{dealId}"); the payouts ("payout|{id}"), the tax form ("taxform"), timeline and outbox rows.
/// </summary>
public sealed class TableIncentiveStore(PrmTables tables, PartitionWriter writer) : IIncentiveStore
{
    private const string ProgramsPartition = "programs";
    private const string TaxFormRow = "taxform";

    private TableClient Table => tables.Incentives;

    private static string PeriodsPartition(string programId) => "periods|" + programId;

    private static string MembersPartition(string programId, string period) => "members|" + programId + "|" + period;

    private static string Seq(long n) => n.ToString("D10", CultureInfo.InvariantCulture);

    public async Task<Versioned<IncentiveProgram>?> GetProgramAsync(string programId, CancellationToken ct) => await GetAsync<IncentiveProgram>(ProgramsPartition, "program|" + programId, ct);

    public async Task<IncentiveProgram?> GetVersionAsync(string programId, int version, CancellationToken ct) =>
        (await GetAsync<IncentiveProgram>(ProgramsPartition, "version|" + programId + "|" + version.ToString("D6", CultureInfo.InvariantCulture), ct))?.Value;

    public async Task<IReadOnlyList<IncentiveProgram>> ListProgramsAsync(CancellationToken ct) => await RangeAsync<IncentiveProgram>(ProgramsPartition, "program|", ct);

    public async Task<string> SaveProgramAsync(IncentiveProgram program, string? etag, ChangeSet changes, CancellationToken ct)
    {
        var current = TableTrainingStore.Entity(ProgramsPartition, "program|" + program.Id, program);
        var version = TableTrainingStore.Entity(ProgramsPartition, "version|" + program.Id + "|" + program.Version.ToString("D6", CultureInfo.InvariantCulture), program);
        try
        {
            return (await writer.CommitAsync(Table, ProgramsPartition,
            [
                etag is null ? new(TableTransactionActionType.Add, current) : new(TableTransactionActionType.UpdateReplace, current, new Azure.ETag(etag)),
                new(TableTransactionActionType.Add, version),
            ], changes, ct))[0];
        }
        catch (ConflictException)
        {
            throw new PreconditionFailedException("The program was changed since you read it; read it again and retry with the new ETag.");
        }
    }

    public async Task<LedgerRead> ReadLedgerAsync(string partnerId, string programId, string? dealId, string key, CancellationToken ct)
    {
        // The head first: every row read after it is at least as new, and a commit made after it fails on its ETag — so a decision never
        // rests on rows older than the head it commits against.
        var h = await Table.GetEntityIfExistsAsync<TableEntity>(partnerId, "head|" + programId, cancellationToken: ct);
        var balances = RangeAsync<PeriodBalance>(partnerId, "bal|" + programId + "|", ct);
        var deal = dealId is null ? Task.FromResult<Versioned<DealAccrual>?>(null) : GetAsync<DealAccrual>(partnerId, "deal|" + programId + "|" + dealId, ct);
        var keyRow = Table.GetEntityIfExistsAsync<TableEntity>(partnerId, KeyRow(programId, key), select: ["PartitionKey"], cancellationToken: ct);
        await Task.WhenAll(balances, deal, keyRow);
        return new LedgerRead(h.HasValue ? h.Value!.GetInt64("Seq") ?? 0 : 0, h.HasValue ? h.Value!.ETag.ToString() : null, await balances, (await deal)?.Value, (await keyRow).HasValue);
    }

    public async Task CommitLedgerAsync(LedgerCommit commit, CancellationToken ct)
    {
        var p = commit.PartnerId;
        var program = commit.ProgramId;
        var step = commit.Step;
        var head = new TableEntity(p, "head|" + program) { ["Seq"] = step.Input.Sequence, ["Currency"] = commit.Currency };
        var actions = new List<TableTransactionAction>
        {
            commit.HeadETag is null ? new(TableTransactionActionType.Add, head) : new(TableTransactionActionType.UpdateReplace, head, new Azure.ETag(commit.HeadETag)),
            new(TableTransactionActionType.Add, TableTrainingStore.Entity(p, "src|" + program + "|" + Seq(step.Input.Sequence), step.Input)),
            new(TableTransactionActionType.Add, new TableEntity(p, KeyRow(program, step.Input.Key)) { ["Seq"] = step.Input.Sequence }),
        };
        actions.AddRange(step.Entries.Select(e => new TableTransactionAction(TableTransactionActionType.Add, TableTrainingStore.Entity(p, EntryRow(program, e.Period, e.Sequence), e))));
        actions.AddRange(step.Periods.Select(b => new TableTransactionAction(TableTransactionActionType.UpsertReplace, TableTrainingStore.Entity(p, "bal|" + program + "|" + b.Period, b))));
        if (step.Deal is { } d) actions.Add(new(TableTransactionActionType.UpsertReplace, TableTrainingStore.Entity(p, "deal|" + program + "|" + d.DealId, d)));
        if (commit.Payout is { } payout) actions.Add(new(TableTransactionActionType.UpdateReplace, TableTrainingStore.Entity(p, "payout|" + payout.Value.Id, payout.Value), new Azure.ETag(payout.ETag)));
        try
        {
            await writer.CommitAsync(Table, p, actions, commit.Changes, ct);
        }
        catch (ConflictException)
        {
            // A head created meanwhile, or the input's key row: someone applied an input first; read again.
            throw new PreconditionFailedException("The ledger was written meanwhile; read it again.");
        }
    }

    public async Task<IReadOnlyList<IncentiveEntry>> EntriesAsync(string partnerId, string programId, string? period, CancellationToken ct) =>
        await RangeAsync<IncentiveEntry>(partnerId, "entry|" + programId + "|" + (period is null ? "" : period + "|"), ct);

    public async Task<IReadOnlyList<IncentiveInput>> InputsAsync(string partnerId, string programId, CancellationToken ct) =>
        await RangeAsync<IncentiveInput>(partnerId, "src|" + programId + "|", ct);

    public async Task<IReadOnlyList<ProgramBalance>> BalancesAsync(string partnerId, string? programId, CancellationToken ct)
    {
        var prefix = "bal|" + (programId is null ? "" : programId + "|");
        var list = new List<ProgramBalance>();
        await foreach (var e in Table.QueryAsync<TableEntity>(Range(partnerId, prefix), cancellationToken: ct))
        {
            var parts = e.RowKey.Split('|');
            list.Add(new ProgramBalance(parts[1], TableTrainingStore.Read<PeriodBalance>(e)));
        }
        return list;
    }

    public async Task<IReadOnlyList<DealAccrual>> DealsAsync(string partnerId, string programId, CancellationToken ct) =>
        await RangeAsync<DealAccrual>(partnerId, "deal|" + programId + "|", ct);

    public async Task<Versioned<PeriodRecord>?> GetPeriodAsync(string programId, string period, CancellationToken ct) =>
        await GetAsync<PeriodRecord>(PeriodsPartition(programId), "period|" + period, ct);

    public async Task<IReadOnlyList<PeriodRecord>> PeriodsAsync(string programId, CancellationToken ct) => await RangeAsync<PeriodRecord>(PeriodsPartition(programId), "period|", ct);

    public async Task<string> SavePeriodAsync(PeriodRecord record, string? etag, ChangeSet changes, CancellationToken ct)
    {
        var entity = TableTrainingStore.Entity(PeriodsPartition(record.ProgramId), "period|" + record.Period, record);
        return (await writer.CommitAsync(Table, PeriodsPartition(record.ProgramId),
            [etag is null ? new(TableTransactionActionType.Add, entity) : new(TableTransactionActionType.UpdateReplace, entity, new Azure.ETag(etag))], changes, ct))[0];
    }

    public async Task AddMemberAsync(string programId, string period, string partnerId, CancellationToken ct) =>
        await Table.UpsertEntityAsync(new TableEntity(MembersPartition(programId, period), partnerId), TableUpdateMode.Merge, ct);

    public async Task<IReadOnlyList<string>> MembersAsync(string programId, string period, CancellationToken ct)
    {
        var list = new List<string>();
        await foreach (var e in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {MembersPartition(programId, period)}"), select: ["RowKey"], cancellationToken: ct))
            list.Add(e.RowKey);
        return list;
    }

    public async Task<Versioned<Payout>?> GetPayoutAsync(string partnerId, string payoutId, CancellationToken ct) => await GetAsync<Payout>(partnerId, "payout|" + payoutId, ct);

    public async Task<IReadOnlyList<Payout>> PayoutsAsync(string partnerId, CancellationToken ct) => await RangeAsync<Payout>(partnerId, "payout|", ct);

    public async Task<string> SavePayoutAsync(Payout payout, string? etag, ChangeSet changes, CancellationToken ct)
    {
        var entity = TableTrainingStore.Entity(payout.PartnerId, "payout|" + payout.Id, payout);
        return (await writer.CommitAsync(Table, payout.PartnerId,
            [etag is null ? new(TableTransactionActionType.Add, entity) : new(TableTransactionActionType.UpdateReplace, entity, new Azure.ETag(etag))], changes, ct))[0];
    }

    public async Task<Versioned<TaxForm>?> GetTaxFormAsync(string partnerId, CancellationToken ct) => await GetAsync<TaxForm>(partnerId, TaxFormRow, ct);

    public async Task<string> SaveTaxFormAsync(TaxForm form, string? etag, ChangeSet changes, CancellationToken ct)
    {
        var entity = TableTrainingStore.Entity(form.PartnerId, TaxFormRow, form);
        try
        {
            return (await writer.CommitAsync(Table, form.PartnerId,
                [etag is null ? new(TableTransactionActionType.Add, entity) : new(TableTransactionActionType.UpdateReplace, entity, new Azure.ETag(etag))], changes, ct))[0];
        }
        catch (ConflictException)
        {
            throw new PreconditionFailedException("The tax form was recorded meanwhile.");
        }
    }

    private static string KeyRow(string programId, string key) => "key|" + programId + "|" + KeyEncoding.Encode(key);

    private static string EntryRow(string programId, string period, long sequence) => "entry|" + programId + "|" + period + "|" + Seq(sequence);

    private static string Range(string partition, string prefix) =>
        TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {prefix} and RowKey lt {KeyEncoding.PrefixEnd(prefix)}");

    private async Task<List<T>> RangeAsync<T>(string partition, string prefix, CancellationToken ct)
    {
        var list = new List<T>();
        await foreach (var e in Table.QueryAsync<TableEntity>(Range(partition, prefix), cancellationToken: ct)) list.Add(TableTrainingStore.Read<T>(e));
        return list;
    }

    private async Task<Versioned<T>?> GetAsync<T>(string partition, string row, CancellationToken ct)
    {
        var found = await Table.GetEntityIfExistsAsync<TableEntity>(partition, row, cancellationToken: ct);
        return found.HasValue ? new Versioned<T>(TableTrainingStore.Read<T>(found.Value!), found.Value!.ETag.ToString()) : null;
    }
}
