using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Prm.Core.Common;

namespace Prm.Core.Incentives;

/// <summary>The kinds of ledger entry.</summary>
public static class EntryKinds
{
    /// <summary>A qualifying won deal earned money (a rebate at the rate reached so far, or a SPIF's fixed amount).</summary>
    public const string Accrued = "accrued";

    /// <summary>A won deal was lost or its outcome changed: its accrual goes back (in a closed period's case, a negative entry in the next open period).</summary>
    public const string Reversed = "reversed";

    /// <summary>Period close: the final rebate of the period's total (retrospective slabs, cap, rounding) minus what was accrued.</summary>
    public const string Rerated = "rerated";

    /// <summary>An admin's signed correction with a reason (open periods only).</summary>
    public const string Adjusted = "adjusted";

    /// <summary>A payout was paid out of the period's payable balance (a negative amount: every entry of a period adds up to its payable balance).</summary>
    public const string Paid = "paid";
}

/// <summary>The deal an entry is about, as the ledger counted it: its amount in the deal's currency and its value in the program's.</summary>
public sealed record EntryDeal(string DealId, string RegistrationNumber, string Customer, DateOnly? CloseDate, Money? Amount, decimal Value, decimal? FxRate);

/// <summary>
/// One append-only movement of a partner's ledger of one program and period. <see cref="Sequence"/> runs 1, 2, … per period without gaps;
/// <see cref="Source"/> is the position of the input (source event) that made it; <see cref="Id"/> follows from partner, program, period
/// and sequence, so a recompute reproduces the entry exactly.
/// </summary>
public sealed record IncentiveEntry(
    string Id, string PartnerId, string ProgramId, string Period, long Sequence, string Kind, Money Amount, string Subject, DateTimeOffset At, string By,
    int ProgramVersion, long Source, EntryDeal? Deal = null, decimal? Rate = null, decimal? Basis = null, string? PayeeId = null, string? PayeeName = null,
    string? OriginPeriod = null, string? Reason = null);

/// <summary>
/// A partner's balance of one program and period. Rebate = accrued + reversed + rerated (the period's own deals); earned = rebate +
/// carried (reversals of deals of closed periods) + adjusted; payable = earned − paid. <see cref="Basis"/> is the won value counted (program
/// currency); a closed period keeps its <see cref="Final"/> rebate and the version it closed with; <see cref="ClawedBasis"/> is the value of
/// its deals reversed after the close (each such reversal is a negative entry of a later period).
/// </summary>
public sealed record PeriodBalance
{
    public required string Period { get; init; }
    public required string Currency { get; init; }
    public decimal Basis { get; init; }
    public decimal Accrued { get; init; }
    public decimal Reversed { get; init; }
    public decimal Rerated { get; init; }
    public decimal Carried { get; init; }
    public decimal Adjusted { get; init; }
    public decimal Paid { get; init; }
    public long Sequence { get; init; }
    public bool Closed { get; init; }
    public decimal? Final { get; init; }
    public int? ClosedVersion { get; init; }
    public DateTimeOffset? ClosedAt { get; init; }
    public decimal ClawedBasis { get; init; }

    public decimal Rebate => Accrued + Reversed + Rerated;
    public decimal Earned => Rebate + Carried + Adjusted;
    public decimal Payable => Earned - Paid;

    public static PeriodBalance Empty(string period, string currency) => new() { Period = period, Currency = currency };
}

/// <summary>
/// Where a deal's accrual lives (null period: not counted, with the reason in <see cref="Note"/>) and what it counted. A deal that would
/// count but for a missing FX rate awaits it: <see cref="AwaitingFx"/> keeps its facts and <see cref="AwaitingPeriod"/> the period it
/// belongs to; that period's close prices it again with the rates then known (still missing: not counted, named on the statement).
/// </summary>
public sealed record DealAccrual(string DealId, string? Period, decimal Value, decimal Accrued, DateTimeOffset LastEventAt, string? PayeeId, string? PayeeName, string? Note, EntryDeal? Deal,
    DealFacts? AwaitingFx = null, string? AwaitingPeriod = null);

/// <summary>The kinds of ledger input (source event).</summary>
public static class InputKinds
{
    public const string Deal = "deal";
    public const string Close = "close";
    public const string Adjust = "adjust";
    public const string Paid = "paid";
}

/// <summary>
/// A deal as a source event saw it: its status, won amount, close date and when the outcome was recorded, product lines, who registered
/// it, the partner's tier and region at the time, and the FX rates of its close month (units of the FX table's base currency per unit of
/// the deal's and of the program's currency; null when the table had none).
/// </summary>
public sealed record DealFacts(
    string DealId, string RegistrationNumber, string Customer, string Status, Money? WonAmount, DateOnly? CloseDate, DateTimeOffset? RecordedAt,
    IReadOnlyList<string> Products, string SubmittedBy, string SubmittedByName, string PartnerTier, string PartnerRegion, decimal? DealRate, decimal? ProgramRate, string? FxMonth);

/// <summary>
/// One input of a partner's ledger of a program, stored in order (its <see cref="Sequence"/>) with the program version it was applied
/// with: a deal event, a period close, an admin's adjustment, a payout paid. <see cref="Key"/> is its idempotency key (evt:{eventId},
/// close:{period}, adj:{id}, paid:{payoutId}). For a deal, <see cref="ClosedPeriods"/> are the periods the program had begun to close when
/// it was applied (a transaction never joins one).
/// </summary>
public sealed record IncentiveInput(string Kind, string Key, DateTimeOffset At, int ProgramVersion, string By, DealFacts? Deal = null,
    IReadOnlyList<string>? ClosedPeriods = null, string? Period = null, decimal? Amount = null, string? Reason = null)
{
    public long Sequence { get; init; }

    /// <summary>A deal that awaited an FX rate, priced again by its period's close (just before the close, with the rates then known).</summary>
    public bool Reprice { get; init; }
}

/// <summary>A partner's ledger of one program: the inputs applied so far, the balances of its periods, where each deal's accrual lives.</summary>
public sealed record LedgerState(string PartnerId, string ProgramId, string Currency, long Sequence, IReadOnlyDictionary<string, PeriodBalance> Periods, IReadOnlyDictionary<string, DealAccrual> Deals)
{
    public static LedgerState Empty(string partnerId, string programId, string currency) =>
        new(partnerId, programId, currency, 0, new Dictionary<string, PeriodBalance>(StringComparer.Ordinal), new Dictionary<string, DealAccrual>(StringComparer.Ordinal));

    public PeriodBalance Balance(string period) => Periods.TryGetValue(period, out var b) ? b : PeriodBalance.Empty(period, Currency);
}

/// <summary>What one input did: its entries, the balances and deal it changed (empty: it changed nothing and is not recorded).</summary>
public sealed record LedgerStep(IncentiveInput Input, IReadOnlyList<IncentiveEntry> Entries, IReadOnlyList<PeriodBalance> Periods, DealAccrual? Deal)
{
    public bool Changed => Entries.Count > 0 || Periods.Count > 0 || Deal is not null;
}

/// <summary>
/// The incentive ledger rules. Pure: the live path applies one input to the state it read and commits the step; a recompute folds every
/// stored input from an empty state with the same function, so it reproduces the ledger exactly.
/// </summary>
public static class IncentiveLedgerRules
{
    /// <summary>A deterministic entry id: a recompute gives the same ids.</summary>
    public static string EntryId(string partnerId, string programId, string period, long sequence) =>
        "ine_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{partnerId}|{programId}|{period}|{sequence}")))[..32];

    /// <summary>Applies <paramref name="input"/> (its Sequence the next of the state) with the program version it names.</summary>
    public static LedgerStep Apply(LedgerState state, IncentiveInput input, Func<int, IncentiveProgram> versions)
    {
        var b = new StepBuilder(state, input, versions);
        switch (input.Kind)
        {
            case InputKinds.Deal: b.Deal(); break;
            case InputKinds.Close: b.Close(); break;
            case InputKinds.Adjust: b.Adjust(); break;
            case InputKinds.Paid: b.Pay(); break;
            default: throw new ArgumentException($"Unknown ledger input kind {input.Kind}.", nameof(input));
        }
        return b.Step();
    }

    /// <summary>The state after the step (for folding).</summary>
    public static LedgerState After(LedgerState state, LedgerStep step)
    {
        if (!step.Changed) return state;
        var periods = new Dictionary<string, PeriodBalance>(state.Periods, StringComparer.Ordinal);
        foreach (var p in step.Periods) periods[p.Period] = p;
        var deals = new Dictionary<string, DealAccrual>(state.Deals, StringComparer.Ordinal);
        if (step.Deal is { } d) deals[d.DealId] = d;
        return state with { Sequence = step.Input.Sequence, Periods = periods, Deals = deals };
    }

    /// <summary>
    /// Recomputes a ledger from its inputs in order and the program versions: the entries of every period and the final state. Equal to
    /// the stored ledger when nothing was lost, duplicated or changed.
    /// </summary>
    public static (LedgerState State, IReadOnlyList<IncentiveEntry> Entries) Replay(string partnerId, string programId, string currency, IEnumerable<IncentiveInput> inputs,
        Func<int, IncentiveProgram> versions)
    {
        var state = LedgerState.Empty(partnerId, programId, currency);
        var entries = new List<IncentiveEntry>();
        foreach (var input in inputs.OrderBy(i => i.Sequence))
        {
            if (input.Sequence != state.Sequence + 1) throw new InvalidOperationException($"Input {input.Sequence} follows {state.Sequence}: the source log has a gap.");
            var step = Apply(state, input, versions);
            entries.AddRange(step.Entries);
            state = After(state, step) with { Sequence = input.Sequence };
        }
        return (state, entries);
    }

    /// <summary>
    /// Values a won deal in the program currency: its amount when the currencies agree, otherwise through the FX table's base at its close
    /// month (deal rate / program rate), rounded half-even once. Null when a rate is missing (never guessed).
    /// </summary>
    public static decimal? ValueOf(DealFacts f, string programCurrency)
    {
        if (f.WonAmount is not { } amount) return null;
        if (amount.Currency == programCurrency) return amount.Amount;
        if (f.DealRate is not { } dealRate || f.ProgramRate is not { } programRate || programRate == 0) return null;
        return new Money(amount.Amount * dealRate / programRate, programCurrency).Round().Amount;
    }

    /// <summary>Whether the program counts the deal, and its value when it does; otherwise why not.</summary>
    public static (decimal? Value, string? Why) Qualify(IncentiveProgram program, DealFacts f) => Check(program, f, out _);

    /// <summary>True when the program would count the deal but for a missing FX rate of its close month.</summary>
    public static bool AwaitsRate(IncentiveProgram program, DealFacts f)
    {
        Check(program, f, out var fxMissing);
        return fxMissing;
    }

    private static (decimal? Value, string? Why) Check(IncentiveProgram program, DealFacts f, out bool fxMissing)
    {
        fxMissing = false;
        if (f.Status != "Won" || f.WonAmount is null || f.CloseDate is not { } closeDate) return (null, "not won");
        if (!program.Active) return (null, "the program is inactive");
        if (!program.Runs(closeDate)) return (null, "closed outside the program's run");
        if (!program.Eligibility.Admits(f.PartnerTier, f.PartnerRegion, f.Products)) return (null, "not eligible (tier, region or product line)");
        if (ValueOf(f, program.Currency) is not { } value)
        {
            fxMissing = true;
            return (null, $"No FX rate for {(f.DealRate is null ? f.WonAmount.Value.Currency : program.Currency)} in {f.FxMonth}: not counted");
        }
        if (program.Spif is { } spif)
        {
            if (spif.ProductLines.Count > 0 && !f.Products.Any(p => spif.ProductLines.Contains(p, StringComparer.Ordinal))) return (null, "no product line of the SPIF");
            if (value < spif.MinValue) return (null, $"below the SPIF's minimum value {spif.MinValue.ToString(CultureInfo.InvariantCulture)}");
            if (closeDate < spif.From || closeDate > spif.To) return (null, "closed outside the SPIF's window");
        }
        return (value, null);
    }

    private sealed class StepBuilder(LedgerState state, IncentiveInput input, Func<int, IncentiveProgram> versions)
    {
        private readonly Dictionary<string, PeriodBalance> changed = new(StringComparer.Ordinal);
        private readonly List<IncentiveEntry> entries = [];
        private readonly IncentiveProgram program = versions(input.ProgramVersion);
        private DealAccrual? deal;

        public LedgerStep Step() => new(input, entries, changed.Values.ToList(), deal);

        private PeriodBalance Get(string period) => changed.TryGetValue(period, out var b) ? b : state.Balance(period);

        private void Set(PeriodBalance b) => changed[b.Period] = b;

        private IncentiveEntry Add(string period, string kind, decimal amount, string subject, decimal basisDelta = 0, EntryDeal? d = null, decimal? rate = null,
            string? payeeId = null, string? payeeName = null, string? origin = null, string? reason = null)
        {
            var b = Get(period);
            var seq = b.Sequence + 1;
            b = kind switch
            {
                EntryKinds.Accrued => b with { Accrued = b.Accrued + amount },
                EntryKinds.Reversed when origin is null => b with { Reversed = b.Reversed + amount },
                EntryKinds.Reversed => b with { Carried = b.Carried + amount },
                EntryKinds.Rerated => b with { Rerated = b.Rerated + amount },
                EntryKinds.Adjusted => b with { Adjusted = b.Adjusted + amount },
                EntryKinds.Paid => b with { Paid = b.Paid - amount },
                _ => throw new ArgumentException($"Unknown entry kind {kind}."),
            };
            b = b with { Sequence = seq, Basis = b.Basis + basisDelta };
            Set(b);
            var entry = new IncentiveEntry(EntryId(state.PartnerId, state.ProgramId, period, seq), state.PartnerId, state.ProgramId, period, seq, kind,
                new Money(amount, state.Currency), subject, input.At, input.By, input.ProgramVersion, input.Sequence, d, rate, b.Basis, payeeId, payeeName, origin, reason);
            entries.Add(entry);
            return entry;
        }

        private bool ClosedForNew(IncentivePeriod p) => Get(p.Text).Closed || (input.ClosedPeriods?.Contains(p.Text) ?? false);

        /// <summary>The first period from <paramref name="start"/> on that is open and whose cutoff (end + grace) is not before <paramref name="recorded"/>.</summary>
        private IncentivePeriod Place(IncentivePeriod start, DateTimeOffset recorded)
        {
            var p = start;
            for (var i = 0; i < 2000; i++, p = IncentivePeriods.Next(p))
            {
                if (!ClosedForNew(p) && recorded <= program.CutoffOf(p)) return p;
            }
            throw new InvalidOperationException("No open period found within 2000 periods.");
        }

        public void Deal()
        {
            var f = input.Deal ?? throw new ArgumentException("A deal input carries the deal's facts.");
            var prior = state.Deals.GetValueOrDefault(f.DealId);
            if (prior is not null && input.At < prior.LastEventAt) return; // an older event delivered late: the newer one was applied
            var (value, why) = Check(program, f, out var awaiting);
            var spifToPerson = program.Spif?.PayeeValue == SpifPayee.RegisteringPerson;
            var (payeeId, payeeName) = spifToPerson ? (f.SubmittedBy, f.SubmittedByName) : ((string?)null, (string?)null);
            var fx = f.WonAmount is { } won && won.Currency != program.Currency && f.DealRate is { } dr && f.ProgramRate is { } pr && pr != 0 ? dr / pr : (decimal?)null;
            var info = new EntryDeal(f.DealId, f.RegistrationNumber, f.Customer, f.CloseDate, f.WonAmount, value ?? 0m, fx);
            if (prior?.Period is not null && value is { } same && same == prior.Value && prior.Deal?.CloseDate == f.CloseDate && prior.PayeeId == payeeId
                && prior.Deal?.Amount == f.WonAmount)
            {
                return; // counted as it is (a redelivered or unrelated change of the registration)
            }
            if (prior?.Period is null && value is null && !awaiting)
            {
                // Never counted and still not: nothing to record — unless it awaited a rate, which it no longer does.
                if (prior?.AwaitingFx is not null) deal = prior with { AwaitingFx = null, AwaitingPeriod = null, Note = why, LastEventAt = input.At };
                return;
            }
            if (prior?.Period is { } p0) Reverse(prior, p0);
            if (value is { } v)
            {
                var dated = program.PeriodOf(f.CloseDate!.Value);
                var target = Place(dated, f.RecordedAt ?? input.At);
                var b = Get(target.Text);
                decimal amount;
                decimal? rate = null;
                if (program.Spif is { } spif) amount = spif.Amount;
                else
                {
                    var terms = program.Rebate!;
                    var after = b.Basis + v;
                    rate = SlabMath.RateAt(terms.Slabs, after);
                    amount = terms.MethodValue == RebateMethod.Retrospective
                        ? new Money(v * rate.Value / 100m, state.Currency).Round().Amount
                        : SlabMath.Rebate(terms.Slabs, RebateMethod.Prospective, null, after, state.Currency) - SlabMath.Rebate(terms.Slabs, RebateMethod.Prospective, null, b.Basis, state.Currency);
                    if (terms.Cap is { } cap) amount = Math.Max(0m, Math.Min(amount, cap - b.Rebate));
                }
                Add(target.Text, EntryKinds.Accrued, amount, f.DealId + "@" + input.Sequence.ToString(CultureInfo.InvariantCulture), v, info, rate, payeeId, payeeName);
                deal = new DealAccrual(f.DealId, target.Text, v, amount, input.At, payeeId, payeeName, null, info);
            }
            else if (awaiting)
            {
                var target = Place(program.PeriodOf(f.CloseDate!.Value), f.RecordedAt ?? input.At);
                Set(Get(target.Text)); // the period's balance exists: its statement names the deal
                deal = new DealAccrual(f.DealId, null, 0m, 0m, input.At, payeeId, payeeName, why, info, f, target.Text);
            }
            else
            {
                deal = new DealAccrual(f.DealId, null, 0m, 0m, input.At, null, null, why, info);
            }
        }

        private void Reverse(DealAccrual prior, string p0)
        {
            var origin = Get(p0);
            var subject = prior.DealId + "@" + input.Sequence.ToString(CultureInfo.InvariantCulture);
            if (!origin.Closed)
            {
                Add(p0, EntryKinds.Reversed, -prior.Accrued, subject, -prior.Value, prior.Deal, null, prior.PayeeId, prior.PayeeName);
                return;
            }
            // Paid or not, a closed period is final: the reversal is a negative entry of the next open period, the exact difference the
            // deal makes to the closed period's final amount (for a SPIF, its fixed amount).
            decimal claw;
            if (program.TypeValue == IncentiveType.Spif || origin.ClosedVersion is not { } closedWith) claw = -prior.Accrued;
            else
            {
                var terms = versions(closedWith).Rebate!;
                var counted = origin.Basis - origin.ClawedBasis;
                claw = SlabMath.Rebate(terms.Slabs, terms.MethodValue, terms.Cap, counted - prior.Value, state.Currency) - SlabMath.Rebate(terms.Slabs, terms.MethodValue, terms.Cap, counted, state.Currency);
            }
            Set(origin with { ClawedBasis = origin.ClawedBasis + prior.Value });
            var target = Place(IncentivePeriods.Next(program.ParsePeriod(p0) ?? throw new InvalidOperationException($"Period {p0} is not one of the program's.")), input.At);
            Add(target.Text, EntryKinds.Reversed, claw, subject, 0m, prior.Deal, null, prior.PayeeId, prior.PayeeName, origin: p0);
        }

        public void Close()
        {
            var period = input.Period ?? throw new ArgumentException("A close names its period.");
            var b = Get(period);
            if (b.Closed) return;
            decimal final;
            decimal? rate = null;
            if (program.Rebate is { } terms)
            {
                final = SlabMath.Rebate(terms.Slabs, terms.MethodValue, terms.Cap, b.Basis, state.Currency);
                if (terms.MethodValue == RebateMethod.Retrospective) rate = SlabMath.RateAt(terms.Slabs, b.Basis);
            }
            else final = b.Rebate;
            var rerate = final - b.Rebate;
            if (rerate != 0) Add(period, EntryKinds.Rerated, rerate, "close:" + period, 0m, null, rate, reason: RerateReason(b, final, rate));
            Set(Get(period) with { Closed = true, Final = final, ClosedVersion = input.ProgramVersion, ClosedAt = input.At });
        }

        private string RerateReason(PeriodBalance b, decimal final, decimal? rate) =>
            $"Period close: {Text(final)} final on {Text(b.Basis)} counted" + (rate is { } r ? $" at {r.ToString("0.####", CultureInfo.InvariantCulture)} %" : "") + $", {Text(b.Rebate)} accrued";

        private string Text(decimal d) => new Money(d, state.Currency).ToString();

        public void Adjust()
        {
            var period = input.Period ?? throw new ArgumentException("An adjustment names its period.");
            if (Get(period).Closed) throw new ConflictException($"The period {period} is closed: adjust an open period.", "period");
            Add(period, EntryKinds.Adjusted, input.Amount ?? 0m, input.Key, reason: input.Reason);
        }

        public void Pay()
        {
            var period = input.Period ?? throw new ArgumentException("A payment names its period.");
            var b = Get(period);
            if (!b.Closed) throw new ConflictException($"The period {period} is not closed yet: payouts follow the close.", "period");
            var amount = input.Amount ?? 0m;
            if (amount <= 0 || amount > b.Payable)
                throw new ValidationFailedException("amount", $"The payout of {new Money(amount, state.Currency)} is above the payable balance of {new Money(b.Payable, state.Currency)}.", unprocessable: true);
            Add(period, EntryKinds.Paid, -amount, input.Key, reason: input.Reason);
        }
    }
}
