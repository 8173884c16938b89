using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Outbox;
using Prm.Core.Partners;

namespace Prm.Core.Incentives;

/// <summary>What the ledger path read, given to the function that makes the input.</summary>
public sealed record LedgerView(string PartnerId, IncentiveProgram Program, LedgerState State, DateTimeOffset Now);

/// <summary>What a caller adds to the commit of its input: a payout row (If-Match), timeline entries and further outbox messages.</summary>
public sealed record LedgerExtras(Versioned<Payout>? Payout = null, IReadOnlyList<AuditEntry>? Audit = null, IReadOnlyList<OutboxMessage>? Outbox = null);

/// <summary>
/// The live path of the ledger: reads a partner's ledger of a program (head, balances, the deal's accrual, the input's key), applies one
/// input with <see cref="IncentiveLedgerRules.Apply"/> and commits the step as one transaction of the partner's partition, with the input
/// itself (the source log a recompute folds), its idempotency key row, the events and what the caller adds. A redelivered input (its key
/// applied) changes nothing; a lost race (the head's ETag) reads again and decides again. Before a transaction joins a period, the partner
/// is recorded as a member of it and the period is checked still open, so a close never misses a partner or a late transaction.
/// </summary>
public sealed class IncentiveLedgers(IIncentiveStore store, IncentivePrograms programs, TimeProvider clock)
{
    /// <summary>Applies the input that <paramref name="make"/> builds (null: nothing to apply). Returns the step, or null when the key was applied before.</summary>
    public Task<LedgerStep?> RunAsync(string partnerId, string programId, string key, string? dealId, Func<LedgerView, Task<IncentiveInput?>> make,
        Func<LedgerView, LedgerStep, LedgerExtras>? extras, CancellationToken ct) =>
        ReadDecideCommit.RunAsync<LedgerStep?>(async _ =>
        {
            var readTask = store.ReadLedgerAsync(partnerId, programId, dealId, key, ct);
            var programTask = programs.CachedAsync(programId, ct);
            await Task.WhenAll(readTask, programTask);
            var read = await readTask;
            if (read.KeyApplied) return null;
            var program = await programTask;
            var state = new LedgerState(partnerId, programId, program.Currency, read.Sequence, read.Periods.ToDictionary(p => p.Period, StringComparer.Ordinal),
                read.Deal is { } d ? new Dictionary<string, DealAccrual>(StringComparer.Ordinal) { [d.DealId] = d } : new Dictionary<string, DealAccrual>(StringComparer.Ordinal));
            var view = new LedgerView(partnerId, program, state, clock.GetUtcNow());
            var made = await make(view);
            if (made is null) return null;
            var input = made with { Sequence = read.Sequence + 1, ProgramVersion = program.Version };
            var known = new Dictionary<int, IncentiveProgram> { [program.Version] = program };
            foreach (var v in read.Periods.Select(p => p.ClosedVersion).OfType<int>().Distinct().Where(v => !known.ContainsKey(v)))
                known[v] = await programs.VersionAsync(programId, v, ct);
            LedgerStep step;
            try
            {
                step = IncentiveLedgerRules.Apply(state, input, v => known[v]);
            }
            catch (Exception ex) when (ex is ValidationFailedException or ConflictException)
            {
                // The reads ran side by side, so the key row may predate a commit the balances already show (a concurrent retry of the same
                // input): when the key is applied now, this input was applied — not refused.
                if ((await store.ReadLedgerAsync(partnerId, programId, null, key, ct)).KeyApplied) return null;
                throw;
            }
            if (!step.Changed) return step;
            await JoinPeriodsAsync(partnerId, program, input, step, ct);
            var more = extras?.Invoke(view, step) ?? new LedgerExtras();
            var outbox = new List<OutboxMessage>();
            foreach (var e in step.Entries.Where(e => e.Kind is EntryKinds.Accrued or EntryKinds.Reversed))
                outbox.Add(OutboxMessage.ForEvent(IncentiveEvents.Entry(e, program, program.CutoffOf(program.ParsePeriod(e.Period)!))));
            if (input.Kind == InputKinds.Close)
            {
                foreach (var closed in step.Periods.Where(p => p.Closed && p.Period == input.Period)) outbox.Add(OutboxMessage.ForEvent(IncentiveEvents.Closed(partnerId, program, closed, input.At)));
            }
            outbox.AddRange(more.Outbox ?? []);
            await store.CommitLedgerAsync(new LedgerCommit(partnerId, programId, program.Currency, read.HeadETag, step, more.Payout, new ChangeSet(more.Audit ?? [], outbox)), ct);
            return step;
        }, attempts: 10, pause: ReadDecideCommit.Jitter(25), ct: ct);

    /// <summary>
    /// Before new money joins a period (an accrual, a reversal carried into a later period, an adjustment): the partner becomes a member of
    /// the period (so its close visits the partner) and the period must still be open — when its close began meanwhile, the input is decided
    /// again (the loop's 412), now knowing the period is closing.
    /// </summary>
    private async Task JoinPeriodsAsync(string partnerId, IncentiveProgram program, IncentiveInput input, LedgerStep step, CancellationToken ct)
    {
        var joining = step.Entries.Where(e => e.Kind is EntryKinds.Accrued or EntryKinds.Adjusted || (e.Kind == EntryKinds.Reversed && e.OriginPeriod is not null))
            .Select(e => e.Period).Append(step.Deal?.AwaitingPeriod).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        foreach (var period in joining)
        {
            await store.AddMemberAsync(program.Id, period, partnerId, ct);
            if (input.Reprice) continue; // priced by the period's own close, which visits this member next
            var record = await EnsurePeriodAsync(program, period, ct);
            if (record.StatusValue != PeriodStatus.Open && !(input.ClosedPeriods?.Contains(period) ?? false))
            {
                if (input.Kind == InputKinds.Adjust) throw new ConflictException($"The period {period} is {record.Status.ToLowerInvariant()}: adjust an open period.", "period");
                throw new PreconditionFailedException($"The period {period} began closing meanwhile.");
            }
        }
    }

    /// <summary>
    /// The program's record of the period, created open (its cutoff from the current terms) when it does not exist yet, with
    /// incentive.periodOpened, which starts the period's close workflow.
    /// </summary>
    public async Task<PeriodRecord> EnsurePeriodAsync(IncentiveProgram program, string period, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (await store.GetPeriodAsync(program.Id, period, ct) is { } found) return found.Value;
            var p = program.ParsePeriod(period) ?? throw new NotFoundException("Period");
            var record = new PeriodRecord(program.Id, period, nameof(PeriodStatus.Open), program.CutoffOf(p), program.Currency);
            try
            {
                await store.SavePeriodAsync(record, null, new ChangeSet([], [OutboxMessage.ForEvent(IncentiveEvents.Opened(record, clock.GetUtcNow()))]), ct);
                return record;
            }
            catch (ConflictException) when (attempt < 3)
            {
                // Created by someone else meanwhile: read it.
            }
        }
    }

    /// <summary>The periods of the program whose close began (closing or closed), from <paramref name="from"/> on.</summary>
    public async Task<IReadOnlyList<string>> ClosedPeriodsAsync(string programId, string from, CancellationToken ct) =>
        (await store.PeriodsAsync(programId, ct)).Where(r => r.StatusValue != PeriodStatus.Open && string.CompareOrdinal(r.Period, from) >= 0).Select(r => r.Period).ToList();

    /// <summary>
    /// Recomputes the partner's ledger of the program from its stored inputs and the program versions they name, and compares it with the
    /// stored entries and balances: equal when the ledger is exactly what its source events make.
    /// </summary>
    public async Task<RecomputeResult> RecomputeAsync(string partnerId, string programId, CancellationToken ct)
    {
        var inputs = await store.InputsAsync(partnerId, programId, ct);
        var program = await programs.CurrentAsync(programId, ct);
        var known = new Dictionary<int, IncentiveProgram>();
        foreach (var v in inputs.Select(i => i.ProgramVersion).Distinct()) known[v] = await programs.VersionAsync(programId, v, ct);
        var (state, entries) = IncentiveLedgerRules.Replay(partnerId, programId, program.Currency, inputs, v => known[v]);
        var stored = await store.EntriesAsync(partnerId, programId, null, ct);
        var balances = await store.BalancesAsync(partnerId, programId, ct);
        var storedBalances = balances.Select(b => b.Balance).OrderBy(b => b.Period, StringComparer.Ordinal).ToList();
        var recomputed = state.Periods.Values.OrderBy(b => b.Period, StringComparer.Ordinal).ToList();
        return new RecomputeResult(inputs.Count, Ordered(entries), Ordered(stored), recomputed, storedBalances);
    }

    private static IReadOnlyList<IncentiveEntry> Ordered(IEnumerable<IncentiveEntry> entries) =>
        entries.OrderBy(e => e.Period, StringComparer.Ordinal).ThenBy(e => e.Sequence).ToList();
}

/// <summary>A recompute next to what is stored.</summary>
public sealed record RecomputeResult(int Inputs, IReadOnlyList<IncentiveEntry> Recomputed, IReadOnlyList<IncentiveEntry> Stored, IReadOnlyList<PeriodBalance> RecomputedBalances,
    IReadOnlyList<PeriodBalance> StoredBalances)
{
    public bool Matches => Recomputed.SequenceEqual(Stored) && RecomputedBalances.SequenceEqual(StoredBalances);
}
