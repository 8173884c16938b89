using System.Security.Claims;
using Prm.Core.Common;

namespace Prm.Core.Identity;

/// <summary>The link between a token identity (tenant + object id) and a PrmFunctions user.</summary>
public sealed record IdentityLink(string TenantId, string ObjectId, string UserId, string? PartnerId, PartnerRole? PartnerRole, string Email, string DisplayName, bool Disabled);

/// <summary>An invitation or a pre-registered user waiting for their first sign-in, found by email.</summary>
public sealed record EmailRegistration(string Email, string UserId, string? PartnerId);

/// <summary>Storage port of the identity directory.</summary>
public interface IIdentityDirectory
{
    Task<IdentityLink?> FindIdentityAsync(string tenantId, string objectId, CancellationToken ct);

    Task<EmailRegistration?> FindEmailAsync(string email, CancellationToken ct);

    /// <summary>Links a signed-in identity to the user registered under its email; returns the link (idempotent).</summary>
    Task<IdentityLink?> LinkAsync(string tenantId, string objectId, EmailRegistration registration, string displayName, CancellationToken ct);

    /// <summary>Registers vendor staff seen for the first time (they carry app roles in their token).</summary>
    Task<IdentityLink> RegisterStaffAsync(string tenantId, string objectId, string email, string displayName, IReadOnlyList<string> roles, CancellationToken ct);
}

/// <summary>What PrmFunctions reads from a validated access token.</summary>
public sealed record TokenIdentity(string TenantId, string ObjectId, string? Email, string Name, IReadOnlyList<string> Roles, bool EmailVerified)
{
    /// <summary>An app-only token (client-credentials flow): no delegated scope, only app roles. Its caller is the app, never a person.</summary>
    public bool AppOnly { get; init; }

    public const string TenantClaim = "http://schemas.microsoft.com/identity/claims/tenantid";
    public const string ObjectClaim = "http://schemas.microsoft.com/identity/claims/objectidentifier";

    /// <summary>Reads the identity; throws <see cref="UnauthenticatedException"/> when the token lacks tenant and object id.</summary>
    public static TokenIdentity From(ClaimsPrincipal principal)
    {
        var tenantId = First(principal, "tid", TenantClaim);
        var objectId = First(principal, "oid", ObjectClaim);
        if (tenantId is null || objectId is null) throw new UnauthenticatedException("The access token carries no tenant and object id.");
        var roles = principal.Claims
            .Where(c => c.Type is "roles" or ClaimTypes.Role)
            .Select(c => c.Value)
            .Where(r => r is AppRoles.Admin or AppRoles.ChannelManager or AppRoles.Integration)
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();
        var email = Text.NormalizeEmail(First(principal, "email", "preferred_username", ClaimTypes.Email, ClaimTypes.Upn, "upn"));
        // Entra's optional claim xms_edov: the email's domain is verified by its owner. Without it an email claim proves nothing.
        var verified = string.Equals(First(principal, "xms_edov"), "true", StringComparison.OrdinalIgnoreCase) || First(principal, "xms_edov") == "1";
        var appOnly = First(principal, "scp", "http://schemas.microsoft.com/identity/claims/scope") is null;
        var name = First(principal, "name", ClaimTypes.Name, "app_displayname") ?? email ?? (appOnly ? "Integration app " + objectId : "Unknown user");
        return new TokenIdentity(tenantId, objectId, email, name, roles, verified) { AppOnly = appOnly };
    }

    private static string? First(ClaimsPrincipal principal, params string[] types)
    {
        foreach (var type in types)
        {
            var value = principal.FindFirst(type)?.Value;
            if (!string.IsNullOrWhiteSpace(value)) return value;
        }
        return null;
    }
}

/// <summary>
/// Turns a validated token into a <see cref="Caller"/>. A first sign-in is linked to an invitation by email only when the token
/// proves the email (verified domain owner); otherwise the person accepts the invitation with the code from its email.
/// </summary>
public sealed class CallerResolver(IIdentityDirectory directory, MembershipCache cache)
{
    /// <summary>Resolves the caller; throws <see cref="UnauthenticatedException"/> when the token lacks an identity and <see cref="ForbiddenException"/> for someone unknown to the program.</summary>
    public async Task<Caller> ResolveAsync(ClaimsPrincipal principal, CancellationToken ct)
    {
        var token = TokenIdentity.From(principal);
        if (token.AppOnly && token.Roles.Contains(AppRoles.Integration) && !token.Roles.Any(r => r is AppRoles.Admin or AppRoles.ChannelManager))
        {
            // A machine client (client credentials) with Prm.Integration: it acts as the app, never as a person or staff (no directory entry).
            return new Caller("app:" + token.ObjectId, "", token.Name, [AppRoles.Integration], null, null);
        }
        var link = cache.Get(token.TenantId, token.ObjectId);
        if (link is null)
        {
            link = await directory.FindIdentityAsync(token.TenantId, token.ObjectId, ct) ?? await FirstSignInAsync(token, ct);
            cache.Set(link);
        }
        return ToCaller(link, token.Roles);
    }

    /// <summary>The caller of a link: a partner user never carries vendor roles, whatever the token says.</summary>
    public static Caller ToCaller(IdentityLink link, IReadOnlyList<string> tokenRoles)
    {
        if (link.Disabled) throw new ForbiddenException("This account has been removed from the partner program.");
        // Prm.Integration belongs to app-only tokens: a person's token never carries it into a caller.
        var roles = link.PartnerId is null ? tokenRoles.Where(r => r != AppRoles.Integration).ToList() : [];
        if (link.PartnerId is null && roles.Count == 0) throw new ForbiddenException("You are not a member of the partner program.");
        return new Caller(link.UserId, link.Email, link.DisplayName, roles, link.PartnerId, link.PartnerRole);
    }

    private async Task<IdentityLink> FirstSignInAsync(TokenIdentity token, CancellationToken ct)
    {
        if (token.Email is not null)
        {
            var registration = await directory.FindEmailAsync(token.Email, ct);
            // Staff registrations need app roles (assigned in the vendor's tenant); partner invitations need a verified email.
            var trusted = registration is not null && (registration.PartnerId is null ? token.Roles.Count > 0 : token.EmailVerified);
            if (trusted)
            {
                var linked = await directory.LinkAsync(token.TenantId, token.ObjectId, registration!, token.Name, ct);
                if (linked is not null) return linked;
            }
            if (registration is null && token.Roles.Count > 0)
            {
                return await directory.RegisterStaffAsync(token.TenantId, token.ObjectId, token.Email, token.Name, token.Roles, ct);
            }
        }
        throw new ForbiddenException("You are not a member of the partner program. Accept your invitation with the link from its email, or ask your partner admin for one.");
    }
}

/// <summary>Short-lived cache of identity links so a request costs at most one membership read; changes in this process evict at once.</summary>
public sealed class MembershipCache(TimeProvider clock, TimeSpan ttl)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (IdentityLink Link, DateTimeOffset Expires)> entries = new();

    public IdentityLink? Get(string tenantId, string objectId)
    {
        if (ttl <= TimeSpan.Zero) return null;
        return entries.TryGetValue(Key(tenantId, objectId), out var entry) && entry.Expires > clock.GetUtcNow() ? entry.Link : null;
    }

    public void Set(IdentityLink link)
    {
        if (ttl <= TimeSpan.Zero) return;
        if (entries.Count > 50_000) entries.Clear();
        entries[Key(link.TenantId, link.ObjectId)] = (link, clock.GetUtcNow() + ttl);
    }

    /// <summary>Forgets every cached link of a user (role changed, removed).</summary>
    public void EvictUser(string userId)
    {
        foreach (var pair in entries)
        {
            if (pair.Value.Link.UserId == userId) entries.TryRemove(pair.Key, out _);
        }
    }

    private static string Key(string tenantId, string objectId) => tenantId + "|" + objectId;
}
