using FluentValidation;
using Prm.Core.Common;
using Prm.Core.Mdf;
using Prm.Core.Partners;

namespace Prm.Core.Leads;

public sealed record LeadCompanyInput(string? Name, string? Domain, string? Country, string? Region, string? PostalCode, string? Industry, string? SizeBand);

public sealed record LeadContactInput(string? Name, string? Email, string? Phone, string? JobTitle);

public sealed record LeadSourceInput(string? Campaign, string? Channel);

/// <summary>Body of POST /api/leads.</summary>
public sealed record CreateLeadRequest(LeadCompanyInput? Company, LeadContactInput? Contact, IReadOnlyList<string>? ProductLines, LeadSourceInput? Source,
    string? Grade, MoneyInput? EstimatedValue, string? Notes, string? ExternalId, bool? ConsentToShare);

/// <summary>Body of POST /api/leads/{id}/decline.</summary>
public sealed record DeclineLeadRequest(string? Reason, string? Note);

/// <summary>Body of POST /api/leads/{id}/status: Contacted, Qualified, Disqualified (reason) or ClosedLost (reason optional).</summary>
public sealed record LeadStatusRequest(string? Status, string? Reason);

/// <summary>Body of POST /api/leads/{id}/assign (partner admin: a rep of the company).</summary>
public sealed record AssignLeadRequest(string? UserId);

/// <summary>Body of POST /api/leads/{id}/convert: the registration's expected close date and value (defaults: 90 days, the lead's value).</summary>
public sealed record ConvertLeadRequest(string? ExpectedCloseDate, MoneyInput? EstimatedValue, string? Notes);

/// <summary>Body of the vendor actions POST /api/leads/{id}/vendor-assign ({ partnerId }), /recall and /reroute ({ reason }).</summary>
public sealed record VendorLeadRequest(string? PartnerId, string? Reason);

/// <summary>An offer as the API shows it (the trace only to vendor staff).</summary>
public sealed record LeadOfferDto(string Id, string PartnerId, string PartnerName, string Status, int Hop, DateTimeOffset OfferedAt, DateTimeOffset ExpiresAt,
    DateTimeOffset? OpenedAt, DateTimeOffset? DecidedAt, string? DecidedByName, string? DeclineReason, DateTimeOffset? RecalledAt, string? AssignedByName, RoutingTrace? Trace);

/// <summary>
/// A lead as the API shows it. Before a partner accepted it (and after it lost it) the partner sees the masked lead: company name,
/// domain, postal code, contact and notes are null and <see cref="Masked"/> is true.
/// </summary>
public sealed record LeadDto(
    string Id, string Status, bool Masked, LeadCompanyDto Company, LeadContactDto? Contact, IReadOnlyList<string> ProductLines, LeadSource? Source,
    string? Grade, Money? EstimatedValue, string? Notes, string? ExternalId, IReadOnlyList<LeadOfferDto> Offers, DateTimeOffset? AcceptDeadline,
    string? PartnerId, string? PartnerName, string? AssignedTo, string? AssignedToName, DateTimeOffset? AcceptedAt, DateTimeOffset? ConvertBy, DateTimeOffset? RecallAt,
    string? DealId, string? CloseReason, string? PoolReason, IReadOnlyList<LeadNote> History, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    /// <summary>The vendor's view: everything.</summary>
    public static LeadDto Vendor(Lead l) => Build(l, masked: false, offers: l.Offers, trace: true);

    /// <summary>A partner's view: its own offers only; customer data only while it holds the lead.</summary>
    public static LeadDto ForPartner(Lead l, string partnerId)
    {
        var holds = l.PartnerId == partnerId && (l.IsWorked || l.Status is LeadStatus.Converted or LeadStatus.Disqualified or LeadStatus.ClosedLost);
        return Build(l, masked: !holds, offers: l.Offers.Where(o => o.PartnerId == partnerId).ToList(), trace: false) with { PoolReason = null, ExternalId = null };
    }

    private static LeadDto Build(Lead l, bool masked, IReadOnlyList<LeadOffer> offers, bool trace)
    {
        var c = l.Company;
        var company = masked ? new LeadCompanyDto(null, null, c.Country, c.Region, null, c.Industry, c.SizeBand) : new LeadCompanyDto(c.Name, c.Domain, c.Country, c.Region, c.PostalCode, c.Industry, c.SizeBand);
        var pending = offers.LastOrDefault(o => o.Status == OfferStatus.Pending);
        return new LeadDto(l.Id, l.Status.ToString(), masked, company, masked ? null : new LeadContactDto(l.Contact.Name, l.Contact.Email, l.Contact.Phone, l.Contact.JobTitle),
            l.ProductLines, masked ? null : l.Source, l.Grade, l.EstimatedValue, masked ? null : l.Notes, l.ExternalId,
            offers.Select(o => new LeadOfferDto(o.Id, o.PartnerId, o.PartnerName, o.Status.ToString(), o.Hop, o.OfferedAt, o.ExpiresAt, o.OpenedAt, o.DecidedAt, o.DecidedByName,
                o.DeclineReason is { } r ? Text.Camel(r) : null, o.RecalledAt, o.AssignedByName, trace ? o.Trace : null)).ToList(),
            pending?.ExpiresAt, masked ? null : l.PartnerId, masked ? null : l.PartnerName, masked ? null : l.AssignedTo, masked ? null : l.AssignedToName,
            masked ? null : l.AcceptedAt, masked ? null : l.ConvertBy, masked ? null : l.RecallAt, masked ? null : l.DealId, l.CloseReason, l.PoolReason, masked ? [] : l.History, l.CreatedAt, l.UpdatedAt);
    }
}

public sealed record LeadCompanyDto(string? Name, string? Domain, string Country, string Region, string? PostalCode, string? Industry, string? SizeBand);

public sealed record LeadContactDto(string Name, string Email, string? Phone, string? JobTitle);

/// <summary>The answer of POST /api/leads: the lead, whether the intake merged into an existing one, and the routing result.</summary>
public sealed record LeadIntakeResult(LeadDto Lead, string Outcome, string? OfferedTo, string? PoolReason);

/// <summary>A partner's lead routing profile: its weight (0 to 100; 0 never receives leads) and the end of its holiday (no offers until then).</summary>
public sealed record LeadRoutingProfile(string PartnerId, double Weight, DateTimeOffset? HolidayUntil);

/// <summary>Body of PUT /api/partners/{partnerId}/lead-routing: both fields replace the profile (weight: owning channel manager and admins; holidayUntil: also the partner's admins).</summary>
public sealed record LeadRoutingProfileRequest(double? Weight, string? HolidayUntil);

/// <summary>A partner's lead figures.</summary>
public sealed record LeadStats(string PartnerId, int Offers, int Accepted, int Declined, int Expired, int Recalled, int Converted, double? AcceptanceRate,
    double? MedianHoursToAccept, double? ConversionRate, int OpenLeads, DateTimeOffset? PausedUntil, int RecentStrikes);

/// <summary>One partner's line of the fairness report.</summary>
public sealed record FairnessLine(string PartnerId, string PartnerName, int Offers, double OfferShare, double WeightShare, double Deviation, bool Flagged);

/// <summary>The fairness report of one rule over a period.</summary>
public sealed record FairnessRule(string Rule, int Offers, IReadOnlyList<FairnessLine> Partners);

public sealed record FairnessReport(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<FairnessRule> Rules);

/// <summary>Validates an intake; product lines are checked against the catalog by the service.</summary>
public sealed class CreateLeadValidator : AbstractValidator<CreateLeadRequest>
{
    public static readonly string[] Grades = ["A", "B", "C"];

    public CreateLeadValidator()
    {
        RuleFor(x => x.ConsentToShare).NotNull().WithMessage("consentToShare is required: true lets the lead be offered to partners, false keeps it with the vendor.");
        RuleFor(x => x.Company).NotNull().WithMessage("company is required.");
        RuleFor(x => x.Contact).NotNull().WithMessage("contact is required.");
        RuleFor(x => x.ProductLines).NotNull().WithMessage("productLines is required: at least one product line id.");
        RuleFor(x => x.ProductLines).Must(p => p is null || (p.Count is > 0 and <= 10 && p.All(id => !string.IsNullOrWhiteSpace(id) && id.Length <= 80)))
            .WithMessage("productLines takes 1 to 10 product line ids.");
        When(x => x.Company is not null, () =>
        {
            RuleFor(x => x.Company!.Name).NotEmpty().WithMessage("company.name is required.").MaximumLength(200).OverridePropertyName("company.name");
            RuleFor(x => x.Company!.Domain).MaximumLength(253).Domain().OverridePropertyName("company.domain");
            RuleFor(x => x.Company!.Country).NotEmpty().WithMessage("company.country is required.").Country().OverridePropertyName("company.country");
            RuleFor(x => x.Company!.Region).Must(r => r is null || Regions.IsKnown(r)).WithMessage("company.region must be one of: " + string.Join(", ", Regions.All) + ".").OverridePropertyName("company.region");
            RuleFor(x => x.Company!.PostalCode).MaximumLength(20).OverridePropertyName("company.postalCode");
            RuleFor(x => x.Company!.Industry).MaximumLength(100).OverridePropertyName("company.industry");
            RuleFor(x => x.Company!.SizeBand).MaximumLength(40).OverridePropertyName("company.sizeBand");
        });
        When(x => x.Contact is not null, () =>
        {
            RuleFor(x => x.Contact!.Name).NotEmpty().WithMessage("contact.name is required.").MaximumLength(200).OverridePropertyName("contact.name");
            RuleFor(x => x.Contact!.Email).NotEmpty().WithMessage("contact.email is required.").MaximumLength(254).Email().OverridePropertyName("contact.email");
            RuleFor(x => x.Contact!.Phone).MaximumLength(40).OverridePropertyName("contact.phone");
            RuleFor(x => x.Contact!.JobTitle).MaximumLength(200).OverridePropertyName("contact.jobTitle");
        });
        RuleFor(x => x.Source!.Campaign).MaximumLength(200).OverridePropertyName("source.campaign").When(x => x.Source is not null);
        RuleFor(x => x.Source!.Channel).MaximumLength(100).OverridePropertyName("source.channel").When(x => x.Source is not null);
        RuleFor(x => x.Grade).Must(g => g is null || Grades.Contains(g)).WithMessage("grade must be A, B or C.");
        RuleFor(x => x.EstimatedValue).ValidMoney("estimatedValue", required: false);
        RuleFor(x => x.Notes).MaximumLength(4000);
        RuleFor(x => x.ExternalId).Must(v => v is null || (v.Trim().Length is > 0 and <= 200)).WithMessage("externalId takes 1 to 200 characters.");
    }
}
