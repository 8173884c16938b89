using System.Globalization;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Mdf;

/// <summary>
/// MDF budgets: one per partner, fiscal period and currency, fixed or a co-op accrual of the previous period's won deal value; signed
/// adjustments as ledger entries (never an overwrite); the append-only ledger.
/// </summary>
public sealed class Budgets(IMdfStore store, IMdfAttribution attribution, MdfCommits commits, ProgramSettings settings, TimeProvider clock)
{
    private static readonly CreateBudgetValidator BudgetValidator = new();
    private static readonly BudgetAdjustmentValidator AdjustmentValidator = new();

    public async Task<Versioned<BudgetDto>> CreateAsync(Caller caller, CreateBudgetRequest? body, CancellationToken ct)
    {
        if (!caller.IsVendor) throw new ForbiddenException("Only program admins and channel managers create budgets.");
        var input = Validate.Body(body, BudgetValidator);
        var partner = await commits.LoadPartnerAsync(caller, input.PartnerId!, "partnerId", ct);
        if (!MdfAccess.Allows(caller, MdfOperation.Manage, partner.Id, partner.ChannelManagerId)) throw new ValidationFailedException("partnerId", "partnerId must be a partner you manage.");
        var calendar = (await settings.GetAsync<MdfSettings>(MdfSettings.SectionName, ct)).Calendar();
        var period = calendar.Parse(input.Period);
        var now = clock.GetUtcNow();
        Money allocation;
        Money? basis = null;
        if (input.Amount is not null) allocation = input.Amount.ToMoney();
        else
        {
            basis = await attribution.WonValueAsync(partner.Id, calendar.Previous(period), input.Currency!, ct);
            allocation = MdfMoney.Percentage(basis.Value, input.CoopPercent!.Value);
        }
        var existing = await store.ListBudgetsAsync(partner.Id, period.Text, ct);
        if (existing.Any(b => b.Budget.Currency == allocation.Currency))
            throw new ConflictException($"{partner.Name} already has a {period.Text} budget in {allocation.Currency}; adjust it instead.", "period");
        var budget = new MdfBudget(Ids.New("mdb"), partner.Id, period.Text, period.Start, period.End, allocation.Currency, allocation, input.CoopPercent, basis, caller.UserId, now);
        var ledger = new BudgetLedger(allocation.Currency);
        if (allocation.Amount > 0) ledger.Append(new LedgerEntry(Ids.New("led"), 1, LedgerEntryKind.Allocation, allocation, budget.Id, input.CoopPercent is { } p ? $"Co-op accrual: {p.ToString(CultureInfo.InvariantCulture)} % of {basis}" : null, now, caller.UserId));
        var audit = new AuditEntry(Ids.New("aud"), now, caller.UserId, caller.DisplayName, "mdf.budget.created", "budget", budget.Id,
            Diff.Between(null, new Dictionary<string, string?> { ["partnerId"] = partner.Id, ["period"] = period.Text, ["allocated"] = allocation.ToString() }));
        await store.CreateBudgetAsync(budget, ledger.Balance, ledger.Entries, new ChangeSet([audit], [OutboxMessage.ForEvent(MdfEvents.Budget(MdfEvents.BudgetCreated, budget, ledger.Balance, now, allocation))]), ct);
        var created = await store.GetBudgetAsync(budget.Id, ct) ?? throw new InvalidOperationException("The budget vanished after creation.");
        return new Versioned<BudgetDto>(BudgetDto.From(created), created.ETag);
    }

    /// <summary>A signed change of the allocation: an entry, never an overwrite; may not take available below zero.</summary>
    public async Task<Versioned<BudgetDto>> AdjustAsync(Caller caller, string budgetId, BudgetAdjustmentRequest? body, CancellationToken ct)
    {
        var (state, owner) = await commits.LoadBudgetAsync(caller, budgetId, ct);
        if (!MdfAccess.Allows(caller, MdfOperation.Manage, state.Budget.PartnerId, owner)) throw new NotFoundException("Budget");
        var input = Validate.Body(body, AdjustmentValidator);
        var amount = input.Amount!.ToMoney();
        if (amount.Currency != state.Budget.Currency) throw new CurrencyMismatchException(state.Budget.Currency, amount.Currency);
        var subject = Ids.New("adj");
        return await ReadDecideCommit.RunAsync(async attempt =>
        {
            if (attempt > 1) state = await store.GetBudgetAsync(budgetId, ct) ?? throw new NotFoundException("Budget");
            var now = clock.GetUtcNow();
            var entry = new LedgerEntry(Ids.New("led"), state.Balance.Sequence + 1, LedgerEntryKind.Adjustment, amount, subject, input.Reason!.Trim(), now, caller.UserId);
            BudgetBalance next;
            try
            {
                next = state.Balance.Apply(entry);
            }
            catch (InsufficientFundsException ex)
            {
                ex.Data["field"] = "amount.amount";
                throw;
            }
            var audit = new AuditEntry(Ids.New("aud"), now, caller.UserId, caller.DisplayName, "mdf.budget.adjusted", "budget", state.Budget.Id,
                [new FieldChange("allocated", state.Balance.Allocated.ToString(), next.Allocated.ToString())], input.Reason);
            var etag = await store.CommitAsync(new MdfCommit(state.Budget.Id, state.ETag, next, [entry], null, null,
                new ChangeSet([audit], [OutboxMessage.ForEvent(MdfEvents.Budget(MdfEvents.BudgetAdjusted, state.Budget, next, now, amount, input.Reason))])), ct);
            return new Versioned<BudgetDto>(BudgetDto.From(new BudgetState(state.Budget, next, etag)), etag);
        }, 100, ReadDecideCommit.Jitter(5), ct: ct);
    }

    public async Task<Page<BudgetDto>> ListAsync(Caller caller, string? partnerId, string? period, CancellationToken ct)
    {
        if (period is not null && !FiscalCalendar.IsPeriodText(period)) throw new ValidationFailedException("period", "period " + FiscalCalendar.FormatMessage);
        var canonical = period is null ? null : (await settings.GetAsync<MdfSettings>(MdfSettings.SectionName, ct)).Calendar().Parse(period).Text;
        partnerId ??= caller.PartnerId;
        if (partnerId is null)
        {
            if (!caller.IsAdmin) throw new ValidationFailedException("partnerId", "partnerId is required (channel managers list the budgets of one of their partners).");
        }
        else
        {
            await commits.LoadPartnerAsync(caller, partnerId, "partnerId", ct, notFound: true);
        }
        var budgets = await store.ListBudgetsAsync(partnerId, canonical, ct);
        return new Page<BudgetDto>(budgets.Select(BudgetDto.From).ToList(), null);
    }

    public async Task<Versioned<BudgetDto>> GetAsync(Caller caller, string budgetId, CancellationToken ct)
    {
        var (state, _) = await commits.LoadBudgetAsync(caller, budgetId, ct);
        return new Versioned<BudgetDto>(BudgetDto.From(state), state.ETag);
    }

    /// <summary>The budget's append-only ledger.</summary>
    public async Task<Page<LedgerEntryDto>> LedgerAsync(Caller caller, string budgetId, CancellationToken ct)
    {
        await commits.LoadBudgetAsync(caller, budgetId, ct);
        var entries = await store.LedgerAsync(budgetId, ct);
        return new Page<LedgerEntryDto>(entries.Select(LedgerEntryDto.From).ToList(), null);
    }
}
