using System.Security.Claims;
using Microsoft.Extensions.Time.Testing;
using Prm.Core.Common;
using Prm.Core.Identity;

namespace Prm.Core.Tests;

public class CallerResolverTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private readonly FakeIdentityDirectory directory = new();
    private readonly FakeTimeProvider clock = new(Make.Now);
    private readonly MembershipCache cache;
    private readonly CallerResolver resolver;

    public CallerResolverTests()
    {
        cache = new MembershipCache(clock, Ttl);
        resolver = new CallerResolver(directory, cache);
    }

    private Task<Caller> Resolve(ClaimsPrincipal principal) => resolver.ResolveAsync(principal, CancellationToken.None);

    [Fact]
    public async Task A_known_staff_identity_gets_the_roles_of_the_token()
    {
        directory.AddLink("usr_cm1");

        var caller = await Resolve(Make.Token(roles: [AppRoles.ChannelManager]));

        caller.UserId.Should().Be("usr_cm1");
        caller.Roles.Should().Equal(AppRoles.ChannelManager);
        caller.IsChannelManager.Should().BeTrue();
        caller.IsAdmin.Should().BeFalse();
        caller.PartnerId.Should().BeNull();
        caller.Email.Should().Be("usr_cm1@example.com");
    }

    [Fact]
    public async Task Roles_are_deduplicated_sorted_and_unknown_roles_dropped()
    {
        directory.AddLink("usr_admin");

        var caller = await Resolve(Make.Token(roles: ["Some.Other", AppRoles.ChannelManager, AppRoles.Admin, AppRoles.Admin]));

        caller.Roles.Should().Equal(AppRoles.Admin, AppRoles.ChannelManager);
    }

    [Fact]
    public async Task Roles_are_also_read_from_the_long_role_claim_type()
    {
        directory.AddLink("usr_admin");
        var principal = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim("tid", "tenant-1"), new Claim("oid", "object-1"), new Claim(ClaimTypes.Role, AppRoles.Admin)], "Bearer"));

        (await Resolve(principal)).IsAdmin.Should().BeTrue();
    }

    [Fact]
    public async Task Tenant_and_object_id_are_also_read_from_the_long_claim_types()
    {
        directory.AddLink("usr_admin");
        var principal = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(TokenIdentity.TenantClaim, "tenant-1"), new Claim(TokenIdentity.ObjectClaim, "object-1"), new Claim("roles", AppRoles.Admin)], "Bearer"));

        (await Resolve(principal)).UserId.Should().Be("usr_admin");
    }

    [Fact]
    public async Task A_partner_user_never_gets_vendor_roles_even_if_the_token_carries_them()
    {
        var partnerId = Make.PartnerId();
        directory.AddLink("usr_p1", partnerId, PartnerRole.PartnerAdmin);

        var caller = await Resolve(Make.Token(roles: [AppRoles.Admin, AppRoles.ChannelManager]));

        caller.Roles.Should().BeEmpty();
        caller.IsAdmin.Should().BeFalse();
        caller.IsVendor.Should().BeFalse();
        caller.PartnerId.Should().Be(partnerId);
        caller.PartnerRole.Should().Be(PartnerRole.PartnerAdmin);
    }

    [Fact]
    public async Task A_known_partner_user_without_roles_is_resolved()
    {
        var partnerId = Make.PartnerId();
        directory.AddLink("usr_p1", partnerId, PartnerRole.PartnerUser);

        var caller = await Resolve(Make.Token());

        caller.PartnerId.Should().Be(partnerId);
        caller.PartnerRole.Should().Be(PartnerRole.PartnerUser);
        directory.FindEmailCalls.Should().BeEmpty();
    }

    [Fact]
    public async Task A_known_staff_identity_whose_token_has_no_roles_is_forbidden()
    {
        directory.AddLink("usr_cm1");

        var act = () => Resolve(Make.Token());

        await act.Should().ThrowAsync<ForbiddenException>();
    }

    [Fact]
    public async Task A_first_sign_in_with_an_invited_email_links_the_identity()
    {
        var partnerId = Make.PartnerId();
        directory.Registrations["jane@acme.com"] = new EmailRegistration("jane@acme.com", "usr_jane", partnerId);

        var caller = await Resolve(Make.Token(email: "  Jane@ACME.com ", name: "Jane Doe"));

        directory.FindEmailCalls.Should().Equal("jane@acme.com");
        directory.LinkCalls.Should().ContainSingle().Which.DisplayName.Should().Be("Jane Doe");
        directory.RegisterStaffCalls.Should().BeEmpty();
        caller.UserId.Should().Be("usr_jane");
        caller.PartnerId.Should().Be(partnerId);
        caller.DisplayName.Should().Be("Jane Doe");
        caller.Roles.Should().BeEmpty();
    }

    [Fact]
    public async Task An_unverified_email_claim_never_links_an_invitation()
    {
        directory.Registrations["jane@acme.com"] = new EmailRegistration("jane@acme.com", "usr_jane", Make.PartnerId());

        var act = () => Resolve(Make.Token(email: "jane@acme.com", emailVerified: false));

        (await act.Should().ThrowAsync<ForbiddenException>()).Which.Message.Should().Contain("invitation");
        directory.LinkCalls.Should().BeEmpty("anyone can put any email in a token of their own tenant");
    }

    [Fact]
    public async Task A_staff_registration_is_linked_only_for_a_token_with_app_roles()
    {
        directory.Registrations["carl@vendor.com"] = new EmailRegistration("carl@vendor.com", "usr_carl", null);

        var act = () => Resolve(Make.Token(email: "carl@vendor.com"));

        await act.Should().ThrowAsync<ForbiddenException>();
        directory.LinkCalls.Should().BeEmpty();
    }

    [Fact]
    public async Task A_first_sign_in_without_a_name_uses_the_email_as_display_name()
    {
        directory.Registrations["jane@acme.com"] = new EmailRegistration("jane@acme.com", "usr_jane", Make.PartnerId());

        await Resolve(Make.Token(email: "jane@acme.com"));

        directory.LinkCalls.Should().ContainSingle().Which.DisplayName.Should().Be("jane@acme.com");
    }

    [Fact]
    public async Task An_unknown_identity_without_invitation_or_roles_is_forbidden()
    {
        var act = () => Resolve(Make.Token(email: "stranger@elsewhere.com", name: "Stranger"));

        await act.Should().ThrowAsync<ForbiddenException>();
        directory.FindEmailCalls.Should().Equal("stranger@elsewhere.com");
        directory.RegisterStaffCalls.Should().BeEmpty();
        directory.LinkCalls.Should().BeEmpty();
    }

    [Fact]
    public async Task An_unknown_identity_without_any_email_is_forbidden()
    {
        var act = () => Resolve(Make.Token(roles: [AppRoles.Admin]));

        await act.Should().ThrowAsync<ForbiddenException>();
        directory.RegisterStaffCalls.Should().BeEmpty();
    }

    [Fact]
    public async Task An_unknown_identity_with_vendor_roles_is_registered_as_staff()
    {
        var caller = await Resolve(Make.Token(email: "Carl@Vendor.com", name: "Carl", roles: [AppRoles.ChannelManager]));

        var call = directory.RegisterStaffCalls.Should().ContainSingle().Which;
        call.Email.Should().Be("carl@vendor.com");
        call.DisplayName.Should().Be("Carl");
        call.Roles.Should().Equal(AppRoles.ChannelManager);
        caller.IsChannelManager.Should().BeTrue();
        caller.PartnerId.Should().BeNull();
    }

    [Fact]
    public async Task An_invitation_wins_over_vendor_roles_in_the_token()
    {
        var partnerId = Make.PartnerId();
        directory.Registrations["jane@acme.com"] = new EmailRegistration("jane@acme.com", "usr_jane", partnerId);

        var caller = await Resolve(Make.Token(email: "jane@acme.com", roles: [AppRoles.Admin]));

        directory.RegisterStaffCalls.Should().BeEmpty();
        caller.PartnerId.Should().Be(partnerId);
        caller.IsAdmin.Should().BeFalse();
    }

    [Theory]
    [InlineData(null, "object-1")]
    [InlineData("tenant-1", null)]
    [InlineData(null, null)]
    [InlineData(" ", "object-1")]
    public async Task A_token_without_tenant_or_object_id_is_unauthenticated(string? tid, string? oid)
    {
        directory.AddLink("usr_admin");

        var act = () => Resolve(Make.Token(tid, oid, roles: [AppRoles.Admin]));

        await act.Should().ThrowAsync<UnauthenticatedException>();
        directory.FindIdentityCalls.Should().Be(0);
    }

    [Fact]
    public async Task A_disabled_link_is_forbidden_even_for_an_admin_token()
    {
        directory.AddLink("usr_gone", disabled: true);

        var act = () => Resolve(Make.Token(roles: [AppRoles.Admin]));

        await act.Should().ThrowAsync<ForbiddenException>();
    }

    [Fact]
    public async Task A_second_resolve_within_the_ttl_does_not_read_the_directory()
    {
        directory.AddLink("usr_admin");
        var token = Make.Token(roles: [AppRoles.Admin]);

        await Resolve(token);
        clock.Advance(Ttl - TimeSpan.FromSeconds(1));
        await Resolve(token);

        directory.FindIdentityCalls.Should().Be(1);
    }

    [Fact]
    public async Task After_the_ttl_the_directory_is_read_again()
    {
        directory.AddLink("usr_admin");
        var token = Make.Token(roles: [AppRoles.Admin]);

        await Resolve(token);
        clock.Advance(Ttl + TimeSpan.FromSeconds(1));
        await Resolve(token);

        directory.FindIdentityCalls.Should().Be(2);
    }

    [Fact]
    public async Task A_change_in_the_directory_shows_after_the_ttl()
    {
        directory.AddLink("usr_p1", Make.PartnerId(), PartnerRole.PartnerUser);
        var token = Make.Token();
        await Resolve(token);

        directory.AddLink("usr_p1", Make.PartnerId(), PartnerRole.PartnerUser, disabled: true);
        await Resolve(token); // still cached
        clock.Advance(Ttl + TimeSpan.FromSeconds(1));
        var act = () => Resolve(token);

        await act.Should().ThrowAsync<ForbiddenException>();
    }

    [Fact]
    public async Task EvictUser_forces_a_re_read()
    {
        directory.AddLink("usr_admin");
        var token = Make.Token(roles: [AppRoles.Admin]);
        await Resolve(token);

        cache.EvictUser("usr_admin");
        await Resolve(token);

        directory.FindIdentityCalls.Should().Be(2);
    }

    [Fact]
    public async Task EvictUser_of_someone_else_keeps_the_cached_link()
    {
        directory.AddLink("usr_admin");
        var token = Make.Token(roles: [AppRoles.Admin]);
        await Resolve(token);

        cache.EvictUser("usr_other");
        await Resolve(token);

        directory.FindIdentityCalls.Should().Be(1);
    }

    [Fact]
    public async Task A_first_sign_in_is_cached_too()
    {
        directory.Registrations["jane@acme.com"] = new EmailRegistration("jane@acme.com", "usr_jane", Make.PartnerId());
        var token = Make.Token(email: "jane@acme.com");

        await Resolve(token);
        await Resolve(token);

        directory.FindIdentityCalls.Should().Be(1);
        directory.LinkCalls.Should().HaveCount(1);
    }

    [Fact]
    public async Task A_zero_ttl_disables_the_cache()
    {
        directory.AddLink("usr_admin");
        var uncached = new CallerResolver(directory, new MembershipCache(clock, TimeSpan.Zero));
        var token = Make.Token(roles: [AppRoles.Admin]);

        await uncached.ResolveAsync(token, CancellationToken.None);
        await uncached.ResolveAsync(token, CancellationToken.None);

        directory.FindIdentityCalls.Should().Be(2);
    }

    [Fact]
    public async Task Different_identities_are_cached_separately()
    {
        directory.AddLink("usr_a", objectId: "object-a");
        directory.AddLink("usr_b", objectId: "object-b");

        var a = await Resolve(Make.Token(oid: "object-a", roles: [AppRoles.Admin]));
        var b = await Resolve(Make.Token(oid: "object-b", roles: [AppRoles.Admin]));

        a.UserId.Should().Be("usr_a");
        b.UserId.Should().Be("usr_b");
    }
}
