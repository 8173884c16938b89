using System.Net;
using Prm.Functions.Http;
using Prm.Testing;

namespace Prm.Api.Tests;

/// <summary>Edges of the HTTP surface the fuzzer found or the API contract names: cursors, methods, foreign ETags.</summary>
public sealed class HttpEdgeTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    /// <summary>Every route whose operation declares a cursor, with the ids it needs.</summary>
    private async Task<List<(string Route, bool Real)>> ListRoutesAsync()
    {
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var admin = await Api.ClientAsync(Demo.Admin);
        // A record of each kind when the seed has one; otherwise an id of no record (the cursor is checked before the look-up).
        string? FirstId(System.Text.Json.JsonElement list) => list.GetProperty("items").EnumerateArray().Select(i => i.Str("id")).FirstOrDefault();
        var routes = new List<(string, bool)>();
        foreach (var function in FunctionCatalog.HttpFunctions.Where(f => f.Methods.Contains("GET")))
        {
            var info = function.Method.GetCustomAttributes(typeof(Prm.Functions.OpenApi.ApiOperationAttribute), false).OfType<Prm.Functions.OpenApi.ApiOperationAttribute>().FirstOrDefault();
            if (info?.Query?.Contains("cursor") != true) continue;
            var route = function.Route.Replace("{partnerId}", partnerId);
            var real = true;
            foreach (var (parameter, list) in new[] { ("{dealId}", "deals"), ("{requestId}", "mdf/requests"), ("{applicationId}", "partner-applications"), ("{assetId}", "assets"), ("{leadId}", "leads") })
            {
                if (!route.Contains(parameter, StringComparison.Ordinal)) continue;
                var id = FirstId(await (await admin.GetAsync(list)).JsonAsync());
                real &= id is not null;
                route = route.Replace(parameter, id ?? "none");
            }
            // A list whose required filters name what it reads (the facts behind a KPI are kept per partner and metric).
            if (route == "analytics/rows") route += $"?metric=won&from=2026-01-01&to=2026-12-31&partnerId={partnerId}";
            // A route whose id no list here provides is checked for the cursor only.
            routes.Add((route, real && !route.Contains('{', StringComparison.Ordinal)));
        }
        return routes;
    }

    [Fact]
    public async Task A_cursor_the_API_did_not_issue_is_a_400_naming_cursor_on_every_list_route()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var routes = await ListRoutesAsync();
        routes.Should().HaveCountGreaterThan(5);
        foreach (var (route, real) in routes)
        {
            if (real) (await admin.GetAsync(route)).StatusCode.Should().Be(HttpStatusCode.OK, route);
            foreach (var cursor in new[] { "garbage", "AAAA", "bm90IGEgY3Vyc29y", "MXwy" })
            {
                var response = await admin.GetAsync(route + (route.Contains('?', StringComparison.Ordinal) ? "&" : "?") + $"cursor={cursor}");
                var problem = await ApiSteps.ProblemAsync(response, 400);
                problem.Str("field").Should().Be("cursor", $"{route}?cursor={cursor}");
            }
        }
    }

    [Fact]
    public async Task A_cursor_the_API_issued_reads_the_next_page()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var first = await (await admin.GetAsync("partners?limit=1")).JsonAsync();
        var cursor = first.GetProperty("nextCursor").GetString();
        cursor.Should().NotBeNull();
        var second = await admin.GetAsync($"partners?limit=1&cursor={Uri.EscapeDataString(cursor!)}");
        second.StatusCode.Should().Be(HttpStatusCode.OK);
        var next = await second.JsonAsync();
        next.GetProperty("items")[0].Str("id").Should().NotBe(first.GetProperty("items")[0].Str("id"));
    }

    [Fact]
    public async Task A_wrong_method_on_an_existing_route_is_a_405_problem_with_Allow()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var response = await admin.DeleteAsync("partners");
        await ApiSteps.ProblemAsync(response, 405);
        response.Content.Headers.Allow.Should().BeEquivalentTo(["GET", "POST"]);

        var put = await admin.PutAsync("deals", Responses.Json(new { }));
        await ApiSteps.ProblemAsync(put, 405);
        put.Content.Headers.Allow.Should().BeEquivalentTo(["GET", "POST"]);

        var unknown = await admin.DeleteAsync("no-such-route");
        await ApiSteps.ProblemAsync(unknown, 404);

        // Headers that an operation would refuse do not turn a missing route into something else (the fuzzer found a 428 here).
        using var patch = new HttpRequestMessage(HttpMethod.Patch, "no-such-route") { Content = Responses.Json(new { }) };
        patch.Headers.TryAddWithoutValidation("If-Match", "*");
        await ApiSteps.ProblemAsync(await admin.SendAsync(patch), 404);
        using var wrongMethod = new HttpRequestMessage(HttpMethod.Patch, "deals") { Content = Responses.Json(new { }) };
        wrongMethod.Headers.TryAddWithoutValidation("If-Match", "*");
        await ApiSteps.ProblemAsync(await admin.SendAsync(wrongMethod), 405);
    }

    [Fact]
    public async Task An_If_Match_that_is_no_ETag_of_the_API_is_a_412_not_a_500()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var lines = await (await admin.GetAsync("product-lines")).JsonAsync();
        var line = (lines.ValueKind == System.Text.Json.JsonValueKind.Array ? lines : lines.GetProperty("items")).EnumerateArray().First();
        var request = new HttpRequestMessage(HttpMethod.Put, $"product-lines/{line.Str("id")}")
        {
            Content = Responses.Json(new { id = line.Str("id"), name = line.Str("name"), active = true }),
        };
        request.Headers.TryAddWithoutValidation("If-Match", "\"x\"");
        var response = await admin.SendAsync(request);
        await ApiSteps.ProblemAsync(response, 412);
    }
}
