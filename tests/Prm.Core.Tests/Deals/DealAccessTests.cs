using Prm.Core.Deals;
using Prm.Core.Identity;

namespace Prm.Core.Tests.Deals;

public class DealAccessTests
{
    private static readonly string Own = Make.PartnerId('a');
    private static readonly string Other = Make.PartnerId('b');

    private static Caller Who(string kind) => kind switch
    {
        "admin" => Make.Admin(),
        "owningCm" => Make.ChannelManager("usr_cm1"),
        "otherCm" => Make.ChannelManager("usr_cm2"),
        "partnerAdmin" => Make.PartnerAdmin(Own),
        "registeringRep" => Make.PartnerUser(Own, "usr_rep"),
        "otherRep" => Make.PartnerUser(Own, "usr_rep2"),
        "otherPartnerAdmin" => Make.PartnerAdmin(Other, "usr_other"),
        "noRoles" => new Caller("usr_x", "x@vendor.com", "X", [], null, null),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static Deal DealIn(DealStatus status) => DealTransitionTests.Registration(Own, "usr_rep") with { Status = status };

    // Role x relation to the partner x operation -> allowed. The partner's channel manager is usr_cm1.
    [Theory]
    [InlineData("partnerAdmin", DealStatus.UnderReview, DealOperation.Read, true)]
    [InlineData("partnerAdmin", DealStatus.Draft, DealOperation.Read, true)]
    [InlineData("partnerAdmin", DealStatus.Approved, DealOperation.Change, true)]
    [InlineData("partnerAdmin", DealStatus.UnderReview, DealOperation.Decide, false)]
    [InlineData("registeringRep", DealStatus.Draft, DealOperation.Read, true)]
    [InlineData("registeringRep", DealStatus.Returned, DealOperation.Change, true)]
    [InlineData("registeringRep", DealStatus.UnderReview, DealOperation.Decide, false)]
    [InlineData("otherRep", DealStatus.UnderReview, DealOperation.Read, false)]
    [InlineData("otherRep", DealStatus.Approved, DealOperation.Change, false)]
    [InlineData("otherPartnerAdmin", DealStatus.UnderReview, DealOperation.Read, false)]
    [InlineData("otherPartnerAdmin", DealStatus.UnderReview, DealOperation.Change, false)]
    [InlineData("owningCm", DealStatus.UnderReview, DealOperation.Read, true)]
    [InlineData("owningCm", DealStatus.UnderReview, DealOperation.Decide, true)]
    [InlineData("owningCm", DealStatus.Approved, DealOperation.Change, false)]
    [InlineData("owningCm", DealStatus.Draft, DealOperation.Read, false)]
    [InlineData("owningCm", DealStatus.Draft, DealOperation.Decide, false)]
    [InlineData("otherCm", DealStatus.UnderReview, DealOperation.Read, false)]
    [InlineData("otherCm", DealStatus.UnderReview, DealOperation.Decide, false)]
    [InlineData("admin", DealStatus.UnderReview, DealOperation.Read, true)]
    [InlineData("admin", DealStatus.Approved, DealOperation.Decide, true)]
    [InlineData("admin", DealStatus.Approved, DealOperation.Change, false)]
    [InlineData("admin", DealStatus.Draft, DealOperation.Read, false)]
    [InlineData("noRoles", DealStatus.UnderReview, DealOperation.Read, false)]
    public void Allows(string caller, DealStatus status, DealOperation operation, bool expected) =>
        DealAccess.Allows(Who(caller), operation, DealIn(status), "usr_cm1").Should().Be(expected);

    [Fact]
    public void A_channel_manager_loses_access_when_the_partner_is_reassigned()
    {
        DealAccess.Allows(Who("owningCm"), DealOperation.Decide, DealIn(DealStatus.UnderReview), "usr_cm2").Should().BeFalse();
        DealAccess.Allows(Who("otherCm"), DealOperation.Decide, DealIn(DealStatus.UnderReview), "usr_cm2").Should().BeTrue();
        DealAccess.Allows(Who("owningCm"), DealOperation.Read, DealIn(DealStatus.UnderReview), null).Should().BeFalse();
    }

    [Theory]
    [InlineData("partnerAdmin", true)]
    [InlineData("otherPartnerAdmin", false)]
    [InlineData("owningCm", true)]
    [InlineData("admin", true)]
    [InlineData("noRoles", false)]
    public void Only_the_own_company_and_vendor_staff_address_a_partners_registrations(string caller, bool expected) =>
        DealAccess.MayAddress(Who(caller), Own).Should().Be(expected);

    [Theory]
    [InlineData("owningCm", true)]
    [InlineData("admin", false)]
    [InlineData("partnerAdmin", false)]
    public void Only_a_channel_manager_needs_the_partners_owner_read(string caller, bool expected) =>
        DealAccess.NeedsPartnerOwner(Who(caller)).Should().Be(expected);

    [Fact]
    public void List_scope_partner_admins_see_the_company_sales_reps_their_own()
    {
        DealAccess.ListScope(Who("partnerAdmin"), null, null).Should().Be(new DealListScope(Own, null, null));
        DealAccess.ListScope(Who("registeringRep"), null, null).Should().Be(new DealListScope(Own, null, "usr_rep"));
        DealAccess.ListScope(Who("partnerAdmin"), Other, null).Should().BeNull();
    }

    [Fact]
    public void List_scope_channel_managers_see_their_partners_admins_all()
    {
        DealAccess.ListScope(Who("owningCm"), null, null).Should().Be(new DealListScope(null, "usr_cm1", null));
        DealAccess.ListScope(Who("owningCm"), Own, "usr_cm1").Should().Be(new DealListScope(Own, null, null));
        DealAccess.ListScope(Who("otherCm"), Own, "usr_cm1").Should().BeNull();
        DealAccess.ListScope(Who("admin"), Own, null).Should().Be(new DealListScope(Own, null, null));
        DealAccess.ListScope(Who("admin"), null, null).Should().Be(new DealListScope(null, null, null));
        DealAccess.ListScope(Who("noRoles"), null, null).Should().BeNull();
    }
}
