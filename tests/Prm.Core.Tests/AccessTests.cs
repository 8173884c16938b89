using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Tests;

public class AccessTests
{
    private static readonly string OwnId = Make.PartnerId('a');
    private static readonly string OtherId = Make.PartnerId('b');
    private static readonly Partner Owned = Make.Partner(OwnId, channelManagerId: "usr_cm1");

    private static Caller Kind(string kind) => kind switch
    {
        "admin" => Make.Admin(),
        "owningCm" => Make.ChannelManager("usr_cm1"),
        "otherCm" => Make.ChannelManager("usr_cm2"),
        "partnerAdmin" => Make.PartnerAdmin(OwnId),
        "partnerUser" => Make.PartnerUser(OwnId),
        "otherPartnerAdmin" => Make.PartnerAdmin(OtherId, "usr_other"),
        "noRoles" => new Caller("usr_x", "x@vendor.com", "X", [], null, null),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [InlineData(AccessPolicy.Anonymous, "admin", true)]
    [InlineData(AccessPolicy.Anonymous, "partnerUser", true)]
    [InlineData(AccessPolicy.Anonymous, "noRoles", true)]
    [InlineData(AccessPolicy.SignedIn, "admin", true)]
    [InlineData(AccessPolicy.SignedIn, "owningCm", true)]
    [InlineData(AccessPolicy.SignedIn, "partnerAdmin", true)]
    [InlineData(AccessPolicy.SignedIn, "partnerUser", true)]
    [InlineData(AccessPolicy.Vendor, "admin", true)]
    [InlineData(AccessPolicy.Vendor, "owningCm", true)]
    [InlineData(AccessPolicy.Vendor, "partnerAdmin", false)]
    [InlineData(AccessPolicy.Vendor, "partnerUser", false)]
    [InlineData(AccessPolicy.Vendor, "noRoles", false)]
    [InlineData(AccessPolicy.Admin, "admin", true)]
    [InlineData(AccessPolicy.Admin, "owningCm", false)]
    [InlineData(AccessPolicy.Admin, "partnerAdmin", false)]
    [InlineData(AccessPolicy.Admin, "partnerUser", false)]
    [InlineData(AccessPolicy.PartnerMember, "admin", false)]
    [InlineData(AccessPolicy.PartnerMember, "owningCm", false)]
    [InlineData(AccessPolicy.PartnerMember, "partnerAdmin", true)]
    [InlineData(AccessPolicy.PartnerMember, "partnerUser", true)]
    public void AccessRules_Allows(AccessPolicy policy, string caller, bool expected) =>
        AccessRules.Allows(policy, Kind(caller)).Should().Be(expected);

    [Fact]
    public void AccessRules_refuses_an_undefined_policy() =>
        AccessRules.Allows((AccessPolicy)99, Make.Admin()).Should().BeFalse();

    [Fact]
    public void AccessRules_Describe_lists_the_admitted_roles()
    {
        AccessRules.Describe(AccessPolicy.Admin).Should().Equal(AppRoles.Admin);
        AccessRules.Describe(AccessPolicy.Vendor).Should().BeEquivalentTo([AppRoles.Admin, AppRoles.ChannelManager]);
        AccessRules.Describe(AccessPolicy.PartnerMember).Should().BeEquivalentTo(["PartnerAdmin", "PartnerUser"]);
        AccessRules.Describe(AccessPolicy.Anonymous).Should().BeEmpty();
    }

    [Fact]
    public void System_caller_is_an_admin_without_a_partner()
    {
        Caller.System.IsAdmin.Should().BeTrue();
        Caller.System.PartnerId.Should().BeNull();
    }

    [Theory]
    [InlineData("admin", true, true, true)]
    [InlineData("owningCm", true, true, true)]
    [InlineData("otherCm", false, false, false)]
    [InlineData("partnerAdmin", true, false, true)]
    [InlineData("partnerUser", true, false, false)]
    [InlineData("otherPartnerAdmin", false, false, false)]
    [InlineData("noRoles", false, false, false)]
    public void PartnerAccess_per_caller(string caller, bool canSee, bool canManageProgram, bool canManageCompany)
    {
        var who = Kind(caller);

        PartnerAccess.CanSee(who, Owned).Should().Be(canSee);
        PartnerAccess.CanManageProgram(who, Owned).Should().Be(canManageProgram);
        PartnerAccess.CanManageCompany(who, Owned).Should().Be(canManageCompany);
    }

    [Fact]
    public void A_channel_manager_does_not_own_an_unassigned_partner()
    {
        var unassigned = Make.Partner(OwnId, channelManagerId: null);
        var cm = Make.ChannelManager("usr_cm1");

        PartnerAccess.CanSee(cm, unassigned).Should().BeFalse();
        PartnerAccess.CanManageProgram(cm, unassigned).Should().BeFalse();
        PartnerAccess.CanSee(Make.Admin(), unassigned).Should().BeTrue();
    }

    [Fact]
    public async Task A_partner_user_asking_for_another_partner_gets_404_without_a_storage_read()
    {
        var store = new ForbiddenPartnerStore();

        var act = () => PartnerAccess.LoadVisibleAsync(store, Make.PartnerUser(OwnId), OtherId, CancellationToken.None);

        await act.Should().ThrowAsync<NotFoundException>();
        store.Calls.Should().Be(0);
    }

    [Theory]
    [InlineData("not-an-id")]
    [InlineData("usr_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("ptn_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("ptn_aaaa")]
    [InlineData("")]
    public async Task A_malformed_partner_id_is_404_without_a_storage_read(string id)
    {
        var store = new ForbiddenPartnerStore();

        var act = () => PartnerAccess.LoadVisibleAsync(store, Make.Admin(), id, CancellationToken.None);

        await act.Should().ThrowAsync<NotFoundException>();
        store.Calls.Should().Be(0);
    }

    [Fact]
    public async Task LoadVisible_returns_the_partner_to_a_caller_who_may_see_it()
    {
        var store = new FakePartnerStore().Add(Owned);

        var admin = await PartnerAccess.LoadVisibleAsync(store, Make.Admin(), OwnId, CancellationToken.None);
        var member = await PartnerAccess.LoadVisibleAsync(store, Make.PartnerUser(OwnId), OwnId, CancellationToken.None);
        var owner = await PartnerAccess.LoadVisibleAsync(store, Make.ChannelManager("usr_cm1"), OwnId, CancellationToken.None);

        admin.Value.Should().Be(Owned);
        member.Value.Should().Be(Owned);
        owner.Value.Should().Be(Owned);
        admin.ETag.Should().NotBeNullOrEmpty();
    }

    [Fact]
    public async Task LoadVisible_hides_a_partner_owned_by_another_channel_manager_as_404()
    {
        var store = new FakePartnerStore().Add(Owned);

        var act = () => PartnerAccess.LoadVisibleAsync(store, Make.ChannelManager("usr_cm2"), OwnId, CancellationToken.None);

        await act.Should().ThrowAsync<NotFoundException>();
    }

    [Fact]
    public async Task LoadVisible_of_a_missing_partner_is_404()
    {
        var store = new FakePartnerStore();

        var act = () => PartnerAccess.LoadVisibleAsync(store, Make.Admin(), OtherId, CancellationToken.None);

        await act.Should().ThrowAsync<NotFoundException>();
        store.GetCalls.Should().Be(1);
    }
}
