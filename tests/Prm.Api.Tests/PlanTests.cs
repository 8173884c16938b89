using System.Globalization;
using System.Net;
using System.Text.Json;
using Prm.Core.Common;
using Prm.Core.Mdf;
using Prm.Functions.Http;
using Prm.Testing;

namespace Prm.Api.Tests;

/// <summary>
/// A host whose fiscal year starts so that today lies in the second month of a fiscal quarter (a third to two thirds of it elapsed:
/// the on-track verdicts below hold whatever day the suite runs), and whose quarterly review is due at once (a lead of 92 days).
/// </summary>
public sealed class PlanFixture : ApiHostFixture
{
    public static readonly int FirstMonth = (DateTime.UtcNow.Month + 12 - 2) % 12 + 1;

    public static FiscalCalendar Fiscal { get; } = new(FirstMonth);

    public static DateOnly Today => DateOnly.FromDateTime(DateTime.UtcNow);

    public static int CurrentYear => Fiscal.Containing(Today, FiscalPeriodKind.Year).Year;

    public static int CurrentQuarter => Fiscal.Containing(Today, FiscalPeriodKind.Quarter).Quarter;

    public override async Task InitializeAsync() => Api = await ApiHost.StartAsync(new Dictionary<string, string?>
    {
        ["Mdf:FiscalYearFirstMonth"] = FirstMonth.ToString(CultureInfo.InvariantCulture),
        ["Plans:ReviewLead"] = "92.00:00:00",
    });
}

/// <summary>Joint business plans end to end: the lifecycle, versions, actuals from won deals, the review email, bad input and isolation.</summary>
public sealed class PlanTests(PlanFixture fixture) : IClassFixture<PlanFixture>
{
    private ApiHost Api => fixture.Api;

    private static object Objective(string kind, decimal[] targets, int weight = 50, string? name = null, string? currency = null) =>
        new { kind, name, targets, weight, currency };

    /// <summary>Targets with <paramref name="value"/> in the current quarter and 0 elsewhere.</summary>
    private static decimal[] ThisQuarter(decimal value) => Enumerable.Range(1, 4).Select(q => q == PlanFixture.CurrentQuarter ? value : 0m).ToArray();

    private static async Task<(JsonElement Plan, string ETag)> CreateAsync(HttpClient cm, string partnerId, int year, params object[] objectives)
    {
        var response = await cm.PostJsonAsync("plans", new
        {
            partnerId,
            fiscalYear = year,
            title = $"FY{year} plan",
            objectives,
            initiatives = new[] { new { title = "Joint webinar", owner = "Anna", dueDate = Incentives.Day(PlanFixture.Today.AddDays(30)), status = "open" } },
        });
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.JsonAsync(), response.Headers.ETag!.ToString());
    }

    private static async Task<(JsonElement Body, string ETag)> PostAsync(HttpClient client, string url, object? body = null, string? ifMatch = null, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = Responses.Json(body ?? new { }) };
        if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        var response = await client.SendAsync(request);
        response.StatusCode.Should().Be(expected, await response.Content.ReadAsStringAsync());
        return (await response.JsonAsync(), response.Headers.ETag?.ToString() ?? "");
    }

    private static async Task<HttpResponseMessage> PatchAsync(HttpClient client, string url, object body, string ifMatch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, url) { Content = Responses.Json(body) };
        request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task A_plan_is_proposed_accepted_and_locked_and_an_edit_makes_a_new_version_that_needs_acceptance_again()
    {
        var cm = await Api.ClientAsync(Demo.CmEmea);
        var partnerAdmin = await Api.ClientAsync(Demo.NorthwindAdmin);
        var rep = await Api.ClientAsync(Demo.NorthwindRep);
        var northwind = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var year = PlanFixture.CurrentYear + 1;
        var (plan, etag) = await CreateAsync(cm, northwind, year, Objective("wonDeals", [2, 3, 3, 4]), Objective("custom", [1, 1, 1, 1], name: "Case studies published"));
        var id = plan.Str("id");
        plan.Str("status").Should().Be("Draft");

        (await rep.GetAsync($"plans/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound, "a Draft is the vendor's");
        (await (await rep.GetAsync($"plans?fiscalYear={year}")).JsonAsync()).GetProperty("items").GetArrayLength().Should().Be(0);

        (plan, etag) = await PostAsync(cm, $"plans/{id}/propose", ifMatch: etag);
        plan.Str("status").Should().Be("Proposed");
        (await Mailbox.MessageAsync(Api, Demo.NorthwindAdmin, $"Joint business plan proposed: Northwind Traders FY{year}")).Should().NotBeNull();
        (plan, etag) = await PostAsync(rep, $"plans/{id}/comments", new { text = "Can we lower Q1 to 1?" });
        plan.GetProperty("comments").EnumerateArray().Single().Str("text").Should().Be("Can we lower Q1 to 1?");

        // The partner admins' home asks them to accept it; a sales rep (who may not accept) is not asked.
        static async Task<List<JsonElement>> PlanItemsAsync(HttpClient client, string planId) =>
            (await (await client.GetAsync("portal/home")).JsonAsync()).GetProperty("inbox").EnumerateArray()
                .Where(i => i.Str("kind") == "planAwaitingAcceptance" && i.Str("link") == "/api/plans/" + planId).ToList();
        (await PlanItemsAsync(partnerAdmin, id)).Should().ContainSingle().Which.Str("title").Should().Contain($"FY{year}").And.Contain("version 1");
        (await PlanItemsAsync(rep, id)).Should().BeEmpty();

        await ApiSteps.ProblemAsync(await rep.PostAsync($"plans/{id}/accept", Responses.Json(new { })), 428);
        await PostAsync(rep, $"plans/{id}/accept", ifMatch: etag, expected: HttpStatusCode.Forbidden);
        (plan, etag) = await PostAsync(partnerAdmin, $"plans/{id}/accept", ifMatch: etag);
        plan.Should().Match<JsonElement>(p => p.Str("status") == "Accepted" && p.GetProperty("acceptedVersion").GetInt32() == 1, "its year has not begun");
        (await PlanItemsAsync(partnerAdmin, id)).Should().BeEmpty("an accepted plan asks nothing more");

        // Locked: an edit of the objectives is 409 naming them; the way is a new version.
        var objectives = plan.GetProperty("objectives").EnumerateArray().ToList();
        var changed = new[]
        {
            new { id = objectives[0].Str("id"), kind = "wonDeals", name = (string?)null, targets = new decimal[] { 1, 3, 3, 4 }, weight = 50 },
            new { id = objectives[1].Str("id"), kind = "custom", name = (string?)"Case studies published", targets = new decimal[] { 1, 1, 1, 1 }, weight = 50 },
        };
        var locked = await ApiSteps.ProblemAsync(await PatchAsync(cm, $"plans/{id}", new { objectives = changed }, etag), 409);
        locked.Str("field").Should().Be("objectives");
        locked.Str("detail").Should().Contain($"/api/plans/{id}/versions");

        (plan, etag) = await PostAsync(cm, $"plans/{id}/versions", new { objectives = changed, reason = "As the partner asked" }, etag);
        plan.Should().Match<JsonElement>(p => p.Str("status") == "Proposed" && p.GetProperty("version").GetInt32() == 2 && p.GetProperty("acceptedVersion").GetInt32() == 1);
        var versions = (await (await partnerAdmin.GetAsync($"plans/{id}/versions")).JsonAsync()).GetProperty("items").EnumerateArray().ToList();
        versions.Should().HaveCount(2);
        versions[1].GetProperty("changes").EnumerateArray().Select(c => (c.Str("field"), c.Str("before"), c.Str("after")))
            .Should().Equal(($"objectives.{objectives[0].Str("id")}.targets.q1", "2", "1"));
        versions[1].Str("reason").Should().Be("As the partner asked");

        (plan, _) = await PostAsync(partnerAdmin, $"plans/{id}/accept", ifMatch: etag);
        plan.Should().Match<JsonElement>(p => p.Str("status") == "Accepted" && p.GetProperty("acceptedVersion").GetInt32() == 2);
    }

    [Fact]
    public async Task Actuals_follow_the_won_deals_and_the_review_email_lists_the_off_track_objectives()
    {
        var cm = await Api.ClientAsync(Demo.CmEmea);
        var rep = await Api.ClientAsync(Demo.NorthwindRep);
        var partnerAdmin = await Api.ClientAsync(Demo.NorthwindAdmin);
        var northwind = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var year = PlanFixture.CurrentYear;
        var q = PlanFixture.CurrentQuarter;
        var (plan, _) = await CreateAsync(cm, northwind, year,
            Objective("revenue", ThisQuarter(10_000m), 60, currency: "EUR"),
            Objective("wonDeals", ThisQuarter(1_000m), 30),
            Objective("custom", ThisQuarter(3m), 10, name: "Case studies published"));
        var id = plan.Str("id");

        await Incentives.WonDealAsync(Api, rep, cm, 12_000m, "EUR", PlanFixture.Today, "cloud-backup");
        var view = await Responses.EventuallyAsync(async () => await (await cm.GetAsync($"plans/{id}")).JsonAsync(),
            v => Quarter(v, 0, q).GetProperty("actual").GetDecimal() == 12_000m, TimeSpan.FromSeconds(120));
        Quarter(view, 0, q).Str("status").Should().Be("onTrack", "12,000 of 10,000 is ahead of any share of the quarter");
        Quarter(view, 1, q).GetProperty("actual").GetDecimal().Should().Be(1m);
        Quarter(view, 1, q).Str("status").Should().Be("offTrack", "1 of 1,000 deals, a third of the quarter gone");
        Quarter(view, 0, q == 4 ? 1 : q + 1).Str("status").Should().Be(q == 4 ? "onTrack" : "notStarted");

        var (_, etag) = await PostAsync(cm, $"plans/{id}/propose");
        (plan, _) = await PostAsync(partnerAdmin, $"plans/{id}/accept", ifMatch: etag);
        plan.Str("status").Should().Be("Active", "its fiscal year has begun");

        var subject = $"Quarterly review due: Northwind Traders FY{year} Q{q}";
        foreach (var to in new[] { Demo.CmEmea, Demo.NorthwindAdmin })
        {
            var mail = await Mailbox.MessageAsync(Api, to, subject);
            var text = mail.Str("text");
            text.Should().Contain("- Won deals (wonDeals): 1 of 1,000").And.Contain("- Case studies published (custom): 0 of 3")
                .And.NotContain("Won revenue (revenue)", "only the off-track objectives are the agenda");
        }

        // The plan's workflow waits for the quarter's reminder; operators see it under the plan.
        var admin = await Api.ClientAsync(Demo.Admin);
        var ops = await Responses.EventuallyAsync(async () => await (await admin.GetAsync($"ops/workflows?subject=plans/{id}")).JsonAsync(),
            w => w.GetProperty("workflows")[0].Str("runtimeStatus") == "Running", TimeSpan.FromSeconds(180));
        ops.GetProperty("workflows").EnumerateArray().Single().Should().Match<JsonElement>(w => w.Str("kind") == "plan" && w.Str("instanceId") == "plan-" + id);

        // A custom objective's actual is recorded with evidence; the others come from the records only.
        var custom = view.GetProperty("progress")[2].Str("objectiveId");
        var wonDeals = view.GetProperty("progress")[1].Str("objectiveId");
        (await ApiSteps.ProblemAsync(await cm.PostJsonAsync($"plans/{id}/values", new { objectiveId = wonDeals, quarter = q, value = 999, evidence = "typed in" }), 422))
            .GetProperty("errors").TryGetProperty("objectiveId", out _).Should().BeTrue();
        await PostAsync(cm, $"plans/{id}/values", new { objectiveId = custom, quarter = q, value = 3, evidence = "https://northwind.example/customers" });
        var after = await (await partnerAdmin.GetAsync($"plans/{id}")).JsonAsync();
        Quarter(after, 2, q).Should().Match<JsonElement>(x => x.GetProperty("actual").GetDecimal() == 3m && x.Str("status") == "onTrack");
        Quarter(after, 1, q).GetProperty("actual").GetDecimal().Should().Be(1m);

        (plan, _) = await PostAsync(cm, $"plans/{id}/reviews", new { quarter = q, notes = "Deal count far behind", decisions = new[] { "Two more webinars" } });
        plan.GetProperty("reviews").EnumerateArray().Single().GetProperty("decisions").EnumerateArray().Single().GetString().Should().Be("Two more webinars");
    }

    [Fact]
    public async Task The_plans_settings_are_ranged()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var current = await admin.GetAsync("settings/plans");
        current.StatusCode.Should().Be(HttpStatusCode.OK, await current.Content.ReadAsStringAsync());
        using var request = new HttpRequestMessage(HttpMethod.Put, "settings/plans") { Content = Responses.Json(new { reviewLead = "P100D", reviewReminderAfter = "P7D" }) };
        request.Headers.TryAddWithoutValidation("If-Match", current.Headers.ETag!.ToString());
        (await ApiSteps.ProblemAsync(await admin.SendAsync(request), 422)).GetProperty("errors").TryGetProperty("reviewLead", out _).Should().BeTrue();
    }

    private static JsonElement Quarter(JsonElement view, int objective, int quarter) =>
        view.GetProperty("progress")[objective].GetProperty("quarters")[quarter - 1];

    [Fact]
    public async Task Bad_input_gets_a_problem_naming_the_field()
    {
        var cm = await Api.ClientAsync(Demo.CmAmer);
        var fabrikam = await ApiSteps.PartnerIdAsync(Api, "Fabrikam Solutions");
        var year = PlanFixture.CurrentYear + 2;
        object Body(object objective, object? initiative = null) => new { partnerId = fabrikam, fiscalYear = year, objectives = new[] { objective }, initiatives = initiative is null ? Array.Empty<object>() : [initiative] };

        (await ApiSteps.ProblemAsync(await cm.PostJsonAsync("plans", Body(Objective("profit", [1, 1, 1, 1]))), 400)).GetProperty("errors").TryGetProperty("objectives[0].kind", out _).Should().BeTrue();
        (await ApiSteps.ProblemAsync(await cm.PostJsonAsync("plans", Body(Objective("wonDeals", [1, -1, 1, 1]))), 422)).GetProperty("errors").TryGetProperty("objectives[0].targets[1]", out _).Should().BeTrue();
        (await ApiSteps.ProblemAsync(await cm.PostJsonAsync("plans", Body(Objective("wonDeals", [1, 1, 1, 1], weight: 101))), 422)).GetProperty("errors").TryGetProperty("objectives[0].weight", out _).Should().BeTrue();
        var noSuchRequest = new { title = "Event", owner = "Rita", dueDate = Incentives.Day(PlanFixture.Today), mdfRequestId = Ids.New("mdr") };
        (await ApiSteps.ProblemAsync(await cm.PostJsonAsync("plans", Body(Objective("wonDeals", [1, 1, 1, 1]), noSuchRequest)), 422)).GetProperty("errors").TryGetProperty("initiatives[0].mdfRequestId", out _).Should().BeTrue();
        (await ApiSteps.ProblemAsync(await cm.PostJsonAsync("plans", new { partnerId = fabrikam, fiscalYear = PlanFixture.CurrentYear - 1, objectives = new[] { Objective("wonDeals", [1, 1, 1, 1]) } }), 422))
            .GetProperty("errors").TryGetProperty("fiscalYear", out _).Should().BeTrue();

        var created = await cm.PostJsonAsync("plans", Body(Objective("wonDeals", [1, 1, 1, 1])));
        created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        (await ApiSteps.ProblemAsync(await cm.PostJsonAsync("plans", Body(Objective("wonDeals", [1, 1, 1, 1]))), 409)).Str("field").Should().Be("fiscalYear");
        // Another channel manager's partner: no such partner for them.
        (await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.CmEmea)).PostJsonAsync("plans", Body(Objective("wonDeals", [1, 1, 1, 1]))), 422)).GetProperty("errors").TryGetProperty("partnerId", out _).Should().BeTrue();
    }

    public static TheoryData<string, string> PlanRoutes()
    {
        var data = new TheoryData<string, string>();
        foreach (var f in FunctionCatalog.HttpFunctions.Where(f => f.Route.StartsWith("plans/{planId}", StringComparison.Ordinal)))
        {
            foreach (var method in f.Methods) data.Add(method, f.Route);
        }
        return data;
    }

    [Fact]
    public void The_isolation_matrix_covers_every_plan_route() => PlanRoutes().Count.Should().BeGreaterThanOrEqualTo(10);

    /// <summary>The isolation matrix of plans: another partner's people, a channel manager who does not own the partner and a guessed id all get 404, and nothing changes.</summary>
    [Theory]
    [MemberData(nameof(PlanRoutes))]
    public async Task Another_partners_people_a_foreign_channel_manager_and_a_guessed_id_get_404(string method, string route)
    {
        var cm = await Api.ClientAsync(Demo.CmEmea);
        var northwind = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var id = await IsolatedPlanAsync(cm, northwind);
        var before = await (await cm.GetAsync($"plans/{id}")).Content.ReadAsStringAsync();
        foreach (var (email, planId) in new[] { (Demo.FabrikamAdmin, id), (Demo.FabrikamRep, id), (Demo.CmAmer, id), (Demo.NorthwindAdmin, "jbp_" + northwind[4..] + "00000000"), (Demo.Admin, "not-a-plan") })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), route.Replace("{planId}", planId, StringComparison.Ordinal));
            if (method is "POST" or "PATCH")
            {
                request.Content = Responses.Json(new { text = "pwned", quarter = 1, notes = "pwned", objectives = Array.Empty<object>() });
                request.Headers.TryAddWithoutValidation("If-Match", "W/\"datetime'2026-01-01T00%3A00%3A00.0000000Z'\"");
            }
            var response = await (await Api.ClientAsync(email)).SendAsync(request);
            ((int)response.StatusCode).Should().Be(404, $"{email} {method} {route}: {await response.Content.ReadAsStringAsync()}");
            (await response.Content.ReadAsStringAsync()).Should().NotContain("Isolated");
        }
        (await (await cm.GetAsync($"plans/{id}")).Content.ReadAsStringAsync()).Should().Be(before, "nothing was changed");
        (await (await Api.ClientAsync(Demo.FabrikamAdmin)).GetAsync($"plans?partnerId={northwind}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    private static readonly SemaphoreSlim IsolatedGate = new(1, 1);
    private static string? isolatedPlanId;

    /// <summary>One proposed plan of Northwind (fiscal year + 3) that the isolation cases share.</summary>
    private async Task<string> IsolatedPlanAsync(HttpClient cm, string northwind)
    {
        await IsolatedGate.WaitAsync();
        try
        {
            if (isolatedPlanId is not null && (await cm.GetAsync($"plans/{isolatedPlanId}")).StatusCode == HttpStatusCode.OK) return isolatedPlanId;
            var (plan, _) = await CreateAsync(cm, northwind, PlanFixture.CurrentYear + 3, Objective("leadsAccepted", [5, 5, 5, 5], name: "Isolated objective"));
            await PostAsync(cm, $"plans/{plan.Str("id")}/propose");
            return isolatedPlanId = plan.Str("id");
        }
        finally
        {
            IsolatedGate.Release();
        }
    }
}
