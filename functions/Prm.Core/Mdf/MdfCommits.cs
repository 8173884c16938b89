using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Mdf;

/// <summary>A fund request the caller may read, with the partner's channel manager when access needed it.</summary>
public sealed record VisibleRequest(RequestState State, string? PartnerOwnerId)
{
    public FundRequest Request => State.Request;

    /// <summary>The request's budget, read beside the partner's owner when the caller asked for it (a decision that moves money).</summary>
    public Task<BudgetState?>? BudgetRead { get; init; }
}

/// <summary>
/// Loads budgets and requests as <see cref="MdfAccess"/> allows, and commits transitions: the request with its ledger moves (budget row
/// If-Match), timeline entry, events and emails in one transaction of the budget's partition; a stale row is re-read and the change
/// re-decided (bounded, jittered retries).
/// </summary>
public sealed class MdfCommits(IMdfStore store, IPartnerStore partners, MdfNotices notices, TimeProvider clock)
{
    /// <summary>Concurrent requests against one budget contend for its row: generous attempts with a jittered pause.</summary>
    private const int Attempts = 100;

    /// <summary>
    /// The request (or the request of the claim) if the caller may read it, or 404 — without a storage read of the partner for
    /// partner users of another company.
    /// </summary>
    /// <param name="withBudget">Also read the request's budget, side by side with the partner's owner (for a decision that may move money; a refused caller wasted that read).</param>
    public async Task<VisibleRequest> LoadAsync(Caller caller, string id, string prefix, CancellationToken ct, bool withBudget = false)
    {
        var what = prefix == "mdc" ? "Claim" : "Fund request";
        if (!Ids.LooksLike(id, prefix)) throw new NotFoundException(what);
        var state = await store.GetRequestAsync(id, ct);
        if (state is null || (prefix == "mdc" && state.Request.Claim?.Id != id)) throw new NotFoundException(what);
        var budgetRead = withBudget ? store.GetBudgetAsync(state.Request.BudgetId, ct) : null;
        try
        {
            // Who owns the partner decides a channel manager's access: read it, never a cached copy.
            var owner = MdfAccess.NeedsPartnerOwner(caller) ? (await partners.GetAsync(state.Request.PartnerId, ct))?.Value.ChannelManagerId : null;
            if (!MdfAccess.Allows(caller, MdfOperation.Read, state.Request.PartnerId, owner)) throw new NotFoundException(what);
            return new VisibleRequest(state, owner) { BudgetRead = budgetRead };
        }
        catch when (budgetRead is not null)
        {
            // Nobody reads the budget of a refused caller: its read ends here, whatever its outcome.
            try
            {
                await budgetRead;
            }
            catch (Exception)
            {
            }
            throw;
        }
    }

    /// <summary>A budget the caller may read, or 404.</summary>
    public async Task<(BudgetState State, string? PartnerOwnerId)> LoadBudgetAsync(Caller caller, string budgetId, CancellationToken ct)
    {
        if (!Ids.LooksLike(budgetId, "mdb")) throw new NotFoundException("Budget");
        var state = await store.GetBudgetAsync(budgetId, ct) ?? throw new NotFoundException("Budget");
        var owner = MdfAccess.NeedsPartnerOwner(caller) ? (await partners.GetAsync(state.Budget.PartnerId, ct))?.Value.ChannelManagerId : null;
        if (!MdfAccess.Allows(caller, MdfOperation.Read, state.Budget.PartnerId, owner)) throw new NotFoundException("Budget");
        return (state, owner);
    }

    /// <summary>A partner the caller may see; otherwise 422 naming <paramref name="field"/> (or 404 with <paramref name="notFound"/>).</summary>
    public async Task<Partner> LoadPartnerAsync(Caller caller, string partnerId, string field, CancellationToken ct, bool notFound = false)
    {
        try
        {
            return (await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct)).Value;
        }
        catch (NotFoundException) when (!notFound)
        {
            throw new ValidationFailedException(field, $"{field} must be the id of a partner you can see.", unprocessable: true);
        }
    }

    /// <summary>Reads the request, decides the change, commits it with its money movements in one transaction; re-decides on a stale row.</summary>
    /// <param name="loaded">The request as the caller just read it (to check access): the first attempt decides on it instead of reading it again.</param>
    /// <param name="loadedBudget">The request's budget as read beside <paramref name="loaded"/> (<see cref="VisibleRequest.BudgetRead"/>): the first attempt books on it (its ETag guards the commit).</param>
    public Task<RequestState> ApplyAsync(Caller actor, string requestId, Func<RequestState, Task<MdfChange?>> decide, CancellationToken ct, RequestState? loaded = null,
        Task<BudgetState?>? loadedBudget = null) =>
        ReadDecideCommit.RunAsync(async attempt =>
        {
            var first = attempt == 1 && loaded is not null;
            var state = first ? loaded! : await store.GetRequestAsync(requestId, ct) ?? throw new NotFoundException("Fund request");
            var change = await decide(state);
            if (change is null) return state;
            var now = clock.GetUtcNow();
            BudgetState? budget = null;
            BudgetBalance? balance = null;
            var entries = new List<LedgerEntry>();
            // The budget (when money moves) and the emails with their links are independent: side by side.
            var budgetRead = change.Moves.Count == 0 ? null : first && loadedBudget is not null ? loadedBudget : store.GetBudgetAsync(state.Request.BudgetId, ct);
            var outboxMade = notices.OutboxAsync(change, now, ct);
            await Task.WhenAll(budgetRead is null ? [outboxMade] : [outboxMade, budgetRead]);
            if (budgetRead is not null)
            {
                budget = await budgetRead ?? throw new InvalidOperationException($"Budget {state.Request.BudgetId} is missing.");
                try
                {
                    (balance, entries) = Book(budget.Balance, change, actor, now);
                }
                catch (BudgetLedgerException)
                {
                    // The budget may already hold a decision made after this request was read (e.g. two reviewers deciding at once): the
                    // moves were then computed from a stale request. Read again, so the loser hears "already decided" (409), not ledger internals.
                    if (await ChangedSinceAsync(state, ct)) throw new PreconditionFailedException("The fund request was changed since it was read.");
                    throw;
                }
            }
            // The timeline of a request holds its claim's entries too (SubjectType "claim", SubjectId the request).
            var audit = new AuditEntry(Ids.New("aud"), now, actor.UserId, actor.DisplayName, change.Action, change.SubjectType, change.Updated.Id,
                Diff.Between(state.Request.Snapshot(), change.Updated.Snapshot()), change.Note);
            var outbox = await outboxMade;
            var etag = await store.CommitAsync(new MdfCommit(state.Request.BudgetId, budget?.ETag, balance, entries, change.Updated, state.ETag, new ChangeSet([audit], outbox)), ct);
            return new RequestState(change.Updated, etag);
        }, Attempts, ReadDecideCommit.Jitter(5), ct: ct);

    private async Task<bool> ChangedSinceAsync(RequestState state, CancellationToken ct) =>
        (await store.GetRequestAsync(state.Request.Id, ct))?.ETag != state.ETag;

    /// <summary>Commits a new request with its reservation against the budget (the request row is added); re-reads the budget when it changed meanwhile.</summary>
    /// <param name="alongside">A write that must be done before the commit and may run while the reviewers' links are made.</param>
    /// <param name="manager">The request's channel manager, read by the caller beside its other reads (the reviewer of a new request).</param>
    public async Task<string> SubmitAsync(Caller actor, BudgetState budget, MdfChange change, DateTimeOffset now, CancellationToken ct, Task? alongside = null, Task<StaffMember?>? manager = null)
    {
        // The reviewers' emails (and their decision links) are made once, not per attempt. The links' rows, the caller's own write and the
        // outbox pointers are written side by side, all before the commit: no email can name a link that does not exist.
        var linkWrites = new List<Task>();
        var outbox = await notices.OutboxAsync(change, now, ct, manager, linkWrites);
        var before = Task.WhenAll(linkWrites.Append(alongside ?? Task.CompletedTask));
        return await ReadDecideCommit.RunAsync(async attempt =>
        {
            if (attempt > 1) budget = await store.GetBudgetAsync(budget.Budget.Id, ct) ?? throw new NotFoundException("Budget");
            var (balance, entries) = Book(budget.Balance, change, actor, now, "requestedAmount.amount");
            var audit = new AuditEntry(Ids.New("aud"), now, actor.UserId, actor.DisplayName, change.Action, "request", change.Updated.Id, Diff.Between(null, change.Updated.Snapshot()));
            return await store.CommitAsync(new MdfCommit(budget.Budget.Id, budget.ETag, balance, entries, change.Updated, null, new ChangeSet([audit], outbox)), ct, before);
        }, Attempts, ReadDecideCommit.Jitter(5), ct: ct);
    }

    /// <summary>The ledger entries of a change's moves and the balance after them; an overdraft names <paramref name="field"/>.</summary>
    public static (BudgetBalance Balance, List<LedgerEntry> Entries) Book(BudgetBalance balance, MdfChange change, Caller actor, DateTimeOffset now, string? field = null)
    {
        var entries = new List<LedgerEntry>();
        foreach (var move in change.Moves)
        {
            var entry = new LedgerEntry(Ids.New("led"), balance.Sequence + 1, move.Kind, move.Amount, move.Subject, change.Note, now, actor.UserId, move.Basis);
            try
            {
                balance = balance.Apply(entry);
            }
            catch (InsufficientFundsException ex) when (field is not null)
            {
                ex.Data["field"] = field;
                throw;
            }
            entries.Add(entry);
        }
        return (balance, entries);
    }
}
