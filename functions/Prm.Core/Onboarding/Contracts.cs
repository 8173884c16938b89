using FluentValidation;
using Prm.Core.Common;
using Prm.Core.Partners;

namespace Prm.Core.Onboarding;

public sealed record ApplicationCompanyInput(string? LegalName, string? Website, string? Domain, string? Country, string? Region, string? SizeBand, IReadOnlyList<string>? Industries, string? PartnerType);

public sealed record ApplicationApplicantInput(string? Name, string? Email, string? Phone, string? JobTitle);

/// <summary>Body of POST /api/partner-applications (the public "become a partner" form).</summary>
public sealed record SubmitApplicationRequest(ApplicationCompanyInput? Company, ApplicationApplicantInput? Applicant, string? ExpectedAnnualRevenueBand, string? AcceptedTermsVersion, string? AcceptedPrivacyVersion);

/// <summary>Answer of POST /api/partner-applications: where to follow the application.</summary>
public sealed record SubmittedApplication(string ApplicationId, string Status, string StatusUrl);

/// <summary>Body of POST /api/partner-applications/{id}/decision.</summary>
public sealed record ApplicationDecisionRequest(string? Decision, string? Reason, string? Tier);

/// <summary>Body of POST /api/partner-applications/{id}/info: the applicant's answer to a request for information.</summary>
public sealed record ApplicationInfoAnswer(string? Token, string? Answer);

/// <summary>An application as reviewers see it.</summary>
public sealed record ApplicationDto(
    string Id, string Status, ApplicantCompanyDto Company, ApplicantPerson Applicant, string? ExpectedAnnualRevenueBand, DateTimeOffset SubmittedAt,
    Screening Screening, string? AssigneeId, ReviewDeadlines Deadlines, IReadOnlyList<ApplicationDecision> Decisions, string? PartnerId,
    string? InfoRequest, string? InfoAnswer, DateTimeOffset? InfoDueAt)
{
    public static ApplicationDto From(PartnerApplication a) => new(a.Id, a.Status.ToString(), ApplicantCompanyDto.From(a.Company), a.Applicant, a.ExpectedAnnualRevenueBand,
        a.SubmittedAt, a.Screening, a.AssigneeId, a.Deadlines, a.Decisions, a.PartnerId, a.InfoRequest, a.InfoAnswer, a.InfoDueAt);
}

public sealed record ApplicantCompanyDto(string LegalName, string? Website, string Domain, string Country, string? Region, string? SizeBand, IReadOnlyList<string> Industries, string PartnerType)
{
    public static ApplicantCompanyDto From(ApplicantCompany c) => new(c.LegalName, c.Website, c.Domain, c.Country, c.Region, c.SizeBand, c.Industries, Text.Camel(c.PartnerType));
}

/// <summary>What the applicant sees through the status link.</summary>
public sealed record ApplicationStatusDto(string ApplicationId, string Status, string CompanyName, DateTimeOffset SubmittedAt, string? Reason, string? InfoRequest, DateTimeOffset? InfoDueAt);

public sealed class SubmitApplicationValidator : AbstractValidator<SubmitApplicationRequest>
{
    public static readonly IReadOnlyList<string> SizeBands = ["1-10", "11-50", "51-200", "201-1000", "1000+"];
    public static readonly IReadOnlyList<string> RevenueBands = ["<100k", "100k-1m", "1m-10m", ">10m"];

    public SubmitApplicationValidator()
    {
        RuleFor(x => x.Company).NotNull();
        RuleFor(x => x.Applicant).NotNull();
        When(x => x.Company is not null, () =>
        {
            RuleFor(x => x.Company!.LegalName).NotEmpty().MaximumLength(200).OverridePropertyName("company.legalName");
            RuleFor(x => x.Company!.Domain).NotEmpty().Domain().OverridePropertyName("company.domain");
            RuleFor(x => x.Company!.Website).Url().MaximumLength(500).OverridePropertyName("company.website");
            RuleFor(x => x.Company!.Country).NotEmpty().Country().OverridePropertyName("company.country");
            RuleFor(x => x.Company!.Region).Must(r => r is null || Regions.IsKnown(r)).WithMessage("company.region must be one of: " + string.Join(", ", Regions.All) + ".").OverridePropertyName("company.region");
            RuleFor(x => x.Company!.SizeBand).Must(b => b is null || SizeBands.Contains(b)).WithMessage("company.sizeBand must be one of: " + string.Join(", ", SizeBands) + ".").OverridePropertyName("company.sizeBand");
            RuleFor(x => x.Company!.Industries).Must(i => i is null || (i.Count <= 10 && i.All(v => !string.IsNullOrWhiteSpace(v) && v.Length <= 60))).WithMessage("company.industries takes at most 10 names of up to 60 characters.").OverridePropertyName("company.industries");
            RuleFor(x => x.Company!.PartnerType).NotEmpty().EnumText<SubmitApplicationRequest, PartnerType>().OverridePropertyName("company.partnerType");
        });
        When(x => x.Applicant is not null, () =>
        {
            RuleFor(x => x.Applicant!.Name).NotEmpty().MaximumLength(200).OverridePropertyName("applicant.name");
            RuleFor(x => x.Applicant!.Email).NotEmpty().Email().OverridePropertyName("applicant.email");
            RuleFor(x => x.Applicant!.Phone).MaximumLength(50).OverridePropertyName("applicant.phone");
            RuleFor(x => x.Applicant!.JobTitle).MaximumLength(100).OverridePropertyName("applicant.jobTitle");
        });
        RuleFor(x => x.ExpectedAnnualRevenueBand).Must(b => b is null || RevenueBands.Contains(b)).WithMessage("expectedAnnualRevenueBand must be one of: " + string.Join(", ", RevenueBands) + ".");
        RuleFor(x => x.AcceptedTermsVersion).NotEmpty().WithMessage("acceptedTermsVersion is required: the applicant accepts the program terms.").MaximumLength(50);
        RuleFor(x => x.AcceptedPrivacyVersion).NotEmpty().WithMessage("acceptedPrivacyVersion is required: the applicant accepts the privacy notice.").MaximumLength(50);
    }
}
