using System.Net;
using System.Text.Json;
using Prm.Testing;

namespace Prm.Api.Tests;

internal static class Tiers
{
    /// <summary>
    /// A small program for the tests: silver needs 30,000 won and one approved registration (auto-approval up to 60,000); gold needs a
    /// certified sales person and a signed business plan.
    /// </summary>
    public static object Program(int graceDays = 9, int[]? warnings = null) => new
    {
        tiers = new object[]
        {
            new { tier = "registered", benefits = new { text = "Start", mdfSharePercent = 0, dealAutoApprovalLimit = 25_000m, discountPercent = 0 } },
            new { tier = "silver", criteria = new { wonDealValue = 30_000m, approvedRegistrations = 1 }, benefits = new { text = "More", mdfSharePercent = 2, dealAutoApprovalLimit = 60_000m, discountPercent = 10 } },
            new
            {
                tier = "gold",
                criteria = new { certifiedPeople = new[] { new { track = "sales", level = "associate", people = 1 } }, manual = new[] { new { key = "businessPlan", title = "Business plan signed" } } },
                benefits = new { text = "Most", mdfSharePercent = 4, dealAutoApprovalLimit = 50_000m, discountPercent = 20 },
            },
        },
        graceDays,
        warningDaysBefore = warnings ?? [6, 3],
    };

    public static async Task SaveProgramAsync(ApiHost api, object program)
    {
        var admin = await api.ClientAsync(Demo.Admin);
        var (_, etag) = await ApiSteps.GetWithETagAsync(admin, "settings/tiers");
        var request = new HttpRequestMessage(HttpMethod.Put, "settings/tiers") { Content = Responses.Json(program) };
        request.Headers.TryAddWithoutValidation("If-Match", etag);
        var saved = await admin.SendAsync(request);
        saved.StatusCode.Should().Be(HttpStatusCode.OK, await saved.Content.ReadAsStringAsync());
    }

    public static async Task<JsonElement> TierAsync(HttpClient client, string partnerId) => await (await client.GetAsync($"partners/{partnerId}/tier")).JsonAsync();

    public static Task<JsonElement> UntilAsync(HttpClient client, string partnerId, Func<JsonElement, bool> done, TimeSpan? timeout = null) =>
        Responses.EventuallyAsync(() => TierAsync(client, partnerId), done, timeout ?? TimeSpan.FromSeconds(180));

    public static async Task<string> DealAsync(HttpClient client, decimal amount, string status, string currency = "EUR")
    {
        var deal = await Deals.RegisterAsync(client, Deals.Body("Tier Customer " + Guid.NewGuid().ToString("N")[..8], $"tier-{Guid.NewGuid():N}.example", amount, currency));
        deal.Str("status").Should().Be(status, $"a {amount} {currency} registration");
        return deal.Str("id");
    }

    public static async Task WinAsync(HttpClient client, string dealId, decimal amount, string currency = "EUR")
    {
        var won = await client.PostJsonAsync($"deals/{dealId}/outcome", new { result = "won", amount = new { amount, currency }, closeDate = DateTime.UtcNow.ToString("yyyy-MM-dd") });
        won.StatusCode.Should().Be(HttpStatusCode.OK, await won.Content.ReadAsStringAsync());
    }

    public static async Task PatchTierAsync(ApiHost api, string partnerId, string tier)
    {
        var admin = await api.ClientAsync(Demo.Admin);
        var (_, etag) = await ApiSteps.GetWithETagAsync(admin, $"partners/{partnerId}");
        (await admin.SendAsync(ApiSteps.Patch($"partners/{partnerId}", new { tier }, etag))).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}

/// <summary>
/// A host whose tier day lasts 10 seconds: the test program's 9-day grace passes in 90 s, its warnings come 6 and 3 days (60 and 30 s)
/// before. A warning step that runs after the downgrade date downgrades instead of warning (a workflow started after the date has
/// nothing left to warn about), so the grace must outlast the slowest start of the workflow: a 1 s day was too short for a loaded
/// machine, and a 3 s day too (a double run with a third suite beside it, load average 40, started it more than 27 s late on
/// 2026-12-02 and the partner was downgraded unwarned, as the product does after the date).
/// </summary>
public sealed class ShortTierFixture : ApiHostFixture
{
    public override async Task InitializeAsync()
    {
        Api = await ApiHost.StartAsync(new Dictionary<string, string?> { ["Tiers:DayLength"] = "00:00:10" });
        await Tiers.SaveProgramAsync(Api, Tiers.Program());
    }
}

/// <summary>Tiers end to end on the local host: upgrade on winning, the limit that follows, downgrade warnings naming the gap, cancellation, the downgrade.</summary>
public sealed class TierTests(ShortTierFixture fixture) : IClassFixture<ShortTierFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task A_partner_that_wins_deals_is_upgraded_the_same_day_and_its_auto_approval_limit_follows()
    {
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Fabrikam Solutions");
        await Tiers.PatchTierAsync(Api, partnerId, "registered");
        var rita = await Api.ClientAsync(Demo.FabrikamRep);
        var frank = await Api.ClientAsync(Demo.FabrikamAdmin);

        // Registered: 40,000 is above its 25,000 limit and goes to review; 20,000 is approved at once.
        await Tiers.DealAsync(rita, 40_000m, "UnderReview");
        var first = await Tiers.DealAsync(rita, 20_000m, "Approved");
        var before = await Tiers.UntilAsync(frank, partnerId, t => t.GetProperty("evaluation").GetProperty("values").GetProperty("approvedRegistrations").GetInt32() == 1);
        before.Str("tier").Should().Be("registered");
        before.GetProperty("benefits").GetProperty("dealAutoApprovalLimit").GetDecimal().Should().Be(25_000m);
        var won = before.GetProperty("gapsToNext").EnumerateArray().Single(g => g.Str("key") == "wonDealValue");
        won.GetProperty("gap").GetDecimal().Should().Be(30_000m);
        before.GetProperty("gapsToNext").EnumerateArray().Should().NotContain(g => g.Str("key") == "approvedRegistrations", "the approval already counts");

        // Winning 35,000 meets silver's last criterion: upgraded at once, without anyone acting.
        await Tiers.WinAsync(rita, first, 35_000m);
        var after = await Tiers.UntilAsync(frank, partnerId, t => t.Str("tier") == "silver");
        after.GetProperty("evaluation").GetProperty("values").GetProperty("wonDealValue").GetDecimal().Should().Be(35_000m);
        after.GetProperty("evaluation").GetProperty("values").GetProperty("approvedRegistrations").GetInt32().Should().Be(1);
        after.GetProperty("history")[0].Str("from").Should().Be("registered");
        after.GetProperty("history")[0].Str("to").Should().Be("silver");
        (await (await frank.GetAsync($"partners/{partnerId}")).JsonAsync()).Str("tier").Should().Be("silver", "the partner's tier field moved");
        var changed = await Training.EventAsync(Api, "tier.changed", e => e.Str("partnerId") == partnerId && e.GetProperty("data").Str("to") == "silver");
        changed.GetProperty("data").Str("from").Should().Be("registered");
        var timeline = await (await (await Api.ClientAsync(Demo.Admin)).GetAsync($"partners/{partnerId}/timeline?limit=50")).JsonAsync();
        timeline.GetProperty("items").EnumerateArray().Should().Contain(e => e.Str("action") == "partner.tier.changed");

        // The auto-approval limit follows the tier: 45,000 is approved at once now.
        await Tiers.DealAsync(rita, 45_000m, "Approved");
    }

    [Fact]
    public async Task A_certified_person_leaving_schedules_a_downgrade_whose_warnings_name_the_gap_and_a_downgrade_cancelled_by_qualifying_again()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var cm = await Api.ClientAsync(Demo.CmEmea);
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");

        // Sam earns a sales certification; gold still lacks the business plan: a downgrade is scheduled 9 (tier) days out.
        var courseId = await Training.CourseAsync(admin, Training.CourseBody("Tiers: selling", questions: 2));
        await Training.CertificationAsync(admin, "Tier Sales Associate", [courseId]);
        await Training.PassAsync(sam, courseId);
        var scheduled = await Tiers.UntilAsync(anna, partnerId, t => t.GetProperty("pendingDowngrade").ValueKind == JsonValueKind.Object
            && t.GetProperty("evaluation").GetProperty("values").GetProperty("activeCertifications").GetInt32() == 1);
        scheduled.GetProperty("pendingDowngrade").Str("to").Should().Be("registered");
        var firstDowngrade = scheduled.GetProperty("pendingDowngrade").Str("id");

        // A partner user may not set a manual criterion (403); the channel manager sets it: gold holds again and the downgrade is cancelled.
        await ApiSteps.ProblemAsync(await anna.PutAsync($"partners/{partnerId}/tier/criteria/businessPlan", Responses.Json(new { met = true, evidence = "signed by us" })), 403);
        await ApiSteps.ProblemAsync(await cm.PutAsync($"partners/{partnerId}/tier/criteria/businessPlan", Responses.Json(new { met = true })), 400);
        var set = await cm.PutAsync($"partners/{partnerId}/tier/criteria/businessPlan", Responses.Json(new { met = true, evidence = "Plan FY27 signed 2026-11-20, in the CRM" }));
        set.StatusCode.Should().Be(HttpStatusCode.OK, await set.Content.ReadAsStringAsync());
        var kept = await set.JsonAsync();
        kept.GetProperty("pendingDowngrade").ValueKind.Should().Be(JsonValueKind.Null);
        kept.GetProperty("manualCriteria").EnumerateArray().Single(m => m.Str("key") == "businessPlan").GetProperty("met").GetBoolean().Should().BeTrue();
        await Training.EventAsync(Api, "tier.downgradeCancelled", e => e.GetProperty("data").Str("downgradeId") == firstDowngrade);
        // The workflow starts from the scheduled event's projection, which has run once the development sink lists the event. A
        // downgrade cancelled before that starts no workflow (a loaded machine); one that started must end, not downgrade.
        await Training.EventAsync(Api, "tier.downgradeScheduled", e => e.GetProperty("data").Str("downgradeId") == firstDowngrade, TimeSpan.FromSeconds(180));
        var durable = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Microsoft.DurableTask.Client.DurableTaskClient>(Api.Services);
        if (await durable.GetInstanceAsync("tier-" + firstDowngrade) is not null)
            (await Api.WorkflowFinishedAsync("tier-" + firstDowngrade)).Should().Be(Microsoft.DurableTask.Client.OrchestrationRuntimeStatus.Completed);
        await Mailbox.MessageAsync(Api, Demo.NorthwindAdmin, "Northwind Traders: keeps gold", TimeSpan.FromSeconds(180));

        // Sam leaves: no certified sales person is left. The downgrade is scheduled, both warnings name the gap, then it happens.
        var samUser = await ApiSteps.UserByEmailAsync(anna, partnerId, Demo.NorthwindRep);
        (await anna.DeleteAsync($"partners/{partnerId}/users/{samUser.Str("id")}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var again = await Tiers.UntilAsync(anna, partnerId, t => t.GetProperty("pendingDowngrade").ValueKind == JsonValueKind.Object);
        var downgradeId = again.GetProperty("pendingDowngrade").Str("id");
        var gap = again.GetProperty("evaluation").GetProperty("current").GetProperty("criteria").EnumerateArray().Single(c => c.Str("key") == "certifiedPeople.sales.associate");
        gap.GetProperty("actual").GetDecimal().Should().Be(0);
        gap.GetProperty("gap").GetDecimal().Should().Be(1);

        // The warning of this downgrade: the one cancelled above may have warned too (about the business plan) before it was cancelled.
        var warning = await Mailbox.MessageAsync(Api, Demo.NorthwindAdmin, "Northwind Traders: drops to registered on",
            m => m.Str("text").Contains("People certified in sales", StringComparison.Ordinal), TimeSpan.FromSeconds(180));
        warning.Str("text").Should().Contain("People certified in sales, associate or above: 0 of 1 (1 more)");
        await Mailbox.MessageAsync(Api, Demo.CmEmea, "Northwind Traders: drops to registered on", TimeSpan.FromSeconds(180));
        var down = await Tiers.UntilAsync(anna, partnerId, t => t.Str("tier") == "registered");
        down.GetProperty("pendingDowngrade").ValueKind.Should().Be(JsonValueKind.Null);
        down.GetProperty("pendingDowngrade").ValueKind.Should().Be(JsonValueKind.Null);
        down.GetProperty("history")[0].Str("from").Should().Be("gold");
        (await Api.WorkflowFinishedAsync("tier-" + downgradeId)).Should().Be(Microsoft.DurableTask.Client.OrchestrationRuntimeStatus.Completed);
        var mail = await (await Api.Anonymous.GetAsync($"dev/mail?to={Uri.EscapeDataString(Demo.NorthwindAdmin)}&limit=500")).JsonAsync();
        // This downgrade's warnings (they name the certification gap; the cancelled one's named the business plan): one 6 and one 3 tier
        // days before when the workflow started in time. A workflow that starts after the 3-day warning's time sends only that one (the
        // late-start rule, pinned exactly in TierWorkflowTests): a machine under a second suite starts it that late at times (a double
        // run saw one with a 3 s day). Never more than the two offsets, never none.
        mail.GetProperty("items").EnumerateArray().Count(m => m.Str("subject").StartsWith("Northwind Traders: drops to registered on", StringComparison.Ordinal)
                && m.Str("text").Contains("People certified in sales", StringComparison.Ordinal))
            .Should().BeInRange(1, 2, "one warning per offset at most: 6 and 3 days before, or only the 3-day one after a late start");
        await Mailbox.MessageAsync(Api, Demo.NorthwindAdmin, "Northwind Traders: now registered (was gold)", TimeSpan.FromSeconds(180));
    }
}

/// <summary>FX rates, overrides and who may do what with a tier.</summary>
public sealed class TierRulesApiTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task Fx_rates_are_kept_per_month_by_admins_and_a_deal_in_a_currency_without_a_rate_is_a_named_gap_until_its_rate_exists()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var cm = await Api.ClientAsync(Demo.CmAmer);
        var month = DateTime.UtcNow.ToString("yyyy-MM");
        await ApiSteps.ProblemAsync(await admin.PutAsync("fx-rates/2026-13", Responses.Json(new { rates = new Dictionary<string, decimal> { ["USD"] = 0.9m } })), 404);
        static async Task<string> RatesError(HttpResponseMessage r) => (await ApiSteps.ProblemAsync(r, 400)).GetProperty("errors").GetProperty("rates")[0].GetString()!;
        (await RatesError(await admin.PutAsync($"fx-rates/{month}", Responses.Json(new { rates = new Dictionary<string, decimal> { ["XYZ"] = 0.9m } })))).Should().StartWith("XYZ: not an ISO 4217 currency");
        (await RatesError(await admin.PutAsync($"fx-rates/{month}", Responses.Json(new { rates = new Dictionary<string, decimal> { ["EUR"] = 1m } })))).Should().StartWith("EUR: the program currency");
        (await RatesError(await admin.PutAsync($"fx-rates/{month}", Responses.Json(new { rates = new Dictionary<string, decimal> { ["USD"] = -1m } })))).Should().StartWith("USD: a rate is above 0");
        await ApiSteps.ProblemAsync(await cm.PutAsync($"fx-rates/{month}", Responses.Json(new { rates = new Dictionary<string, decimal> { ["USD"] = 0.9m } })), 403);
        await ApiSteps.ProblemAsync(await cm.GetAsync($"fx-rates/{month}"), 404);

        // A USD deal won this month: not counted, named.
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Fabrikam Solutions");
        var rita = await Api.ClientAsync(Demo.FabrikamRep);
        var dealId = await Tiers.DealAsync(rita, 10_000m, "UnderReview", "USD");
        (await cm.PostJsonAsync($"deals/{dealId}/decision", new { decision = "approve" })).StatusCode.Should().Be(HttpStatusCode.OK);
        await Tiers.WinAsync(rita, dealId, 10_000m, "USD");
        var missing = await Tiers.UntilAsync(cm, partnerId, t => t.GetProperty("evaluation").GetProperty("values").GetProperty("missingRates").GetArrayLength() == 1);
        missing.GetProperty("evaluation").GetProperty("values").GetProperty("missingRates")[0].Str("currency").Should().Be("USD");
        missing.GetProperty("evaluation").GetProperty("values").GetProperty("wonDealValue").GetDecimal().Should().Be(0);

        var created = await admin.PutAsync($"fx-rates/{month}", Responses.Json(new { rates = new Dictionary<string, decimal> { ["USD"] = 0.9m, ["GBP"] = 1.15m } }));
        created.StatusCode.Should().Be(HttpStatusCode.OK, await created.Content.ReadAsStringAsync());
        await ApiSteps.ProblemAsync(await admin.PutAsync($"fx-rates/{month}", Responses.Json(new { rates = new Dictionary<string, decimal> { ["USD"] = 0.8m } })), 428);
        var read = await cm.GetAsync($"fx-rates/{month}");
        (await read.JsonAsync()).GetProperty("rates").GetProperty("USD").GetDecimal().Should().Be(0.9m);
        var counted = await Tiers.TierAsync(cm, partnerId);
        counted.GetProperty("evaluation").GetProperty("values").GetProperty("wonDealValue").GetDecimal().Should().Be(9_000m);
        counted.GetProperty("evaluation").GetProperty("values").GetProperty("missingRates").GetArrayLength().Should().Be(0);
        var replace = new HttpRequestMessage(HttpMethod.Put, $"fx-rates/{month}") { Content = Responses.Json(new { rates = new Dictionary<string, decimal> { ["USD"] = 0.8m } }) };
        replace.Headers.TryAddWithoutValidation("If-Match", read.Headers.ETag!.ToString());
        (await admin.SendAsync(replace)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await Tiers.TierAsync(cm, partnerId)).GetProperty("evaluation").GetProperty("values").GetProperty("wonDealValue").GetDecimal().Should().Be(8_000m);
    }

    [Fact]
    public async Task Only_admins_override_with_a_reason_and_members_read_their_own_tier_only()
    {
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var admin = await Api.ClientAsync(Demo.Admin);
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        (await sam.GetAsync($"partners/{partnerId}/tier")).StatusCode.Should().Be(HttpStatusCode.OK, "every member reads the partner's tier");
        await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.FabrikamAdmin)).GetAsync($"partners/{partnerId}/tier"), 404);
        await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.CmEmea)).PostJsonAsync($"partners/{partnerId}/tier/override", new { tier = "platinum", reason = "x", until = DateTimeOffset.UtcNow.AddDays(30) }), 403);
        var noReason = await ApiSteps.ProblemAsync(await admin.PostJsonAsync($"partners/{partnerId}/tier/override", new { tier = "platinum", until = DateTimeOffset.UtcNow.AddDays(30) }), 400);
        noReason.GetProperty("errors").TryGetProperty("reason", out _).Should().BeTrue();
        await ApiSteps.ProblemAsync(await admin.PostJsonAsync($"partners/{partnerId}/tier/override", new { tier = "platinum", reason = "x", until = DateTimeOffset.UtcNow.AddDays(400) }), 400);
        await ApiSteps.ProblemAsync(await admin.PutAsync($"partners/{partnerId}/tier/criteria/noSuchCriterion", Responses.Json(new { met = true, evidence = "x" })), 404);

        var overridden = await admin.PostJsonAsync($"partners/{partnerId}/tier/override", new { tier = "platinum", reason = "Strategic launch partner", until = DateTimeOffset.UtcNow.AddDays(30) });
        overridden.StatusCode.Should().Be(HttpStatusCode.OK, await overridden.Content.ReadAsStringAsync());
        var body = await overridden.JsonAsync();
        body.Str("tier").Should().Be("platinum");
        body.GetProperty("override").Str("reason").Should().Be("Strategic launch partner");
        body.GetProperty("pendingDowngrade").ValueKind.Should().Be(JsonValueKind.Null, "an override holds the tier");
        (await (await admin.PostAsync($"partners/{partnerId}/tier/evaluate", null)).JsonAsync()).Str("tier").Should().Be("platinum", "evaluations do not move an overridden tier");
        await ApiSteps.ProblemAsync(await admin.PostAsync($"partners/{partnerId}/tier/confirm-upgrade", null), 409);
    }
}
