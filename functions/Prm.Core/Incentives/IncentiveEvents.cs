using Prm.Core.Common;
using Prm.Core.Outbox;

namespace Prm.Core.Incentives;

/// <summary>The integration events of the incentive ledger: an accrual, a reversal, a period's close beginning and its close per partner.</summary>
public static class IncentiveEvents
{
    [EventPayload(typeof(EntryData), Summary = "A qualifying won deal accrued money on a partner's ledger of a program and period.")]
    public const string Accrued = "incentive.accrued";

    [EventPayload(typeof(EntryData), Summary = "A won deal was lost or its outcome changed: its accrual was reversed (a closed period's as a negative entry of the next open period).")]
    public const string Reversed = "incentive.reversed";

    [EventPayload(typeof(PeriodClosedData), Summary = "A partner's ledger of a program's period was closed: the final amount, the statement's totals.")]
    public const string PeriodClosed = "incentive.periodClosed";

    [EventPayload(typeof(PeriodClosingData), Summary = "An admin began the close of a program's period before its cutoff (the close workflow runs at once).")]
    public const string PeriodClosing = "incentive.periodClosing";

    [EventPayload(typeof(PeriodOpenedData), Summary = "Money first joined a program's period: its close workflow waits for the cutoff.")]
    public const string PeriodOpened = "incentive.periodOpened";

    /// <summary>
    /// An accrual or reversal: the partner, program, period (and the period a reversed deal was counted in, when that one was closed),
    /// the entry, the deal, the signed amount, the period's counted value after it, the rate reached, the payee, and when the period
    /// closes by itself.
    /// </summary>
    public sealed record EntryData(string PartnerId, string ProgramId, string ProgramName, string Period, string EntryId, long Sequence, string Kind, Money Amount,
        string? DealId, string? RegistrationNumber, decimal? Basis, decimal? Rate, string? PayeeId, string? OriginPeriod, DateTimeOffset CutoffAt);

    /// <summary>A partner's close of a period: the final rebate (or SPIF total), earned, paid and payable, in the program currency.</summary>
    public sealed record PeriodClosedData(string PartnerId, string ProgramId, string ProgramName, string Period, Money Final, Money Earned, Money Paid, Money Payable, int ProgramVersion);

    /// <summary>A program's period whose close began: by whom and when.</summary>
    public sealed record PeriodClosingData(string ProgramId, string Period, string ClosingBy, DateTimeOffset ClosingSince, DateTimeOffset CutoffAt);

    /// <summary>A program's period that money first joined: when it closes by itself, in which currency.</summary>
    public sealed record PeriodOpenedData(string ProgramId, string Period, DateTimeOffset CutoffAt, string Currency);

    public static IntegrationEvent Opened(PeriodRecord r, DateTimeOffset at) =>
        IntegrationEvent.Create(Ids.New("evt"), PeriodOpened, at, $"incentive-programs/{r.ProgramId}/periods/{r.Period}", null, Correlation.Id,
            new PeriodOpenedData(r.ProgramId, r.Period, r.CutoffAt, r.Currency));

    public static IntegrationEvent Entry(IncentiveEntry e, IncentiveProgram program, DateTimeOffset cutoffAt) =>
        IntegrationEvent.Create(Ids.New("evt"), e.Kind == EntryKinds.Accrued ? Accrued : Reversed, e.At, $"partners/{e.PartnerId}/incentives/{e.ProgramId}/periods/{e.Period}", e.PartnerId,
            Correlation.Id, new EntryData(e.PartnerId, e.ProgramId, program.Name, e.Period, e.Id, e.Sequence, e.Kind, e.Amount, e.Deal?.DealId, e.Deal?.RegistrationNumber,
                e.Basis, e.Rate, e.PayeeId, e.OriginPeriod, cutoffAt));

    public static IntegrationEvent Closed(string partnerId, IncentiveProgram program, PeriodBalance b, DateTimeOffset at) =>
        IntegrationEvent.Create(Ids.New("evt"), PeriodClosed, at, $"partners/{partnerId}/incentives/{program.Id}/periods/{b.Period}", partnerId, Correlation.Id,
            new PeriodClosedData(partnerId, program.Id, program.Name, b.Period, new Money(b.Final ?? 0m, b.Currency), new Money(b.Earned, b.Currency), new Money(b.Paid, b.Currency),
                new Money(b.Payable, b.Currency), b.ClosedVersion ?? program.Version));

    public static IntegrationEvent Closing(PeriodRecord r) =>
        IntegrationEvent.Create(Ids.New("evt"), PeriodClosing, r.ClosingSince ?? DateTimeOffset.UtcNow, $"incentive-programs/{r.ProgramId}/periods/{r.Period}", null, Correlation.Id,
            new PeriodClosingData(r.ProgramId, r.Period, r.ClosingBy ?? "PrmFunctions", r.ClosingSince ?? DateTimeOffset.UtcNow, r.CutoffAt));
}

/// <summary>The integration events of payouts: approved (finally), paid.</summary>
public static class PayoutEvents
{
    public const string Approved = "payout.approved";
    public const string Paid = "payout.paid";

    /// <summary>The payout: partner, program, period, amount, status, approvals, payment reference.</summary>
    public sealed record PayoutData(string PayoutId, string PartnerId, string ProgramId, string ProgramName, string Period, Money Amount, string Status,
        IReadOnlyList<PayoutApproval> Approvals, string? PaymentReference, DateOnly? PaidOn);

    public static IntegrationEvent Create(string type, Payout p, DateTimeOffset at) =>
        IntegrationEvent.Create(Ids.New("evt"), type, at, $"partners/{p.PartnerId}/payouts/{p.Id}", p.PartnerId, Correlation.Id,
            new PayoutData(p.Id, p.PartnerId, p.ProgramId, p.ProgramName, p.Period, p.Amount, p.Status, p.Approvals, p.PaymentReference, p.PaidOn));
}
