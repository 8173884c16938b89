using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Prm.Testing;

namespace Prm.Api.Tests;

internal static class Home
{
    public static async Task<JsonElement> GetAsync(HttpClient client)
    {
        var response = await client.GetAsync("portal/home");
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    public static IReadOnlyList<JsonElement> Inbox(JsonElement home) => home.GetProperty("inbox").EnumerateArray().ToList();

    public static JsonElement? Item(JsonElement home, string link) => Inbox(home).Cast<JsonElement?>().FirstOrDefault(i => i!.Value.Str("link") == link);

    public static bool Has(JsonElement home, string link) => Item(home, link) is not null;

    public static decimal Amount(JsonElement item) => item.GetProperty("amount").GetProperty("amount").GetDecimal();
}

/// <summary>GET /api/portal/home end to end: the records a test creates appear with their kind, deadline, amount and link, for whom they are.</summary>
public sealed class PortalHomeTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task A_partner_admins_home_lists_the_companys_items_by_deadline_then_money_at_stake_with_the_tiles()
    {
        var domain = "homestead-" + Guid.NewGuid().ToString("N")[..6] + ".example";
        var (partnerId, boss) = await Deals.PartnerAsync(Api, "Homestead Systems", domain);
        var admin = await Api.ClientAsync(Demo.Admin);

        var returned = await Deals.RegisterAsync(boss, Deals.Body("Returned Customer AG", "returned-" + Guid.NewGuid().ToString("N")[..6] + ".example", amount: 950_000m));
        returned.Str("status").Should().Be("UnderReview", "above the auto-approval value");
        (await admin.PostJsonAsync($"deals/{returned.Str("id")}/decision", new { decision = "return", reason = "Name the project." })).StatusCode.Should().Be(HttpStatusCode.OK);

        var protectedDeal = await Deals.RegisterAsync(boss, Deals.Body("Protected Customer AG", "protected-" + Guid.NewGuid().ToString("N")[..6] + ".example", amount: 800_000m));
        var approved = await admin.PostJsonAsync($"deals/{protectedDeal.Str("id")}/decision", new { decision = "approve", reason = "Fine.", protectionDays = 7 });
        approved.StatusCode.Should().Be(HttpStatusCode.OK, await approved.Content.ReadAsStringAsync());
        var protectedUntil = (await approved.JsonAsync()).GetProperty("protectedUntil").GetDateTimeOffset();

        var budget = await admin.PostJsonAsync("mdf/budgets", new { partnerId, period = "2026", amount = new { amount = 10_000m, currency = "EUR" } });
        budget.StatusCode.Should().Be(HttpStatusCode.Created, await budget.Content.ReadAsStringAsync());
        var request = await boss.PostJsonAsync("mdf/requests", new
        {
            activityType = "event", title = "Home summit", description = "A half-day event for customers.", startDate = "2026-12-20", endDate = "2026-12-21",
            requestedAmount = new { amount = 2_000m, currency = "EUR" }, partnerContributionPercent = 25, targetAudience = "IT leads", expectedLeads = 40,
            expectedPipeline = new { amount = 150000m, currency = "EUR" },
        });
        request.StatusCode.Should().Be(HttpStatusCode.Created, await request.Content.ReadAsStringAsync());
        var requestId = (await request.JsonAsync()).Str("id");
        var info = await admin.PostJsonAsync($"mdf/requests/{requestId}/decision", new { decision = "requestInfo", reason = "Which customers attend?" });
        info.StatusCode.Should().Be(HttpStatusCode.OK, await info.Content.ReadAsStringAsync());

        var invited = await boss.PostJsonAsync($"partners/{partnerId}/users", new { email = $"newbie@{domain}", displayName = "Newbie", role = "partnerUser" });
        invited.StatusCode.Should().Be(HttpStatusCode.Created, await invited.Content.ReadAsStringAsync());
        var invitedId = (await invited.JsonAsync()).Str("id");

        var home = await Home.GetAsync(boss);
        home.Str("audience").Should().Be("partnerAdmin");
        foreach (var section in new[] { "partner", "tier", "deals", "leads", "mdf", "training", "incentives", "content", "channelManager" })
            home.GetProperty("sections").GetProperty(section).Str("status").Should().Be("ok", section);
        home.GetProperty("sections").GetProperty("applications").Str("status").Should().Be("notApplicable");

        var ending = Home.Item(home, "/api/deals/" + protectedDeal.Str("id"))!.Value;
        ending.Str("kind").Should().Be("protectionEnding");
        ending.GetProperty("deadline").GetDateTimeOffset().Should().Be(protectedUntil);
        Home.Amount(ending).Should().Be(800_000m);

        var back = Home.Item(home, "/api/deals/" + returned.Str("id"))!.Value;
        back.Str("kind").Should().Be("dealReturned");
        back.GetProperty("deadline").ValueKind.Should().Be(JsonValueKind.Null);
        Home.Amount(back).Should().Be(950_000m);

        var asked = Home.Item(home, "/api/mdf/requests/" + requestId)!.Value;
        asked.Str("kind").Should().Be("mdfInfoRequested");
        Home.Amount(asked).Should().Be(2_000m);
        asked.GetProperty("amount").Str("currency").Should().Be("EUR");

        Home.Item(home, $"/api/partners/{partnerId}/users/{invitedId}")!.Value.Str("kind").Should().Be("invitationPending");
        Home.Inbox(home).Should().Contain(i => i.Str("kind") == "onboardingItem" && i.Str("link") == $"/api/partners/{partnerId}/onboarding");

        // The order: the dated item first, then the undated ones by money at stake, the ones without money last.
        var links = Home.Inbox(home).Select(i => i.Str("link")).ToList();
        links.IndexOf("/api/deals/" + protectedDeal.Str("id")).Should().Be(0);
        links.IndexOf("/api/deals/" + returned.Str("id")).Should().BeLessThan(links.IndexOf("/api/mdf/requests/" + requestId));
        links.IndexOf("/api/mdf/requests/" + requestId).Should().BeLessThan(links.IndexOf($"/api/partners/{partnerId}/users/{invitedId}"));

        var tiles = home.GetProperty("tiles");
        tiles.GetProperty("pipelineDeals").GetInt32().Should().Be(1);
        tiles.GetProperty("pipeline")[0].GetProperty("amount").GetDecimal().Should().Be(800_000m);
        tiles.GetProperty("mdfAvailable")[0].GetProperty("amount").GetDecimal().Should().Be(8_000m, "10,000 allocated, 2,000 pending");
        tiles.GetProperty("leadsAwaitingAcceptance").GetInt32().Should().Be(0);
        home.GetProperty("tier").Str("tier").Should().Be("gold");
        home.GetProperty("tier").GetProperty("badge").Str("label").Should().Be("Gold partner");
    }

    [Fact]
    public async Task A_sales_rep_sees_their_own_registrations_and_the_partner_admin_sees_both()
    {
        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var cm = await Api.ClientAsync(Demo.CmEmea);
        var annas = await Deals.RegisterAsync(anna, Deals.Body("Anna's Customer AG", "annas-" + Guid.NewGuid().ToString("N")[..6] + ".example", amount: 700_000m));
        var sams = await Deals.RegisterAsync(sam, Deals.Body("Sam's Customer AG", "sams-" + Guid.NewGuid().ToString("N")[..6] + ".example", amount: 600_000m));
        foreach (var id in new[] { annas.Str("id"), sams.Str("id") })
        {
            var decided = await cm.PostJsonAsync($"deals/{id}/decision", new { decision = "return", reason = "Add the project name." });
            decided.StatusCode.Should().Be(HttpStatusCode.OK, await decided.Content.ReadAsStringAsync());
        }

        var samsHome = await Home.GetAsync(sam);
        samsHome.Str("audience").Should().Be("partnerUser");
        Home.Item(samsHome, "/api/deals/" + sams.Str("id"))!.Value.Str("kind").Should().Be("dealReturned");
        Home.Has(samsHome, "/api/deals/" + annas.Str("id")).Should().BeFalse("a rep sees their own registrations only");
        Home.Inbox(samsHome).Should().NotContain(i => i.Str("kind") == "invitationPending" || i.Str("kind") == "onboardingItem", "company tasks are the partner admins'");

        var annasHome = await Home.GetAsync(anna);
        Home.Has(annasHome, "/api/deals/" + annas.Str("id")).Should().BeTrue();
        Home.Has(annasHome, "/api/deals/" + sams.Str("id")).Should().BeTrue("partner admins see the company's registrations");
        annasHome.GetProperty("channelManager").Str("email").Should().Be(Demo.CmEmea);
    }

    [Fact]
    public async Task A_lead_offer_appears_with_its_accept_deadline_for_the_offered_partner_only()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var domain = Leads.Unique("homelead") + ".example";
        var created = await Leads.CreateAsync(admin, Leads.Body("Home Lead GmbH", domain, "chris@" + domain));
        created.Str("outcome").Should().Be("offered");
        var lead = created.GetProperty("lead");
        var link = "/api/leads/" + lead.Str("id");
        var expires = lead.GetProperty("offers")[0].GetProperty("expiresAt").GetDateTimeOffset();

        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        var home = await Responses.EventuallyAsync(() => Home.GetAsync(anna), h => Home.Has(h, link), TimeSpan.FromSeconds(90));
        var offer = Home.Item(home, link)!.Value;
        offer.Str("kind").Should().Be("leadOffer");
        offer.GetProperty("deadline").GetDateTimeOffset().Should().Be(expires);
        Home.Amount(offer).Should().Be(25_000m);
        offer.Str("title").Should().NotContain("Home Lead", "an offer is masked until accepted");
        home.GetProperty("tiles").GetProperty("leadsAwaitingAcceptance").GetInt32().Should().BeGreaterThanOrEqualTo(1);

        Home.Has(await Home.GetAsync(await Api.ClientAsync(Demo.FabrikamAdmin)), link).Should().BeFalse("another partner's offer never appears");
    }

    [Fact]
    public async Task A_channel_manager_sees_the_registration_to_review_with_its_SLA_deadline()
    {
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var deal = await Deals.RegisterAsync(sam, Deals.Body("Review Me AG", "reviewme-" + Guid.NewGuid().ToString("N")[..6] + ".example", amount: 500_000m));
        deal.Str("status").Should().Be("UnderReview");
        var link = "/api/deals/" + deal.Str("id");
        var cm = await Api.ClientAsync(Demo.CmEmea);
        var home = await Responses.EventuallyAsync(() => Home.GetAsync(cm), h => Home.Has(h, link), TimeSpan.FromSeconds(90));
        home.Str("audience").Should().Be("vendor");
        var item = Home.Item(home, link)!.Value;
        item.Str("kind").Should().Be("dealReview");
        item.GetProperty("deadline").GetDateTimeOffset().Should().Be(deal.GetProperty("submittedAt").GetDateTimeOffset().AddHours(48), "the review escalates after 48 hours by default");
        Home.Amount(item).Should().Be(500_000m);
        home.GetProperty("sections").GetProperty("deals").Str("status").Should().Be("ok");
        home.GetProperty("tier").ValueKind.Should().Be(JsonValueKind.Null);

        Home.Has(await Home.GetAsync(await Api.ClientAsync(Demo.CmAmer)), link).Should().BeFalse("another channel manager's partner");
        Home.Has(await Home.GetAsync(await Api.ClientAsync(Demo.Admin)), link).Should().BeTrue("admins review everything");
    }

    [Fact]
    public async Task An_approved_MDF_request_without_a_claim_is_due_by_the_end_of_its_claim_deadline_day()
    {
        var domain = "claimdue-" + Guid.NewGuid().ToString("N")[..6] + ".example";
        var (partnerId, boss) = await Deals.PartnerAsync(Api, "Claim Due Systems", domain);
        var admin = await Api.ClientAsync(Demo.Admin);
        (await admin.PostJsonAsync("mdf/budgets", new { partnerId, period = "2026", amount = new { amount = 10_000m, currency = "EUR" } })).StatusCode.Should().Be(HttpStatusCode.Created);
        var request = await boss.PostJsonAsync("mdf/requests", new
        {
            activityType = "event", title = "Claim due summit", description = "A half-day event for customers.", startDate = "2026-12-20", endDate = "2026-12-21",
            requestedAmount = new { amount = 3_000m, currency = "EUR" }, partnerContributionPercent = 25, targetAudience = "IT leads", expectedLeads = 40,
            expectedPipeline = new { amount = 150000m, currency = "EUR" },
        });
        request.StatusCode.Should().Be(HttpStatusCode.Created, await request.Content.ReadAsStringAsync());
        var requestId = (await request.JsonAsync()).Str("id");
        var approved = await admin.PostJsonAsync($"mdf/requests/{requestId}/decision", new { decision = "approve", reason = "Go.", approvedAmount = new { amount = 2_500m, currency = "EUR" }, maxReimbursementPercent = 100, claimDeadline = "2027-01-15" });
        approved.StatusCode.Should().Be(HttpStatusCode.OK, await approved.Content.ReadAsStringAsync());

        var due = Home.Item(await Home.GetAsync(boss), "/api/mdf/requests/" + requestId)!.Value;
        due.Str("kind").Should().Be("mdfClaimDue");
        due.GetProperty("deadline").GetDateTimeOffset().Should().Be(new DateTimeOffset(2027, 1, 16, 0, 0, 0, TimeSpan.Zero), "the claim deadline day ends at midnight UTC");
        Home.Amount(due).Should().Be(2_500m, "the approved amount is at stake");
    }

    [Fact]
    public async Task A_channel_manager_sees_an_extension_request_and_the_partner_whose_protection_runs_out()
    {
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var cm = await Api.ClientAsync(Demo.CmEmea);
        var deal = await Deals.RegisterAsync(sam, Deals.Body("Running Out AG", "runningout-" + Guid.NewGuid().ToString("N")[..6] + ".example", amount: 450_000m));
        var approved = await cm.PostJsonAsync($"deals/{deal.Str("id")}/decision", new { decision = "approve", reason = "Fine.", protectionDays = 7 });
        approved.StatusCode.Should().Be(HttpStatusCode.OK, await approved.Content.ReadAsStringAsync());
        var protectedUntil = (await approved.JsonAsync()).GetProperty("protectedUntil").GetDateTimeOffset();
        (await sam.PostJsonAsync($"deals/{deal.Str("id")}/extension-requests", new { days = 30, reason = "Procurement moved to January." })).StatusCode.Should().Be(HttpStatusCode.Created);
        var link = "/api/deals/" + deal.Str("id");

        var home = await Responses.EventuallyAsync(() => Home.GetAsync(cm), h => Home.Item(h, link)?.Str("kind") == "extensionReview", TimeSpan.FromSeconds(90));
        var item = Home.Item(home, link)!.Value;
        item.GetProperty("deadline").GetDateTimeOffset().Should().Be(protectedUntil, "an extension is decided before the protection ends");
        Home.Amount(item).Should().Be(450_000m);
        var northwind = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var stalled = home.GetProperty("stalledPartners").EnumerateArray().Single(p => p.Str("partnerId") == northwind);
        stalled.GetProperty("deals").GetInt32().Should().BeGreaterThanOrEqualTo(1);
        stalled.GetProperty("earliestProtectionEnd").GetDateTimeOffset().Should().BeOnOrBefore(protectedUntil);
        Home.Has(await Home.GetAsync(await Api.ClientAsync(Demo.CmAmer)), link).Should().BeFalse("another channel manager's partner");
    }

    [Fact]
    public async Task Each_visit_is_recorded_and_the_next_home_counts_new_assets_from_it()
    {
        var rita = await Api.ClientAsync(Demo.FabrikamRep);
        var first = await Home.GetAsync(rita);
        var second = await Home.GetAsync(rita);
        second.GetProperty("lastVisitAt").GetDateTimeOffset().Should().Be(first.GetProperty("generatedAt").GetDateTimeOffset());
        second.GetProperty("newAssets").GetArrayLength().Should().Be(0, "nothing was published between the two visits");
    }
}

/// <summary>The home in the isolation matrix: another partner's records never appear, whoever of another partner asks.</summary>
public sealed class PortalHomeIsolationTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task Another_partners_people_never_see_a_partners_items_on_their_home()
    {
        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        var cm = await Api.ClientAsync(Demo.CmEmea);
        var deal = await Deals.RegisterAsync(anna, Deals.Body("Isolated Home AG", "isolated-" + Guid.NewGuid().ToString("N")[..6] + ".example", amount: 400_000m));
        (await cm.PostJsonAsync($"deals/{deal.Str("id")}/decision", new { decision = "return", reason = "Isolation." })).StatusCode.Should().Be(HttpStatusCode.OK);
        var link = "/api/deals/" + deal.Str("id");
        Home.Has(await Home.GetAsync(anna), link).Should().BeTrue("the owner sees it: the check below can fail");
        foreach (var email in new[] { Demo.FabrikamAdmin, Demo.FabrikamRep, Demo.NorthwindRep })
        {
            var body = await (await (await Api.ClientAsync(email)).GetAsync("portal/home")).Content.ReadAsStringAsync();
            body.Should().NotContain(deal.Str("id"), email);
            body.Should().NotContain("Isolated Home", email);
        }
    }
}

/// <summary>A section whose storage fails reports it, and the rest of the home still answers (its own host: the test removes a table).</summary>
public sealed class PortalHomeSectionFailureTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task When_the_lead_index_cannot_be_read_the_leads_section_is_unavailable_and_the_rest_of_the_home_answers()
    {
        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        var returned = await Deals.RegisterAsync(anna, Deals.Body("Still There AG", "still-there-" + Guid.NewGuid().ToString("N")[..6] + ".example", amount: 300_000m));
        (await (await Api.ClientAsync(Demo.CmEmea)).PostJsonAsync($"deals/{returned.Str("id")}/decision", new { decision = "return", reason = "Later." })).StatusCode.Should().Be(HttpStatusCode.OK);
        (await Home.GetAsync(anna)).GetProperty("sections").GetProperty("leads").Str("status").Should().Be("ok", "before the failure");

        await Api.Services.GetRequiredService<Prm.Storage.PrmTables>().LeadIndex.DeleteAsync();

        var home = await Home.GetAsync(anna);
        var leads = home.GetProperty("sections").GetProperty("leads");
        leads.Str("status").Should().Be("unavailable");
        leads.Str("detail").Should().NotBeNullOrEmpty();
        home.GetProperty("tiles").GetProperty("leadsAwaitingAcceptance").ValueKind.Should().Be(JsonValueKind.Null);
        home.GetProperty("sections").GetProperty("deals").Str("status").Should().Be("ok");
        Home.Item(home, "/api/deals/" + returned.Str("id"))!.Value.Str("kind").Should().Be("dealReturned", "the other sections still fill the inbox");
        Home.Inbox(home).Should().NotContain(i => i.Str("kind") == "leadOffer");
    }
}

/// <summary>A certification day of 5 s: a month of validity is 150 s, so a fresh award expires within the home's 60 (certification) days.</summary>
public sealed class FiveSecondCertificationDayFixture : ApiHostFixture
{
    public override async Task InitializeAsync() => Api = await ApiHost.StartAsync(new Dictionary<string, string?> { ["Training:DayLength"] = "00:00:05" });
}

/// <summary>Expiring certifications on the home: the holder's own, and every colleague's for the partner admins (from the tier certification index).</summary>
public sealed class PortalHomeCertificationTests(FiveSecondCertificationDayFixture fixture) : IClassFixture<FiveSecondCertificationDayFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task A_reps_expiring_certification_is_on_their_home_and_their_partner_admins_but_not_on_a_colleagues()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var course = await Training.CourseAsync(admin, Training.CourseBody("Home expiry " + Guid.NewGuid().ToString("N")[..8], questions: 1));
        var definition = await Training.CertificationAsync(admin, "Home Expiry " + Guid.NewGuid().ToString("N")[..8], [course], validityMonths: 1, reminders: [20, 10], graceDays: 30);
        await Training.PassAsync(sam, course);
        var mine = await Responses.EventuallyAsync(async () => await (await sam.GetAsync("people/me/certifications")).JsonAsync(),
            m => m.GetProperty("awards").EnumerateArray().Any(a => a.Str("definitionId") == definition.Str("id")), TimeSpan.FromSeconds(90));
        var award = mine.GetProperty("awards").EnumerateArray().First(a => a.Str("definitionId") == definition.Str("id"));
        var link = $"/api/awards/{award.Str("id")}/certificate";
        var expires = award.GetProperty("expiresAt").GetDateTimeOffset();

        var own = Home.Item(await Home.GetAsync(sam), link)!.Value;
        own.Str("kind").Should().Be("certificationExpiring");
        own.GetProperty("deadline").GetDateTimeOffset().Should().Be(expires);
        own.GetProperty("amount").ValueKind.Should().Be(JsonValueKind.Null);

        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        var annas = await Responses.EventuallyAsync(() => Home.GetAsync(anna), h => Home.Has(h, link), TimeSpan.FromSeconds(90));
        Home.Item(annas, link)!.Value.GetProperty("deadline").GetDateTimeOffset().Should().Be(expires, "the partner admin sees the company's from its certification index");
        Home.Has(await Home.GetAsync(await Api.ClientAsync(Demo.FabrikamAdmin)), link).Should().BeFalse("another partner's certification");
    }
}
