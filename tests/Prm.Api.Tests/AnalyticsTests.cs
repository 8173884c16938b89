using System.Net;
using System.Text.Json;
using Prm.Testing;

namespace Prm.Api.Tests;

/// <summary>Channel KPIs end to end on the local host: deals and leads move the counters, drill-down, CSV, isolation, bad input, rebuild.</summary>
public sealed class AnalyticsTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    /// <summary>Yesterday to tomorrow (UTC, the test host's program time zone): today's facts whatever the hour.</summary>
    private static string Range => $"from={Day(-1)}&to={Day(1)}";

    private static string Day(int offset) => DateTime.UtcNow.AddDays(offset).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    private static JsonElement Metrics(JsonElement table) => table.GetProperty("rows").EnumerateArray().Single().GetProperty("metrics");

    private static async Task<JsonElement> TableAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    private async Task<string> ApprovedDealAsync(HttpClient partner, string company, decimal amount)
    {
        var domain = Leads.Unique("kpi") + ".example";
        var deal = await Deals.RegisterAsync(partner, Deals.Body(company + " " + domain[..12], domain, amount));
        var id = deal.Str("id");
        if (deal.Str("status") != "Approved")
        {
            var admin = await Api.ClientAsync(Demo.Admin);
            var decided = await admin.PostJsonAsync($"deals/{id}/decision", new { decision = "approve" });
            decided.StatusCode.Should().Be(HttpStatusCode.OK, await decided.Content.ReadAsStringAsync());
        }
        return id;
    }

    [Fact]
    public async Task Deals_move_the_partners_kpis_and_the_drill_down_returns_exactly_the_registrations_behind_a_number()
    {
        var (partnerId, boss) = await Deals.PartnerAsync(Api, "Kpi Partner " + Guid.NewGuid().ToString("N")[..6], Leads.Unique("kpi-partner") + ".example");
        var first = await ApprovedDealAsync(boss, "Kpi Customer A", 20_000m);
        var second = await ApprovedDealAsync(boss, "Kpi Customer B", 15_000m);
        var won = await boss.PostJsonAsync($"deals/{first}/outcome", new { result = "won", amount = new { amount = 30_000m, currency = "EUR" }, closeDate = Day(0) });
        won.StatusCode.Should().Be(HttpStatusCode.OK, await won.Content.ReadAsStringAsync());

        var url = $"analytics/partners/{partnerId}?{Range}";
        var table = await Responses.EventuallyAsync(() => TableAsync(boss, url), t => Metrics(t).GetProperty("won").GetInt64() == 1);
        var m = Metrics(table);
        m.GetProperty("registrationsSubmitted").GetInt64().Should().Be(2);
        m.GetProperty("registrationsApproved").GetInt64().Should().Be(2);
        m.GetProperty("approvalRate").GetDouble().Should().Be(1);
        m.GetProperty("wonRevenue").GetProperty("EUR").GetDecimal().Should().Be(30_000m);
        m.GetProperty("pipeline").GetProperty("EUR").GetDecimal().Should().Be(15_000m, "the won registration left the pipeline, the other is still protected");
        m.GetProperty("winRate").GetDouble().Should().Be(1);
        table.GetProperty("rows")[0].Str("group").Should().Be(partnerId);
        // The activation funnel: created active today, first registration today.
        m.GetProperty("partnersOnboarded").GetInt64().Should().Be(1);
        m.GetProperty("partnersActivated").GetInt64().Should().Be(1);
        m.GetProperty("partnersFirstDeal").GetInt64().Should().Be(1);
        m.GetProperty("medianActivationToFirstDealHours").GetDouble().Should().Be(1, "the first registration came within the hour");

        var approved = await TableAsync(boss, $"analytics/rows?metric=registrationsApproved&partnerId={partnerId}&{Range}");
        approved.GetProperty("items").EnumerateArray().Select(r => r.Str("record")).Should().BeEquivalentTo($"deals/{first}", $"deals/{second}");
        var wonRows = await TableAsync(boss, $"analytics/rows?metric=won&partnerId={partnerId}&{Range}");
        wonRows.GetProperty("items").EnumerateArray().Should().ContainSingle().Which.GetProperty("amount").GetDecimal().Should().Be(30_000m);
        wonRows.GetProperty("items")[0].Str("record").Should().Be($"deals/{first}");
    }

    [Fact]
    public async Task An_accepted_and_converted_lead_moves_the_lead_kpis_of_the_partner_it_was_offered_to()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var northwind = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var url = $"analytics/partners/{northwind}?{Range}";
        var before = Metrics(await TableAsync(admin, url));
        long Count(JsonElement metrics, string name) => metrics.GetProperty(name).GetInt64();

        var domain = Leads.Unique("kpi-lead") + ".example";
        var created = await Leads.CreateAsync(admin, Leads.Body("Kpi Lead Co " + domain[..14], domain, "chris@" + domain));
        created.Str("offeredTo").Should().Be(northwind);
        var leadId = created.GetProperty("lead").Str("id");
        var rep = await Api.ClientAsync(Demo.NorthwindRep);
        (await rep.PostAsync($"leads/{leadId}/accept", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await rep.PostJsonAsync($"leads/{leadId}/convert", new { })).StatusCode.Should().Be(HttpStatusCode.Created);

        var after = Metrics(await Responses.EventuallyAsync(() => TableAsync(admin, url),
            t => Count(Metrics(t), "leadsConverted") == Count(before, "leadsConverted") + 1 && Count(Metrics(t), "leadsAccepted") == Count(before, "leadsAccepted") + 1));
        Count(after, "leadsOffered").Should().Be(Count(before, "leadsOffered") + 1);
        after.GetProperty("medianAcceptHours").GetDouble().Should().BeGreaterThan(0);
        var rows = await TableAsync(admin, $"analytics/rows?metric=leadsConverted&partnerId={northwind}&{Range}&limit=200");
        rows.GetProperty("items").EnumerateArray().Where(r => r.Str("record") == $"leads/{leadId}").Should().ContainSingle();
    }

    [Fact]
    public async Task The_program_table_groups_by_tier_and_comes_as_csv_too()
    {
        var (partnerId, boss) = await Deals.PartnerAsync(Api, "Kpi Csv " + Guid.NewGuid().ToString("N")[..6], Leads.Unique("kpi-csv") + ".example", tier: "silver");
        await ApprovedDealAsync(boss, "Kpi Csv Customer", 12_000m);
        var admin = await Api.ClientAsync(Demo.Admin);
        await Responses.EventuallyAsync(() => TableAsync(admin, $"analytics/partners/{partnerId}?{Range}"), t => Metrics(t).GetProperty("registrationsApproved").GetInt64() == 1);

        var byTier = await TableAsync(admin, $"analytics/program?{Range}&groupBy=tier");
        byTier.Str("groupBy").Should().Be("tier");
        var silver = byTier.GetProperty("rows").EnumerateArray().Single(r => r.Str("group") == "silver").GetProperty("metrics");
        silver.GetProperty("partners").GetInt32().Should().BeGreaterThanOrEqualTo(1);
        silver.GetProperty("registrationsApproved").GetInt64().Should().BeGreaterThanOrEqualTo(1);

        var request = new HttpRequestMessage(HttpMethod.Get, $"analytics/program?{Range}&groupBy=partner&period=day");
        request.Headers.TryAddWithoutValidation("Accept", "text/csv");
        var csv = await admin.SendAsync(request);
        csv.StatusCode.Should().Be(HttpStatusCode.OK);
        csv.Content.Headers.ContentType!.MediaType.Should().Be("text/csv");
        var lines = (await csv.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        lines[0].Should().StartWith("period,from,to,group,groupName,partners,registrationsSubmitted,registrationsApproved");
        lines.Should().Contain(l => l.StartsWith(Day(0) + "," + Day(0) + "," + Day(0) + "," + partnerId + ",", StringComparison.Ordinal) && l.Contains(",1,1,0,1,", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Channel_managers_see_only_their_partners_and_partner_users_only_their_own_numbers()
    {
        var (partnerId, boss) = await Deals.PartnerAsync(Api, "Kpi Isolated " + Guid.NewGuid().ToString("N")[..6], Leads.Unique("kpi-iso") + ".example");
        var cm = await Api.ClientAsync(Demo.CmAmer);
        var program = await TableAsync(cm, $"analytics/program?{Range}");
        program.GetProperty("rows").EnumerateArray().Select(r => r.Str("group")).Should().NotContain(partnerId, "a channel manager sees only the partners they own");
        program.GetProperty("rows").GetArrayLength().Should().BeGreaterThan(0);
        (await cm.GetAsync($"analytics/partners/{partnerId}?{Range}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await cm.GetAsync($"analytics/rows?metric=won&partnerId={partnerId}&{Range}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        var fabrikam = await Api.ClientAsync(Demo.FabrikamAdmin);
        (await fabrikam.GetAsync($"analytics/partners/{partnerId}?{Range}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await fabrikam.GetAsync($"analytics/rows?metric=won&partnerId={partnerId}&{Range}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await fabrikam.GetAsync($"analytics/program?{Range}")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await boss.GetAsync($"analytics/partners/{partnerId}?{Range}")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await boss.PostAsync("analytics/rebuild", null)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await cm.PostAsync("analytics/rebuild", null)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("analytics/program?from=2026-01-01&to=2026-03-31&groupBy=country", "groupBy")]
    [InlineData("analytics/program?from=2026-01-01&to=2026-03-31&period=week", "period")]
    [InlineData("analytics/program?from=2026-04-01&to=2026-03-31", "to")]
    [InlineData("analytics/program?to=2026-03-31", "from")]
    [InlineData("analytics/rows?metric=wonn&from=2026-01-01&to=2026-03-31&partnerId={northwind}", "metric")]
    [InlineData("analytics/rows?metric=won&from=2026-01-01&to=2026-03-31", "partnerId")]
    public async Task Bad_input_is_a_problem_naming_the_field(string url, string field)
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var northwind = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var problem = await ApiSteps.ProblemAsync(await admin.GetAsync(url.Replace("{northwind}", northwind, StringComparison.Ordinal)), 400);
        problem.GetProperty("errors").TryGetProperty(field, out _).Should().BeTrue(problem.GetRawText());
    }

    [Fact]
    public async Task The_rebuild_from_the_records_equals_the_live_counters()
    {
        var (partnerId, boss) = await Deals.PartnerAsync(Api, "Kpi Rebuild " + Guid.NewGuid().ToString("N")[..6], Leads.Unique("kpi-rebuild") + ".example");
        var deal = await ApprovedDealAsync(boss, "Kpi Rebuild Customer", 18_000m);
        (await boss.PostJsonAsync($"deals/{deal}/outcome", new { result = "lost", reason = "budget cut" })).StatusCode.Should().Be(HttpStatusCode.OK);
        var admin = await Api.ClientAsync(Demo.Admin);
        await Responses.EventuallyAsync(() => TableAsync(admin, $"analytics/partners/{partnerId}?{Range}"), t => Metrics(t).GetProperty("lost").GetInt64() == 1);
        var url = $"analytics/program?from={Day(-400)}&to={Day(1)}&groupBy=partner&period=month";
        var live = (await TableAsync(admin, url)).GetRawText();

        async Task<(int Records, int Corrected)> RebuildAsync()
        {
            int records = 0, corrected = 0;
            string? cursor = null;
            do
            {
                var response = await admin.PostAsync("analytics/rebuild?limit=5" + (cursor is null ? "" : "&cursor=" + cursor), null);
                response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
                var report = await response.JsonAsync();
                records += report.GetProperty("records").GetInt32();
                corrected += report.GetProperty("bucketsCorrected").GetInt32();
                cursor = report.GetProperty("nextCursor").ValueKind == JsonValueKind.Null ? null : report.Str("nextCursor");
            }
            while (cursor is not null);
            return (records, corrected);
        }

        var (records, corrected) = await RebuildAsync();
        records.Should().BeGreaterThan(0);
        corrected.Should().Be(0, "the buckets kept on write equal the sum of the records' facts");
        (await TableAsync(admin, url)).GetRawText().Should().Be(live);
    }
}
