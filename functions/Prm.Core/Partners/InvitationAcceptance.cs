using System.Security.Claims;
using Prm.Core.Common;
using Prm.Core.Identity;

namespace Prm.Core.Partners;

/// <summary>Body of POST /api/invitations/accept.</summary>
public sealed record AcceptInvitationRequest(string? Code);

/// <summary>
/// Accepting an invitation: the signed-in person presents the code from the invitation email and their identity is linked to the
/// invited user. The code works once; an unknown, used or superseded code is 404, never a hint of who was invited.
/// </summary>
public sealed class InvitationAcceptance(IPartnerStore store, IIdentityDirectory directory, MembershipCache cache)
{
    public async Task<Caller> AcceptAsync(ClaimsPrincipal principal, AcceptInvitationRequest? body, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(body?.Code)) throw new ValidationFailedException("code", "code is required: it is in the invitation link.");
        var token = TokenIdentity.From(principal);
        var parsed = InvitationCodes.Parse(body.Code) ?? throw new NotFoundException("Invitation");
        var found = await store.GetUserAsync(parsed.PartnerId, parsed.UserId, ct);
        if (found is null) throw new NotFoundException("Invitation");
        var user = found.Value;
        var existing = await directory.FindIdentityAsync(token.TenantId, token.ObjectId, ct);
        if (existing is not null && existing.UserId == user.Id && !existing.Disabled)
        {
            return CallerResolver.ToCaller(existing, token.Roles); // accepted already by this person: idempotent
        }
        if (existing is not null && !existing.Disabled) throw new ConflictException("You are already a member of the partner program with this account.", "code");
        if (user.Status != PartnerUserStatus.Invited || !InvitationCodes.Matches(parsed.Secret, user.InvitationCodeHash)) throw new NotFoundException("Invitation");
        var link = await directory.LinkAsync(token.TenantId, token.ObjectId, new EmailRegistration(user.Email, user.Id, user.PartnerId), token.Name, ct)
            ?? throw new NotFoundException("Invitation");
        cache.EvictUser(user.Id);
        cache.Set(link);
        return CallerResolver.ToCaller(link, token.Roles);
    }
}
