using System.Globalization;
using Prm.Core.Common;

namespace Prm.Core.Mdf;

/// <summary>What a ledger entry does to the budget's buckets.</summary>
public enum LedgerEntryKind
{
    /// <summary>Initial allocation (or co-op accrual): + allocated, + available. Subject: the budget id.</summary>
    Allocation,

    /// <summary>Signed change of the allocation: ± allocated, ± available; may not take available below 0. Subject: the adjustment id.</summary>
    Adjustment,

    /// <summary>A fund request was submitted: available → pending. Refused when the amount exceeds available.</summary>
    RequestSubmitted,

    /// <summary>The partner withdrew a pending request: pending → available.</summary>
    RequestWithdrawn,

    /// <summary>The channel manager rejected a pending request: pending → available.</summary>
    RequestRejected,

    /// <summary>A pending request was cancelled (e.g. by an admin): pending → available.</summary>
    RequestCancelled,

    /// <summary>
    /// Final approval of a request: <see cref="LedgerEntry.Basis"/> (the requested amount) leaves pending;
    /// <see cref="LedgerEntry.Amount"/> (the approved amount) goes to approved and the difference to available.
    /// An intermediate approval of a multi-step approval writes no entry: the request stays pending.
    /// </summary>
    RequestApproved,

    /// <summary>A claim was submitted against an approved request: approved → claimed.</summary>
    ClaimSubmitted,

    /// <summary>The reviewer returned the claim / asked for more information: claimed → approved (the reservation remains).</summary>
    ClaimReturned,

    /// <summary>
    /// The reviewer rejected the claim: claimed → approved. The reservation stays until the claim deadline so a corrected
    /// claim can still be filed; the deadline's <see cref="Released"/> entry returns it to available.
    /// </summary>
    ClaimRejected,

    /// <summary>
    /// The reviewer approved the claim for <see cref="LedgerEntry.Amount"/> out of the <see cref="LedgerEntry.Basis"/> claimed:
    /// the difference goes claimed → approved; the approved amount stays claimed until <see cref="Paid"/>.
    /// </summary>
    ClaimApproved,

    /// <summary>The approved claim was paid: claimed → paid. Final.</summary>
    Paid,

    /// <summary>An unclaimed reservation is released (claim deadline passed, or what is left after paying an under-claim): approved → available.</summary>
    Released,
}

/// <summary>
/// One append-only movement between a budget's buckets.
/// </summary>
/// <param name="Id">Unique id of the entry.</param>
/// <param name="Sequence">Position in the budget's ledger: 1 for the first entry, then +1 with no gaps.</param>
/// <param name="Kind">The movement.</param>
/// <param name="Amount">The amount moved (for <see cref="LedgerEntryKind.RequestApproved"/> and <see cref="LedgerEntryKind.ClaimApproved"/>: the approved amount). Signed only for <see cref="LedgerEntryKind.Adjustment"/>.</param>
/// <param name="Subject">What the entry is about: the request id, the claim (submission) id, the budget or adjustment id. Part of the idempotency key.</param>
/// <param name="Reason">Why, when a person gave a reason.</param>
/// <param name="At">When it was recorded.</param>
/// <param name="By">Who (user id or "system").</param>
/// <param name="Basis">The amount being settled, for <see cref="LedgerEntryKind.RequestApproved"/> (the requested amount, required) and <see cref="LedgerEntryKind.ClaimApproved"/> (the claimed amount; omitted means equal to Amount).</param>
public sealed record LedgerEntry(string Id, long Sequence, LedgerEntryKind Kind, Money Amount, string Subject, string? Reason, DateTimeOffset At, string By, Money? Basis = null)
{
    /// <summary>The deterministic idempotency key of this entry: see <see cref="KeyFor"/>.</summary>
    public string Key => KeyFor(Kind, Subject);

    /// <summary>
    /// The idempotency key "{Kind}:{subject}", e.g. "Released:req-42". A budget accepts each key once, so a caller that
    /// derives the subject deterministically (the request id for a release) cannot return the same money twice.
    /// A transition that can legitimately repeat for one claim (a resubmission after "request info") uses a subject
    /// per submission, e.g. "{claimId}/2".
    /// </summary>
    public static string KeyFor(LedgerEntryKind kind, string subject) => kind.ToString() + ":" + subject;
}

/// <summary>Base of the refusals of the budget ledger; nothing is applied when one is thrown.</summary>
public abstract class BudgetLedgerException(string title, string detail) : PrmException(title, detail);

/// <summary>The entry needs more available funds than the budget has.</summary>
public sealed class InsufficientFundsException(Money available, Money requested)
    : BudgetLedgerException("Insufficient funds.", $"The budget has {available} available; {requested} was requested.")
{
    /// <summary>The available balance at the time of the refusal.</summary>
    public Money Available { get; } = available;

    /// <summary>The amount that did not fit.</summary>
    public Money Requested { get; } = requested;
}

/// <summary>An entry with the same idempotency key was already applied to the budget.</summary>
public sealed class DuplicateLedgerEntryException(string key)
    : BudgetLedgerException("Already applied.", $"The budget already holds an entry {key}.")
{
    /// <summary>The idempotency key, "{Kind}:{subject}".</summary>
    public string Key { get; } = key;
}

/// <summary>The entry is malformed or would break the ledger invariant (a bucket below zero, wrong currency, out-of-order sequence).</summary>
public sealed class LedgerRuleException(string detail) : BudgetLedgerException("Budget rule broken.", detail);

/// <summary>
/// The buckets of one budget. Invariant at every moment: Allocated = Available + Pending + Approved + Claimed + Paid,
/// and every bucket is at least zero. <see cref="Sequence"/> is the sequence number of the last entry applied.
/// </summary>
public sealed record BudgetBalance(Money Allocated, Money Available, Money Pending, Money Approved, Money Claimed, Money Paid, long Sequence)
{
    /// <summary>A budget with nothing allocated yet.</summary>
    public static BudgetBalance Empty(string currency)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(currency);
        var zero = new Money(0m, currency);
        return new BudgetBalance(zero, zero, zero, zero, zero, zero, 0);
    }

    /// <summary>The budget's currency.</summary>
    public string Currency => Allocated.Currency;

    /// <summary>True when the buckets add up and none is negative.</summary>
    public bool IsConsistent =>
        Allocated.Amount == Available.Amount + Pending.Amount + Approved.Amount + Claimed.Amount + Paid.Amount
        && Available.Amount >= 0 && Pending.Amount >= 0 && Approved.Amount >= 0 && Claimed.Amount >= 0 && Paid.Amount >= 0
        && new[] { Available, Pending, Approved, Claimed, Paid }.All(m => m.Currency == Currency);

    /// <summary>
    /// The balance after the entry. Throws <see cref="InsufficientFundsException"/> when the entry needs more than is
    /// available, and <see cref="LedgerRuleException"/> when it is malformed or would take any bucket below zero.
    /// Does not check idempotency keys: <see cref="BudgetLedger"/> does.
    /// </summary>
    public BudgetBalance Apply(LedgerEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Sequence != Sequence + 1) throw new LedgerRuleException($"Entry {entry.Id} has sequence {entry.Sequence}; the next one is {Sequence + 1}.");
        if (string.IsNullOrWhiteSpace(entry.Subject)) throw new LedgerRuleException($"Entry {entry.Id} has no subject.");
        Check(entry, entry.Amount, "amount");
        if (entry.Basis is { } basis) Check(entry, basis, "basis");
        var a = entry.Amount.Amount;
        if (entry.Kind == LedgerEntryKind.Adjustment ? a == 0 : a <= 0)
            throw new LedgerRuleException($"Entry {entry.Id} ({entry.Kind}) needs an amount {(entry.Kind == LedgerEntryKind.Adjustment ? "other than 0" : "greater than 0")}, got {entry.Amount}.");

        var next = entry.Kind switch
        {
            LedgerEntryKind.Allocation => With(allocated: a, available: a),
            LedgerEntryKind.Adjustment => Adjust(a),
            LedgerEntryKind.RequestSubmitted => a <= Available.Amount ? With(available: -a, pending: a) : throw new InsufficientFundsException(Available.Round(), entry.Amount),
            LedgerEntryKind.RequestWithdrawn or LedgerEntryKind.RequestRejected or LedgerEntryKind.RequestCancelled => With(pending: -a, available: a),
            LedgerEntryKind.RequestApproved => ApproveRequest(entry),
            LedgerEntryKind.ClaimSubmitted => With(approved: -a, claimed: a),
            LedgerEntryKind.ClaimReturned or LedgerEntryKind.ClaimRejected => With(claimed: -a, approved: a),
            LedgerEntryKind.ClaimApproved => ApproveClaim(entry),
            LedgerEntryKind.Paid => With(claimed: -a, paid: a),
            LedgerEntryKind.Released => With(approved: -a, available: a),
            _ => throw new LedgerRuleException($"Entry {entry.Id} has an unknown kind {entry.Kind}."),
        };
        next = next with { Sequence = entry.Sequence };
        if (!next.IsConsistent) throw new LedgerRuleException($"Entry {entry.Id} ({entry.Kind} {entry.Amount} for {entry.Subject}) would take a bucket below zero: {Describe()}.");
        return next;
    }

    /// <summary>The buckets as text, for messages and logs.</summary>
    public string Describe() =>
        $"allocated {Allocated}, available {Available}, pending {Pending}, approved {Approved}, claimed {Claimed}, paid {Paid}";

    private BudgetBalance Adjust(decimal a)
    {
        if (a < 0 && -a > Available.Amount)
            throw new InsufficientFundsException(Available.Round(), new Money(-a, Currency));
        return With(allocated: a, available: a);
    }

    private BudgetBalance ApproveRequest(LedgerEntry entry)
    {
        if (entry.Basis is not { } requested) throw new LedgerRuleException($"Entry {entry.Id} (RequestApproved) needs the requested amount as its basis.");
        if (entry.Amount.Amount > requested.Amount)
            throw new LedgerRuleException($"Entry {entry.Id} approves {entry.Amount}, more than the {requested} requested.");
        return With(pending: -requested.Amount, approved: entry.Amount.Amount, available: requested.Amount - entry.Amount.Amount);
    }

    private BudgetBalance ApproveClaim(LedgerEntry entry)
    {
        var claimed = entry.Basis ?? entry.Amount;
        if (entry.Amount.Amount > claimed.Amount)
            throw new LedgerRuleException($"Entry {entry.Id} approves {entry.Amount}, more than the {claimed} claimed.");
        if (claimed.Amount > Claimed.Amount)
            throw new LedgerRuleException($"Entry {entry.Id} settles a claim of {claimed}, more than the {Claimed.Round()} in review.");
        var difference = claimed.Amount - entry.Amount.Amount;
        return With(claimed: -difference, approved: difference);
    }

    private void Check(LedgerEntry entry, Money money, string what)
    {
        if (!string.Equals(money.Currency, Currency, StringComparison.Ordinal))
            throw new LedgerRuleException($"Entry {entry.Id} has its {what} in {money.Currency}; the budget is in {Currency}.");
        if (!MdfMoney.FitsMinorUnits(money.Amount, Currency))
            throw new LedgerRuleException($"Entry {entry.Id} has its {what} {money.Amount.ToString(CultureInfo.InvariantCulture)} finer than the minor unit of {Currency}.");
    }

    private BudgetBalance With(decimal allocated = 0, decimal available = 0, decimal pending = 0, decimal approved = 0, decimal claimed = 0, decimal paid = 0) => this with
    {
        Allocated = Allocated with { Amount = Allocated.Amount + allocated },
        Available = Available with { Amount = Available.Amount + available },
        Pending = Pending with { Amount = Pending.Amount + pending },
        Approved = Approved with { Amount = Approved.Amount + approved },
        Claimed = Claimed with { Amount = Claimed.Amount + claimed },
        Paid = Paid with { Amount = Paid.Amount + paid },
    };
}

/// <summary>
/// An in-memory, append-only budget ledger: the entries in sequence, the set of idempotency keys applied, and the
/// running balance. Storage persists <see cref="Entries"/> and rebuilds the balance with <see cref="Replay"/>.
/// </summary>
public sealed class BudgetLedger
{
    private readonly List<LedgerEntry> entries = [];
    private readonly HashSet<string> keys = new(StringComparer.Ordinal);

    /// <summary>An empty ledger in the currency.</summary>
    public BudgetLedger(string currency) => Balance = BudgetBalance.Empty(currency);

    /// <summary>The balance after every entry so far.</summary>
    public BudgetBalance Balance { get; private set; }

    /// <summary>The entries in sequence order.</summary>
    public IReadOnlyList<LedgerEntry> Entries => entries;

    /// <summary>The sequence number the next entry must carry.</summary>
    public long NextSequence => Balance.Sequence + 1;

    /// <summary>True when an entry with the key "{Kind}:{subject}" was already applied.</summary>
    public bool Contains(string key) => keys.Contains(key);

    /// <summary>True when an entry of the kind for the subject was already applied.</summary>
    public bool Contains(LedgerEntryKind kind, string subject) => keys.Contains(LedgerEntry.KeyFor(kind, subject));

    /// <summary>
    /// Applies the entry and returns the new balance. Throws <see cref="DuplicateLedgerEntryException"/> when its key was
    /// applied before, or what <see cref="BudgetBalance.Apply"/> throws; the ledger is unchanged after a refusal.
    /// </summary>
    public BudgetBalance Append(LedgerEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (keys.Contains(entry.Key)) throw new DuplicateLedgerEntryException(entry.Key);
        var next = Balance.Apply(entry);
        keys.Add(entry.Key);
        entries.Add(entry);
        Balance = next;
        return next;
    }

    /// <summary>Rebuilds a ledger from stored entries, applying every rule again (order, keys, invariant).</summary>
    public static BudgetLedger Load(string currency, IEnumerable<LedgerEntry> stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var ledger = new BudgetLedger(currency);
        foreach (var entry in stored.OrderBy(e => e.Sequence)) ledger.Append(entry);
        return ledger;
    }

    /// <summary>The balance the stored entries add up to, in sequence order; throws as <see cref="Append"/> does on a broken history.</summary>
    public static BudgetBalance Replay(string currency, IEnumerable<LedgerEntry> stored) => Load(currency, stored).Balance;
}
