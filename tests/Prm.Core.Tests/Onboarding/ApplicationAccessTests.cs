using Prm.Core.Identity;
using Prm.Core.Onboarding;

namespace Prm.Core.Tests.Onboarding;

public class ApplicationAccessTests
{
    private static Caller Who(string kind) => kind switch
    {
        "admin" => Make.Admin(),
        "assignee" => Make.ChannelManager("usr_cm1"),
        "otherCm" => Make.ChannelManager("usr_cm2"),
        "partnerAdmin" => Make.PartnerAdmin(Make.PartnerId()),
        "noRoles" => new Caller("usr_x", "x@vendor.com", "X", [], null, null),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    // Who x assigned or not x operation -> allowed. Reading and deciding follow the same rule: the assignee and the admins.
    [Theory]
    [InlineData("admin", "usr_cm1", ApplicationOperation.Read, true)]
    [InlineData("admin", "usr_cm1", ApplicationOperation.Decide, true)]
    [InlineData("admin", null, ApplicationOperation.Decide, true)]
    [InlineData("assignee", "usr_cm1", ApplicationOperation.Read, true)]
    [InlineData("assignee", "usr_cm1", ApplicationOperation.Decide, true)]
    [InlineData("assignee", null, ApplicationOperation.Read, false)]
    [InlineData("otherCm", "usr_cm1", ApplicationOperation.Read, false)]
    [InlineData("otherCm", "usr_cm1", ApplicationOperation.Decide, false)]
    [InlineData("otherCm", null, ApplicationOperation.Decide, false)]
    [InlineData("partnerAdmin", "usr_cm1", ApplicationOperation.Read, false)]
    [InlineData("noRoles", "usr_x", ApplicationOperation.Read, false)]
    [InlineData("noRoles", "usr_x", ApplicationOperation.Decide, false)]
    public void Allows(string caller, string? assigneeId, ApplicationOperation operation, bool expected) =>
        ApplicationAccess.Allows(Who(caller), operation, ApplicationTransitionTests.Application(assigneeId)).Should().Be(expected);

    [Theory]
    [InlineData("admin", true)]
    [InlineData("assignee", true)]
    [InlineData("partnerAdmin", false)]
    [InlineData("noRoles", false)]
    public void Only_vendor_staff_address_applications(string caller, bool expected) =>
        ApplicationAccess.MayAddress(Who(caller)).Should().Be(expected);

    // Who x the assignee asked for -> (allowed, the assignee listed; null = everyone's).
    [Theory]
    [InlineData("admin", null, true, null)]
    [InlineData("admin", "usr_cm2", true, "usr_cm2")]
    [InlineData("assignee", null, true, "usr_cm1")]
    [InlineData("assignee", "usr_cm1", true, "usr_cm1")]
    [InlineData("assignee", "usr_cm2", false, null)]
    [InlineData("partnerAdmin", null, false, null)]
    [InlineData("noRoles", null, false, null)]
    public void List_scope(string caller, string? asked, bool allowed, string? listed) =>
        ApplicationAccess.ListScope(Who(caller), asked).Should().Be(new ApplicationListScope(allowed, listed));
}
