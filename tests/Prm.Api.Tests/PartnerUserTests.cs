using System.Net;
using Prm.Testing;

namespace Prm.Api.Tests;

public sealed class PartnerUserTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task A_partner_admin_invites_a_colleague_who_joins_at_first_sign_in()
    {
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var partnerAdmin = await Api.ClientAsync(Demo.NorthwindAdmin);
        var response = await partnerAdmin.PostJsonAsync($"partners/{partnerId}/users", new { email = "Nina@Northwind.example", displayName = "Nina", role = "partnerUser" });
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var user = await response.JsonAsync();
        user.Str("email").Should().Be("nina@northwind.example");
        user.Str("status").Should().Be("Invited");
        user.Str("role").Should().Be("PartnerUser");

        var mail = await Responses.EventuallyAsync(
            async () => await (await Api.Anonymous.GetAsync("dev/mail?to=nina@northwind.example")).JsonAsync(),
            m => m.GetProperty("items").GetArrayLength() > 0);
        mail.GetProperty("items")[0].Str("text").Should().Contain("Anna Northwind invited you");

        var me = await (await (await Api.ClientAsync("nina@northwind.example")).GetAsync("me")).JsonAsync();
        me.Str("partnerId").Should().Be(partnerId);
        (await ApiSteps.UserByEmailAsync(partnerAdmin, partnerId, "nina@northwind.example")).Str("status").Should().Be("Active");
    }

    [Fact]
    public async Task Invitations_outside_the_partner_domain_and_duplicates_are_refused()
    {
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var partnerAdmin = await Api.ClientAsync(Demo.NorthwindAdmin);
        var foreign = await ApiSteps.ProblemAsync(await partnerAdmin.PostJsonAsync($"partners/{partnerId}/users", new { email = "eve@gmail.com", displayName = "Eve" }), 422);
        foreign.GetProperty("errors").TryGetProperty("email", out _).Should().BeTrue();
        var taken = await ApiSteps.ProblemAsync(await partnerAdmin.PostJsonAsync($"partners/{partnerId}/users", new { email = Demo.NorthwindRep, displayName = "Sam again" }), 409);
        taken.Str("field").Should().Be("email");
        var elsewhere = await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.Admin)).PostJsonAsync($"partners/{partnerId}/users", new { email = Demo.FabrikamRep, displayName = "Rita" }), 409);
        elsewhere.Str("detail").Should().Contain(Demo.FabrikamRep);
        var invalid = await ApiSteps.ProblemAsync(await partnerAdmin.PostJsonAsync($"partners/{partnerId}/users", new { email = "nope", displayName = "", role = "owner" }), 400);
        invalid.GetProperty("errors").EnumerateObject().Select(e => e.Name).Should().Contain(["email", "displayName", "role"]);
    }

    [Fact]
    public async Task Sales_reps_do_not_manage_users()
    {
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Fabrikam Solutions");
        var rep = await Api.ClientAsync(Demo.FabrikamRep);
        await ApiSteps.ProblemAsync(await rep.GetAsync($"partners/{partnerId}/users"), 403);
        await ApiSteps.ProblemAsync(await rep.PostJsonAsync($"partners/{partnerId}/users", new { email = "x@fabrikam.example", displayName = "X" }), 403);
    }

    [Fact]
    public async Task The_last_partner_admin_can_be_neither_demoted_nor_removed_and_a_removed_user_loses_access()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var created = await (await admin.PostJsonAsync("partners", new
        {
            name = "Solo Partner", domain = "solo.example", country = "NL", region = "emea", admin = new { email = "owner@solo.example", displayName = "Owner" },
        })).JsonAsync();
        var partnerId = created.Str("id");
        var owner = await Api.ClientAsync("owner@solo.example");
        var ownerUser = await ApiSteps.UserByEmailAsync(owner, partnerId, "owner@solo.example");
        var ownerUrl = $"partners/{partnerId}/users/{ownerUser.Str("id")}";
        var (_, userEtag) = await ApiSteps.GetWithETagAsync(owner, ownerUrl);

        var demote = await owner.SendAsync(ApiSteps.Patch(ownerUrl, new { role = "PartnerUser" }, userEtag));
        (await ApiSteps.ProblemAsync(demote, 409)).Str("field").Should().Be("role");
        await ApiSteps.ProblemAsync(await owner.DeleteAsync(ownerUrl), 409);

        var invited = await owner.PostJsonAsync($"partners/{partnerId}/users", new { email = "second@solo.example", displayName = "Second", role = "PartnerAdmin" });
        invited.StatusCode.Should().Be(HttpStatusCode.Created);
        var second = await invited.JsonAsync();
        var secondClient = await Api.ClientAsync("second@solo.example");
        (await secondClient.GetAsync("me")).StatusCode.Should().Be(HttpStatusCode.OK);

        var stale = await owner.SendAsync(ApiSteps.Patch($"partners/{partnerId}/users/{second.Str("id")}", new { role = "PartnerUser" }, "W/\"datetime'2000-01-01T00%3A00%3A00.0000000Z'\""));
        await ApiSteps.ProblemAsync(stale, 412);
        var (_, secondEtag) = await ApiSteps.GetWithETagAsync(owner, $"partners/{partnerId}/users/{second.Str("id")}");
        var demoted = await owner.SendAsync(ApiSteps.Patch($"partners/{partnerId}/users/{second.Str("id")}", new { role = "PartnerUser" }, secondEtag));
        demoted.StatusCode.Should().Be(HttpStatusCode.OK, await demoted.Content.ReadAsStringAsync());
        (await (await secondClient.GetAsync("me")).JsonAsync()).Str("partnerRole").Should().Be("PartnerUser", "a role change applies at the next request");

        (await owner.DeleteAsync($"partners/{partnerId}/users/{second.Str("id")}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await ApiSteps.ProblemAsync(await secondClient.GetAsync("me"), 403);
        (await (await owner.GetAsync($"partners/{partnerId}")).JsonAsync()).GetProperty("userCount").GetInt32().Should().Be(1);
    }
}
