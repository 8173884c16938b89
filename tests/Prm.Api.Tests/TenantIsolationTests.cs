using System.Net;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Functions.Http;
using Prm.Testing;

namespace Prm.Api.Tests;

/// <summary>Every partner-scoped route, tried by people of another partner (and a channel manager who does not own it): always 404, never a hint.</summary>
public sealed class TenantIsolationTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    /// <summary>
    /// A well-formed ETag that matches nothing: a write that got past the visibility checks would answer 412, never 404 ("If-Match: *" is
    /// refused by the gate for every route, see WildcardIfMatchTests).
    /// </summary>
    private const string StaleETag = "W/\"datetime'2026-01-01T00%3A00%3A00.0000000Z'\"";

    private ApiHost Api => fixture.Api;

    public static TheoryData<string, string> PartnerScopedRoutes()
    {
        var data = new TheoryData<string, string>();
        foreach (var function in FunctionCatalog.HttpFunctions.Where(f => f.Route.Contains("{partnerId}", StringComparison.Ordinal)))
        {
            foreach (var method in function.Methods) data.Add(method, function.Route);
        }
        return data;
    }

    [Fact]
    public void The_matrix_covers_partner_scoped_routes()
    {
        PartnerScopedRoutes().Count.Should().BeGreaterThanOrEqualTo(8);
    }

    [Theory]
    [MemberData(nameof(PartnerScopedRoutes))]
    public async Task Another_partners_users_and_a_foreign_channel_manager_get_404(string method, string route)
    {
        var victimId = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var admin = await Api.ClientAsync(Demo.Admin);
        var victimUser = await ApiSteps.UserByEmailAsync(admin, victimId, Demo.NorthwindRep);
        var before = await SnapshotAsync(admin, victimId);
        var url = route.Replace("{partnerId}", victimId, StringComparison.Ordinal).Replace("{userId}", victimUser.Str("id"), StringComparison.Ordinal);

        foreach (var email in new[] { Demo.FabrikamAdmin, Demo.FabrikamRep, Demo.CmAmer })
        {
            var client = await Api.ClientAsync(email);
            var response = await client.SendAsync(Request(method, url));
            ((int)response.StatusCode).Should().Be(404, $"{email} {method} {url}: {await response.Content.ReadAsStringAsync()}");
            (await response.Content.ReadAsStringAsync()).Should().NotContain("Northwind");
        }
        (await SnapshotAsync(admin, victimId)).Should().Equal(before, "nothing a refused write could touch changed: the partner, its users, its timeline");
    }

    /// <summary>Everything a write on a partner-scoped route could change, as the admin reads it (any write also leaves a timeline entry).</summary>
    private static async Task<IReadOnlyList<string>> SnapshotAsync(HttpClient admin, string partnerId)
    {
        var parts = new List<string>();
        foreach (var path in new[] { $"partners/{partnerId}", $"partners/{partnerId}/users?limit=200", $"partners/{partnerId}/timeline?limit=200" })
        {
            var response = await admin.GetAsync(path);
            parts.Add($"{path} {(int)response.StatusCode} {response.Headers.ETag} {await response.Content.ReadAsStringAsync()}");
        }
        return parts;
    }

    [Theory]
    [MemberData(nameof(PartnerScopedRoutes))]
    public async Task A_guessed_partner_id_is_404_like_a_foreign_one(string method, string route)
    {
        var client = await Api.ClientAsync(Demo.NorthwindAdmin);
        var foreignId = await ApiSteps.PartnerIdAsync(Api, "Fabrikam Solutions");
        var foreignUser = await ApiSteps.UserByEmailAsync(await Api.ClientAsync(Demo.Admin), foreignId, Demo.FabrikamRep);
        var guessed = await client.SendAsync(Request(method, route.Replace("{partnerId}", Ids.New("ptn"), StringComparison.Ordinal).Replace("{userId}", Ids.New("usr"), StringComparison.Ordinal)));
        var foreign = await client.SendAsync(Request(method, route.Replace("{partnerId}", foreignId, StringComparison.Ordinal).Replace("{userId}", foreignUser.Str("id"), StringComparison.Ordinal)));
        ((int)guessed.StatusCode).Should().Be(404);
        ((int)foreign.StatusCode).Should().Be(404);
        // The same answer, but for the request's own path and trace: nothing tells an existing partner from a made-up one.
        Comparable(await guessed.JsonAsync()).Should().Be(Comparable(await foreign.JsonAsync()));
    }

    private static string Comparable(System.Text.Json.JsonElement problem) =>
        string.Join("|", problem.EnumerateObject().Where(p => p.Name is not ("instance" or "traceId")).Select(p => p.Name + "=" + p.Value.GetRawText()));

    public static TheoryData<string, string> DealScopedRoutes()
    {
        var data = new TheoryData<string, string>();
        foreach (var function in FunctionCatalog.HttpFunctions.Where(f => f.Route.Contains("{dealId}", StringComparison.Ordinal)))
        {
            foreach (var method in function.Methods) data.Add(method, function.Route);
        }
        return data;
    }

    [Fact]
    public void The_matrix_covers_deal_scoped_routes()
    {
        DealScopedRoutes().Count.Should().BeGreaterThanOrEqualTo(9);
    }

    [Theory]
    [MemberData(nameof(DealScopedRoutes))]
    public async Task Another_partners_users_and_a_foreign_channel_manager_get_404_on_a_deal(string method, string route)
    {
        var owner = await Api.ClientAsync(Demo.NorthwindAdmin);
        var created = await owner.PostJsonAsync("deals", Deals.Body("Isolated Customer " + Guid.NewGuid().ToString("N")[..8], $"isolated-{Guid.NewGuid():N}.example"));
        created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var dealId = (await created.JsonAsync()).Str("id");
        var before = await (await owner.GetAsync($"deals/{dealId}")).Content.ReadAsStringAsync();
        var url = route.Replace("{dealId}", dealId, StringComparison.Ordinal).Replace("{extensionId}", Ids.New("ext"), StringComparison.Ordinal);
        foreach (var email in new[] { Demo.FabrikamAdmin, Demo.FabrikamRep, Demo.CmAmer, Demo.NorthwindRep })
        {
            var response = await (await Api.ClientAsync(email)).SendAsync(DealRequest(method, url));
            await NotFoundOrRoleRefusedAsync(response, $"{email} {method} {url}");
            (await response.Content.ReadAsStringAsync()).Should().NotContain("Isolated Customer");
        }
        (await (await owner.GetAsync($"deals/{dealId}")).Content.ReadAsStringAsync()).Should().Be(before, "nothing was changed");
    }

    [Theory]
    [MemberData(nameof(DealScopedRoutes))]
    public async Task A_guessed_deal_id_is_404(string method, string route)
    {
        var fabrikamId = await ApiSteps.PartnerIdAsync(Api, "Fabrikam Solutions");
        foreach (var guess in new[] { "deal_" + fabrikamId[4..] + new string('0', 24), "deal_" + new string('f', 56), "not-a-deal" })
        {
            var url = route.Replace("{dealId}", guess, StringComparison.Ordinal).Replace("{extensionId}", Ids.New("ext"), StringComparison.Ordinal);
            var response = await (await Api.ClientAsync(Demo.NorthwindAdmin)).SendAsync(DealRequest(method, url));
            await NotFoundOrRoleRefusedAsync(response, $"{method} {url}");
        }
    }

    public static TheoryData<string, string> LeadScopedRoutes()
    {
        var data = new TheoryData<string, string>();
        foreach (var function in FunctionCatalog.HttpFunctions.Where(f => f.Route.Contains("{leadId}", StringComparison.Ordinal)))
        {
            foreach (var method in function.Methods) data.Add(method, function.Route);
        }
        return data;
    }

    [Fact]
    public void The_matrix_covers_lead_scoped_routes()
    {
        LeadScopedRoutes().Count.Should().BeGreaterThanOrEqualTo(10);
    }

    /// <summary>
    /// A lead offered to Northwind (pending) and one Northwind accepted (worked by its admin, assigned to nobody): another partner's users
    /// get 404 on every lead route, and so does Northwind's rep on the lead that is not assigned to them. Leads belong to the vendor, so
    /// every channel manager may read them (not part of this matrix).
    /// </summary>
    [Theory]
    [MemberData(nameof(LeadScopedRoutes))]
    public async Task Another_partners_users_and_an_unassigned_rep_get_404_on_a_lead(string method, string route)
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var owner = await Api.ClientAsync(Demo.NorthwindAdmin);
        var northwind = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        await RoomForLeadsAsync(admin);
        var leadIds = new List<string>();
        foreach (var accept in new[] { false, true })
        {
            var domain = "isolated-" + Guid.NewGuid().ToString("N")[..10] + ".example";
            var created = await admin.PostJsonAsync("leads", Leads.Body("Isolated Lead Customer", domain, "secret@" + domain));
            created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
            var leadId = (await created.JsonAsync()).GetProperty("lead").Str("id");
            (await (await admin.GetAsync($"leads/{leadId}")).Content.ReadAsStringAsync()).Should().Contain(northwind, "the demo rules offer EMEA leads to Northwind");
            if (accept) (await owner.PostAsync($"leads/{leadId}/accept", null)).StatusCode.Should().Be(HttpStatusCode.OK);
            leadIds.Add(leadId);
        }
        foreach (var leadId in leadIds)
        {
            var before = await (await admin.GetAsync($"leads/{leadId}")).Content.ReadAsStringAsync();
            var url = route.Replace("{leadId}", leadId, StringComparison.Ordinal);
            var intruders = leadId == leadIds[1] ? new[] { Demo.FabrikamAdmin, Demo.FabrikamRep, Demo.NorthwindRep } : new[] { Demo.FabrikamAdmin, Demo.FabrikamRep };
            foreach (var email in intruders)
            {
                var response = await (await Api.ClientAsync(email)).SendAsync(LeadRequest(method, url));
                await NotFoundOrRoleRefusedAsync(response, $"{email} {method} {url}");
                (await response.Content.ReadAsStringAsync()).Should().NotContain("Isolated Lead Customer");
            }
            (await (await admin.GetAsync($"leads/{leadId}")).Content.ReadAsStringAsync()).Should().Be(before, "nothing was changed");
        }
    }

    /// <summary>This matrix offers Northwind two leads per route: its daily cap and capacity are raised so the demo rules keep offering them to it.</summary>
    private static async Task RoomForLeadsAsync(HttpClient admin)
    {
        var (section, etag) = await ApiSteps.GetWithETagAsync(admin, "settings/leads");
        if (section.GetProperty("dailyCap").GetInt32() >= 10_000) return;
        var body = System.Text.Json.Nodes.JsonNode.Parse(section.GetRawText())!.AsObject();
        body["dailyCap"] = 10_000;
        body["maxOpenLeads"] = 10_000;
        using var put = new HttpRequestMessage(HttpMethod.Put, "settings/leads") { Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json") };
        put.Headers.TryAddWithoutValidation("If-Match", etag);
        var response = await admin.SendAsync(put);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [MemberData(nameof(LeadScopedRoutes))]
    public async Task A_guessed_lead_id_is_404(string method, string route)
    {
        foreach (var guess in new[] { Ids.New("lead"), "lead_" + new string('f', 32), "not-a-lead" })
        {
            var url = route.Replace("{leadId}", guess, StringComparison.Ordinal);
            foreach (var email in new[] { Demo.NorthwindAdmin, Demo.Admin })
            {
                var response = await (await Api.ClientAsync(email)).SendAsync(LeadRequest(method, url));
                await NotFoundOrRoleRefusedAsync(response, $"{email} {method} {url}");
            }
        }
    }

    private static HttpRequestMessage LeadRequest(string method, string url)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method is "POST" or "PATCH" or "PUT")
        {
            request.Content = Responses.Json(new { reason = "notAFit", status = "Contacted", userId = Ids.New("usr"), partnerId = Ids.New("ptn"), notes = "pwned" });
        }
        return request;
    }

    /// <summary>404, or the gate's 403 for a role that may never call the route (the same answer for every id, so it tells nothing).</summary>
    private static async Task NotFoundOrRoleRefusedAsync(HttpResponseMessage response, string what)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode == HttpStatusCode.Forbidden) body.Should().Contain("Your role does not allow this operation.", what);
        else ((int)response.StatusCode).Should().Be(404, $"{what}: {body}");
    }

    private static HttpRequestMessage DealRequest(string method, string url)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method is "POST" or "PATCH" or "PUT")
        {
            request.Content = Responses.Json(new { decision = "reject", reason = "pwned", days = 10, result = "lost", notes = "pwned" });
            request.Headers.TryAddWithoutValidation("If-Match", StaleETag);
        }
        return request;
    }

    public static TheoryData<string, string> AssetScopedRoutes()
    {
        var data = new TheoryData<string, string>();
        foreach (var function in FunctionCatalog.HttpFunctions.Where(f => f.Route.Contains("{assetId}", StringComparison.Ordinal)))
        {
            foreach (var method in function.Methods) data.Add(method, function.Route);
        }
        return data;
    }

    [Fact]
    public void The_matrix_covers_asset_scoped_routes()
    {
        AssetScopedRoutes().Count.Should().BeGreaterThanOrEqualTo(10);
    }

    /// <summary>An asset only Northwind (Gold, EMEA) sees, in every route: Fabrikam's people get 404 (or the gate's role refusal), and nothing changes.</summary>
    [Theory]
    [MemberData(nameof(AssetScopedRoutes))]
    public async Task Partners_the_rule_excludes_get_404_on_an_asset(string method, string route)
    {
        var northwindId = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var title = "Isolated asset " + Guid.NewGuid().ToString("N")[..8];
        var assetId = await AssetTests.PublishedAsync(Api, title, new { allowedPartners = new[] { northwindId } });
        var admin = await Api.ClientAsync(Demo.Admin);
        var before = await (await admin.GetAsync($"assets/{assetId}")).Content.ReadAsStringAsync();
        var url = route.Replace("{assetId}", assetId, StringComparison.Ordinal).Replace("{version}", "1", StringComparison.Ordinal);
        foreach (var email in new[] { Demo.FabrikamAdmin, Demo.FabrikamRep })
        {
            var response = await (await Api.ClientAsync(email)).SendAsync(AssetRequest(method, url));
            await NotFoundOrRoleRefusedAsync(response, $"{email} {method} {url}");
            (await response.Content.ReadAsStringAsync()).Should().NotContain(title);
        }
        (await (await admin.GetAsync($"assets/{assetId}")).Content.ReadAsStringAsync()).Should().Be(before, "nothing was changed");
        (await (await admin.GetAsync($"assets/{assetId}/downloads")).JsonAsync()).GetProperty("total").GetInt32().Should().Be(0, "no download was recorded");
    }

    [Theory]
    [MemberData(nameof(AssetScopedRoutes))]
    public async Task A_guessed_asset_id_is_404(string method, string route)
    {
        foreach (var guess in new[] { Prm.Core.Content.AssetIds.New(DateTimeOffset.UtcNow), "ast_" + new string('f', 32), "not-an-asset" })
        {
            var url = route.Replace("{assetId}", guess, StringComparison.Ordinal).Replace("{version}", "1", StringComparison.Ordinal);
            foreach (var email in new[] { Demo.NorthwindAdmin, Demo.Admin })
            {
                var response = await (await Api.ClientAsync(email)).SendAsync(AssetRequest(method, url));
                await NotFoundOrRoleRefusedAsync(response, $"{email} {method} {url}");
            }
        }
    }

    private static HttpRequestMessage AssetRequest(string method, string url)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), url.Contains("/visibility", StringComparison.Ordinal) ? url + "?partnerId=ptn_0123456789abcdef0123456789abcdef" : url);
        if (method is "POST" or "PATCH" or "PUT")
        {
            request.Content = Responses.Json(new { title = "pwned", reason = "pwned", fileName = "x.pdf", visibility = new { everyone = true } });
            request.Headers.TryAddWithoutValidation("If-Match", StaleETag);
        }
        return request;
    }

    [Fact]
    public async Task A_user_of_another_partner_cannot_be_reached_through_ones_own_partner()
    {
        var ownId = await ApiSteps.PartnerIdAsync(Api, "Fabrikam Solutions");
        var victimId = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var victimUser = await ApiSteps.UserByEmailAsync(await Api.ClientAsync(Demo.Admin), victimId, Demo.NorthwindRep);
        var partnerAdmin = await Api.ClientAsync(Demo.FabrikamAdmin);
        var url = $"partners/{ownId}/users/{victimUser.Str("id")}";
        (await partnerAdmin.GetAsync(url)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await partnerAdmin.SendAsync(Request("PATCH", url))).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await partnerAdmin.DeleteAsync(url)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await (await Api.ClientAsync(Demo.NorthwindRep)).GetAsync("me")).StatusCode.Should().Be(HttpStatusCode.OK, "the victim keeps access");
    }

    private static HttpRequestMessage Request(string method, string url)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method is "POST" or "PATCH" or "PUT")
        {
            request.Content = Responses.Json(new { displayName = "Mallory", email = "mallory@fabrikam.example", role = "PartnerAdmin", name = "Pwned", city = "Nowhere" });
            request.Headers.TryAddWithoutValidation("If-Match", StaleETag);
        }
        return request;
    }
}

/// <summary>Every route of a person's training data (attempts, awards), tried by another partner's people, a colleague and a foreign channel manager: 404 (or the gate's role refusal), never a hint.</summary>
public sealed class TrainingIsolationTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    public static TheoryData<string, string> PersonScopedRoutes()
    {
        var data = new TheoryData<string, string>();
        foreach (var function in FunctionCatalog.HttpFunctions.Where(f => f.Route.Contains("{awardId}", StringComparison.Ordinal) || f.Route.Contains("{attemptId}", StringComparison.Ordinal)))
        {
            foreach (var method in function.Methods) data.Add(method, function.Route);
        }
        return data;
    }

    [Fact]
    public void The_matrix_covers_attempt_and_award_routes() => PersonScopedRoutes().Count.Should().BeGreaterThanOrEqualTo(3);

    [Theory]
    [MemberData(nameof(PersonScopedRoutes))]
    public async Task Another_partners_people_a_colleague_and_a_foreign_channel_manager_get_404(string method, string route)
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var owner = await Api.ClientAsync(Demo.NorthwindAdmin);
        var passed = await Training.CourseAsync(admin, Training.CourseBody("Isolation " + Guid.NewGuid().ToString("N")[..8], questions: 1));
        var definition = await Training.CertificationAsync(admin, "Isolation " + Guid.NewGuid().ToString("N")[..8], [passed]);
        await Training.PassAsync(owner, passed);
        var open = await Training.CourseAsync(admin, Training.CourseBody("Open attempt " + Guid.NewGuid().ToString("N")[..8], questions: 1));
        var attempt = await (await owner.PostAsync($"courses/{open}/attempts", null)).JsonAsync();
        var mine = await Responses.EventuallyAsync(async () => await (await owner.GetAsync("people/me/certifications")).JsonAsync(),
            m => m.GetProperty("awards").EnumerateArray().Any(a => a.Str("definitionId") == definition.Str("id")));
        var awardId = mine.GetProperty("awards").EnumerateArray().First(a => a.Str("definitionId") == definition.Str("id")).Str("id");
        var before = await (await owner.GetAsync("people/me/certifications")).Content.ReadAsStringAsync();
        var url = route.Replace("{awardId}", awardId, StringComparison.Ordinal).Replace("{attemptId}", attempt.Str("id"), StringComparison.Ordinal);
        foreach (var email in new[] { Demo.FabrikamAdmin, Demo.FabrikamRep, Demo.CmAmer, Demo.NorthwindRep })
        {
            var response = await (await Api.ClientAsync(email)).SendAsync(Request(method, url));
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.Forbidden) body.Should().Contain("Your role does not allow this operation.", $"{email} {method} {url}");
            else ((int)response.StatusCode).Should().Be(404, $"{email} {method} {url}: {body}");
            body.Should().NotContain("Anna");
        }
        (await (await owner.GetAsync("people/me/certifications")).Content.ReadAsStringAsync()).Should().Be(before, "nothing was changed");
    }

    [Theory]
    [MemberData(nameof(PersonScopedRoutes))]
    public async Task Guessed_and_tampered_ids_are_404(string method, string route)
    {
        foreach (var guess in new[] { "crt_" + new string('0', 48), "att_" + new string('f', 48), "not-an-id" })
        {
            var url = route.Replace("{awardId}", guess, StringComparison.Ordinal).Replace("{attemptId}", guess, StringComparison.Ordinal);
            foreach (var email in new[] { Demo.NorthwindAdmin, Demo.Admin })
            {
                var response = await (await Api.ClientAsync(email)).SendAsync(Request(method, url));
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode == HttpStatusCode.Forbidden) body.Should().Contain("Your role does not allow this operation.");
                else ((int)response.StatusCode).Should().Be(404, $"{email} {method} {url}: {body}");
            }
        }
    }

    private static HttpRequestMessage Request(string method, string url)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method is "POST" or "PUT") request.Content = Responses.Json(new { reason = "pwned", answers = new[] { new { questionId = "q1", selected = new[] { "a" } } } });
        return request;
    }
}

/// <summary>Lost updates: no PATCH or PUT route accepts "If-Match: *" (one check in the request gate, proven over the whole catalog).</summary>
public sealed class WildcardIfMatchTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task Every_patch_and_put_route_refuses_if_match_star_with_428_and_changes_nothing()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var partnerAdmin = await Api.ClientAsync(Demo.NorthwindAdmin);
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var (before, etag) = await ApiSteps.GetWithETagAsync(admin, $"partners/{partnerId}");
        var routes = FunctionCatalog.HttpFunctions.SelectMany(f => f.Methods.Where(m => m is "PATCH" or "PUT").Select(m => (Function: f, Method: m))).ToList();
        routes.Select(r => r.Function.Name).Should().Contain(["UpdatePartner", "UpdateDeal", "UpdateProductLine", "UpdateHouseAccount"], "the check must see the write routes");
        foreach (var (function, method) in routes)
        {
            var path = function.Route.Replace("{partnerId}", partnerId).Replace("{section}", "deals");
            path = System.Text.RegularExpressions.Regex.Replace(path, "\\{[^}]+\\}", "x1");
            var client = function.Policy == AccessPolicy.PartnerMember ? partnerAdmin : admin;
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = Responses.Json(new { name = "Changed by a wildcard" }) };
            request.Headers.TryAddWithoutValidation("If-Match", "*");
            var response = await client.SendAsync(request);
            ((int)response.StatusCode).Should().Be(428, $"{method} /api/{function.Route} must refuse If-Match: * ({await response.Content.ReadAsStringAsync()})");
        }
        var (after, etagAfter) = await ApiSteps.GetWithETagAsync(admin, $"partners/{partnerId}");
        etagAfter.Should().Be(etag);
        after.GetRawText().Should().Be(before.GetRawText());
    }
}
