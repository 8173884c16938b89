using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Prm.Testing;

namespace Prm.Api.Tests;

public sealed class SignInTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task Health_is_200_when_storage_answers_and_reports_storage_calls()
    {
        // 503 is the answer until the start-up storage initialization succeeded, or while storage does not answer (a loaded machine):
        // wait for the 200 with a deadline, then check what it says.
        var response = await Responses.EventuallyAsync(() => Api.Anonymous.GetAsync("health"), r => r.StatusCode == HttpStatusCode.OK);
        var body = await response.JsonAsync();
        body.Str("status").Should().Be("Healthy");
        body.GetProperty("problems").GetArrayLength().Should().Be(0);
        response.StorageCalls().Should().Be("1");
    }

    [Fact]
    public async Task An_email_key_that_is_an_unresolved_key_vault_reference_makes_health_degraded_naming_it()
    {
        await using var api = await ApiHost.StartAsync(new Dictionary<string, string?>
        {
            ["SendGrid:ApiKey"] = "@Microsoft.KeyVault(SecretUri=https://kv-prm.vault.azure.net/secrets/SendGrid-ApiKey/)",
            ["LocalHost:Seed"] = "false",
        });
        var response = await api.Anonymous.GetAsync("health");
        response.StatusCode.Should().Be(HttpStatusCode.OK, "everything but email works");
        var body = await response.JsonAsync();
        body.Str("status").Should().Be("Degraded");
        body.GetProperty("problems").EnumerateArray().Should().ContainSingle().Which.GetString().Should().Contain("SendGrid__ApiKey is an unresolved Key Vault reference");
    }

    [Fact]
    public async Task A_request_without_a_token_gets_401_problem_json()
    {
        var response = await Api.Anonymous.GetAsync("partners");
        var problem = await ApiSteps.ProblemAsync(response, 401);
        problem.Str("instance").Should().Be("/api/partners");
        response.Headers.WwwAuthenticate.Should().ContainSingle(h => h.Scheme == "Bearer");
    }

    [Fact]
    public async Task A_forged_token_gets_401()
    {
        var token = await Api.TokenAsync(Demo.Admin);
        var forged = token[..^4] + (token[^4..] == "AAAA" ? "BBBB" : "AAAA");
        await ApiSteps.ProblemAsync(await Api.WithToken(forged).GetAsync("me"), 401);
        await ApiSteps.ProblemAsync(await Api.WithToken("not-a-jwt").GetAsync("me"), 401);
    }

    [Fact]
    public async Task Someone_valid_but_unknown_to_the_program_gets_403()
    {
        var stranger = Api.WithToken(Api.IssueToken("stranger@elsewhere.example", "Stranger"));
        var problem = await ApiSteps.ProblemAsync(await stranger.GetAsync("me"), 403);
        problem.Str("detail").Should().Contain("not a member");
    }

    [Fact]
    public async Task Me_shows_roles_for_vendor_staff()
    {
        var me = await (await (await Api.ClientAsync(Demo.CmEmea)).GetAsync("me")).JsonAsync();
        me.Str("email").Should().Be(Demo.CmEmea);
        me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()).Should().Equal("Prm.ChannelManager");
        me.GetProperty("partnerId").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
        me.GetProperty("partnerRole").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
    }

    [Fact]
    public async Task First_sign_in_links_the_invitation_and_me_shows_the_membership()
    {
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Fabrikam Solutions");
        var me = await (await (await Api.ClientAsync(Demo.FabrikamRep)).GetAsync("me")).JsonAsync();
        me.Str("partnerId").Should().Be(partnerId);
        me.Str("partnerRole").Should().Be("PartnerUser");
        me.GetProperty("roles").GetArrayLength().Should().Be(0);

        var admin = await Api.ClientAsync(Demo.Admin);
        var user = await ApiSteps.UserByEmailAsync(admin, partnerId, Demo.FabrikamRep);
        user.Str("status").Should().Be("Active");
        DateTimeOffset.Parse(user.Str("joinedAt"), System.Globalization.CultureInfo.InvariantCulture).Should().BeOnOrAfter(DateTimeOffset.Parse(user.Str("invitedAt"), System.Globalization.CultureInfo.InvariantCulture), "joining follows the invitation");
    }

    [Fact]
    public async Task A_partner_user_never_gets_vendor_roles_from_a_token()
    {
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        await (await Api.ClientAsync(Demo.NorthwindRep)).GetAsync("me");
        var escalated = Api.WithToken(Api.IssueToken(Demo.NorthwindRep, "Sam", "Prm.Admin"));
        var me = await (await escalated.GetAsync("me")).JsonAsync();
        me.Str("partnerId").Should().Be(partnerId);
        me.GetProperty("roles").GetArrayLength().Should().Be(0);
        await ApiSteps.ProblemAsync(await escalated.GetAsync("partners?scope=all"), 403);
    }

    [Fact]
    public async Task Unknown_api_routes_get_404_problem_json()
    {
        await ApiSteps.ProblemAsync(await Api.Anonymous.GetAsync("no-such-route"), 404);
    }

    [Fact]
    public async Task The_openapi_document_is_served()
    {
        var doc = await (await Api.Anonymous.GetAsync("openapi.json")).JsonAsync();
        doc.GetProperty("paths").TryGetProperty("/partners/{partnerId}", out _).Should().BeTrue();
        doc.GetProperty("servers")[0].Str("url").Should().EndWith("/api");
    }

    [Fact]
    public async Task A_user_token_without_the_apis_scope_is_refused_with_403()
    {
        var tokens = Api.Services.GetRequiredService<Prm.DevHost.DevTokens>();
        var otherScope = Api.WithToken(tokens.Issue(Demo.Admin, "Ada Admin", ["Prm.Admin"], scope: "User.Read"));
        var problem = await ApiSteps.ProblemAsync(await otherScope.GetAsync("partners"), 403);
        problem.Str("detail").Should().Contain("access_as_user");
        (await Api.WithToken(tokens.Issue(Demo.Admin, "Ada Admin", ["Prm.Admin"], scope: "User.Read access_as_user")).GetAsync("partners")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task An_app_only_token_needs_an_app_role()
    {
        var tokens = Api.Services.GetRequiredService<Prm.DevHost.DevTokens>();
        var noGrant = Api.WithToken(tokens.Issue("crm@integration.example", "CRM", [], scope: null));
        (await noGrant.GetAsync("me")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        var withRole = Api.WithToken(tokens.Issue("crm@integration.example", "CRM", ["Prm.Admin"], scope: null));
        (await withRole.GetAsync("partners")).StatusCode.Should().Be(HttpStatusCode.OK, "an app-only token with an app role passes the grant check");
    }
}
