using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Outbox;
using Prm.Core.Partners;

namespace Prm.Core.Incentives;

/// <summary>A program's period as the API shows it.</summary>
public sealed record PeriodDto(string ProgramId, string Period, string Status, DateTimeOffset CutoffAt, string Currency, DateTimeOffset? ClosingSince, string? ClosingBy,
    DateTimeOffset? ClosedAt, int Partners, Money? Final, Money? Earned)
{
    public static PeriodDto From(PeriodRecord r) => new(r.ProgramId, r.Period, r.Status, r.CutoffAt, r.Currency, r.ClosingSince, r.ClosingBy, r.ClosedAt, r.Partners,
        r.Final is { } f ? new Money(f, r.Currency) : null, r.Earned is { } e ? new Money(e, r.Currency) : null);
}

/// <summary>
/// Period close. Each program period has one close workflow (instance per program and period) that waits until the period's cutoff (end +
/// cutoffGraceDays) and then closes it for every partner with a ledger in it: the final amount (rerate), the statement, the event. An
/// admin may begin the close earlier once the period has ended; transactions then stop joining it at once. The record's status, changed
/// with its ETag, decides which of two concurrent closes runs (the other gets 409); every partner's close is idempotent (its key).
/// </summary>
public sealed class IncentiveCloses(IIncentiveStore store, IncentivePrograms programs, IncentiveLedgers ledgers, Tiers.FxRates fx, TimeProvider clock) : IIncentiveCloseSteps
{
    /// <summary>How many partners' ledgers close side by side.</summary>
    public const int Parallelism = 8;

    public async Task<PeriodDto> GetAsync(Caller caller, string programId, string period, CancellationToken ct)
    {
        var program = (await programs.GetAsync(caller, programId, null, ct)).Value;
        var p = program.ParsePeriod(period) ?? throw new NotFoundException("Period");
        var record = (await store.GetPeriodAsync(programId, p.Text, ct))?.Value ?? new PeriodRecord(programId, p.Text, nameof(PeriodStatus.Open), program.CutoffOf(p), program.Currency);
        return PeriodDto.From(record);
    }

    /// <summary>
    /// An admin begins the close of an ended period now (before its cutoff): 409 before the period ends, or when its close began already.
    /// The commit emits incentive.periodClosing, which wakes (or starts) the period's close workflow.
    /// </summary>
    public async Task<PeriodDto> RequestCloseAsync(Caller caller, string programId, string period, CancellationToken ct)
    {
        if (!caller.IsAdmin) throw new ForbiddenException("Only program admins close a period.");
        var program = await programs.CurrentAsync(programId, ct);
        var p = program.ParsePeriod(period) ?? throw new NotFoundException("Period");
        var now = clock.GetUtcNow();
        if (now < p.EndsAt) throw new ConflictException($"The period {p.Text} ends at {p.EndsAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC; it cannot close before.", "period");
        return await ReadDecideCommit.RunAsync(async _ =>
        {
            var found = await store.GetPeriodAsync(programId, p.Text, ct);
            var record = found?.Value ?? new PeriodRecord(programId, p.Text, nameof(PeriodStatus.Open), program.CutoffOf(p), program.Currency);
            if (record.StatusValue == PeriodStatus.Closed) throw new ConflictException($"The period {p.Text} was closed at {record.ClosedAt?.UtcDateTime:yyyy-MM-dd HH:mm} UTC.", "period");
            if (record.StatusValue == PeriodStatus.Closing) throw new ConflictException($"The close of {p.Text} began at {record.ClosingSince?.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC ({record.ClosingBy}); it runs once.", "period");
            var closing = record with { Status = nameof(PeriodStatus.Closing), ClosingSince = now, ClosingBy = caller.DisplayName };
            var audit = new AuditEntry(Ids.New("aud"), now, caller.UserId, caller.DisplayName, "incentive.period.closing", "incentiveProgram", programId,
                [new FieldChange("periods." + p.Text, record.Status, closing.Status)]);
            try
            {
                await store.SavePeriodAsync(closing, found?.ETag, new ChangeSet([audit], [OutboxMessage.ForEvent(IncentiveEvents.Closing(closing))]), ct);
            }
            catch (ConflictException)
            {
                throw new PreconditionFailedException("The period record was created meanwhile.");
            }
            return PeriodDto.From(closing);
        }, attempts: 3, ct: ct);
    }

    /// <summary>
    /// Deals of the period that awaited an FX rate are priced again just before the partner's close, with the rates the table holds now:
    /// one deal input each (keyed by the deal and period, so a retried close prices once). Still missing: they stay not counted, named.
    /// </summary>
    private async Task RepriceAsync(string partnerId, string programId, string period, DateTimeOffset at, CancellationToken ct)
    {
        var awaiting = (await store.DealsAsync(partnerId, programId, ct)).Where(d => d.AwaitingPeriod == period && d.AwaitingFx is { FxMonth: not null }).ToList();
        if (awaiting.Count == 0) return;
        var table = await fx.TableAsync(awaiting.Select(d => d.AwaitingFx!.FxMonth!).Distinct(StringComparer.Ordinal), ct);
        foreach (var d in awaiting)
        {
            var f = d.AwaitingFx!;
            await ledgers.RunAsync(partnerId, programId, $"fx:{d.DealId}:{period}", d.DealId, view =>
            {
                var facts = f with { DealRate = table.Rate(f.FxMonth!, f.WonAmount!.Value.Currency), ProgramRate = table.Rate(f.FxMonth!, view.Program.Currency) };
                return Task.FromResult<IncentiveInput?>(facts.DealRate is null || facts.ProgramRate is null ? null
                    : new IncentiveInput(InputKinds.Deal, $"fx:{d.DealId}:{period}", at, view.Program.Version, "PrmFunctions", facts, []) { Reprice = true });
            }, null, ct);
        }
    }

    public async Task<DateTimeOffset?> CutoffAsync(string programId, string period, CancellationToken ct)
    {
        var program = await programs.CurrentAsync(programId, ct);
        var p = program.ParsePeriod(period);
        if (p is null) return null;
        var record = (await store.GetPeriodAsync(programId, p.Text, ct))?.Value;
        if (record?.StatusValue == PeriodStatus.Closed) return null;
        return record?.StatusValue == PeriodStatus.Closing ? record.ClosingSince ?? clock.GetUtcNow() : program.CutoffOf(p);
    }

    /// <summary>
    /// The close step (idempotent): not yet when the period's cutoff under the current terms is ahead and no admin began the close; otherwise
    /// the record becomes Closing (nothing new joins the period), every member's ledger closes (final amount, rerate, event), the record
    /// becomes Closed with the totals.
    /// </summary>
    public async Task<CloseResult> CloseAsync(string programId, string period, CancellationToken ct)
    {
        var program = await programs.CurrentAsync(programId, ct);
        var p = program.ParsePeriod(period) ?? throw new NotFoundException("Period");
        var record = await ReadDecideCommit.RunAsync(async _ =>
        {
            var now = clock.GetUtcNow();
            var found = await store.GetPeriodAsync(programId, p.Text, ct);
            var current = found?.Value ?? new PeriodRecord(programId, p.Text, nameof(PeriodStatus.Open), program.CutoffOf(p), program.Currency);
            if (current.StatusValue != PeriodStatus.Open) return current;
            var cutoff = program.CutoffOf(p);
            if (now < cutoff) return current with { CutoffAt = cutoff };
            var closing = current with { Status = nameof(PeriodStatus.Closing), ClosingSince = now, ClosingBy = "PrmFunctions", CutoffAt = cutoff };
            try
            {
                await store.SavePeriodAsync(closing, found?.ETag, new ChangeSet([], []), ct);
            }
            catch (ConflictException)
            {
                throw new PreconditionFailedException("The period record was created meanwhile.");
            }
            return closing;
        }, attempts: 5, pause: ReadDecideCommit.Jitter(25), ct: ct);
        if (record.StatusValue == PeriodStatus.Open) return new CloseResult(false, record.CutoffAt, 0, 0, 0);
        if (record.StatusValue == PeriodStatus.Closed) return new CloseResult(true, null, record.Partners, record.Final ?? 0, record.Earned ?? 0);

        var closedAt = record.ClosingSince ?? clock.GetUtcNow();
        var done = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            var members = (await store.MembersAsync(programId, p.Text, ct)).Where(m => !done.Contains(m)).ToList();
            if (members.Count == 0) break;
            await Parallel.ForEachAsync(members, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct }, async (partnerId, token) =>
            {
                await RepriceAsync(partnerId, programId, p.Text, closedAt, token);
                await ledgers.RunAsync(partnerId, programId, "close:" + p.Text, null, view =>
                    Task.FromResult<IncentiveInput?>(new IncentiveInput(InputKinds.Close, "close:" + p.Text, closedAt, view.Program.Version, "PrmFunctions", Period: p.Text)), null, token);
            });
            foreach (var m in members) done.Add(m);
        }
        var balances = await Task.WhenAll(done.Select(async partnerId => (await store.BalancesAsync(partnerId, programId, ct)).FirstOrDefault(b => b.Balance.Period == p.Text)?.Balance));
        var final = balances.OfType<PeriodBalance>().Sum(b => b.Final ?? 0m);
        var earned = balances.OfType<PeriodBalance>().Sum(b => b.Earned);
        await ReadDecideCommit.RunAsync(async _ =>
        {
            var found = await store.GetPeriodAsync(programId, p.Text, ct) ?? throw new InvalidOperationException("The period record vanished.");
            if (found.Value.StatusValue == PeriodStatus.Closed) return;
            await store.SavePeriodAsync(found.Value with { Status = nameof(PeriodStatus.Closed), ClosedAt = clock.GetUtcNow(), Partners = done.Count, Final = final, Earned = earned },
                found.ETag, new ChangeSet([], []), ct);
        }, attempts: 5, pause: ReadDecideCommit.Jitter(25), ct: ct);
        return new CloseResult(true, null, done.Count, final, earned);
    }
}
