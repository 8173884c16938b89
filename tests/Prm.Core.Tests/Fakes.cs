using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.Extensions.Time.Testing;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Notifications;
using Prm.Core.Partners;

namespace Prm.Core.Tests;

/// <summary>Builders of callers, partners and tokens shared by the tests.</summary>
internal static class Make
{
    public static readonly DateTimeOffset Now = new(2025, 3, 14, 9, 0, 0, TimeSpan.Zero);

    public static string PartnerId(char fill = 'a') => "ptn_" + new string(fill, 32);

    public static Caller Admin(string id = "usr_admin") => new(id, "admin@vendor.com", "Ada Admin", [AppRoles.Admin], null, null);

    public static Caller ChannelManager(string id) => new(id, id + "@vendor.com", "Carl Manager", [AppRoles.ChannelManager], null, null);

    public static Caller PartnerAdmin(string partnerId, string id = "usr_padmin") => new(id, "pa@acme.com", "Pat Admin", [], partnerId, PartnerRole.PartnerAdmin);

    public static Caller PartnerUser(string partnerId, string id = "usr_puser") => new(id, "pu@acme.com", "Paul User", [], partnerId, PartnerRole.PartnerUser);

    public static Partner Partner(string? id = null, string domain = "acme.com", string? channelManagerId = "usr_cm1") => new()
    {
        Id = id ?? PartnerId(),
        Name = "Acme GmbH",
        Domain = domain,
        Status = PartnerStatus.Active,
        Tier = PartnerTier.Silver,
        Type = PartnerType.Reseller,
        Country = "DE",
        Region = "emea",
        ChannelManagerId = channelManagerId,
        UserCount = 1,
        AdminCount = 1,
        CreatedAt = Now,
        UpdatedAt = Now,
    };

    public static ClaimsPrincipal Token(string? tid = "tenant-1", string? oid = "object-1", string? email = null, string? name = null, bool emailVerified = true, params string[] roles)
    {
        var claims = new List<Claim>();
        if (tid is not null) claims.Add(new Claim("tid", tid));
        if (oid is not null) claims.Add(new Claim("oid", oid));
        if (email is not null) claims.Add(new Claim("preferred_username", email));
        if (email is not null && emailVerified) claims.Add(new Claim("xms_edov", "true"));
        if (name is not null) claims.Add(new Claim("name", name));
        claims.AddRange(roles.Select(r => new Claim("roles", r)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, "Bearer"));
    }
}

/// <summary>In-memory partner store. With <see cref="ThrowOnWrite"/> every write fails the test.</summary>
internal sealed class FakePartnerStore : IPartnerStore
{
    private readonly ConcurrentDictionary<string, Versioned<Partner>> partners = new();
    private readonly ConcurrentDictionary<string, Versioned<PartnerUser>> users = new();
    private int etags;

    /// <summary>The user holding an email (the email key row of the real store).</summary>
    public PartnerUser? UserByEmail(string email) => users.Values.Select(u => u.Value).FirstOrDefault(u => u.Email == email);
    private int getCalls;
    private int listUsersCalls;
    private int writes;

    public bool ThrowOnWrite { get; set; }

    public int GetCalls => getCalls;

    public int Writes => writes;

    public FakePartnerStore Add(Partner partner, params PartnerUser[] partnerUsers)
    {
        partners[partner.Id] = new(partner, NextETag());
        foreach (var u in partnerUsers) users[Key(u.PartnerId, u.Id)] = new(u, NextETag());
        return this;
    }

    public Task<Versioned<Partner>?> GetAsync(string partnerId, CancellationToken ct)
    {
        Interlocked.Increment(ref getCalls);
        return Task.FromResult(partners.TryGetValue(partnerId, out var p) ? p : null);
    }

    /// <summary>How many of the next domain look-ups fail (as a storage outage would).</summary>
    public int FailFinds { get; set; }

    public Task<string?> FindByDomainAsync(string domain, CancellationToken ct)
    {
        lock (partners)
        {
            if (FailFinds > 0 && FailFinds-- > 0) throw new InvalidOperationException("Storage is down.");
        }
        return Task.FromResult(partners.Values.FirstOrDefault(p => p.Value.Domain == domain)?.Value.Id ?? (StaleDomainKeys.TryGetValue(domain, out var stale) ? stale : null));
    }

    /// <summary>Whether a failed creation leaves its key rows behind, as when storage also fails the store's clean-up.</summary>
    public bool LeaveKeysOnFailure { get; set; }

    /// <summary>Domain key rows left by failed creations: domain → partner id.</summary>
    public ConcurrentDictionary<string, string> StaleDomainKeys { get; } = new(StringComparer.Ordinal);

    /// <summary>Email key rows left by failed creations: email → (user id, partner id).</summary>
    public ConcurrentDictionary<string, (string UserId, string PartnerId)> StaleEmailKeys { get; } = new(StringComparer.Ordinal);

    /// <summary>Whether stale key rows are old enough to count as abandoned: a creation then takes them over (the table store's rule).</summary>
    public bool StaleKeysAbandoned { get; set; }

    /// <summary>How many of the next creations fail (as a storage outage would).</summary>
    public int FailCreates { get; set; }

    /// <summary>Creates that commit and then fail as if storage lost the answer.</summary>
    public int LoseCreateAnswers { get; set; }

    /// <summary>
    /// Creates that commit and then answer 409 without a field, as the storage client's own retry of a transaction whose first answer
    /// was lost meets the rows it wrote.
    /// </summary>
    public int ConflictAfterCreates { get; set; }

    /// <summary>Reserved domains and the partner they are reserved for.</summary>
    public ConcurrentDictionary<string, string> Reservations { get; } = new(StringComparer.Ordinal);

    public async Task<string> CreateAsync(Partner partner, IReadOnlyList<PartnerUser> newUsers, ChangeSet changes, CancellationToken ct, Task? alongside = null, bool reserved = false)
    {
        if (alongside is not null) await alongside;
        Write();
        lock (partners)
        {
            // Key rows are claimed before the transaction: one held with other values is someone else's (the store's ClaimOwnAsync),
            // unless it is abandoned (its partner does not exist and it is old enough): then it is taken over.
            if (StaleKeysAbandoned)
            {
                if (StaleDomainKeys.TryGetValue(partner.Domain, out var orphan) && orphan != partner.Id && !partners.ContainsKey(orphan)) StaleDomainKeys.TryRemove(partner.Domain, out _);
                foreach (var u in newUsers)
                {
                    if (StaleEmailKeys.TryGetValue(u.Email, out var held) && held != (u.Id, partner.Id) && !users.ContainsKey(Key(held.PartnerId, held.UserId))) StaleEmailKeys.TryRemove(u.Email, out _);
                }
            }
            if (StaleDomainKeys.TryGetValue(partner.Domain, out var domainHolder) && domainHolder != partner.Id) throw new ConflictException("Domain taken.", "domain");
            if (newUsers.Any(u => StaleEmailKeys.TryGetValue(u.Email, out var held) && held != (u.Id, partner.Id))) throw new ConflictException("Email taken.", "admin.email");
            if (FailCreates > 0 && FailCreates-- > 0)
            {
                if (LeaveKeysOnFailure)
                {
                    StaleDomainKeys[partner.Domain] = partner.Id;
                    foreach (var u in newUsers) StaleEmailKeys[u.Email] = (u.Id, partner.Id);
                }
                throw new InvalidOperationException("Storage is down.");
            }
            if (partners.ContainsKey(partner.Id)) throw new ConflictException("The resource already exists.");
            if (partners.Values.Any(p => p.Value.Domain == partner.Domain)) throw new ConflictException("Domain taken.", "domain");
            if (Reservations.TryGetValue(partner.Domain, out var holder) && holder != partner.Id) throw new ConflictException("Domain reserved.", "domain");
            Add(partner, [.. newUsers]);
            if (LoseCreateAnswers > 0 && LoseCreateAnswers-- > 0) throw new IOException("The connection was reset after the commit.");
            if (ConflictAfterCreates > 0 && ConflictAfterCreates-- > 0) throw new ConflictException("The resource already exists.");
            return partners[partner.Id].ETag;
        }
    }

    public Task ReserveAsync(PartnerReservation reservation, CancellationToken ct)
    {
        Write();
        lock (partners)
        {
            if (partners.Values.Any(p => p.Value.Domain == reservation.Domain && p.Value.Id != reservation.PartnerId)) throw new ConflictException("Domain taken.", "domain");
            if (Reservations.GetOrAdd(reservation.Domain, reservation.PartnerId) != reservation.PartnerId) throw new ConflictException("Domain reserved.", "domain");
        }
        return Task.CompletedTask;
    }

    public Task ReleaseAsync(PartnerReservation reservation, CancellationToken ct)
    {
        Write();
        lock (partners)
        {
            if (!partners.ContainsKey(reservation.PartnerId)) Reservations.TryRemove(new KeyValuePair<string, string>(reservation.Domain, reservation.PartnerId));
        }
        return Task.CompletedTask;
    }

    public Task<string> UpdateAsync(Partner partner, string etag, ChangeSet changes, CancellationToken ct)
    {
        Write();
        lock (partners)
        {
            CheckETag(partner.Id, etag);
            var next = NextETag();
            partners[partner.Id] = new(partner, next);
            return Task.FromResult(next);
        }
    }

    public Task<Page<Partner>> ListAsync(PartnerQuery query, PageRequest page, CancellationToken ct) =>
        Task.FromResult(new Page<Partner>(partners.Values.Select(p => p.Value).Take(page.Limit).ToList(), null));

    public Task<Versioned<PartnerUser>?> GetUserAsync(string partnerId, string userId, CancellationToken ct) =>
        Task.FromResult(users.TryGetValue(Key(partnerId, userId), out var u) ? u : null);

    public int ListUsersCalls => listUsersCalls;

    /// <summary>Users of the partner by id, a page at a time; the cursor is the offset of the next page.</summary>
    public Task<Page<PartnerUser>> ListUsersAsync(string partnerId, PageRequest page, CancellationToken ct)
    {
        Interlocked.Increment(ref listUsersCalls);
        var all = users.Values.Select(u => u.Value).Where(u => u.PartnerId == partnerId).OrderBy(u => u.Id, StringComparer.Ordinal).ToList();
        var offset = page.Cursor is null ? 0 : int.Parse(page.Cursor, System.Globalization.CultureInfo.InvariantCulture);
        var items = all.Skip(offset).Take(page.Limit).ToList();
        var next = offset + items.Count < all.Count ? (offset + items.Count).ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        return Task.FromResult(new Page<PartnerUser>(items, next));
    }

    public Task<string> AddUserAsync(Partner partner, string partnerETag, PartnerUser user, ChangeSet changes, CancellationToken ct)
    {
        Write();
        lock (partners)
        {
            if (users.Values.Any(u => u.Value.Email == user.Email)) throw new ConflictException("Email taken.", "email");
            CheckETag(partner.Id, partnerETag);
            partners[partner.Id] = new(partner, NextETag());
            var etag = NextETag();
            users[Key(user.PartnerId, user.Id)] = new(user, etag);
            return Task.FromResult(etag);
        }
    }

    public Task<string> UpdateUserAsync(Partner partner, string partnerETag, PartnerUser user, string userETag, ChangeSet changes, CancellationToken ct)
    {
        Write();
        throw new NotSupportedException("Not used by these tests.");
    }

    public Task RemoveUserAsync(Partner partner, string partnerETag, PartnerUser user, string userETag, ChangeSet changes, CancellationToken ct)
    {
        Write();
        throw new NotSupportedException("Not used by these tests.");
    }

    public Task<Page<AuditEntry>> TimelineAsync(string partnerId, PageRequest page, CancellationToken ct) =>
        Task.FromResult(new Page<AuditEntry>([], null));

    private void Write()
    {
        Interlocked.Increment(ref writes);
        if (ThrowOnWrite) throw new InvalidOperationException("The store was written to although it must not be.");
    }

    private void CheckETag(string partnerId, string etag)
    {
        if (!partners.TryGetValue(partnerId, out var current) || current.ETag != etag) throw new PreconditionFailedException("Stale.");
    }

    private string NextETag() => "\"" + Interlocked.Increment(ref etags) + "\"";

    private static string Key(string partnerId, string userId) => partnerId + "|" + userId;
}

/// <summary>Partner store that fails the test on any call at all.</summary>
internal sealed class ForbiddenPartnerStore : IPartnerStore
{
    public int Calls { get; private set; }

    private T Fail<T>()
    {
        Calls++;
        throw new InvalidOperationException("The store must not be called.");
    }

    public Task<Versioned<Partner>?> GetAsync(string partnerId, CancellationToken ct) => Fail<Task<Versioned<Partner>?>>();
    public Task<string?> FindByDomainAsync(string domain, CancellationToken ct) => Fail<Task<string?>>();
    public Task<string> CreateAsync(Partner partner, IReadOnlyList<PartnerUser> users, ChangeSet changes, CancellationToken ct, Task? alongside = null, bool reserved = false) => Fail<Task<string>>();
    public Task ReserveAsync(PartnerReservation reservation, CancellationToken ct) => Fail<Task>();
    public Task ReleaseAsync(PartnerReservation reservation, CancellationToken ct) => Fail<Task>();
    public Task<string> UpdateAsync(Partner partner, string etag, ChangeSet changes, CancellationToken ct) => Fail<Task<string>>();
    public Task<Page<Partner>> ListAsync(PartnerQuery query, PageRequest page, CancellationToken ct) => Fail<Task<Page<Partner>>>();
    public Task<Versioned<PartnerUser>?> GetUserAsync(string partnerId, string userId, CancellationToken ct) => Fail<Task<Versioned<PartnerUser>?>>();
    public Task<Page<PartnerUser>> ListUsersAsync(string partnerId, PageRequest page, CancellationToken ct) => Fail<Task<Page<PartnerUser>>>();
    public Task<string> AddUserAsync(Partner partner, string partnerETag, PartnerUser user, ChangeSet changes, CancellationToken ct) => Fail<Task<string>>();
    public Task<string> UpdateUserAsync(Partner partner, string partnerETag, PartnerUser user, string userETag, ChangeSet changes, CancellationToken ct) => Fail<Task<string>>();
    public Task RemoveUserAsync(Partner partner, string partnerETag, PartnerUser user, string userETag, ChangeSet changes, CancellationToken ct) => Fail<Task>();
    public Task<Page<AuditEntry>> TimelineAsync(string partnerId, PageRequest page, CancellationToken ct) => Fail<Task<Page<AuditEntry>>>();
}

/// <summary>In-memory staff store; writes throw when <see cref="ThrowOnWrite"/>.</summary>
internal sealed class FakeStaffStore(params StaffMember[] members) : IStaffStore
{
    private readonly List<StaffMember> members = [.. members];

    public bool ThrowOnWrite { get; set; }

    public Task<StaffMember?> GetAsync(string userId, CancellationToken ct) => Task.FromResult(members.FirstOrDefault(m => m.Id == userId));

    public Task<StaffMember?> FindByEmailAsync(string email, CancellationToken ct) =>
        Task.FromResult(members.FirstOrDefault(m => string.Equals(m.Email, email, StringComparison.OrdinalIgnoreCase)));

    public Task<IReadOnlyList<StaffMember>> ListAsync(CancellationToken ct) => Task.FromResult<IReadOnlyList<StaffMember>>(members.ToList());

    public Task UpsertAsync(StaffMember member, CancellationToken ct)
    {
        if (ThrowOnWrite) throw new InvalidOperationException("The staff store was written to although it must not be.");
        members.RemoveAll(m => m.Id == member.Id);
        members.Add(member);
        return Task.CompletedTask;
    }
}

/// <summary>The email registrations of a <see cref="FakePartnerStore"/> (what the email key rows answer in the real store).</summary>
internal sealed class StoreEmails(FakePartnerStore store) : IIdentityDirectory
{
    public Task<EmailRegistration?> FindEmailAsync(string email, CancellationToken ct) =>
        Task.FromResult(store.UserByEmail(email) is { } u ? new EmailRegistration(email, u.Id, u.PartnerId)
            : store.StaleEmailKeys.TryGetValue(email, out var key) ? new EmailRegistration(email, key.UserId, key.PartnerId) : null); // a key row is a registration

    public Task<IdentityLink?> FindIdentityAsync(string tenantId, string objectId, CancellationToken ct) => throw new NotSupportedException();

    public Task<IdentityLink?> LinkAsync(string tenantId, string objectId, EmailRegistration registration, string displayName, CancellationToken ct) => throw new NotSupportedException();

    public Task<IdentityLink> RegisterStaffAsync(string tenantId, string objectId, string email, string displayName, IReadOnlyList<string> roles, CancellationToken ct) => throw new NotSupportedException();
}

/// <summary>In-memory identity directory that counts its calls.</summary>
internal sealed class FakeIdentityDirectory : IIdentityDirectory
{
    public Dictionary<(string Tenant, string Object), IdentityLink> Links { get; } = [];
    public Dictionary<string, EmailRegistration> Registrations { get; } = new(StringComparer.Ordinal);
    public int FindIdentityCalls { get; private set; }
    public List<string> FindEmailCalls { get; } = [];
    public List<(EmailRegistration Registration, string DisplayName)> LinkCalls { get; } = [];
    public List<(string Email, string DisplayName, IReadOnlyList<string> Roles)> RegisterStaffCalls { get; } = [];

    public IdentityLink AddLink(string userId, string? partnerId = null, PartnerRole? role = null, bool disabled = false, string tenantId = "tenant-1", string objectId = "object-1")
    {
        var link = new IdentityLink(tenantId, objectId, userId, partnerId, role, userId + "@example.com", "User " + userId, disabled);
        Links[(tenantId, objectId)] = link;
        return link;
    }

    public Task<IdentityLink?> FindIdentityAsync(string tenantId, string objectId, CancellationToken ct)
    {
        FindIdentityCalls++;
        return Task.FromResult(Links.GetValueOrDefault((tenantId, objectId)));
    }

    public Task<EmailRegistration?> FindEmailAsync(string email, CancellationToken ct)
    {
        FindEmailCalls.Add(email);
        return Task.FromResult(Registrations.GetValueOrDefault(email));
    }

    public Task<IdentityLink?> LinkAsync(string tenantId, string objectId, EmailRegistration registration, string displayName, CancellationToken ct)
    {
        LinkCalls.Add((registration, displayName));
        var link = new IdentityLink(tenantId, objectId, registration.UserId, registration.PartnerId,
            registration.PartnerId is null ? null : PartnerRole.PartnerUser, registration.Email, displayName, false);
        Links[(tenantId, objectId)] = link;
        return Task.FromResult<IdentityLink?>(link);
    }

    public Task<IdentityLink> RegisterStaffAsync(string tenantId, string objectId, string email, string displayName, IReadOnlyList<string> roles, CancellationToken ct)
    {
        RegisterStaffCalls.Add((email, displayName, roles));
        var link = new IdentityLink(tenantId, objectId, "usr_staff", null, null, email, displayName, false);
        Links[(tenantId, objectId)] = link;
        return Task.FromResult(link);
    }
}

/// <summary>The partner services wired to in-memory fakes.</summary>
internal sealed class PartnerServices
{
    public PartnerServices(FakePartnerStore? store = null, FakeStaffStore? staff = null)
    {
        Store = store ?? new FakePartnerStore();
        Staff = staff ?? new FakeStaffStore();
        Clock = new FakeTimeProvider(Make.Now);
        Directory = new PartnerDirectory(Store, Staff, Clock, new EmailComposer());
        Team = new PartnerTeam(Store, Clock, Directory, new MembershipCache(Clock, TimeSpan.FromSeconds(30)));
        Import = new PartnerImport(Directory, Team, Store, Staff, new StoreEmails(Store));
    }

    public FakePartnerStore Store { get; }
    public FakeStaffStore Staff { get; }
    public FakeTimeProvider Clock { get; }
    public PartnerDirectory Directory { get; }
    public PartnerTeam Team { get; }
    public PartnerImport Import { get; }
}
