using FluentValidation;
using Prm.Core.Common;
using Prm.Core.Identity;

namespace Prm.Core.Partners;

/// <summary>A partner as the API returns it.</summary>
public sealed record PartnerDto(
    string Id, string Name, string Domain, string Status, string Tier, string PartnerType, string Country, string Region,
    string? ChannelManagerId, string? Website, string? Phone, string? Description, string? City, int UserCount,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static PartnerDto From(Partner p) => new(p.Id, p.Name, p.Domain, p.Status.ToString(), Text.Camel(p.Tier), Text.Camel(p.Type),
        p.Country, p.Region, p.ChannelManagerId, p.Website, p.Phone, p.Description, p.City, p.UserCount, p.CreatedAt, p.UpdatedAt);
}

/// <summary>A partner user as the API returns it.</summary>
public sealed record PartnerUserDto(string Id, string PartnerId, string Email, string DisplayName, string Role, string Status, DateTimeOffset InvitedAt, DateTimeOffset? JoinedAt)
{
    public static PartnerUserDto From(PartnerUser u) => new(u.Id, u.PartnerId, u.Email, u.DisplayName, u.Role.ToString(), u.Status.ToString(), u.InvitedAt, u.JoinedAt);
}

/// <summary>One onboarding checklist item.</summary>
public sealed record OnboardingItem(string Key, string Title, bool Done, DateTimeOffset? CompletedAt);

/// <summary>The onboarding checklist of a partner.</summary>
public sealed record OnboardingChecklist(string PartnerId, string Status, DateTimeOffset? ActivatedAt, IReadOnlyList<OnboardingItem> Items, int Completed, int Total);

/// <summary>The first partner admin named when a partner is created.</summary>
public sealed record NewPartnerAdmin(string? Email, string? DisplayName);

/// <summary>Body of POST /api/partners.</summary>
public sealed record CreatePartnerRequest(
    string? Name, string? Domain, string? Country, string? Region, string? Tier, string? PartnerType, string? Status,
    string? ChannelManagerId, string? Website, string? Phone, string? Description, string? City, NewPartnerAdmin? Admin);

/// <summary>Body of PATCH /api/partners/{partnerId}: only the fields present change.</summary>
public sealed record PatchPartnerRequest(
    string? Name, string? Website, string? Phone, string? Description, string? City, string? Country, string? Region,
    string? Tier, string? PartnerType, string? Status, string? ChannelManagerId);

/// <summary>Body of POST /api/partners/{partnerId}/users.</summary>
public sealed record InviteUserRequest(string? Email, string? DisplayName, string? Role);

/// <summary>Body of PATCH /api/partners/{partnerId}/users/{userId}.</summary>
public sealed record PatchUserRequest(string? DisplayName, string? Role);

/// <summary>The program's regions (lower case codes), used to validate partners and assign channel managers.</summary>
public static class Regions
{
    public static readonly IReadOnlyList<string> All = ["amer", "emea", "apac"];

    public static bool IsKnown(string? region) => region is not null && All.Contains(region);
}

internal static class PartnerRules
{
    public const int NameMax = 200;
    public const int TextMax = 2000;

    public static IRuleBuilderOptions<T, string?> Region<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(v => v is null || Regions.IsKnown(v)).WithMessage("{PropertyName} must be one of: " + string.Join(", ", Regions.All) + ".");
}

public sealed class CreatePartnerValidator : AbstractValidator<CreatePartnerRequest>
{
    public CreatePartnerValidator()
    {
        RuleFor(x => x.Name).NotEmpty().MaximumLength(PartnerRules.NameMax);
        RuleFor(x => x.Domain).NotEmpty().Domain();
        RuleFor(x => x.Country).NotEmpty().Country();
        RuleFor(x => x.Region).NotEmpty().Region();
        RuleFor(x => x.Tier).EnumText<CreatePartnerRequest, PartnerTier>();
        RuleFor(x => x.PartnerType).EnumText<CreatePartnerRequest, PartnerType>();
        RuleFor(x => x.Status).EnumText<CreatePartnerRequest, PartnerStatus>();
        RuleFor(x => x.Website).Url().MaximumLength(500);
        RuleFor(x => x.Phone).MaximumLength(50);
        RuleFor(x => x.City).MaximumLength(100);
        RuleFor(x => x.Description).MaximumLength(PartnerRules.TextMax);
        When(x => x.Admin is not null, () =>
        {
            RuleFor(x => x.Admin!.Email).NotEmpty().Email().OverridePropertyName("admin.email");
            RuleFor(x => x.Admin!.DisplayName).NotEmpty().MaximumLength(PartnerRules.NameMax).OverridePropertyName("admin.displayName");
        });
    }
}

public sealed class PatchPartnerValidator : AbstractValidator<PatchPartnerRequest>
{
    public PatchPartnerValidator()
    {
        RuleFor(x => x.Name).Must(v => v is null || v.Trim().Length > 0).WithMessage("name must not be empty.").MaximumLength(PartnerRules.NameMax);
        RuleFor(x => x.Country).Country();
        RuleFor(x => x.Region).Region();
        RuleFor(x => x.Tier).EnumText<PatchPartnerRequest, PartnerTier>();
        RuleFor(x => x.PartnerType).EnumText<PatchPartnerRequest, PartnerType>();
        RuleFor(x => x.Status).EnumText<PatchPartnerRequest, PartnerStatus>();
        RuleFor(x => x.Website).Url().MaximumLength(500);
        RuleFor(x => x.Phone).MaximumLength(50);
        RuleFor(x => x.City).MaximumLength(100);
        RuleFor(x => x.Description).MaximumLength(PartnerRules.TextMax);
    }
}

public sealed class InviteUserValidator : AbstractValidator<InviteUserRequest>
{
    public InviteUserValidator()
    {
        RuleFor(x => x.Email).NotEmpty().Email();
        RuleFor(x => x.DisplayName).NotEmpty().MaximumLength(PartnerRules.NameMax);
        RuleFor(x => x.Role).EnumText<InviteUserRequest, PartnerRole>();
    }
}

public sealed class PatchUserValidator : AbstractValidator<PatchUserRequest>
{
    public PatchUserValidator()
    {
        RuleFor(x => x.DisplayName).Must(v => v is null || v.Trim().Length > 0).WithMessage("displayName must not be empty.").MaximumLength(PartnerRules.NameMax);
        RuleFor(x => x.Role).EnumText<PatchUserRequest, PartnerRole>();
    }
}
