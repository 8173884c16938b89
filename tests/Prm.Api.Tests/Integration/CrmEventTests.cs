using System.Net;
using System.Text.Json;
using Prm.Testing;

namespace Prm.Api.Tests.Integration;

/// <summary>
/// CRM events in, end to end: a CRM simulator receives the signed registration events by webhook, links its opportunity and sends the won
/// stage back, which closes the registration; redeliveries apply once, older versions are ignored, unknown ids are parked; only machine
/// clients may send.
/// </summary>
public sealed class CrmEventTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    private async Task<HttpClient> CrmAsync() =>
        Api.WithToken((await (await Api.Anonymous.PostJsonAsync("dev/token", new { app = "crm" })).JsonAsync()).Str("accessToken"));

    private static object Event(string id, string kind, string externalId, long version, object? data = null) =>
        new { id, kind, system = "salesforce", externalId, version, data };

    [Fact]
    public async Task A_CRM_simulator_receives_signed_events_and_its_won_opportunity_closes_the_registration()
    {
        await using var simulator = await WebhookReceiver.StartAsync();
        var (_, secret) = await WebhookTests.SubscribeAsync(Api, simulator.Url, "deal.*");
        simulator.Secrets.Add(secret);
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var dealId = (await Deals.RegisterAsync(sam, Deals.Body("Simulated CRM Customer SE", $"crm-sim-{Guid.NewGuid():N}".Substring(0, 16) + ".example"))).Str("id");

        // The simulator hears of the registration (signed, verified) and creates its opportunity.
        var approved = await Responses.EventuallyAsync(() => Task.FromResult(simulator.Verified.FirstOrDefault(r => r.Subject == $"deals/{dealId}" && r.Type == "com.prmfunctions.deal.approved")),
            r => r is not null, TimeSpan.FromSeconds(180));
        var opportunity = "006" + Guid.NewGuid().ToString("N")[..15];
        var crm = await CrmAsync();
        var linked = await crm.PostJsonAsync("integrations/crm/events", Event("sf-evt-1-" + opportunity, "opportunity.linked", opportunity, 1, new { dealId = approved!.CloudEvent.GetProperty("data").GetProperty("deal").Str("id") }));
        linked.StatusCode.Should().Be(HttpStatusCode.OK, await linked.Content.ReadAsStringAsync());
        var won = await crm.PostJsonAsync("integrations/crm/events", Event("sf-evt-2-" + opportunity, "opportunity.stageChanged", opportunity, 2,
            new { stage = "Closed Won", amount = new { amount = 18_500m, currency = "EUR" }, closeDate = DateTime.UtcNow.ToString("yyyy-MM-dd") }));
        won.StatusCode.Should().Be(HttpStatusCode.OK, await won.Content.ReadAsStringAsync());
        (await won.JsonAsync()).Str("status").Should().Be("applied");

        var deal = await (await sam.GetAsync($"deals/{dealId}")).JsonAsync();
        deal.Str("status").Should().Be("Won");
        await Responses.EventuallyAsync(() => Task.FromResult(simulator.Verified.Any(r => r.Subject == $"deals/{dealId}" && r.Type == "com.prmfunctions.deal.won")), b => b, TimeSpan.FromSeconds(180));
        var ids = await (await (await Api.ClientAsync(Demo.Admin)).GetAsync($"deals/{dealId}/external-ids")).JsonAsync();
        ids.EnumerateArray().Should().ContainSingle(x => x.Str("system") == "salesforce" && x.Str("externalId") == opportunity);
    }

    [Fact]
    public async Task A_redelivered_event_applies_once_and_an_older_version_after_a_newer_one_is_recorded_and_ignored()
    {
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var dealId = (await Deals.RegisterAsync(sam, Deals.Body("Ordered Updates AG", $"crm-order-{Guid.NewGuid():N}".Substring(0, 18) + ".example"))).Str("id");
        var opportunity = "006" + Guid.NewGuid().ToString("N")[..15];
        var admin = await Api.ClientAsync(Demo.Admin);
        (await admin.PutAsync($"deals/{dealId}/external-ids/salesforce", Responses.Json(new { externalId = opportunity }))).StatusCode.Should().Be(HttpStatusCode.OK);
        var crm = await CrmAsync();

        var lost = Event("sf-lost-" + opportunity, "opportunity.stageChanged", opportunity, 10, new { stage = "Closed Lost", reason = "Chose a competitor." });
        (await (await crm.PostJsonAsync("integrations/crm/events", lost)).JsonAsync()).Str("status").Should().Be("applied");
        var again = await (await crm.PostJsonAsync("integrations/crm/events", lost)).JsonAsync();
        again.Str("status").Should().Be("duplicate");
        var older = await (await crm.PostJsonAsync("integrations/crm/events", Event("sf-won-old-" + opportunity, "opportunity.stageChanged", opportunity, 9, new { stage = "Closed Won" }))).JsonAsync();
        older.Str("status").Should().Be("stale");

        var deal = await (await sam.GetAsync($"deals/{dealId}")).JsonAsync();
        deal.Str("status").Should().Be("Lost");
        var timeline = await (await sam.GetAsync($"deals/{dealId}/timeline?limit=50")).JsonAsync();
        timeline.GetProperty("items").EnumerateArray().Count(e => e.Str("action").Contains("lost", StringComparison.OrdinalIgnoreCase)).Should().Be(1, "applied once");
    }

    [Fact]
    public async Task An_unknown_external_id_is_parked_for_review_with_202()
    {
        var crm = await CrmAsync();
        var response = await crm.PostJsonAsync("integrations/crm/events", Event("sf-unknown-1", "opportunity.stageChanged", "006NOTLINKED", 1, new { stage = "Closed Won" }));
        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await response.JsonAsync()).Str("status").Should().Be("parked");
        var parked = await (await (await Api.ClientAsync(Demo.Admin)).GetAsync("integrations/crm/parked")).JsonAsync();
        parked.GetProperty("items").EnumerateArray().Should().Contain(p => p.Str("eventId") == "sf-unknown-1" && p.Str("externalId") == "006NOTLINKED");
    }

    [Fact]
    public async Task An_account_owner_change_moves_the_partner_to_that_channel_manager()
    {
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Fabrikam Solutions");
        var admin = await Api.ClientAsync(Demo.Admin);
        var crm = await CrmAsync();

        var moved = await crm.PostJsonAsync("integrations/crm/events", new { id = "sf-owner-1", kind = "account.ownerChanged", system = "salesforce", externalId = "001FABRIKAM",
            occurredAt = DateTimeOffset.UtcNow.ToString("O"), data = new { ownerEmail = Demo.CmEmea, partnerId } });
        moved.StatusCode.Should().Be(HttpStatusCode.OK, await moved.Content.ReadAsStringAsync());
        var partner = await (await admin.GetAsync($"partners/{partnerId}")).JsonAsync();
        var staff = await (await (await Api.ClientAsync(Demo.CmEmea)).GetAsync("me")).JsonAsync();
        partner.Str("channelManagerId").Should().Be(staff.Str("userId"));
    }

    [Fact]
    public async Task Bad_CRM_events_and_callers_get_precise_problems()
    {
        var crm = await CrmAsync();
        (await ApiSteps.ProblemAsync(await crm.PostJsonAsync("integrations/crm/events", new { kind = "opportunity.stageChanged", system = "salesforce", externalId = "x", version = 1 }), 400))
            .GetProperty("errors").TryGetProperty("id", out _).Should().BeTrue();
        (await ApiSteps.ProblemAsync(await crm.PostJsonAsync("integrations/crm/events", new { id = "e1", kind = "opportunity.deleted", system = "salesforce", externalId = "x", version = 1 }), 400))
            .GetProperty("errors").TryGetProperty("kind", out _).Should().BeTrue();
        (await ApiSteps.ProblemAsync(await crm.PostJsonAsync("integrations/crm/events", new { id = "e2", kind = "opportunity.stageChanged", system = "salesforce", externalId = "x" }), 400))
            .GetProperty("errors").TryGetProperty("version", out _).Should().BeTrue();
        foreach (var who in new[] { Demo.Admin, Demo.CmEmea, Demo.NorthwindAdmin, Demo.NorthwindRep })
        {
            await ApiSteps.ProblemAsync(await (await Api.ClientAsync(who)).PostJsonAsync("integrations/crm/events", Event("e3", "opportunity.stageChanged", "x", 1)), 403);
        }
        foreach (var route in new[] { "deals", "partners", "me", "webhooks", "integrations/crm/parked" })
        {
            await ApiSteps.ProblemAsync(await crm.GetAsync(route), 403);
        }
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var dealId = (await Deals.RegisterAsync(sam, Deals.Body("External Id Rules GmbH", $"crm-ext-{Guid.NewGuid():N}".Substring(0, 16) + ".example"))).Str("id");
        await ApiSteps.ProblemAsync(await sam.PutAsync($"deals/{dealId}/external-ids/salesforce", Responses.Json(new { externalId = "006A" })), 403);
        await ApiSteps.ProblemAsync(await crm.PutAsync($"deals/{dealId}/external-ids/Sales Force", Responses.Json(new { externalId = "006A" })), 400);
        (await crm.PutAsync($"deals/{dealId}/external-ids/hubspot", Responses.Json(new { externalId = "hs-1" }))).StatusCode.Should().Be(HttpStatusCode.OK);
        var other = (await Deals.RegisterAsync(sam, Deals.Body("External Id Rules Two GmbH", $"crm-ext2-{Guid.NewGuid():N}".Substring(0, 16) + ".example"))).Str("id");
        await ApiSteps.ProblemAsync(await crm.PutAsync($"deals/{other}/external-ids/hubspot", Responses.Json(new { externalId = "hs-1" })), 409);
    }
}
