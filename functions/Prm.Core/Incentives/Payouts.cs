using System.Globalization;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Mdf;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Core.Tiers;

namespace Prm.Core.Incentives;

/// <summary>Where a payout stands: Draft (awaiting approval, or its second approval) → Approved → Paid (final).</summary>
public enum PayoutStatus { Draft, Approved, Paid }

/// <summary>One approval of a payout: who (channel manager or admin), when.</summary>
public sealed record PayoutApproval(string ById, string ByName, string Role, DateTimeOffset At);

/// <summary>A payout of a partner's payable balance of one program and closed period.</summary>
public sealed record Payout
{
    public required string Id { get; init; }
    public required string PartnerId { get; init; }
    public required string ProgramId { get; init; }
    public required string ProgramName { get; init; }
    public required string Period { get; init; }
    public required Money Amount { get; init; }
    public required string Status { get; init; }

    /// <summary>Above the program's secondApprovalAbove: a second, different admin approves after the first approval.</summary>
    public bool NeedsSecondApproval { get; init; }
    public IReadOnlyList<PayoutApproval> Approvals { get; init; } = [];
    public required string CreatedByName { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public string? PaymentReference { get; init; }
    public DateOnly? PaidOn { get; init; }
    public string? PaidByName { get; init; }
    public DateTimeOffset? PaidAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public PayoutStatus StatusValue => Enum.TryParse<PayoutStatus>(Status, out var s) ? s : PayoutStatus.Draft;

    /// <summary>Draft and Approved payouts hold part of the period's payable balance until paid.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Outstanding => StatusValue is PayoutStatus.Draft or PayoutStatus.Approved;
}

/// <summary>POST /partners/{id}/payouts: the program and closed period; the amount (program currency) defaults to what is payable.</summary>
public sealed record CreatePayoutRequest(string? ProgramId, string? Period, MoneyInput? Amount);

/// <summary>POST /partners/{id}/payouts/{payoutId}/pay: the payment reference and the day it was paid (default today).</summary>
public sealed record PayPayoutRequest(string? PaymentReference, string? PaidOn);

/// <summary>POST /partners/{id}/incentives/{programId}/adjustments: an open period, a signed amount (program currency) and why.</summary>
public sealed record AdjustmentRequest(string? Period, MoneyInput? Amount, string? Reason);

/// <summary>PUT /partners/{id}/tax-form: whether the partner's tax form is on file, its type (e.g. W-9) and a reference.</summary>
public sealed record TaxFormRequest(bool? OnFile, string? FormType, string? Reference);

/// <summary>
/// Payouts: a channel manager (of the partner) or an admin drafts a payout of a closed period's payable balance and approves it (above the
/// program's threshold a second, different admin approves too); an admin records it paid with the payment reference — a ledger entry
/// committed with the payout in one transaction, so a payout is paid once and never above the balance. Paid money is never reduced. A US
/// partner's payees over 600 USD in a calendar year need a tax form on file before approval.
/// </summary>
public sealed class Payouts(IIncentiveStore store, IPartnerStore partners, IncentivePrograms programs, IncentiveLedgers ledgers, FxRates fx, TimeProvider clock)
{
    /// <summary>Yearly payouts above this many USD to a US payee need a tax form on file.</summary>
    public const decimal TaxThresholdUsd = 600m;

    public async Task<IReadOnlyList<Payout>> ListAsync(Caller caller, string partnerId, CancellationToken ct)
    {
        await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct);
        return (await store.PayoutsAsync(partnerId, ct)).OrderByDescending(p => p.CreatedAt).ToList();
    }

    public async Task<Versioned<Payout>> GetAsync(Caller caller, string partnerId, string payoutId, CancellationToken ct)
    {
        await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct);
        return await LoadAsync(partnerId, payoutId, ct);
    }

    public async Task<Versioned<Payout>> CreateAsync(Caller caller, string partnerId, CreatePayoutRequest? body, CancellationToken ct)
    {
        var partner = await ManagerAsync(caller, partnerId, ct);
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        if (body.ProgramId is null) throw new ValidationFailedException("programId", "programId is required.");
        var program = await programs.CurrentAsync(body.ProgramId, ct);
        var period = program.ParsePeriod(body.Period) ?? throw new ValidationFailedException("period", "period is " + IncentivePeriods.Format(program.PeriodKind) + ".");
        var balance = (await store.BalancesAsync(partnerId, program.Id, ct)).FirstOrDefault(b => b.Balance.Period == period.Text)?.Balance;
        if (balance is not { Closed: true }) throw new ConflictException($"The period {period.Text} is not closed for {partner.Name}: payouts follow the close.", "period");
        var outstanding = (await store.PayoutsAsync(partnerId, ct)).Where(p => p.ProgramId == program.Id && p.Period == period.Text && p.Outstanding).Sum(p => p.Amount.Amount);
        var available = balance.Payable - outstanding;
        decimal amount;
        if (body.Amount is null) amount = available;
        else
        {
            var problems = MdfMoney.AmountProblems(body.Amount.Amount ?? 0, body.Amount.Currency ?? "", "amount.amount").ToList();
            if (body.Amount.Amount is null) problems.Insert(0, "amount.amount is required.");
            if (problems.Count > 0) throw new ValidationFailedException("amount.amount", string.Join(" ", problems));
            if (body.Amount.Currency != program.Currency) throw new ValidationFailedException("amount.currency", $"amount.currency is {program.Currency}, the program's currency.", unprocessable: true);
            amount = body.Amount.Amount!.Value;
        }
        Available(amount, available, balance, outstanding, program.Currency);
        var now = clock.GetUtcNow();
        var payout = new Payout
        {
            Id = Ids.New("pay"), PartnerId = partnerId, ProgramId = program.Id, ProgramName = program.Name, Period = period.Text, Amount = new Money(amount, program.Currency),
            Status = nameof(PayoutStatus.Draft), NeedsSecondApproval = program.SecondApprovalAbove is { } above && amount > above,
            CreatedByName = caller.DisplayName, CreatedAt = now, UpdatedAt = now,
        };
        var etag = await store.SavePayoutAsync(payout, null, new ChangeSet([Audit(caller, now, "payout.created", payout, null, payout.Amount.ToString())], []), ct);
        return new Versioned<Payout>(payout, etag);
    }

    /// <summary>
    /// Approves a draft (the partner's channel manager or an admin). Above the program's threshold the first approval leaves it Draft and a
    /// second, different admin approves it. Refused above the payable balance, and for a US partner without a tax form on file whose year
    /// of payouts would pass 600 USD.
    /// </summary>
    public async Task<Versioned<Payout>> ApproveAsync(Caller caller, string partnerId, string payoutId, CancellationToken ct)
    {
        var partner = await ManagerAsync(caller, partnerId, ct);
        return await ReadDecideCommit.RunAsync(async _ =>
        {
            var found = await LoadAsync(partnerId, payoutId, ct);
            var payout = found.Value;
            switch (payout.StatusValue)
            {
                case PayoutStatus.Paid: throw new ConflictException($"The payout was paid on {payout.PaidOn:yyyy-MM-dd} ({payout.PaymentReference}).", "status");
                case PayoutStatus.Approved: throw new ConflictException($"The payout was approved by {string.Join(" and ", payout.Approvals.Select(a => a.ByName))}.", "status");
            }
            if (payout.Approvals.Any(a => a.ById == caller.UserId))
                throw new ConflictException("You approved this payout already: its second approval is another admin's.", "status");
            var second = payout.NeedsSecondApproval && payout.Approvals.Count == 1;
            if (second && !caller.IsAdmin) throw new ForbiddenException("The second approval of a payout above the program's threshold is an admin's.");
            var balance = (await store.BalancesAsync(partnerId, payout.ProgramId, ct)).FirstOrDefault(b => b.Balance.Period == payout.Period)?.Balance
                ?? throw new ConflictException("The payout's period has no balance.", "period");
            var others = (await store.PayoutsAsync(partnerId, ct)).Where(p => p.Id != payout.Id && p.ProgramId == payout.ProgramId && p.Period == payout.Period && p.Outstanding).Sum(p => p.Amount.Amount);
            Available(payout.Amount.Amount, balance.Payable - others, balance, others, payout.Amount.Currency);
            var now = clock.GetUtcNow();
            await TaxCheckAsync(partner, payout, now, ct);
            var approval = new PayoutApproval(caller.UserId, caller.DisplayName, caller.IsAdmin ? "admin" : "channelManager", now);
            var final = !payout.NeedsSecondApproval || second;
            var next = payout with { Approvals = [.. payout.Approvals, approval], Status = final ? nameof(PayoutStatus.Approved) : nameof(PayoutStatus.Draft), UpdatedAt = now };
            var outbox = final ? new List<OutboxMessage> { OutboxMessage.ForEvent(PayoutEvents.Create(PayoutEvents.Approved, next, now)) } : [];
            var etag = await store.SavePayoutAsync(next, found.ETag, new ChangeSet([Audit(caller, now, final ? "payout.approved" : "payout.firstApproval", next, payout.Status, next.Status)], outbox), ct);
            return new Versioned<Payout>(next, etag);
        }, ct: ct);
    }

    /// <summary>An admin records the payment: the ledger's paid entry and the payout (Paid, final) in one transaction; a second payment is 409.</summary>
    public async Task<Versioned<Payout>> PayAsync(Caller caller, string partnerId, string payoutId, PayPayoutRequest? body, CancellationToken ct)
    {
        await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct);
        if (!caller.IsAdmin) throw new ForbiddenException("Only program admins record payments.");
        var reference = body?.PaymentReference?.Trim();
        if (string.IsNullOrEmpty(reference) || reference.Length > 100) throw new ValidationFailedException("paymentReference", "paymentReference is required (at most 100 characters).");
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var paidOn = body?.PaidOn is null ? today : MdfRules.ParseDate(body.PaidOn) ?? throw new ValidationFailedException("paidOn", "paidOn is a date such as 2026-12-01.");
        if (paidOn > today.AddDays(1) || paidOn.Year < IncentivePeriods.MinYear) throw new ValidationFailedException("paidOn", "paidOn is not in the future.");
        var found = await LoadAsync(partnerId, payoutId, ct);
        Pending(found.Value);
        Versioned<Payout>? result = null;
        var step = await ledgers.RunAsync(partnerId, found.Value.ProgramId, "paid:" + payoutId, null, async view =>
        {
            var current = await LoadAsync(partnerId, payoutId, ct);
            Pending(current.Value);
            found = current;
            return new IncentiveInput(InputKinds.Paid, "paid:" + payoutId, view.Now, view.Program.Version, caller.DisplayName, Period: current.Value.Period,
                Amount: current.Value.Amount.Amount, Reason: reference);
        }, (view, _) =>
        {
            var paid = found.Value with { Status = nameof(PayoutStatus.Paid), PaymentReference = reference, PaidOn = paidOn, PaidByName = caller.DisplayName, PaidAt = view.Now, UpdatedAt = view.Now };
            result = new Versioned<Payout>(paid, found.ETag);
            return new LedgerExtras(result, [Audit(caller, view.Now, "payout.paid", paid, nameof(PayoutStatus.Approved), nameof(PayoutStatus.Paid))],
                [OutboxMessage.ForEvent(PayoutEvents.Create(PayoutEvents.Paid, paid, view.Now))]);
        }, ct);
        if (step is null) Pending((await LoadAsync(partnerId, payoutId, ct)).Value); // its key was applied: paid already
        return await LoadAsync(partnerId, payoutId, ct);
    }

    /// <summary>Whether the partner's tax form is on file (members, channel manager, admins).</summary>
    public async Task<TaxForm> TaxFormAsync(Caller caller, string partnerId, CancellationToken ct)
    {
        await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct);
        return (await store.GetTaxFormAsync(partnerId, ct))?.Value ?? new TaxForm(partnerId, false, null, null, "PrmFunctions", DateTimeOffset.UnixEpoch);
    }

    /// <summary>An admin records whether the partner's tax form is on file (the flag payout approvals check).</summary>
    public async Task<TaxForm> SetTaxFormAsync(Caller caller, string partnerId, TaxFormRequest? body, CancellationToken ct)
    {
        await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct);
        if (!caller.IsAdmin) throw new ForbiddenException("Only program admins record tax forms.");
        if (body?.OnFile is not { } onFile) throw new ValidationFailedException("onFile", "onFile is true or false.");
        var type = body.FormType?.Trim();
        if (onFile && string.IsNullOrEmpty(type)) throw new ValidationFailedException("formType", "formType is required when the form is on file (e.g. W-9).");
        if (type?.Length > 20) throw new ValidationFailedException("formType", "formType takes at most 20 characters.");
        if (body.Reference?.Length > 200) throw new ValidationFailedException("reference", "reference takes at most 200 characters.");
        var now = clock.GetUtcNow();
        return await ReadDecideCommit.RunAsync(async _ =>
        {
            var found = await store.GetTaxFormAsync(partnerId, ct);
            var form = new TaxForm(partnerId, onFile, string.IsNullOrEmpty(type) ? null : type, body.Reference?.Trim(), caller.DisplayName, now);
            var audit = new AuditEntry(Ids.New("aud"), now, caller.UserId, caller.DisplayName, "partner.taxForm", "partner", partnerId,
                [new FieldChange("taxFormOnFile", found?.Value.OnFile.ToString(), onFile.ToString())], form.FormType);
            await store.SaveTaxFormAsync(form, found?.ETag, new ChangeSet([audit], []), ct);
            return form;
        }, ct: ct);
    }

    private async Task TaxCheckAsync(Partner partner, Payout payout, DateTimeOffset now, CancellationToken ct)
    {
        if (partner.Country != "US") return;
        if ((await store.GetTaxFormAsync(partner.Id, ct))?.Value.OnFile == true) return;
        var year = now.UtcDateTime.Year;
        var counted = (await store.PayoutsAsync(partner.Id, ct))
            .Where(p => p.Id != payout.Id && p.StatusValue != PayoutStatus.Draft && (p.PaidAt ?? p.Approvals.LastOrDefault()?.At ?? p.UpdatedAt).UtcDateTime.Year == year)
            .Select(p => p.Amount).Append(payout.Amount).ToList();
        var month = TierRules.Month(now.UtcDateTime);
        var table = await fx.TableAsync([month], ct);
        var usd = 0m;
        foreach (var amount in counted)
        {
            if (amount.Currency == "USD") { usd += amount.Amount; continue; }
            var from = table.Rate(month, amount.Currency);
            var to = table.Rate(month, "USD");
            if (from is null || to is null)
                throw new ValidationFailedException("taxFormOnFile", $"No FX rate for {(from is null ? amount.Currency : "USD")} in {month}: the {TaxThresholdUsd} USD threshold of US payees cannot be checked; add the month's rates or record the tax form.", unprocessable: true);
            usd += amount.Amount * from.Value / to.Value;
        }
        usd = new Money(usd, "USD").Round().Amount;
        if (usd > TaxThresholdUsd)
            throw new ValidationFailedException("taxFormOnFile",
                $"{partner.Name} is a US payee with {usd.ToString("#,0.00", CultureInfo.InvariantCulture)} USD of payouts in {year} with this one: above {TaxThresholdUsd} USD a tax form (W-9) must be on file before approval (PUT /api/partners/{partner.Id}/tax-form).",
                unprocessable: true);
    }

    private static void Available(decimal amount, decimal available, PeriodBalance balance, decimal outstanding, string currency)
    {
        if (available <= 0) throw new ValidationFailedException("amount", $"Nothing is payable for {balance.Period}: the payable balance is {new Money(balance.Payable, currency)}, {new Money(outstanding, currency)} of it in other payouts.", unprocessable: true);
        if (amount > available)
            throw new ValidationFailedException("amount", $"{new Money(amount, currency)} is above the accrued balance: {new Money(balance.Payable, currency)} payable for {balance.Period}, {new Money(outstanding, currency)} of it in other payouts.", unprocessable: true);
    }

    private static void Pending(Payout payout)
    {
        switch (payout.StatusValue)
        {
            case PayoutStatus.Paid: throw new ConflictException($"The payout was paid already on {payout.PaidOn:yyyy-MM-dd} ({payout.PaymentReference}); it is paid once.", "status");
            case PayoutStatus.Draft: throw new ConflictException(payout.Approvals.Count == 0 ? "The payout is not approved yet." : "The payout waits for its second approval.", "status");
        }
    }

    private async Task<Partner> ManagerAsync(Caller caller, string partnerId, CancellationToken ct)
    {
        var partner = (await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct)).Value;
        if (!PartnerAccess.CanManageProgram(caller, partner)) throw new ForbiddenException("Only the partner's channel manager and admins draft and approve payouts.");
        return partner;
    }

    private async Task<Versioned<Payout>> LoadAsync(string partnerId, string payoutId, CancellationToken ct) =>
        (Ids.LooksLike(payoutId, "pay") ? await store.GetPayoutAsync(partnerId, payoutId, ct) : null) ?? throw new NotFoundException("Payout");

    private static AuditEntry Audit(Caller caller, DateTimeOffset now, string action, Payout payout, string? before, string? after) =>
        new(Ids.New("aud"), now, caller.UserId, caller.DisplayName, action, "payout", payout.Id, [new FieldChange("status", before, after)], $"{payout.ProgramName} {payout.Period}: {payout.Amount}");
}
