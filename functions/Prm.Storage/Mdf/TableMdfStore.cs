using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Mdf;
using Prm.Core.Partners;
using Prm.Storage.Outbox;

namespace Prm.Storage.Mdf;

/// <summary>
/// MDF on Table Storage. Table "mdfbudgets": a partition per budget holding the budget row ("budget": balance buckets + Sequence,
/// its ETag guards every money movement), the append-only ledger ("ledger|{sequence:D10}"), one idempotency key row per entry
/// ("key|{Kind:subject}"), the budget's requests with their claims ("request|{id}"), audit and outbox rows. Every money movement is one
/// entity-group transaction: budget row If-Match + ledger row + key row + request row + audit/outbox. Table "mdfindex": where an id
/// lives ("id:{id}"), budgets per partner ("budgets:{partnerId}", "budgets:all"), request lists ("requests:partner:{id}",
/// "requests:cm:{id}", "requests:all", newest first) and the one-budget-per-partner-period-currency key.
/// </summary>
public sealed class TableMdfStore(PrmTables tables, PartitionWriter writer, ILogger<TableMdfStore> log) : IMdfStore
{
    private const string BudgetRow = "budget";
    private const string LedgerPrefix = "ledger|";
    private const string KeyPrefix = "key|";
    private const string RequestPrefix = "request|";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    /// <summary>Where an id lives never changes: cached per process.</summary>
    private readonly ConcurrentDictionary<string, (string BudgetId, string RequestId)> locations = new(StringComparer.Ordinal);

    public async Task CreateBudgetAsync(MdfBudget budget, BudgetBalance balance, IReadOnlyList<LedgerEntry> entries, ChangeSet changes, CancellationToken ct)
    {
        var keyRow = new TableEntity("budgetkey:" + budget.PartnerId, budget.Period + "|" + budget.Currency) { ["BudgetId"] = budget.Id };
        try
        {
            await tables.MdfIndex.AddEntityAsync(keyRow, ct);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 409)
        {
            // A key naming this budget's fresh id is this insert's own, resent by the storage client after its answer was lost.
            var held = await tables.MdfIndex.GetEntityIfExistsAsync<TableEntity>(keyRow.PartitionKey, keyRow.RowKey, ["BudgetId"], ct);
            if (!held.HasValue || held.Value!.GetString("BudgetId") != budget.Id)
            {
                throw new ConflictException($"The partner already has a {budget.Period} budget in {budget.Currency}; adjust it instead.", "period");
            }
        }
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Add, BudgetEntity(budget, balance)) };
        actions.AddRange(LedgerActions(budget.Id, entries));
        await writer.CommitAsync(tables.MdfBudgets, budget.Id, actions, changes, ct);
        var row = budget.Period + "|" + budget.Id;
        await tables.MdfIndex.UpsertEntityAsync(new TableEntity("budgets:" + budget.PartnerId, row) { ["BudgetId"] = budget.Id, ["Period"] = budget.Period }, TableUpdateMode.Replace, ct);
        await tables.MdfIndex.UpsertEntityAsync(new TableEntity("budgets:all", row) { ["BudgetId"] = budget.Id, ["Period"] = budget.Period }, TableUpdateMode.Replace, ct);
    }

    public async Task<BudgetState?> GetBudgetAsync(string budgetId, CancellationToken ct)
    {
        var found = await tables.MdfBudgets.GetEntityIfExistsAsync<TableEntity>(budgetId, BudgetRow, cancellationToken: ct);
        return found.HasValue ? ReadBudget(found.Value!) : null;
    }

    public async Task<IReadOnlyList<BudgetState>> ListBudgetsAsync(string? partnerId, string? period, CancellationToken ct)
    {
        var partition = "budgets:" + (partnerId ?? "all");
        var filter = period is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {partition}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {period + "|"} and RowKey lt {period + "}"}");
        var ids = new List<string>();
        await foreach (var row in tables.MdfIndex.QueryAsync<TableEntity>(filter, select: ["BudgetId"], cancellationToken: ct)) ids.Add(row.GetString("BudgetId"));
        var budgets = await Task.WhenAll(ids.Select(id => GetBudgetAsync(id, ct)));
        return budgets.OfType<BudgetState>().ToList();
    }

    public async Task<IReadOnlyList<LedgerEntry>> LedgerAsync(string budgetId, CancellationToken ct)
    {
        var entries = new List<LedgerEntry>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {budgetId} and RowKey ge {LedgerPrefix} and RowKey lt {KeyEncoding.PrefixEnd(LedgerPrefix)}");
        await foreach (var e in tables.MdfBudgets.QueryAsync<TableEntity>(filter, cancellationToken: ct)) entries.Add(ReadEntry(e));
        return entries;
    }

    public async Task<string> CommitAsync(MdfCommit commit, CancellationToken ct, Task? alongside = null)
    {
        var actions = new List<TableTransactionAction>();
        if (commit.Request is { } request)
        {
            actions.Add(commit.RequestETag is null
                ? new(TableTransactionActionType.Add, RequestEntity(request))
                : new(TableTransactionActionType.UpdateReplace, RequestEntity(request), new Azure.ETag(commit.RequestETag)));
        }
        if (commit.Entries.Count > 0)
        {
            var balance = commit.Balance ?? throw new ArgumentException("A commit with ledger entries carries the new balance.", nameof(commit));
            if (commit.BudgetETag is null) throw new ArgumentException("A commit with ledger entries carries the budget row's ETag.", nameof(commit));
            actions.Add(new(TableTransactionActionType.UpdateMerge, BalanceEntity(commit.BudgetId, balance), new Azure.ETag(commit.BudgetETag)));
            actions.AddRange(LedgerActions(commit.BudgetId, commit.Entries));
        }
        IReadOnlyList<string> etags;
        try
        {
            etags = await writer.CommitAsync(tables.MdfBudgets, commit.BudgetId, actions, commit.Changes, ct, alongside);
        }
        catch (ConflictException) when (commit.Entries.Count > 0)
        {
            // Only a key row can collide (the ledger row's sequence follows the budget row the transaction guards).
            throw new DuplicateLedgerEntryException(commit.Entries[0].Key);
        }
        if (commit.Request is not null) await IndexAsync(commit.Request, ct);
        return etags[0];
    }

    public async Task RegisterIdAsync(string id, string budgetId, string requestId, CancellationToken ct)
    {
        await tables.MdfIndex.UpsertEntityAsync(new TableEntity("id:" + id, "") { ["BudgetId"] = budgetId, ["RequestId"] = requestId }, TableUpdateMode.Replace, ct);
        Remember(id, (budgetId, requestId));
    }

    public async Task<RequestState?> GetRequestAsync(string requestOrClaimId, CancellationToken ct)
    {
        if (!locations.TryGetValue(requestOrClaimId, out var location))
        {
            var found = await tables.MdfIndex.GetEntityIfExistsAsync<TableEntity>("id:" + requestOrClaimId, "", cancellationToken: ct);
            if (!found.HasValue) return null;
            location = (found.Value!.GetString("BudgetId"), found.Value.GetString("RequestId"));
            Remember(requestOrClaimId, location);
        }
        var row = await tables.MdfBudgets.GetEntityIfExistsAsync<TableEntity>(location.BudgetId, RequestPrefix + location.RequestId, cancellationToken: ct);
        return row.HasValue ? new RequestState(ReadRequest(row.Value!), row.Value!.ETag.ToString()) : null;
    }

    public Task<Page<FundRequest>> ListRequestsAsync(string scope, FundRequestStatus? status, PageRequest page, CancellationToken ct)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {"requests:" + scope}");
        if (status is { } s) filter += " and " + TableClient.CreateQueryFilter($"Status eq {s.ToString()}");
        return PrmTables.PageAsync(tables.MdfIndex, filter, page, ReadRequest, ct);
    }

    public async Task<IReadOnlyList<FundRequest>> RequestsOfBudgetAsync(string budgetId, CancellationToken ct)
    {
        var list = new List<FundRequest>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {budgetId} and RowKey ge {RequestPrefix} and RowKey lt {KeyEncoding.PrefixEnd(RequestPrefix)}");
        await foreach (var e in tables.MdfBudgets.QueryAsync<TableEntity>(filter, cancellationToken: ct)) list.Add(ReadRequest(e));
        return list;
    }

    public Task<Page<AuditEntry>> TimelineAsync(string budgetId, string subjectId, PageRequest page, CancellationToken ct) =>
        PrmTables.PageAsync(tables.MdfBudgets,
            TableClient.CreateQueryFilter($"PartitionKey eq {budgetId} and RowKey ge {OutboxRows.AuditPrefix} and RowKey lt {KeyEncoding.PrefixEnd(OutboxRows.AuditPrefix)} and SubjectId eq {subjectId}"),
            page, OutboxRows.ReadAudit, ct);

    private void Remember(string id, (string, string) location)
    {
        if (locations.Count > 100_000) locations.Clear();
        locations[id] = location;
    }

    private async Task IndexAsync(FundRequest r, CancellationToken ct)
    {
        var row = KeyEncoding.Inverted(r.SubmittedAt) + "|" + r.Id;
        var scopes = new List<string> { "partner:" + r.PartnerId, "all" };
        if (r.ChannelManagerId is not null) scopes.Add("cm:" + r.ChannelManagerId);
        try
        {
            await Task.WhenAll(scopes.Select(scope =>
            {
                var entity = RequestEntity(r);
                entity.PartitionKey = "requests:" + scope;
                entity.RowKey = row;
                return tables.MdfIndex.UpsertEntityAsync(entity, TableUpdateMode.Replace, ct);
            }));
        }
        catch (Azure.RequestFailedException ex)
        {
            log.LogWarning(ex, "MDF request index refresh for {RequestId} failed; the next change of the request refreshes it", r.Id);
        }
    }

    private static IEnumerable<TableTransactionAction> LedgerActions(string budgetId, IReadOnlyList<LedgerEntry> entries)
    {
        foreach (var e in entries)
        {
            yield return new(TableTransactionActionType.Add, new TableEntity(budgetId, LedgerPrefix + e.Sequence.ToString("D10", CultureInfo.InvariantCulture))
            {
                ["EntryId"] = e.Id,
                ["Kind"] = e.Kind.ToString(),
                ["Amount"] = Text(e.Amount.Amount),
                ["Currency"] = e.Amount.Currency,
                ["Basis"] = e.Basis is { } b ? Text(b.Amount) : null,
                ["Subject"] = e.Subject,
                ["Reason"] = e.Reason,
                ["At"] = e.At,
                ["By"] = e.By,
                ["Key"] = e.Key,
            });
            yield return new(TableTransactionActionType.Add, new TableEntity(budgetId, KeyPrefix + KeyEncoding.Encode(e.Key)) { ["Sequence"] = e.Sequence });
        }
    }

    private static LedgerEntry ReadEntry(TableEntity e)
    {
        var currency = e.GetString("Currency");
        var basis = e.GetString("Basis");
        return new LedgerEntry(e.GetString("EntryId"), long.Parse(e.RowKey[LedgerPrefix.Length..], CultureInfo.InvariantCulture), Enum.Parse<LedgerEntryKind>(e.GetString("Kind")),
            new Money(Number(e.GetString("Amount")), currency), e.GetString("Subject"), e.GetString("Reason"), e.GetDateTimeOffset("At") ?? default, e.GetString("By"),
            basis is null ? null : new Money(Number(basis), currency));
    }

    private static TableEntity BudgetEntity(MdfBudget b, BudgetBalance balance)
    {
        var e = BalanceEntity(b.Id, balance);
        e.RowKey = BudgetRow;
        e["PartnerId"] = b.PartnerId;
        e["Period"] = b.Period;
        e["Currency"] = b.Currency;
        e["Body"] = JsonSerializer.Serialize(b, Json);
        return e;
    }

    private static TableEntity BalanceEntity(string budgetId, BudgetBalance z) => new(budgetId, BudgetRow)
    {
        ["Allocated"] = Text(z.Allocated.Amount),
        ["Available"] = Text(z.Available.Amount),
        ["Pending"] = Text(z.Pending.Amount),
        ["Approved"] = Text(z.Approved.Amount),
        ["Claimed"] = Text(z.Claimed.Amount),
        ["Paid"] = Text(z.Paid.Amount),
        ["Sequence"] = z.Sequence,
    };

    private static BudgetState ReadBudget(TableEntity e)
    {
        var budget = JsonSerializer.Deserialize<MdfBudget>(e.GetString("Body"), Json)!;
        var c = budget.Currency;
        Money M(string name) => new(Number(e.GetString(name)), c);
        var balance = new BudgetBalance(M("Allocated"), M("Available"), M("Pending"), M("Approved"), M("Claimed"), M("Paid"), e.GetInt64("Sequence") ?? 0);
        return new BudgetState(budget, balance, e.ETag.ToString());
    }

    private static TableEntity RequestEntity(FundRequest r) => new(r.BudgetId, RequestPrefix + r.Id)
    {
        ["RequestId"] = r.Id,
        ["PartnerId"] = r.PartnerId,
        ["Status"] = r.Status.ToString(),
        ["ClaimId"] = r.Claim?.Id,
        ["Body"] = JsonSerializer.Serialize(r with { Claim = null }, Json),
        ["Claim"] = r.Claim is null ? null : JsonSerializer.Serialize(r.Claim, Json),
    };

    private static FundRequest ReadRequest(TableEntity e)
    {
        var request = JsonSerializer.Deserialize<FundRequest>(e.GetString("Body"), Json)!;
        var claim = e.GetString("Claim");
        return claim is null ? request : request with { Claim = JsonSerializer.Deserialize<MdfClaim>(claim, Json) };
    }

    private static string Text(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    private static decimal Number(string text) => decimal.Parse(text, NumberStyles.Number, CultureInfo.InvariantCulture);
}
