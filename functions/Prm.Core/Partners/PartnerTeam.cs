using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Outbox;

namespace Prm.Core.Partners;

/// <summary>A partner company's users: invite, change role, remove. The last partner admin always stays.</summary>
public sealed class PartnerTeam(IPartnerStore store, TimeProvider clock, PartnerDirectory directory, MembershipCache memberships) : IInvitationReminders
{
    private static readonly InviteUserValidator InviteValidator = new();
    private static readonly PatchUserValidator PatchValidator = new();
    private const int Attempts = 5;

    public async Task<Page<PartnerUserDto>> ListAsync(Caller caller, string partnerId, PageRequest page, CancellationToken ct)
    {
        var partner = await PartnerAccess.LoadVisibleAsync(store, caller, partnerId, ct);
        RequireManager(caller, partner.Value);
        var result = await store.ListUsersAsync(partnerId, page, ct);
        return result.Map(PartnerUserDto.From);
    }

    /// <summary>Reads one user with its ETag: the partner's managers, and the user themself.</summary>
    public async Task<Versioned<PartnerUserDto>> GetAsync(Caller caller, string partnerId, string userId, CancellationToken ct)
    {
        var partner = await PartnerAccess.LoadVisibleAsync(store, caller, partnerId, ct);
        if (caller.UserId != userId) RequireManager(caller, partner.Value);
        var found = await LoadUserAsync(partnerId, userId, ct);
        return new Versioned<PartnerUserDto>(PartnerUserDto.From(found.Value), found.ETag);
    }

    /// <summary>Invites a user by email; the invitation email is written with the user in one transaction.</summary>
    public async Task<Versioned<PartnerUserDto>> InviteAsync(Caller caller, string partnerId, InviteUserRequest? body, CancellationToken ct)
    {
        var partner = await PartnerAccess.LoadVisibleAsync(store, caller, partnerId, ct);
        RequireManager(caller, partner.Value);
        var request = Validate.Body(body, InviteValidator);
        var email = Text.NormalizeEmail(request.Email)!;
        if (!caller.IsVendor && !BelongsToDomain(email, partner.Value.Domain))
        {
            throw new ValidationFailedException("email", $"Partner admins invite people of their own domain ({partner.Value.Domain}); ask your channel manager to invite anyone else.", unprocessable: true);
        }
        var role = Text.ParseEnum<PartnerRole>(request.Role) ?? PartnerRole.PartnerUser;
        var now = clock.GetUtcNow();
        var (user, code) = PartnerDirectory.NewUser(partnerId, email, request.DisplayName!, role, caller, now);
        return await ReadDecideCommit.RunAsync(async attempt =>
        {
            if (attempt > 1)
            {
                partner = await PartnerAccess.LoadVisibleAsync(store, caller, partnerId, ct);
            }
            var current = partner.Value;
            if (current.Status == PartnerStatus.Terminated) throw new ValidationFailedException("partnerId", "A terminated partner cannot get new users.", unprocessable: true);
            var updated = current with
            {
                UserCount = current.UserCount + 1,
                AdminCount = current.AdminCount + (role == PartnerRole.PartnerAdmin ? 1 : 0),
                FirstUserInvitedAt = current.FirstUserInvitedAt ?? (caller.PartnerId == partnerId ? now : null),
                UpdatedAt = now,
            };
            var changes = new ChangeSet(
                [PartnerDirectory.Entry(caller, now, "partner.user.invited", "partnerUser", user.Id, Diff.Between(null, user.Snapshot()))],
                [directory.Invitation(current, user, code, caller, now), OutboxMessage.ForEvent(PartnerEvents.User(PartnerEvents.UserInvitedType, user, [], now))]);
            var etag = await store.AddUserAsync(updated, partner.ETag, user, changes, ct);
            return new Versioned<PartnerUserDto>(PartnerUserDto.From(user), etag);
        }, Attempts, ct: ct);
    }

    /// <summary>Changes a user's name or role (If-Match required). Demoting the last partner admin is refused.</summary>
    public async Task<Versioned<PartnerUserDto>> PatchAsync(Caller caller, string partnerId, string userId, string? ifMatch, PatchUserRequest? body, CancellationToken ct)
    {
        var partner = await PartnerAccess.LoadVisibleAsync(store, caller, partnerId, ct);
        RequireManager(caller, partner.Value);
        var found = await LoadUserAsync(partnerId, userId, ct);
        var request = Validate.Body(body, PatchValidator);
        if (string.IsNullOrEmpty(ifMatch)) throw new PreconditionFailedException("PATCH requires an If-Match header with the user's ETag.", required: true);
        if (ifMatch != found.ETag) throw new PreconditionFailedException("The user was changed since you read it; read it again and retry.");
        var now = clock.GetUtcNow();
        var user = found.Value;
        var role = Text.ParseEnum<PartnerRole>(request.Role) ?? user.Role;
        var updatedUser = user with { DisplayName = request.DisplayName?.Trim() ?? user.DisplayName, Role = role };
        var changes = Diff.Between(user.Snapshot(), updatedUser.Snapshot());
        if (changes.Count == 0) return new Versioned<PartnerUserDto>(PartnerUserDto.From(user), found.ETag);
        var delta = (role == PartnerRole.PartnerAdmin ? 1 : 0) - (user.Role == PartnerRole.PartnerAdmin ? 1 : 0);
        return await ReadDecideCommit.RunAsync(async attempt =>
        {
            if (attempt > 1)
            {
                partner = await PartnerAccess.LoadVisibleAsync(store, caller, partnerId, ct);
                var again = await LoadUserAsync(partnerId, userId, ct);
                if (again.ETag != found.ETag) throw new PreconditionFailedException("The user was changed since you read it; read it again and retry.");
            }
            var current = partner.Value;
            if (current.AdminCount + delta < 1) throw new ConflictException("The last partner admin cannot be demoted; make someone else a partner admin first.", "role");
            var updatedPartner = current with { AdminCount = current.AdminCount + delta, UpdatedAt = now };
            var set = new ChangeSet(
                [PartnerDirectory.Entry(caller, now, "partner.user.changed", "partnerUser", user.Id, changes)],
                [OutboxMessage.ForEvent(PartnerEvents.User(PartnerEvents.UserChangedType, updatedUser, changes, now))]);
            var etag = await store.UpdateUserAsync(updatedPartner, partner.ETag, updatedUser, found.ETag, set, ct);
            memberships.EvictUser(user.Id);
            return new Versioned<PartnerUserDto>(PartnerUserDto.From(updatedUser), etag);
        }, Attempts, ct: ct);
    }

    /// <summary>Removes a user; their access ends at once. The last partner admin cannot be removed.</summary>
    public async Task RemoveAsync(Caller caller, string partnerId, string userId, string? ifMatch, CancellationToken ct)
    {
        var partner = await PartnerAccess.LoadVisibleAsync(store, caller, partnerId, ct);
        RequireManager(caller, partner.Value);
        var found = await LoadUserAsync(partnerId, userId, ct);
        if (!string.IsNullOrEmpty(ifMatch) && ifMatch != "*" && ifMatch != found.ETag) throw new PreconditionFailedException("The user was changed since you read it; read it again and retry.");
        var now = clock.GetUtcNow();
        var user = found.Value;
        await ReadDecideCommit.RunAsync(async attempt =>
        {
            if (attempt > 1)
            {
                partner = await PartnerAccess.LoadVisibleAsync(store, caller, partnerId, ct);
                found = await LoadUserAsync(partnerId, userId, ct);
                user = found.Value;
            }
            var current = partner.Value;
            var isAdmin = user.Role == PartnerRole.PartnerAdmin;
            if (isAdmin && current.AdminCount <= 1) throw new ConflictException("The last partner admin cannot be removed; make someone else a partner admin first.", "userId");
            var updatedPartner = current with
            {
                UserCount = Math.Max(0, current.UserCount - 1),
                AdminCount = current.AdminCount - (isAdmin ? 1 : 0),
                UpdatedAt = now,
            };
            var set = new ChangeSet(
                [PartnerDirectory.Entry(caller, now, "partner.user.removed", "partnerUser", user.Id, Diff.Between(user.Snapshot(), null))],
                [OutboxMessage.ForEvent(PartnerEvents.User(PartnerEvents.UserRemovedType, user, [], now))]);
            await store.RemoveUserAsync(updatedPartner, partner.ETag, user, found.ETag, set, ct);
            memberships.EvictUser(user.Id);
        }, Attempts, ct: ct);
    }

    /// <summary>
    /// Sends the invitation reminder if the person has still not signed in. Idempotent: the reminder is recorded on the
    /// user in the same transaction as its email, so a retried step never sends a second one.
    /// </summary>
    public async Task<InvitationReminderOutcome> RemindAsync(string partnerId, string userId, CancellationToken ct)
    {
        return await ReadDecideCommit.RunAsync(async attempt =>
        {
            var partner = await store.GetAsync(partnerId, ct);
            var found = await store.GetUserAsync(partnerId, userId, ct);
            if (partner is null || found is null) return InvitationReminderOutcome.UserGone;
            var user = found.Value;
            if (user.Status != PartnerUserStatus.Invited) return InvitationReminderOutcome.AlreadyJoined;
            if (user.ReminderSentAt is not null) return InvitationReminderOutcome.AlreadyReminded;
            var now = clock.GetUtcNow();
            // A new code goes with the reminder; the first link stops working.
            var (code, hash) = InvitationCodes.New(partnerId, userId);
            var reminded = user with { ReminderSentAt = now, InvitationCodeHash = hash };
            var system = Caller.System;
            var set = new ChangeSet(
                [PartnerDirectory.Entry(system, now, "partner.user.reminded", "partnerUser", user.Id, [new FieldChange("reminderSentAt", null, now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture))])],
                [directory.Invitation(partner.Value, user, code, new Caller(user.InvitedBy ?? system.UserId, "", "Your partner admin", [], partnerId, null), now, reminder: true)]);
            await store.UpdateUserAsync(partner.Value, partner.ETag, reminded, found.ETag, set, ct);
            return InvitationReminderOutcome.Sent;
        }, Attempts, ct: ct);
    }

    private async Task<Versioned<PartnerUser>> LoadUserAsync(string partnerId, string userId, CancellationToken ct)
    {
        if (!Ids.LooksLike(userId, "usr")) throw new NotFoundException("User");
        return await store.GetUserAsync(partnerId, userId, ct) ?? throw new NotFoundException("User");
    }

    private static void RequireManager(Caller caller, Partner partner)
    {
        if (!PartnerAccess.CanManageCompany(caller, partner)) throw new ForbiddenException("Only the partner's admins and its channel manager manage its users.");
    }

    private static bool BelongsToDomain(string email, string domain)
    {
        var emailDomain = Text.EmailDomain(email);
        return emailDomain == domain || emailDomain.EndsWith("." + domain, StringComparison.Ordinal);
    }
}
