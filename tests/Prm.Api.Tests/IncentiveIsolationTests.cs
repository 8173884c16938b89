using System.Net;
using System.Text.Json;
using Prm.Core.Common;
using Prm.Functions.Http;
using Prm.Testing;

namespace Prm.Api.Tests;

/// <summary>A host with Northwind's incentives: a monthly rebate, an accrual in the month before, the month closed, a payout drafted.</summary>
public sealed class IncentiveIsolationFixture : ApiHostFixture
{
    public string PartnerId { get; private set; } = "";
    public string ProgramId { get; private set; } = "";
    public string Period { get; private set; } = "";
    public string PayoutId { get; private set; } = "";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var admin = await Api.ClientAsync(Demo.Admin);
        var cm = await Api.ClientAsync(Demo.CmEmea);
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var month = Incentives.PreviousMonth();
        PartnerId = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        Period = month.Text;
        ProgramId = (await Incentives.ProgramAsync(admin, new
        {
            name = "Isolated rebate", type = "rebate", period = "monthly", currency = "EUR", eligibility = new { regions = new[] { "emea" } },
            rebate = new { slabs = new object[] { new { from = 0, rate = 3 } }, method = "prospective" }, cutoffGraceDays = 40, startsOn = Incentives.Day(month.Start),
        })).Str("id");
        await Incentives.WonDealAsync(Api, sam, cm, 10_000m, "EUR", month.End, "cloud-backup");
        await Incentives.LedgerAsync(cm, PartnerId, ProgramId, Period, l => Incentives.Entries(l, "accrued") == 1);
        (await admin.PostAsync($"incentive-programs/{ProgramId}/periods/{Period}/close", null)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        await Incentives.PeriodAsync(admin, ProgramId, Period, "Closed");
        var draft = await cm.PostJsonAsync($"partners/{PartnerId}/payouts", new { programId = ProgramId, period = Period });
        draft.StatusCode.Should().Be(HttpStatusCode.Created, await draft.Content.ReadAsStringAsync());
        PayoutId = (await draft.JsonAsync()).Str("id");
    }
}

/// <summary>
/// Every incentive route of a partner, with Northwind's real program, period and payout: another partner's people and a channel manager
/// who does not own Northwind get 404 and change nothing; guessed ids are 404 too; program routes are vendor staff's (partner users 403).
/// </summary>
public sealed class IncentiveIsolationTests(IncentiveIsolationFixture fixture) : IClassFixture<IncentiveIsolationFixture>
{
    private ApiHost Api => fixture.Api;

    private static bool IsIncentiveRoute(string route) =>
        route.Contains("incentive", StringComparison.Ordinal) || route.Contains("payout", StringComparison.Ordinal) || route.Contains("tax-form", StringComparison.Ordinal);

    public static TheoryData<string, string> PartnerRoutes()
    {
        var data = new TheoryData<string, string>();
        foreach (var f in FunctionCatalog.HttpFunctions.Where(f => f.Route.StartsWith("partners/{partnerId}", StringComparison.Ordinal) && IsIncentiveRoute(f.Route)))
        {
            foreach (var method in f.Methods) data.Add(method, f.Route);
        }
        return data;
    }

    public static TheoryData<string, string> ProgramRoutes()
    {
        var data = new TheoryData<string, string>();
        foreach (var f in FunctionCatalog.HttpFunctions.Where(f => f.Route.StartsWith("incentive-programs", StringComparison.Ordinal)))
        {
            foreach (var method in f.Methods) data.Add(method, f.Route);
        }
        return data;
    }

    [Fact]
    public void The_matrix_covers_every_incentive_route()
    {
        PartnerRoutes().Count.Should().BeGreaterThanOrEqualTo(12);
        ProgramRoutes().Count.Should().BeGreaterThanOrEqualTo(6);
    }

    private string Url(string route, string? partnerId = null, string? programId = null, string? payoutId = null) => route
        .Replace("{partnerId}", partnerId ?? fixture.PartnerId, StringComparison.Ordinal)
        .Replace("{programId}", programId ?? fixture.ProgramId, StringComparison.Ordinal)
        .Replace("{period}", fixture.Period, StringComparison.Ordinal)
        .Replace("{payoutId}", payoutId ?? fixture.PayoutId, StringComparison.Ordinal);

    private HttpRequestMessage Request(string method, string url)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method is "POST" or "PUT")
        {
            request.Content = Responses.Json(new
            {
                programId = fixture.ProgramId, period = fixture.Period, amount = new { amount = 1, currency = "EUR" }, reason = "pwned", paymentReference = "pwned", onFile = true, formType = "W-9",
            });
        }
        return request;
    }

    /// <summary>What a refused write could change, as an admin reads it: the ledger, the balances, the payouts, the tax form.</summary>
    private async Task<IReadOnlyList<string>> SnapshotAsync()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var parts = new List<string>();
        foreach (var path in new[]
        {
            $"partners/{fixture.PartnerId}/incentives", $"partners/{fixture.PartnerId}/incentives/{fixture.ProgramId}/periods/{fixture.Period}/ledger",
            $"partners/{fixture.PartnerId}/payouts", $"partners/{fixture.PartnerId}/tax-form",
        })
        {
            var response = await admin.GetAsync(path);
            parts.Add($"{path} {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        return parts;
    }

    [Theory]
    [MemberData(nameof(PartnerRoutes))]
    public async Task Another_partners_people_and_a_foreign_channel_manager_get_404_and_change_nothing(string method, string route)
    {
        var before = await SnapshotAsync();
        foreach (var email in new[] { Demo.FabrikamAdmin, Demo.FabrikamRep, Demo.CmAmer })
        {
            var response = await (await Api.ClientAsync(email)).SendAsync(Request(method, Url(route)));
            var body = await response.Content.ReadAsStringAsync();
            ((int)response.StatusCode).Should().Be(404, $"{email} {method} {route}: {body}");
            body.Should().NotContain("Northwind").And.NotContain("Isolated rebate");
        }
        (await SnapshotAsync()).Should().Equal(before);
    }

    [Theory]
    [MemberData(nameof(PartnerRoutes))]
    public async Task The_partners_own_people_read_theirs_and_guessed_ids_are_404(string method, string route)
    {
        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        if (method == "GET" && !route.EndsWith("/recompute", StringComparison.Ordinal)) ((int)(await anna.SendAsync(Request(method, Url(route)))).StatusCode).Should().Be(200, route);
        else ((int)(await anna.SendAsync(Request(method, Url(route)))).StatusCode).Should().Be(403, $"{method} {route}: members read, vendor staff act");
        var admin = await Api.ClientAsync(Demo.Admin);
        foreach (var url in new[] { Url(route, partnerId: Ids.New("ptn")), Url(route, programId: Ids.New("inp")), Url(route, programId: "not-a-program"), Url(route, payoutId: Ids.New("pay")) })
        {
            if (url == Url(route)) continue; // the route has no such parameter
            var response = await admin.SendAsync(Request(method, url));
            ((int)response.StatusCode).Should().Be(404, $"{method} {url}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Theory]
    [MemberData(nameof(ProgramRoutes))]
    public async Task Program_routes_are_vendor_staffs_and_partner_users_are_refused_by_role(string method, string route)
    {
        foreach (var email in new[] { Demo.NorthwindAdmin, Demo.FabrikamRep })
        {
            var response = await (await Api.ClientAsync(email)).SendAsync(Request(method, Url(route)));
            ((int)response.StatusCode).Should().Be(403, $"{email} {method} {route}");
            (await response.Content.ReadAsStringAsync()).Should().Contain("Your role does not allow this operation.");
        }
        var guessed = await (await Api.ClientAsync(Demo.Admin)).SendAsync(Request(method, Url(route, programId: Ids.New("inp"))));
        if (route.Contains("{programId}", StringComparison.Ordinal)) ((int)guessed.StatusCode).Should().BeOneOf([404, 428], $"{method} {route}");
    }
}
