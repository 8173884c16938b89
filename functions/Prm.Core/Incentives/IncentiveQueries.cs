using System.Globalization;
using System.Text;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Incentives;

/// <summary>A partner's balance of one program and period as the API shows it (money in the program currency).</summary>
public sealed record IncentiveBalanceDto(string ProgramId, string ProgramName, string Type, string Period, string Status, DateTimeOffset CutoffAt, string Currency,
    decimal Basis, decimal Accrued, decimal Reversed, decimal Rerated, decimal Carried, decimal Adjusted, decimal Paid, decimal Earned, decimal Payable, decimal? Final, DateTimeOffset? ClosedAt)
{
    public static IncentiveBalanceDto From(IncentiveProgram program, PeriodBalance b, PeriodRecord? record) => new(program.Id, program.Name, program.Type, b.Period,
        b.Closed ? nameof(PeriodStatus.Closed) : record?.Status ?? nameof(PeriodStatus.Open),
        record?.CutoffAt ?? program.CutoffOf(program.ParsePeriod(b.Period)!), b.Currency, b.Basis, b.Accrued, b.Reversed, b.Rerated, b.Carried, b.Adjusted, b.Paid, b.Earned, b.Payable,
        b.Final, b.ClosedAt);
}

/// <summary>GET …/ledger: the balance and the entries of one period, in sequence.</summary>
public sealed record IncentiveLedgerDto(string PartnerId, IncentiveBalanceDto Balance, IReadOnlyList<IncentiveEntry> Entries);

/// <summary>One line of a statement: a ledger entry with the deal it traces to (none for a close's rerate, an adjustment, a payment).</summary>
public sealed record StatementLine(long Sequence, string Kind, DateTimeOffset At, string? DealId, string? RegistrationNumber, string? Customer, DateOnly? CloseDate, Money? DealAmount,
    decimal? FxRate, decimal? Value, decimal? Rate, Money Amount, string? PayeeId, string? PayeeName, string? OriginPeriod, string? Reason);

/// <summary>A recompute of a partner's ledger of a program next to what is stored.</summary>
public sealed record RecomputeDto(string PartnerId, string ProgramId, int Inputs, int Entries, bool Matches, string? Difference);

/// <summary>A won deal of the period that is not counted because its close month has no FX rate for its (or the program's) currency: named, never guessed.</summary>
public sealed record NotCountedDeal(string DealId, string? RegistrationNumber, string? Customer, DateOnly? CloseDate, Money? Amount, string Reason);

/// <summary>What each payee earned in the period (a SPIF paid to registering people has one per person; otherwise the partner).</summary>
public sealed record PayeeTotal(string? PayeeId, string PayeeName, Money Earned);

/// <summary>
/// A partner's statement of one program and period: the terms it was computed with, the counted value, the final amount, the totals and
/// one line per ledger entry, each tracing to its deal. The lines add up to the totals: accrued + reversed + rerated + carried + adjusted =
/// earned; with the payments (negative lines), to payable = earned − paid.
/// </summary>
public sealed record StatementDto(string PartnerId, string PartnerName, string ProgramId, string ProgramName, string Type, string? Method, int ProgramVersion, string Period,
    string Status, string Currency, decimal Basis, decimal? Final, decimal Accrued, decimal Reversed, decimal Rerated, decimal Carried, decimal Adjusted, decimal Paid, decimal Earned,
    decimal Payable, IReadOnlyList<PayeeTotal> Payees, IReadOnlyList<StatementLine> Lines, IReadOnlyList<NotCountedDeal> NotCounted);

/// <summary>
/// What partners and vendor staff read of a partner's incentives: the balances, a period's ledger and its statement (JSON or CSV). A
/// partner's members, its channel manager and admins; another partner's is 404.
/// </summary>
public sealed class IncentiveQueries(IIncentiveStore store, IPartnerStore partners, IncentivePrograms programs)
{
    public const string CsvColumns = "sequence,kind,at,dealId,registrationNumber,customer,closeDate,dealAmount,dealCurrency,fxRate,value,rate,amount,currency,payeeId,payeeName,originPeriod,reason";

    public async Task<IReadOnlyList<IncentiveBalanceDto>> BalancesAsync(Caller caller, string partnerId, CancellationToken ct)
    {
        await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct);
        var balances = await store.BalancesAsync(partnerId, null, ct);
        var list = new List<IncentiveBalanceDto>();
        foreach (var group in balances.GroupBy(b => b.ProgramId))
        {
            var program = await programs.CachedAsync(group.Key, ct);
            var records = (await store.PeriodsAsync(program.Id, ct)).ToDictionary(r => r.Period, StringComparer.Ordinal);
            list.AddRange(group.Select(b => IncentiveBalanceDto.From(program, b.Balance, records.GetValueOrDefault(b.Balance.Period))));
        }
        return list.OrderBy(b => b.ProgramName, StringComparer.OrdinalIgnoreCase).ThenByDescending(b => b.Period, StringComparer.Ordinal).ToList();
    }

    /// <summary>Admins: recomputes the partner's ledger of the program from its inputs and the versions they name, and compares it with what is stored.</summary>
    public async Task<RecomputeDto> RecomputeAsync(Caller caller, string partnerId, string programId, IncentiveLedgers ledgers, CancellationToken ct)
    {
        await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct);
        if (!caller.IsAdmin) throw new ForbiddenException("Only program admins recompute a ledger.");
        if (!Ids.LooksLike(programId, "inp")) throw new NotFoundException("Incentive program");
        await programs.CachedAsync(programId, ct);
        var r = await ledgers.RecomputeAsync(partnerId, programId, ct);
        var firstDifference = r.Recomputed.Zip(r.Stored).Select((pair, i) => (pair, i)).FirstOrDefault(x => x.pair.First != x.pair.Second);
        string? difference = r.Matches ? null
            : r.Recomputed.Count != r.Stored.Count ? $"{r.Recomputed.Count} entries recomputed, {r.Stored.Count} stored."
            : firstDifference.pair.First is { } e ? $"Entry {e.Period} #{e.Sequence} differs." : "The balances differ.";
        return new RecomputeDto(partnerId, programId, r.Inputs, r.Stored.Count, r.Matches, difference);
    }

    public async Task<IncentiveLedgerDto> LedgerAsync(Caller caller, string partnerId, string programId, string period, CancellationToken ct)
    {
        var (_, program, p, balance, record) = await LoadAsync(caller, partnerId, programId, period, ct);
        // One snapshot: an entry and the balance change in one transaction, and the entries are read after the balance, so entries committed
        // in between (a higher sequence than the balance has counted) are left for the next read instead of disagreeing with the balance.
        var entries = (await store.EntriesAsync(partnerId, program.Id, p.Text, ct)).Where(e => e.Sequence <= balance.Sequence).ToList();
        return new IncentiveLedgerDto(partnerId, IncentiveBalanceDto.From(program, balance, record), entries);
    }

    public async Task<StatementDto> StatementAsync(Caller caller, string partnerId, string programId, string period, CancellationToken ct)
    {
        var (partner, program, p, b, record) = await LoadAsync(caller, partnerId, programId, period, ct);
        var entriesTask = store.EntriesAsync(partnerId, program.Id, p.Text, ct);
        var dealsTask = store.DealsAsync(partnerId, program.Id, ct);
        await Task.WhenAll(entriesTask, dealsTask);
        var entries = await entriesTask;
        var notCounted = (await dealsTask).Where(d => d.AwaitingPeriod == p.Text && d.Period is null)
            .Select(d => new NotCountedDeal(d.DealId, d.Deal?.RegistrationNumber, d.Deal?.Customer, d.Deal?.CloseDate, d.Deal?.Amount, d.Note ?? "not counted")).ToList();
        var version = b.ClosedVersion is { } v ? await programs.VersionAsync(program.Id, v, ct) : program;
        var lines = entries.Select(e => new StatementLine(e.Sequence, e.Kind, e.At, e.Deal?.DealId, e.Deal?.RegistrationNumber, e.Deal?.Customer, e.Deal?.CloseDate, e.Deal?.Amount,
            e.Deal?.FxRate, e.Deal?.Value, e.Rate, e.Amount, e.PayeeId, e.PayeeName, e.OriginPeriod, e.Reason)).ToList();
        var payees = entries.Where(e => e.Kind != EntryKinds.Paid).GroupBy(e => e.PayeeId)
            .Select(g => new PayeeTotal(g.Key, g.Key is null ? partner.Name : g.First().PayeeName ?? g.Key, new Money(g.Sum(e => e.Amount.Amount), b.Currency)))
            .OrderBy(t => t.PayeeName, StringComparer.OrdinalIgnoreCase).ToList();
        return new StatementDto(partnerId, partner.Name, program.Id, program.Name, program.Type, version.Rebate?.Method, version.Version, p.Text,
            b.Closed ? nameof(PeriodStatus.Closed) : record?.Status ?? nameof(PeriodStatus.Open), b.Currency, b.Basis, b.Final, b.Accrued, b.Reversed, b.Rerated, b.Carried, b.Adjusted,
            b.Paid, b.Earned, b.Payable, payees, lines, notCounted);
    }

    /// <summary>The statement as text/csv (RFC 4180, a header row): one row per ledger entry with its deal; the amount column adds up to the payable balance (payments are negative).</summary>
    public async Task<(string Csv, string FileName)> StatementCsvAsync(Caller caller, string partnerId, string programId, string period, CancellationToken ct)
    {
        var s = await StatementAsync(caller, partnerId, programId, period, ct);
        var csv = new StringBuilder();
        csv.Append(CsvColumns).Append("\r\n");
        foreach (var l in s.Lines)
        {
            var fields = new[]
            {
                l.Sequence.ToString(CultureInfo.InvariantCulture), l.Kind, l.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture), l.DealId,
                l.RegistrationNumber, l.Customer, l.CloseDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), l.DealAmount?.Amount.ToString(CultureInfo.InvariantCulture),
                l.DealAmount?.Currency, l.FxRate?.ToString(CultureInfo.InvariantCulture), l.Value?.ToString(CultureInfo.InvariantCulture), l.Rate?.ToString(CultureInfo.InvariantCulture),
                Amount(l.Amount), l.Amount.Currency, l.PayeeId, l.PayeeName, l.OriginPeriod, l.Reason,
            };
            csv.Append(string.Join(",", fields.Select(Field))).Append("\r\n");
        }
        return (csv.ToString(), $"statement-{s.ProgramId}-{s.Period}-{s.PartnerId}.csv");
    }

    private static string Amount(Money m) => m.Round().Amount.ToString("0." + new string('0', Currencies.MinorUnits(m.Currency)), CultureInfo.InvariantCulture).TrimEnd('.');

    /// <summary>A CSV field: quoted when it holds a comma, quote or line break; a leading =, +, - or @ of text is neutralized (CSV injection).</summary>
    private static string Field(string? value)
    {
        if (string.IsNullOrEmpty(value)) return "";
        var text = value;
        if (text[0] is '=' or '+' or '@' or '\t' || (text[0] == '-' && !decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out _))) text = "'" + text;
        return text.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
    }

    private async Task<(Partner Partner, IncentiveProgram Program, IncentivePeriod Period, PeriodBalance Balance, PeriodRecord? Record)> LoadAsync(Caller caller, string partnerId,
        string programId, string period, CancellationToken ct)
    {
        var partner = (await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct)).Value;
        if (!Ids.LooksLike(programId, "inp")) throw new NotFoundException("Incentive program");
        var program = await programs.CachedAsync(programId, ct);
        var p = program.ParsePeriod(period) ?? throw new NotFoundException("Period");
        var balancesTask = store.BalancesAsync(partnerId, program.Id, ct);
        var recordTask = store.GetPeriodAsync(program.Id, p.Text, ct);
        await Task.WhenAll(balancesTask, recordTask);
        var balance = (await balancesTask).FirstOrDefault(b => b.Balance.Period == p.Text)?.Balance
            ?? throw new NotFoundException($"The partner's ledger of {p.Text}");
        return (partner, program, p, balance, (await recordTask)?.Value);
    }
}
