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

/// <summary>Turns a validated token into a <see cref="Caller"/>, linking first sign-ins from invitations by email.</summary>
public sealed class CallerResolver(IIdentityDirectory directory, MembershipCache cache)
{
    public const string TenantClaim = "http://schemas.microsoft.com/identity/claims/tenantid";
    public const string ObjectClaim = "http://schemas.microsoft.com/identity/claims/objectidentifier";

    /// <summary>Resolves the caller; throws <see cref="UnauthenticatedException"/> when the token lacks an identity and <see cref="ForbiddenException"/> for someone unknown to the program.</summary>
    public async Task<Caller> ResolveAsync(ClaimsPrincipal principal, CancellationToken ct)
    {
        var tenantId = First(principal, "tid", TenantClaim);
        var objectId = First(principal, "oid", ObjectClaim);
        if (tenantId is null || objectId is null)
        {
            throw new UnauthenticatedException("The access token carries no tenant and object id.");
        }
        var roles = principal.Claims
            .Where(c => c.Type is "roles" or ClaimTypes.Role)
            .Select(c => c.Value)
            .Where(r => r is AppRoles.Admin or AppRoles.ChannelManager)
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();

        var link = cache.Get(tenantId, objectId);
        if (link is null)
        {
            link = await directory.FindIdentityAsync(tenantId, objectId, ct) ?? await FirstSignInAsync(principal, tenantId, objectId, roles, ct);
            cache.Set(link);
        }
        if (link.Disabled)
        {
            throw new ForbiddenException("This account has been removed from the partner program.");
        }
        // A partner user never carries vendor roles, whatever the token says: partner and vendor sides stay apart.
        var effectiveRoles = link.PartnerId is null ? roles : [];
        if (link.PartnerId is null && effectiveRoles.Count == 0)
        {
            throw new ForbiddenException("You are not a member of the partner program.");
        }
        return new Caller(link.UserId, link.Email, link.DisplayName, effectiveRoles, link.PartnerId, link.PartnerRole);
    }

    private async Task<IdentityLink> FirstSignInAsync(ClaimsPrincipal principal, string tenantId, string objectId, IReadOnlyList<string> roles, CancellationToken ct)
    {
        var email = Text.NormalizeEmail(First(principal, "preferred_username", "email", ClaimTypes.Email, ClaimTypes.Upn, "upn"));
        var name = First(principal, "name", ClaimTypes.Name) ?? email ?? "Unknown user";
        if (email is not null)
        {
            var registration = await directory.FindEmailAsync(email, ct);
            if (registration is not null)
            {
                var linked = await directory.LinkAsync(tenantId, objectId, registration, name, ct);
                if (linked is not null) return linked;
            }
        }
        if (roles.Count > 0 && email is not null)
        {
            return await directory.RegisterStaffAsync(tenantId, objectId, email, name, roles, ct);
        }
        throw new ForbiddenException("You are not a member of the partner program. Ask your partner admin for an invitation.");
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
