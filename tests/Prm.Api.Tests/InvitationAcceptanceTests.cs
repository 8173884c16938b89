using System.Net;
using System.Web;
using Prm.Testing;

namespace Prm.Api.Tests;

/// <summary>People whose token does not prove their email join with the one-time code from their invitation email.</summary>
public sealed class InvitationAcceptanceTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    private async Task<string> InviteAndReadCodeAsync(string email)
    {
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var partnerAdmin = await Api.ClientAsync(Demo.NorthwindAdmin);
        (await partnerAdmin.PostJsonAsync($"partners/{partnerId}/users", new { email, displayName = "Invitee" })).StatusCode.Should().Be(HttpStatusCode.Created);
        var mail = await Responses.EventuallyAsync(
            async () => await (await Api.Anonymous.GetAsync($"dev/mail?to={Uri.EscapeDataString(email)}")).JsonAsync(),
            m => m.GetProperty("items").GetArrayLength() > 0);
        var link = mail.GetProperty("items")[0].GetProperty("links").EnumerateArray().Select(l => l.GetString()!).First(l => l.Contains("invitations/accept"));
        return HttpUtility.ParseQueryString(new Uri(link).Query)["code"]!;
    }

    [Fact]
    public async Task The_code_joins_the_person_once_and_only_them()
    {
        var code = await InviteAndReadCodeAsync("acc@northwind.example");
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var person = Api.WithToken(Api.IssueUnverifiedToken("acc@northwind.example", "Acc", Guid.NewGuid().ToString()));

        await ApiSteps.ProblemAsync(await person.GetAsync("me"), 403);
        (await ApiSteps.ProblemAsync(await person.PostJsonAsync("invitations/accept", new { }), 400)).GetProperty("errors").TryGetProperty("code", out _).Should().BeTrue();
        await ApiSteps.ProblemAsync(await person.PostJsonAsync("invitations/accept", new { code = code[..^1] + (code[^1] == '0' ? '1' : '0') }), 404);
        await ApiSteps.ProblemAsync(await person.PostJsonAsync("invitations/accept", new { code = "garbage" }), 404);

        var accepted = await person.PostJsonAsync("invitations/accept", new { code });
        accepted.StatusCode.Should().Be(HttpStatusCode.OK, await accepted.Content.ReadAsStringAsync());
        var me = await accepted.JsonAsync();
        me.Str("partnerId").Should().Be(partnerId);
        me.Str("partnerRole").Should().Be("PartnerUser");
        (await person.GetAsync("me")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await person.PostJsonAsync("invitations/accept", new { code })).StatusCode.Should().Be(HttpStatusCode.OK, "accepting twice is harmless");

        var someoneElse = Api.WithToken(Api.IssueUnverifiedToken("acc@northwind.example", "Impostor", Guid.NewGuid().ToString()));
        await ApiSteps.ProblemAsync(await someoneElse.PostJsonAsync("invitations/accept", new { code }), 404);
        await ApiSteps.ProblemAsync(await someoneElse.GetAsync("me"), 403);
    }

    [Fact]
    public async Task An_unverified_email_claim_cannot_take_over_an_invitation()
    {
        await InviteAndReadCodeAsync("victim@northwind.example");
        var attacker = Api.WithToken(Api.IssueUnverifiedToken("victim@northwind.example", "Mallory", Guid.NewGuid().ToString()));
        await ApiSteps.ProblemAsync(await attacker.GetAsync("me"), 403);
        await ApiSteps.ProblemAsync(await attacker.GetAsync($"partners/{await ApiSteps.PartnerIdAsync(Api, "Northwind Traders")}"), 403);
    }

    [Fact]
    public async Task A_member_cannot_accept_a_second_membership()
    {
        var code = await InviteAndReadCodeAsync("second-seat@northwind.example");
        var member = await Api.ClientAsync(Demo.FabrikamRep);
        (await member.GetAsync("me")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await ApiSteps.ProblemAsync(await member.PostJsonAsync("invitations/accept", new { code }), 409)).Str("field").Should().Be("code");
    }
}
