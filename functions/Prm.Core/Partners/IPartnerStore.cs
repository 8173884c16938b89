using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Outbox;

namespace Prm.Core.Partners;

/// <summary>What one state change writes besides the state: its timeline entries and outbox messages, all in one transaction.</summary>
public sealed record ChangeSet(IReadOnlyList<AuditEntry> Audit, IReadOnlyList<OutboxMessage> Outbox);

/// <summary>
/// The keys a partner about to be created holds: its domain and its first admin's email, for a partner id and admin user id chosen in
/// advance (an approved application's, see <c>PartnerApplication.PartnerIdOf</c>).
/// </summary>
public sealed record PartnerReservation(string PartnerId, string Domain, string AdminUserId, string AdminEmail);

/// <summary>Storage port for partners, their users and their timeline. Writes are atomic per partner.</summary>
public interface IPartnerStore
{
    Task<Versioned<Partner>?> GetAsync(string partnerId, CancellationToken ct);

    /// <summary>Partner ids for domains (import look-up); missing domains are absent from the result.</summary>
    Task<string?> FindByDomainAsync(string domain, CancellationToken ct);

    /// <summary>
    /// Creates the partner with its first users. Throws <see cref="ConflictException"/> when the domain or a user's email is taken by
    /// someone else (keys this partner reserved are its own), or when the partner exists.
    /// </summary>
    /// <param name="alongside">Writes (and a commit this creation must follow) that must succeed before the transaction; they run beside its outbox pointers and key claims.</param>
    /// <param name="reserved">
    /// The caller reserved the domain and the users' emails for this partner (<see cref="ReserveAsync"/>) and gives them back itself when
    /// the creation fails: the keys are checked (and claimed only when missing) and never released here.
    /// </param>
    Task<string> CreateAsync(Partner partner, IReadOnlyList<PartnerUser> users, ChangeSet changes, CancellationToken ct, Task? alongside = null, bool reserved = false);

    /// <summary>
    /// Reserves the domain and the first admin's email for a partner to be created later with these ids (idempotent for the same ids).
    /// Throws <see cref="ConflictException"/> (fields domain, admin.email) when another partner or user holds one of them.
    /// </summary>
    Task ReserveAsync(PartnerReservation reservation, CancellationToken ct);

    /// <summary>Gives a reservation back unless its partner was created (then the keys are the partner's); keys held by others are left alone.</summary>
    Task ReleaseAsync(PartnerReservation reservation, CancellationToken ct);

    /// <summary>Replaces the partner if its ETag still matches; throws <see cref="PreconditionFailedException"/> otherwise. Returns the new ETag.</summary>
    Task<string> UpdateAsync(Partner partner, string etag, ChangeSet changes, CancellationToken ct);

    Task<Page<Partner>> ListAsync(PartnerQuery query, PageRequest page, CancellationToken ct);

    Task<Versioned<PartnerUser>?> GetUserAsync(string partnerId, string userId, CancellationToken ct);

    Task<Page<PartnerUser>> ListUsersAsync(string partnerId, PageRequest page, CancellationToken ct);

    /// <summary>Adds a user and updates the partner's counters (partner ETag checked); returns the user's ETag. Throws <see cref="ConflictException"/> when the email belongs to someone already.</summary>
    Task<string> AddUserAsync(Partner partner, string partnerETag, PartnerUser user, ChangeSet changes, CancellationToken ct);

    /// <summary>Replaces a user and the partner's counters; both ETags are checked. Returns the user's new ETag.</summary>
    Task<string> UpdateUserAsync(Partner partner, string partnerETag, PartnerUser user, string userETag, ChangeSet changes, CancellationToken ct);

    /// <summary>Removes a user (access revoked first) and updates the partner's counters; both ETags are checked.</summary>
    Task RemoveUserAsync(Partner partner, string partnerETag, PartnerUser user, string userETag, ChangeSet changes, CancellationToken ct);

    Task<Page<AuditEntry>> TimelineAsync(string partnerId, PageRequest page, CancellationToken ct);
}

/// <summary>Storage port for vendor staff.</summary>
public interface IStaffStore
{
    Task<StaffMember?> GetAsync(string userId, CancellationToken ct);

    Task<StaffMember?> FindByEmailAsync(string email, CancellationToken ct);

    Task<IReadOnlyList<StaffMember>> ListAsync(CancellationToken ct);

    /// <summary>Creates or updates a staff member (idempotent by id) and registers their email for first sign-in.</summary>
    Task UpsertAsync(StaffMember member, CancellationToken ct);
}
