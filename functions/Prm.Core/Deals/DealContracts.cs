using FluentValidation;
using Prm.Core.Common;
using Prm.Core.Mdf;

namespace Prm.Core.Deals;

public sealed record DealCustomerInput(string? CompanyName, string? Domain, string? Country, string? ContactName, string? ContactEmail);

/// <summary>Body of POST /api/deals (and of PATCH /api/deals/{id}, where only present fields change).</summary>
public sealed record RegisterDealRequest(DealCustomerInput? Customer, IReadOnlyList<string>? Products, MoneyInput? EstimatedValue, string? ExpectedCloseDate, string? Notes, string? MdfRequestId, bool? Draft);

/// <summary>Body of POST /api/deals/{id}/decision.</summary>
public sealed record DealDecisionRequest(string? Decision, string? Reason, int? ProtectionDays);

/// <summary>Body of POST /api/deals/{id}/extension-requests.</summary>
public sealed record ExtensionRequestBody(int? Days, string? Reason);

/// <summary>Body of POST /api/deals/{id}/extension-requests/{extensionId}/decision.</summary>
public sealed record ExtensionDecisionRequest(string? Decision, string? Reason);

/// <summary>Body of POST /api/deals/{id}/outcome.</summary>
public sealed record DealOutcomeRequest(string? Result, MoneyInput? Amount, string? CloseDate, string? Reason);

/// <summary>Body of POST/PUT /api/house-accounts.</summary>
public sealed record HouseAccountRequest(string? Name, string? Domain);

/// <summary>Body of POST /api/product-lines and PUT /api/product-lines/{id}.</summary>
public sealed record ProductLineRequest(string? Id, string? Name, bool? Active);

/// <summary>The customer as the API shows it.</summary>
public sealed record DealCustomerDto(string CompanyName, string? Domain, string Country, string? ContactName, string? ContactEmail);

/// <summary>The conflict as the API shows it: partners see the level, score and anonymous evidence; vendor staff also the matched registrations.</summary>
public sealed record DealConflictDto(string Level, int Score, IReadOnlyList<string> Evidence, IReadOnlyList<string>? MatchedDealIds, bool? HouseAccount, bool ClaimHeld);

/// <summary>A deal registration as the API shows it.</summary>
public sealed record DealDto(
    string Id, string RegistrationNumber, string PartnerId, string PartnerName, string SubmittedBy, string SubmittedByName, string Status,
    DealCustomerDto Customer, IReadOnlyList<string> Products, Money EstimatedValue, DateOnly ExpectedCloseDate, string? Notes, string? MdfRequestId,
    DateTimeOffset CreatedAt, DateTimeOffset? SubmittedAt, DealConflictDto Conflict, DateTimeOffset? ApprovedAt, DateTimeOffset? ProtectedUntil,
    IReadOnlyList<DealExtension> Extensions, DealOutcome? Outcome, IReadOnlyList<DealDecision> Decisions, DateTimeOffset UpdatedAt, string? LeadId = null)
{
    public static DealDto From(Deal d, bool vendorView) => new(
        d.Id, d.RegistrationNumber, d.PartnerId, d.PartnerName, d.SubmittedBy, d.SubmittedByName, d.Status.ToString(),
        new DealCustomerDto(d.Customer.CompanyName, d.Customer.Domain, d.Customer.Country, d.Customer.ContactName, d.Customer.ContactEmail),
        d.Products, d.EstimatedValue, d.ExpectedCloseDate, d.Notes, d.MdfRequestId, d.CreatedAt, d.SubmittedAt,
        new DealConflictDto(d.Conflict.Level, d.Conflict.Score, d.Conflict.Evidence, vendorView ? d.Conflict.MatchedDealIds : null, vendorView ? d.Conflict.HouseAccount : null, d.Conflict.ClaimHeld),
        d.ApprovedAt, d.ProtectedUntil, d.Extensions, d.Outcome, d.Decisions, d.UpdatedAt, d.LeadId);

    /// <summary>
    /// Whether this state is the one its first submission made (submitted in this change, never returned): nothing counted it yet. A hint
    /// for the counters, which may insert its contribution without reading it first and read when the insert is refused.
    /// </summary>
    public bool IsFirstSubmission() => SubmittedAt == UpdatedAt && Decisions.All(d => d.Decision != "return");
}

/// <summary>Dashboard counters of a partner's deal registrations.</summary>
/// <remarks>
/// <see cref="WonByMonth"/> is won value by close month ("yyyy-MM") and currency, <see cref="ApprovedByMonth"/> approved registrations by
/// approval month: the month buckets the tier evaluation sums over its trailing 12 months.
/// </remarks>
public sealed record DealStats(string PartnerId, int Submitted, int Approved, int Won, int Lost, int Active, IReadOnlyDictionary<string, decimal> PipelineValue, IReadOnlyDictionary<string, decimal> WonValue,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, decimal>>? WonByMonth = null, IReadOnlyDictionary<string, int>? ApprovedByMonth = null);

public sealed record HouseAccountDto(string Id, string Name, string? Domain, string CreatedByName, DateTimeOffset CreatedAt)
{
    public static HouseAccountDto From(HouseAccount h) => new(h.Id, h.Name, h.Domain, h.CreatedByName, h.CreatedAt);
}

/// <summary>Validates the body of a registration; product lines are checked against the catalog by the service.</summary>
public sealed class RegisterDealValidator : AbstractValidator<RegisterDealRequest>
{
    public const decimal MaxValue = 1_000_000_000m;

    public RegisterDealValidator(TimeProvider clock, bool partial = false)
    {
        if (!partial)
        {
            RuleFor(x => x.Customer).NotNull().WithMessage("customer is required.");
            RuleFor(x => x.Products).NotNull().WithMessage("products is required: at least one product line id.");
            RuleFor(x => x.EstimatedValue).NotNull().WithMessage("estimatedValue is required.");
            RuleFor(x => x.ExpectedCloseDate).NotEmpty().WithMessage("expectedCloseDate is required.");
        }
        When(x => x.Customer is not null, () =>
        {
            RuleFor(x => x.Customer!.CompanyName).Must(v => partial ? v is null || v.Trim().Length > 0 : !string.IsNullOrWhiteSpace(v)).WithMessage("customer.companyName is required.").OverridePropertyName("customer.companyName");
            RuleFor(x => x.Customer!.CompanyName).MaximumLength(200).OverridePropertyName("customer.companyName");
            RuleFor(x => x.Customer!.CompanyName).Must(v => v is null || CustomerNormalizer.CompanyNameKey(v) is not null).WithMessage("customer.companyName must contain a name.").OverridePropertyName("customer.companyName");
            RuleFor(x => x.Customer!.Domain).Must(v => partial ? v is null || v.Trim().Length > 0 : !string.IsNullOrWhiteSpace(v)).WithMessage("customer.domain is required: the customer's web domain, a URL or a contact's company email.").OverridePropertyName("customer.domain");
            RuleFor(x => x.Customer!.Domain).Must(v => v is null || v.Length > 300 || CustomerNormalizer.RegistrableDomain(v) is not null)
                .WithMessage("customer.domain must be the customer's own domain (a domain, URL or email address; free-mail providers do not identify a customer).").OverridePropertyName("customer.domain");
            RuleFor(x => x.Customer!.Domain).MaximumLength(300).OverridePropertyName("customer.domain");
            RuleFor(x => x.Customer!.Country).Must(v => partial ? v is null || v.Trim().Length > 0 : !string.IsNullOrWhiteSpace(v)).WithMessage("customer.country is required.").OverridePropertyName("customer.country");
            RuleFor(x => x.Customer!.Country).Country().OverridePropertyName("customer.country");
            RuleFor(x => x.Customer!.ContactName).MaximumLength(200).OverridePropertyName("customer.contactName");
            RuleFor(x => x.Customer!.ContactEmail).Email().OverridePropertyName("customer.contactEmail");
        });
        RuleFor(x => x.Products).Must(p => p is null || (p.Count is > 0 and <= 20 && p.All(id => !string.IsNullOrWhiteSpace(id))))
            .WithMessage("products takes 1 to 20 product line ids.");
        RuleFor(x => x.EstimatedValue).ValidMoney("estimatedValue", required: !partial);
        RuleFor(x => x.ExpectedCloseDate).IsoDate();
        RuleFor(x => x.ExpectedCloseDate).Must(v => MdfRules.ParseDate(v) is not { } d || d >= DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime))
            .WithMessage("expectedCloseDate must not be in the past.");
        RuleFor(x => x.ExpectedCloseDate).Must(v => MdfRules.ParseDate(v) is not { } d || d <= DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime).AddYears(5))
            .WithMessage("expectedCloseDate must be within five years.");
        RuleFor(x => x.Notes).MaximumLength(4000);
        RuleFor(x => x.MdfRequestId).MaximumLength(80);
    }
}
