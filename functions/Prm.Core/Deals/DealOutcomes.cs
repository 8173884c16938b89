using FluentValidation;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Mdf;

namespace Prm.Core.Deals;

/// <summary>
/// How a registration ends on the partner's or channel manager's word: won (amount and close date) or lost (reason), or withdrawn by the
/// partner. Each ends protection and releases the customer's claim.
/// </summary>
public sealed class DealOutcomes(DealCommits commits, TimeProvider clock)
{
    /// <summary>
    /// Records the outcome (partner or channel manager): won (amount, close date) or lost (reason). A won registration's outcome is changed
    /// only by its channel manager or an admin, with a reason: lost, or won with a corrected amount or close date.
    /// </summary>
    public Task<Versioned<DealDto>> RecordAsync(Caller caller, string dealId, DealOutcomeRequest? body, CancellationToken ct)
    {
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        var result = body.Result?.Trim();
        var errors = new Dictionary<string, string[]>();
        if (result is not ("won" or "lost")) errors["result"] = ["result must be won or lost."];
        if (result == "won")
        {
            var v = new FluentValidation.InlineValidator<DealOutcomeRequest>();
            v.RuleFor(x => x.Amount).ValidMoney("amount");
            v.RuleFor(x => x.CloseDate).NotEmpty().WithMessage("closeDate is required for a won deal.").IsoDate();
            v.RuleFor(x => x.CloseDate).Must(d => MdfRules.ParseDate(d) is not { } date || date <= DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime.AddDays(1)))
                .WithMessage("closeDate of a won deal cannot be in the future.");
            foreach (var failure in v.Validate(body).Errors) errors[failure.PropertyName.Length == 0 ? "amount" : char.ToLowerInvariant(failure.PropertyName[0]) + failure.PropertyName[1..]] = [failure.ErrorMessage];
        }
        if (result == "lost" && string.IsNullOrWhiteSpace(body.Reason)) errors["reason"] = ["reason is required for a lost deal."];
        if (body.Reason?.Length > 2000) errors["reason"] = ["reason takes at most 2000 characters."];
        if (errors.Count > 0) throw new ValidationFailedException(errors);
        return commits.TransitionAsync(caller, dealId, caller.IsVendor ? DealOperation.Decide : DealOperation.Change, (deal, now) =>
        {
            var outcome = new DealOutcome(result!, result == "won" ? body.Amount!.ToMoney().Round() : null, MdfRules.ParseDate(body.CloseDate), body.Reason?.Trim(), caller.DisplayName, now);
            return deal.Status == DealStatus.Won ? deal.ChangeOutcome(outcome, caller.IsVendor) : deal.RecordOutcome(outcome);
        }, ct);
    }

    /// <summary>The partner withdraws the registration: final, the claim is released.</summary>
    public Task<Versioned<DealDto>> WithdrawAsync(Caller caller, string dealId, string? reason, CancellationToken ct)
    {
        if (reason?.Length > 2000) throw new ValidationFailedException("reason", "reason takes at most 2000 characters.");
        return commits.TransitionAsync(caller, dealId, DealOperation.Change, (deal, now) => deal.Withdraw(new DealDecision("withdraw", reason?.Trim(), caller.UserId, caller.DisplayName, now)), ct);
    }
}
