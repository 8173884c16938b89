using Prm.Core.Common;
using Prm.Core.Partners;

namespace Prm.Core.Incentives;

/// <summary>Where a program's period stands: open (transactions join it), closing (its close began; nothing new joins), closed (final).</summary>
public enum PeriodStatus { Open, Closing, Closed }

/// <summary>
/// A program's period as a whole: its status, its cutoff (end + grace: when it closes by itself), who began an early close, and after
/// the close the number of partners and the totals in the program currency.
/// </summary>
public sealed record PeriodRecord(string ProgramId, string Period, string Status, DateTimeOffset CutoffAt, string Currency, DateTimeOffset? ClosingSince = null,
    string? ClosingBy = null, DateTimeOffset? ClosedAt = null, int Partners = 0, decimal? Final = null, decimal? Earned = null)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public PeriodStatus StatusValue => Enum.TryParse<PeriodStatus>(Status, out var s) ? s : PeriodStatus.Open;
}

/// <summary>A partner's balance of one program and period.</summary>
public sealed record ProgramBalance(string ProgramId, PeriodBalance Balance);

/// <summary>
/// What the ledger path reads before applying an input: the head (input count and ETag) — read before the rest, so nothing read is older
/// than the head the commit is guarded by — every period balance, the deal's accrual, whether the key was applied.
/// </summary>
public sealed record LedgerRead(long Sequence, string? HeadETag, IReadOnlyList<PeriodBalance> Periods, DealAccrual? Deal, bool KeyApplied);

/// <summary>
/// One transaction of a partner's incentive partition: the head (If-Match; the next input number), the input and its key row, the entries,
/// the balances and the deal it changed, a payout row (If-Match) when a payment is recorded, timeline and outbox rows. A lost race is 412.
/// </summary>
public sealed record LedgerCommit(string PartnerId, string ProgramId, string Currency, string? HeadETag, LedgerStep Step, Versioned<Payout>? Payout, ChangeSet Changes);

/// <summary>A partner-level flag: a US tax form (W-9) is on file, so payouts over the yearly threshold may be approved.</summary>
public sealed record TaxForm(string PartnerId, bool OnFile, string? FormType, string? Reference, string UpdatedBy, DateTimeOffset UpdatedAt);

/// <summary>Storage port of incentives: programs with their versions, period records and members, each partner's ledgers and payouts.</summary>
public interface IIncentiveStore
{
    Task<Versioned<IncentiveProgram>?> GetProgramAsync(string programId, CancellationToken ct);

    Task<IncentiveProgram?> GetVersionAsync(string programId, int version, CancellationToken ct);

    Task<IReadOnlyList<IncentiveProgram>> ListProgramsAsync(CancellationToken ct);

    /// <summary>Writes the program's current row (Add when <paramref name="etag"/> is null, else If-Match) and its immutable version row, in one transaction.</summary>
    Task<string> SaveProgramAsync(IncentiveProgram program, string? etag, ChangeSet changes, CancellationToken ct);

    Task<LedgerRead> ReadLedgerAsync(string partnerId, string programId, string? dealId, string key, CancellationToken ct);

    /// <summary>Commits one input (see <see cref="LedgerCommit"/>); 412 when the head or the payout changed meanwhile.</summary>
    Task CommitLedgerAsync(LedgerCommit commit, CancellationToken ct);

    /// <summary>The entries of a partner's ledger of the program (one period, or all), in period and sequence order.</summary>
    Task<IReadOnlyList<IncentiveEntry>> EntriesAsync(string partnerId, string programId, string? period, CancellationToken ct);

    /// <summary>The inputs (source events) of a partner's ledger of the program, in order.</summary>
    Task<IReadOnlyList<IncentiveInput>> InputsAsync(string partnerId, string programId, CancellationToken ct);

    /// <summary>The partner's balances (of one program, or of all).</summary>
    Task<IReadOnlyList<ProgramBalance>> BalancesAsync(string partnerId, string? programId, CancellationToken ct);

    /// <summary>Where each deal's accrual lives in the partner's ledger of the program.</summary>
    Task<IReadOnlyList<DealAccrual>> DealsAsync(string partnerId, string programId, CancellationToken ct);

    Task<Versioned<PeriodRecord>?> GetPeriodAsync(string programId, string period, CancellationToken ct);

    Task<IReadOnlyList<PeriodRecord>> PeriodsAsync(string programId, CancellationToken ct);

    /// <summary>Creates (null ETag; 409 as <see cref="ConflictException"/> when it exists) or replaces (If-Match; 412) a period record with its change set.</summary>
    Task<string> SavePeriodAsync(PeriodRecord record, string? etag, ChangeSet changes, CancellationToken ct);

    /// <summary>Records that the partner has a ledger in the program's period (the close visits every member); idempotent.</summary>
    Task AddMemberAsync(string programId, string period, string partnerId, CancellationToken ct);

    Task<IReadOnlyList<string>> MembersAsync(string programId, string period, CancellationToken ct);

    Task<Versioned<Payout>?> GetPayoutAsync(string partnerId, string payoutId, CancellationToken ct);

    Task<IReadOnlyList<Payout>> PayoutsAsync(string partnerId, CancellationToken ct);

    /// <summary>Creates (null ETag) or replaces (If-Match; 412) a payout with its change set.</summary>
    Task<string> SavePayoutAsync(Payout payout, string? etag, ChangeSet changes, CancellationToken ct);

    Task<Versioned<TaxForm>?> GetTaxFormAsync(string partnerId, CancellationToken ct);

    Task<string> SaveTaxFormAsync(TaxForm form, string? etag, ChangeSet changes, CancellationToken ct);
}

/// <summary>The port the period-close workflow calls.</summary>
public interface IIncentiveCloseSteps
{
    /// <summary>When the period closes by itself (its cutoff under the program's current terms), or null when it is closed already or unknown.</summary>
    Task<DateTimeOffset?> CutoffAsync(string programId, string period, CancellationToken ct);

    /// <summary>Closes the period for every partner with a ledger in it (idempotent); notYet with the new cutoff when it is not due (the grace grew).</summary>
    Task<CloseResult> CloseAsync(string programId, string period, CancellationToken ct);
}

/// <summary>What a close step did: closed (with the partners and totals), or not yet (when it is due).</summary>
public sealed record CloseResult(bool Closed, DateTimeOffset? NotBefore, int Partners, decimal Final, decimal Earned);
