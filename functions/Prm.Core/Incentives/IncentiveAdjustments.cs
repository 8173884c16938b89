using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Mdf;
using Prm.Core.Partners;

namespace Prm.Core.Incentives;

/// <summary>An admin's signed correction of a partner's open period, with a reason: an adjusted entry, never an overwrite.</summary>
public sealed class IncentiveAdjustments(IPartnerStore partners, IncentivePrograms programs, IncentiveLedgers ledgers, IncentiveQueries queries)
{
    public async Task<IncentiveLedgerDto> AdjustAsync(Caller caller, string partnerId, string programId, AdjustmentRequest? body, CancellationToken ct)
    {
        await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct);
        if (!caller.IsAdmin) throw new ForbiddenException("Only program admins adjust an incentive ledger.");
        if (!Ids.LooksLike(programId, "inp")) throw new NotFoundException("Incentive program");
        var program = await programs.CurrentAsync(programId, ct);
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        var period = program.ParsePeriod(body.Period) ?? throw new ValidationFailedException("period", "period is " + IncentivePeriods.Format(program.PeriodKind) + ".");
        var reason = body.Reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > 2000) throw new ValidationFailedException("reason", "reason is required (at most 2000 characters).");
        if (body.Amount?.Amount is not { } amount) throw new ValidationFailedException("amount.amount", "amount is { amount, currency }, signed, not 0.");
        var problems = MdfMoney.AmountProblems(amount, body.Amount.Currency ?? "", "amount.amount", signed: true).ToList();
        if (problems.Count > 0) throw new ValidationFailedException("amount.amount", string.Join(" ", problems));
        if (body.Amount.Currency != program.Currency) throw new ValidationFailedException("amount.currency", $"amount.currency is {program.Currency}, the program's currency.", unprocessable: true);
        var id = Ids.New("adj");
        await ledgers.RunAsync(partnerId, programId, "adj:" + id, null, view =>
            Task.FromResult<IncentiveInput?>(new IncentiveInput(InputKinds.Adjust, "adj:" + id, view.Now, view.Program.Version, caller.DisplayName, Period: period.Text, Amount: amount, Reason: reason)),
            (view, _) => new LedgerExtras(Audit: [new AuditEntry(Ids.New("aud"), view.Now, caller.UserId, caller.DisplayName, "incentive.adjusted", "incentiveProgram", programId,
                [new FieldChange("adjusted." + period.Text, null, new Money(amount, program.Currency).ToString())], reason)]), ct);
        return await queries.LedgerAsync(caller, partnerId, programId, period.Text, ct);
    }
}
