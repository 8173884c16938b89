namespace Prm.Core.Identity;

/// <summary>The Entra ID app roles PrmFunctions defines.</summary>
public static class AppRoles
{
    public const string Admin = "Prm.Admin";
    public const string ChannelManager = "Prm.ChannelManager";

    /// <summary>The app role of machine clients (client-credentials, app-only tokens): lead intake from marketing systems.</summary>
    public const string Integration = "Prm.Integration";

    /// <summary>The delegated scope the API exposes (Expose an API → access_as_user); a user's token must grant it.</summary>
    public const string ApiScope = "access_as_user";
}

/// <summary>A person's role inside their partner company.</summary>
public enum PartnerRole { PartnerAdmin, PartnerUser }

/// <summary>Who is calling: identity from the token, membership from PrmFunctions' own directory.</summary>
public sealed record Caller(
    string UserId,
    string Email,
    string DisplayName,
    IReadOnlyList<string> Roles,
    string? PartnerId,
    PartnerRole? PartnerRole)
{
    /// <summary>The system itself (seed, workflows); never a request's caller.</summary>
    public static Caller System { get; } = new("system", "system@prm.local", "PrmFunctions", [AppRoles.Admin], null, null);

    public bool IsAdmin => Roles.Contains(AppRoles.Admin);
    public bool IsChannelManager => Roles.Contains(AppRoles.ChannelManager);

    /// <summary>A machine client with the app role Prm.Integration (never a person, never vendor staff).</summary>
    public bool IsIntegration => Roles.Contains(AppRoles.Integration);

    /// <summary>Vendor staff: program admin or channel manager.</summary>
    public bool IsVendor => IsAdmin || IsChannelManager;

    public bool IsPartnerAdminOf(string partnerId) => PartnerId == partnerId && PartnerRole == Identity.PartnerRole.PartnerAdmin;

    public bool IsMemberOf(string partnerId) => PartnerId == partnerId;
}

/// <summary>The access a function declares; enforced in one place for every host.</summary>
public enum AccessPolicy
{
    /// <summary>No sign-in (the token, if any, is ignored). Must be declared explicitly.</summary>
    Anonymous,
    /// <summary>Any signed-in member of the program: vendor staff or partner user (not a machine client).</summary>
    SignedIn,
    /// <summary>Program admins and channel managers.</summary>
    Vendor,
    /// <summary>Program admins only.</summary>
    Admin,
    /// <summary>Members of a partner company (partner admins and sales reps).</summary>
    PartnerMember,
    /// <summary>Program admins, channel managers and machine clients with the app role Prm.Integration (lead intake).</summary>
    VendorOrIntegration,
    /// <summary>Any valid access token, also of someone not a member yet (accepting an invitation). The function reads the token itself.</summary>
    TokenOnly,
    /// <summary>Machine clients only: app-only tokens with the app role Prm.Integration (CRM events in); people, staff included, get 403.</summary>
    Integration,
}

/// <summary>Declares who may call an HTTP function. Every HTTP function must carry one.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class AccessAttribute(AccessPolicy policy) : Attribute
{
    public AccessPolicy Policy { get; } = policy;
}

/// <summary>Rules of the declared policies, shared by every host.</summary>
public static class AccessRules
{
    /// <summary>True when the caller satisfies the policy. Resource-level checks (which partner) happen in the services.</summary>
    public static bool Allows(AccessPolicy policy, Caller caller) => policy switch
    {
        AccessPolicy.Anonymous => true,
        AccessPolicy.SignedIn => caller.PartnerId is not null || caller.IsVendor,
        AccessPolicy.Vendor => caller.IsVendor,
        AccessPolicy.Admin => caller.IsAdmin,
        AccessPolicy.PartnerMember => caller.PartnerId is not null,
        AccessPolicy.VendorOrIntegration => caller.PartnerId is null && (caller.IsVendor || caller.IsIntegration),
        AccessPolicy.TokenOnly => true,
        AccessPolicy.Integration => caller.PartnerId is null && caller.IsIntegration && !caller.IsVendor,
        _ => false,
    };

    /// <summary>The roles a policy admits, as documented in the OpenAPI document.</summary>
    public static IReadOnlyList<string> Describe(AccessPolicy policy) => policy switch
    {
        AccessPolicy.Anonymous => [],
        AccessPolicy.SignedIn => [AppRoles.Admin, AppRoles.ChannelManager, nameof(PartnerRole.PartnerAdmin), nameof(PartnerRole.PartnerUser)],
        AccessPolicy.Vendor => [AppRoles.Admin, AppRoles.ChannelManager],
        AccessPolicy.Admin => [AppRoles.Admin],
        AccessPolicy.PartnerMember => [nameof(PartnerRole.PartnerAdmin), nameof(PartnerRole.PartnerUser)],
        AccessPolicy.VendorOrIntegration => [AppRoles.Admin, AppRoles.ChannelManager, AppRoles.Integration],
        AccessPolicy.TokenOnly => ["any signed-in person"],
        AccessPolicy.Integration => [AppRoles.Integration],
        _ => [],
    };
}
