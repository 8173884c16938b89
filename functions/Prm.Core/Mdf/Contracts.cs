using System.Globalization;
using FluentValidation;
using Prm.Core.Common;

namespace Prm.Core.Mdf;

/// <summary>Kinds of marketing activity a partner can request funds for.</summary>
public enum MdfActivityType
{
    /// <summary>A physical event.</summary>
    Event,

    /// <summary>A webinar.</summary>
    Webinar,

    /// <summary>A digital campaign (ads, email).</summary>
    DigitalCampaign,

    /// <summary>Content syndication.</summary>
    ContentSyndication,

    /// <summary>Training of the partner's staff or customers.</summary>
    Training,

    /// <summary>Anything else, described in the request.</summary>
    Other,
}

/// <summary>A reviewer's decision on a fund request or a claim.</summary>
public enum MdfDecision
{
    /// <summary>Approve (possibly for a lower amount).</summary>
    Approve,

    /// <summary>Reject; a reason is required.</summary>
    Reject,

    /// <summary>Return to the partner for more information; a reason is required.</summary>
    RequestInfo,
}

/// <summary>An amount of money in a request body: { "amount": 1500.00, "currency": "EUR" }.</summary>
public sealed record MoneyInput(decimal? Amount, string? Currency)
{
    /// <summary>The validated value; call only after validation passed.</summary>
    public Money ToMoney() => new(Amount ?? throw new InvalidOperationException("amount is missing."), Currency ?? throw new InvalidOperationException("currency is missing."));
}

/// <summary>
/// Body of POST /api/mdf/budgets: a budget for a partner and fiscal period, either a fixed <see cref="Amount"/> or a co-op
/// accrual of <see cref="CoopPercent"/> % of the partner's won deal value in the previous period, in <see cref="Currency"/>.
/// </summary>
public sealed record CreateBudgetRequest(string? PartnerId, string? Period, MoneyInput? Amount, decimal? CoopPercent, string? Currency);

/// <summary>Body of POST /api/mdf/budgets/{id}/adjustments: a signed change of the allocation.</summary>
public sealed record BudgetAdjustmentRequest(MoneyInput? Amount, string? Reason);

/// <summary>Body of a fund (pre-approval) request. Dates are ISO yyyy-MM-dd.</summary>
public sealed record FundRequestInput(
    string? ActivityType, string? Title, string? Description, string? StartDate, string? EndDate, MoneyInput? RequestedAmount,
    decimal? PartnerContributionPercent, string? TargetAudience, int? ExpectedLeads, MoneyInput? ExpectedPipeline);

/// <summary>A channel manager's decision on a fund request; approval details only with "approve".</summary>
public sealed record FundRequestDecisionInput(string? Decision, string? Reason, MoneyInput? ApprovedAmount, decimal? MaxReimbursementPercent, string? ClaimDeadline);

/// <summary>A claim against an approved request, filed after the activity.</summary>
public sealed record ClaimInput(MoneyInput? ClaimedAmount, int? ActualLeads, int? Attendees, string? Notes);

/// <summary>A reviewer's decision on a claim; <see cref="Amount"/> (approve only) may be lower than claimed.</summary>
public sealed record ClaimDecisionInput(string? Decision, MoneyInput? Amount, string? Reason);

/// <summary>Records the payout of an approved claim.</summary>
public sealed record PayoutInput(string? PaymentReference, string? PaidOn);

/// <summary>Input rules shared by the MDF validators.</summary>
public static class MdfRules
{
    /// <summary>Longest title.</summary>
    public const int TitleMax = 200;

    /// <summary>Longest description, notes or reason.</summary>
    public const int TextMax = 4000;

    /// <summary>Parses an ISO date (yyyy-MM-dd); null when absent or not a date.</summary>
    public static DateOnly? ParseDate(string? text) =>
        DateOnly.TryParseExact(text?.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date : null;

    /// <summary>The value must be absent or an ISO date (yyyy-MM-dd).</summary>
    public static IRuleBuilderOptions<T, string?> IsoDate<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(v => v is null || ParseDate(v) is not null).WithMessage("{PropertyName} must be a date such as 2026-03-31.");

    /// <summary>
    /// Validates a money input at <paramref name="path"/>, reporting on "{path}.amount" and "{path}.currency": a known
    /// currency, at most its minor units of decimals, at most <see cref="MdfMoney.MaxAmount"/>, greater than 0
    /// (or non-zero when <paramref name="signed"/>). A missing object is reported on <paramref name="path"/> when required.
    /// </summary>
    public static IRuleBuilderOptionsConditions<T, MoneyInput?> ValidMoney<T>(this IRuleBuilder<T, MoneyInput?> rule, string path, bool required = true, bool signed = false) =>
        rule.Custom((money, context) =>
        {
            if (money is null)
            {
                if (required) context.AddFailure(path, path + " is required.");
                return;
            }
            if (string.IsNullOrWhiteSpace(money.Currency)) context.AddFailure(path + ".currency", path + ".currency is required.");
            else if (!Currencies.IsKnown(money.Currency)) context.AddFailure(path + ".currency", path + ".currency must be a supported ISO 4217 code such as EUR.");
            if (money.Amount is not { } amount)
            {
                context.AddFailure(path + ".amount", path + ".amount is required.");
                return;
            }
            foreach (var problem in MdfMoney.AmountProblems(amount, money.Currency ?? "", path + ".amount", signed)) context.AddFailure(path + ".amount", problem);
        });

    /// <summary>
    /// When <paramref name="limit"/> is known, the input must be in its currency and not above it; reported on "{path}.amount".
    /// </summary>
    public static IRuleBuilderOptionsConditions<T, MoneyInput?> NotAbove<T>(this IRuleBuilder<T, MoneyInput?> rule, string path, Money? limit, string limitName) =>
        rule.Custom((money, context) =>
        {
            if (limit is not { } max || money?.Amount is not { } amount) return;
            if (!string.Equals(money.Currency, max.Currency, StringComparison.Ordinal))
                context.AddFailure(path + ".currency", $"{path}.currency must be {max.Currency}, the currency of the {limitName}.");
            else if (amount > max.Amount)
                context.AddFailure(path + ".amount", $"{path}.amount must not exceed the {limitName} of {max}.");
        });

    internal static bool NeedsReason(string? decision) => Text.ParseEnum<MdfDecision>(decision) is MdfDecision.Reject or MdfDecision.RequestInfo;

    internal static bool IsApprove(string? decision) => Text.ParseEnum<MdfDecision>(decision) == MdfDecision.Approve;
}

/// <summary>Validates <see cref="CreateBudgetRequest"/>.</summary>
public sealed class CreateBudgetValidator : AbstractValidator<CreateBudgetRequest>
{
    /// <summary>Creates the validator.</summary>
    public CreateBudgetValidator()
    {
        RuleFor(x => x.PartnerId).NotEmpty().MaximumLength(100);
        RuleFor(x => x.Period).NotEmpty().Must(FiscalCalendar.IsPeriodText).WithMessage("period " + FiscalCalendar.FormatMessage);
        RuleFor(x => x)
            .Must(x => (x.Amount is null) != (x.CoopPercent is null))
            .WithMessage("Give either amount (a fixed budget) or coopPercent (co-op accrual), not both.")
            .OverridePropertyName("amount");
        When(x => x.Amount is not null, () =>
        {
            RuleFor(x => x.Amount).ValidMoney("amount");
            RuleFor(x => x.Currency).Null().WithMessage("currency goes with coopPercent; a fixed amount carries its own currency.");
        });
        When(x => x.CoopPercent is not null, () =>
        {
            RuleFor(x => x.CoopPercent).GreaterThan(0).LessThanOrEqualTo(100).WithMessage("coopPercent must be more than 0 and at most 100.")
                .Must(p => p is null || decimal.Round(p.Value, 4) == p.Value).WithMessage("coopPercent takes at most 4 decimals.");
            RuleFor(x => x.Currency).NotEmpty().WithMessage("currency is required with coopPercent.")
                .Must(Currencies.IsKnown).WithMessage("currency must be a supported ISO 4217 code such as EUR.");
        });
    }
}

/// <summary>Validates <see cref="BudgetAdjustmentRequest"/>: a signed, non-zero amount and a reason.</summary>
public sealed class BudgetAdjustmentValidator : AbstractValidator<BudgetAdjustmentRequest>
{
    /// <summary>Creates the validator.</summary>
    public BudgetAdjustmentValidator()
    {
        RuleFor(x => x.Amount).ValidMoney("amount", signed: true);
        RuleFor(x => x.Reason).NotEmpty().MaximumLength(MdfRules.TextMax);
    }
}

/// <summary>Validates <see cref="FundRequestInput"/>. Whether the dates fall in the budget's period is checked against the budget.</summary>
public sealed class FundRequestValidator : AbstractValidator<FundRequestInput>
{
    /// <summary>Creates the validator.</summary>
    public FundRequestValidator()
    {
        RuleFor(x => x.ActivityType).NotEmpty().EnumText<FundRequestInput, MdfActivityType>();
        RuleFor(x => x.Title).NotEmpty().MaximumLength(MdfRules.TitleMax);
        RuleFor(x => x.Description).NotEmpty().MaximumLength(MdfRules.TextMax);
        RuleFor(x => x.StartDate).NotEmpty().IsoDate();
        RuleFor(x => x.EndDate).NotEmpty().IsoDate();
        RuleFor(x => x.EndDate)
            .Must((x, end) => MdfRules.ParseDate(x.StartDate) is not { } start || MdfRules.ParseDate(end) is not { } e || e >= start)
            .WithMessage("endDate must not be before startDate.");
        RuleFor(x => x.RequestedAmount).ValidMoney("requestedAmount");
        RuleFor(x => x.PartnerContributionPercent).InclusiveBetween(0, 100).WithMessage("partnerContributionPercent must be between 0 and 100.");
        RuleFor(x => x.TargetAudience).MaximumLength(500);
        RuleFor(x => x.ExpectedLeads).GreaterThanOrEqualTo(0);
        RuleFor(x => x.ExpectedPipeline).ValidMoney("expectedPipeline", required: false);
    }
}

/// <summary>
/// Validates <see cref="FundRequestDecisionInput"/>. Given the request's amount, also checks the approved amount against it.
/// </summary>
public sealed class FundRequestDecisionValidator : AbstractValidator<FundRequestDecisionInput>
{
    /// <summary>Creates the validator; <paramref name="requested"/> is the request's amount when known.</summary>
    public FundRequestDecisionValidator(Money? requested = null)
    {
        RuleFor(x => x.Decision).NotEmpty().EnumText<FundRequestDecisionInput, MdfDecision>();
        RuleFor(x => x.Reason).MaximumLength(MdfRules.TextMax);
        RuleFor(x => x.Reason).NotEmpty().When(x => MdfRules.NeedsReason(x.Decision)).WithMessage("reason is required to reject or to ask for information.");
        When(x => MdfRules.IsApprove(x.Decision), () =>
        {
            RuleFor(x => x.ApprovedAmount).ValidMoney("approvedAmount", required: false).NotAbove("approvedAmount", requested, "requested amount");
            RuleFor(x => x.MaxReimbursementPercent).InclusiveBetween(1, 100).WithMessage("maxReimbursementPercent must be between 1 and 100.");
            RuleFor(x => x.ClaimDeadline).IsoDate();
        }).Otherwise(() =>
        {
            RuleFor(x => x.ApprovedAmount).Null().WithMessage("approvedAmount goes only with an approval.");
            RuleFor(x => x.MaxReimbursementPercent).Null().WithMessage("maxReimbursementPercent goes only with an approval.");
            RuleFor(x => x.ClaimDeadline).Null().WithMessage("claimDeadline goes only with an approval.");
        });
    }
}

/// <summary>Validates <see cref="ClaimInput"/>; given the approved amount, also checks the claim against it.</summary>
public sealed class ClaimValidator : AbstractValidator<ClaimInput>
{
    /// <summary>Creates the validator; <paramref name="approved"/> is the request's approved amount when known.</summary>
    public ClaimValidator(Money? approved = null)
    {
        RuleFor(x => x.ClaimedAmount).ValidMoney("claimedAmount").NotAbove("claimedAmount", approved, "approved amount");
        RuleFor(x => x.ActualLeads).NotNull().GreaterThanOrEqualTo(0);
        RuleFor(x => x.Attendees).GreaterThanOrEqualTo(0);
        RuleFor(x => x.Notes).MaximumLength(MdfRules.TextMax);
    }
}

/// <summary>Validates <see cref="ClaimDecisionInput"/>; given the claimed amount, also checks the approved amount against it.</summary>
public sealed class ClaimDecisionValidator : AbstractValidator<ClaimDecisionInput>
{
    /// <summary>Creates the validator; <paramref name="claimed"/> is the claim's amount when known.</summary>
    public ClaimDecisionValidator(Money? claimed = null)
    {
        RuleFor(x => x.Decision).NotEmpty().EnumText<ClaimDecisionInput, MdfDecision>();
        RuleFor(x => x.Reason).MaximumLength(MdfRules.TextMax);
        RuleFor(x => x.Reason).NotEmpty().When(x => MdfRules.NeedsReason(x.Decision)).WithMessage("reason is required to reject or to ask for information.");
        When(x => MdfRules.IsApprove(x.Decision), () => RuleFor(x => x.Amount).ValidMoney("amount", required: false).NotAbove("amount", claimed, "claimed amount"))
            .Otherwise(() => RuleFor(x => x.Amount).Null().WithMessage("amount goes only with an approval."));
    }
}

/// <summary>Validates <see cref="PayoutInput"/>.</summary>
public sealed class PayoutValidator : AbstractValidator<PayoutInput>
{
    /// <summary>Creates the validator.</summary>
    public PayoutValidator()
    {
        RuleFor(x => x.PaymentReference).NotEmpty().MaximumLength(100);
        RuleFor(x => x.PaidOn).NotEmpty().IsoDate();
    }
}
