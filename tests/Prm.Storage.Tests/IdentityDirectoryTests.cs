using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;
using Prm.Storage.Outbox;

namespace Prm.Storage.Tests;

public sealed class IdentityDirectoryTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private const string Tenant = "11111111-1111-1111-1111-111111111111";

    /// <summary>A partner with an admin, plus a user invited later through AddUserAsync.</summary>
    private static async Task<(Partner Partner, PartnerUser Invited)> InviteAsync(TestStores s, PartnerRole role = PartnerRole.PartnerUser)
    {
        var partner = Make.Partner(users: 1, admins: 1);
        await s.CreateAsync(partner, Make.User(partner.Id, role: PartnerRole.PartnerAdmin));
        var current = (await s.Store.GetAsync(partner.Id, None))!;
        var invited = Make.User(partner.Id, role: role, name: "Ivy Invited");
        var updated = current.Value with { UserCount = 2, AdminCount = role == PartnerRole.PartnerAdmin ? 2 : 1 };
        await s.Store.AddUserAsync(updated, current.ETag, invited, Make.Audited("partner.user.invited", invited.Id, Make.T0), None);
        return (updated, invited);
    }

    [Fact]
    public async Task An_invited_user_is_found_by_email()
    {
        var s = await TestStores.CreateAsync();
        var (partner, invited) = await InviteAsync(s);

        var registration = await s.Directory.FindEmailAsync(invited.Email, None);

        registration.Should().Be(new EmailRegistration(invited.Email, invited.Id, partner.Id));
        (await s.Directory.FindEmailAsync(Make.Email(), None)).Should().BeNull();
        (await s.Staff.FindByEmailAsync(invited.Email, None)).Should().BeNull("a partner user is not staff");
    }

    [Fact]
    public async Task Link_binds_the_identity_and_marks_the_user_active()
    {
        var s = await TestStores.CreateAsync();
        var (partner, invited) = await InviteAsync(s, PartnerRole.PartnerAdmin);
        var registration = (await s.Directory.FindEmailAsync(invited.Email, None))!;
        var oid = Guid.NewGuid().ToString();
        var now = s.Clock.GetUtcNow();

        var link = await s.Directory.LinkAsync(Tenant, oid, registration, "Ivy from the token", None);

        link.Should().Be(new IdentityLink(Tenant, oid, invited.Id, partner.Id, PartnerRole.PartnerAdmin, invited.Email, invited.DisplayName, false));
        var found = await s.Directory.FindIdentityAsync(Tenant, oid, None);
        found.Should().Be(link);
        var user = (await s.Store.GetUserAsync(partner.Id, invited.Id, None))!.Value;
        user.Status.Should().Be(PartnerUserStatus.Active);
        user.JoinedAt.Should().Be(now);
        user.TenantId.Should().Be(Tenant);
        user.ObjectId.Should().Be(oid);
        user.Role.Should().Be(PartnerRole.PartnerAdmin);
        var timeline = await s.Store.TimelineAsync(partner.Id, new PageRequest(50, null), None);
        timeline.Items[0].Action.Should().Be("partner.user.joined");
        timeline.Items[0].Changes.Select(c => c.Field).Should().Contain(["status", "joinedAt"]);
        (await TestStores.RowsAsync(s.Tables.Partners, partner.Id, OutboxRows.OutboxPrefix)).Should().ContainSingle()
            .Which.GetString("Type").Should().Be("partner.user.joined");
        (await s.Directory.FindIdentityAsync(Tenant, Guid.NewGuid().ToString(), None)).Should().BeNull();
        (await s.Directory.FindIdentityAsync("22222222-2222-2222-2222-222222222222", oid, None)).Should().BeNull("the tenant is part of the identity");
    }

    [Fact]
    public async Task Linking_the_same_identity_again_is_idempotent()
    {
        var s = await TestStores.CreateAsync();
        var (partner, invited) = await InviteAsync(s);
        var registration = (await s.Directory.FindEmailAsync(invited.Email, None))!;
        var oid = Guid.NewGuid().ToString();
        var first = await s.Directory.LinkAsync(Tenant, oid, registration, "Ivy", None);
        var joinedAt = (await s.Store.GetUserAsync(partner.Id, invited.Id, None))!.Value.JoinedAt;
        s.Clock.Advance(TimeSpan.FromHours(1));

        var second = await s.Directory.LinkAsync(Tenant, oid, registration, "Ivy", None);

        second.Should().Be(first);
        (await s.Store.GetUserAsync(partner.Id, invited.Id, None))!.Value.JoinedAt.Should().Be(joinedAt, "the join is recorded once");
        (await s.Store.TimelineAsync(partner.Id, new PageRequest(50, null), None)).Items.Count(a => a.Action == "partner.user.joined").Should().Be(1);
    }

    [Fact]
    public async Task A_second_identity_for_the_same_email_is_never_bound()
    {
        var s = await TestStores.CreateAsync();
        var (partner, invited) = await InviteAsync(s);
        var registration = (await s.Directory.FindEmailAsync(invited.Email, None))!;
        var oid = Guid.NewGuid().ToString();
        var intruder = Guid.NewGuid().ToString();
        await s.Directory.LinkAsync(Tenant, oid, registration, "Ivy", None);

        var second = await s.Directory.LinkAsync(Tenant, intruder, registration, "Mallory", None);
        var otherTenant = await s.Directory.LinkAsync("33333333-3333-3333-3333-333333333333", oid, registration, "Mallory", None);

        second.Should().BeNull();
        otherTenant.Should().BeNull();
        (await s.Directory.FindIdentityAsync(Tenant, intruder, None)).Should().BeNull();
        (await s.Directory.FindIdentityAsync(Tenant, oid, None))!.UserId.Should().Be(invited.Id);
        var user = (await s.Store.GetUserAsync(partner.Id, invited.Id, None))!.Value;
        user.ObjectId.Should().Be(oid);
        user.TenantId.Should().Be(Tenant);
    }

    [Fact]
    public async Task Link_of_a_registration_whose_user_is_gone_returns_null()
    {
        var s = await TestStores.CreateAsync();
        var partner = Make.Partner();
        await s.CreateAsync(partner);

        var link = await s.Directory.LinkAsync(Tenant, Guid.NewGuid().ToString(), new EmailRegistration("ghost@example.com", Ids.New("usr"), partner.Id), "Ghost", None);

        link.Should().BeNull();
    }

    [Fact]
    public async Task Register_staff_creates_the_staff_member_and_the_link()
    {
        var s = await TestStores.CreateAsync();
        var email = Make.Email("cm");
        var oid = Guid.NewGuid().ToString();

        var link = await s.Directory.RegisterStaffAsync(Tenant, oid, email, "Carla Manager", [AppRoles.ChannelManager], None);

        link.PartnerId.Should().BeNull();
        link.PartnerRole.Should().BeNull();
        link.Email.Should().Be(email);
        link.DisplayName.Should().Be("Carla Manager");
        link.Disabled.Should().BeFalse();
        Ids.LooksLike(link.UserId, "usr").Should().BeTrue();
        (await s.Directory.FindIdentityAsync(Tenant, oid, None)).Should().Be(link);
        (await s.Directory.FindEmailAsync(email, None)).Should().Be(new EmailRegistration(email, link.UserId, null));
        var staff = await s.Staff.GetAsync(link.UserId, None);
        staff.Should().NotBeNull();
        staff!.Email.Should().Be(email);
        staff.DisplayName.Should().Be("Carla Manager");
        (await s.Staff.FindByEmailAsync(email, None))!.Id.Should().Be(link.UserId);
        (await s.Staff.ListAsync(None)).Select(m => m.Id).Should().Equal(link.UserId);
    }

    [Fact]
    public async Task Register_staff_for_an_email_registered_before_links_to_that_registration()
    {
        var s = await TestStores.CreateAsync();
        var email = Make.Email("admin");
        var member = new StaffMember(Ids.New("usr"), email, "Ada Admin", [AppRoles.Admin], null);
        await s.Staff.UpsertAsync(member, None);
        var oid = Guid.NewGuid().ToString();

        var link = await s.Directory.RegisterStaffAsync(Tenant, oid, email, "Ada from token", [AppRoles.Admin], None);

        link.UserId.Should().Be(member.Id);
        link.PartnerId.Should().BeNull();
        (await s.Staff.ListAsync(None)).Select(m => m.Id).Should().Equal(member.Id);
        (await s.Directory.FindIdentityAsync(Tenant, oid, None))!.UserId.Should().Be(member.Id);
    }

    [Fact]
    public async Task A_role_change_of_a_linked_user_shows_in_the_identity_link()
    {
        var s = await TestStores.CreateAsync();
        var (partner, invited) = await InviteAsync(s);
        var oid = Guid.NewGuid().ToString();
        await s.Directory.LinkAsync(Tenant, oid, (await s.Directory.FindEmailAsync(invited.Email, None))!, "Ivy", None);
        (await s.Directory.FindIdentityAsync(Tenant, oid, None))!.PartnerRole.Should().Be(PartnerRole.PartnerUser);
        var current = (await s.Store.GetAsync(partner.Id, None))!;
        var user = (await s.Store.GetUserAsync(partner.Id, invited.Id, None))!;

        await s.Store.UpdateUserAsync(current.Value with { AdminCount = 2 }, current.ETag, user.Value with { Role = PartnerRole.PartnerAdmin }, user.ETag,
            Make.Audited("partner.user.changed", invited.Id, Make.T0.AddHours(1)), None);

        var link = await s.Directory.FindIdentityAsync(Tenant, oid, None);
        link!.PartnerRole.Should().Be(PartnerRole.PartnerAdmin);
        link.PartnerId.Should().Be(partner.Id);
        link.Disabled.Should().BeFalse();
        (await s.Store.GetUserAsync(partner.Id, invited.Id, None))!.Value.Role.Should().Be(PartnerRole.PartnerAdmin);
    }

    [Fact]
    public async Task After_removal_the_identity_no_longer_grants_access()
    {
        var s = await TestStores.CreateAsync();
        var (partner, invited) = await InviteAsync(s);
        var oid = Guid.NewGuid().ToString();
        await s.Directory.LinkAsync(Tenant, oid, (await s.Directory.FindEmailAsync(invited.Email, None))!, "Ivy", None);
        var current = (await s.Store.GetAsync(partner.Id, None))!;
        var user = (await s.Store.GetUserAsync(partner.Id, invited.Id, None))!;

        await s.Store.RemoveUserAsync(current.Value with { UserCount = 1 }, current.ETag, user.Value, user.ETag,
            Make.Audited("partner.user.removed", invited.Id, Make.T0.AddHours(1)), None);

        var link = await s.Directory.FindIdentityAsync(Tenant, oid, None);
        (link is null || link.Disabled).Should().BeTrue("a removed user's identity row is gone or disabled");
        (await s.Directory.FindEmailAsync(invited.Email, None)).Should().BeNull();
        (await s.Store.GetUserAsync(partner.Id, invited.Id, None)).Should().BeNull();
    }
}
