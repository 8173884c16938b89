using System.Net;
using System.Text.Json;
using Prm.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Prm.Api.Tests;

internal static class Deals
{
    public static string CloseDate(int days = 60) => DateTime.UtcNow.AddDays(days).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    public static object Body(string company, string domain, decimal amount = 20_000m, string currency = "EUR", string country = "DE", string[]? products = null, bool? draft = null) => new
    {
        customer = new { companyName = company, domain, country, contactName = "Chris Buyer", contactEmail = "chris@" + domain.Replace("https://", "").Replace("www.", "").Split('/')[0] },
        products = products ?? ["cloud-backup"],
        estimatedValue = new { amount, currency },
        expectedCloseDate = CloseDate(),
        notes = "Budget approved for Q1.",
        draft,
    };

    public static async Task<JsonElement> RegisterAsync(HttpClient client, object body, int status = 201)
    {
        var response = await client.PostJsonAsync("deals", body);
        ((int)response.StatusCode).Should().Be(status, await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    /// <summary>
    /// Waits until the outbox delivered the registration's change <paramref name="eventType"/>: its projections (conflict buckets, vendor
    /// index, counters) run before the event is published, so what follows sees the index as the commit left it.
    /// </summary>
    public static Task DeliveredAsync(ApiHost api, string dealId, string eventType) =>
        Responses.EventuallyAsync(async () => await (await api.Anonymous.GetAsync("dev/events?limit=500")).JsonAsync(),
            e => e.GetProperty("items").EnumerateArray().Any(x => x.Str("subject") == $"deals/{dealId}" && x.Str("type") == eventType));

    /// <summary>Creates an active partner with its admin signed in.</summary>
    public static async Task<(string PartnerId, HttpClient Admin)> PartnerAsync(ApiHost api, string name, string domain, string tier = "gold")
    {
        var admin = await api.ClientAsync(Demo.Admin);
        var created = await admin.PostJsonAsync("partners", new
        {
            name, domain, country = "DE", region = "emea", tier, partnerType = "reseller", status = "Active",
            admin = new { email = $"boss@{domain}", displayName = $"{name} Boss" },
        });
        created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return ((await created.JsonAsync()).Str("id"), await api.ClientAsync($"boss@{domain}"));
    }
}

/// <summary>Deal registration end to end on the local host: conflicts, claims, decisions by link, isolation, bad input.</summary>
public sealed class DealRegistrationTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task A_clean_registration_is_auto_approved_and_protected_for_the_default_period()
    {
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var deal = await Deals.RegisterAsync(sam, Deals.Body("Tailwind Pharma GmbH", "https://www.tailwind-pharma.example/about"));
        deal.Str("status").Should().Be("Approved");
        deal.Str("registrationNumber").Should().MatchRegex("^DR-[0-9]{6}-[0-9A-Z]{6}$");
        deal.GetProperty("customer").Str("domain").Should().Be("tailwind-pharma.example");
        deal.GetProperty("conflict").Str("level").Should().Be("none");
        deal.GetProperty("conflict").GetProperty("claimHeld").GetBoolean().Should().BeTrue();
        deal.GetProperty("conflict").TryGetProperty("matchedDealIds", out var hidden).Should().BeTrue();
        hidden.ValueKind.Should().Be(JsonValueKind.Null, "partners never see which registrations matched");
        var submittedAt = DateTimeOffset.Parse(deal.Str("submittedAt"), System.Globalization.CultureInfo.InvariantCulture);
        (DateTimeOffset.Parse(deal.Str("protectedUntil"), System.Globalization.CultureInfo.InvariantCulture) - submittedAt).Should().Be(TimeSpan.FromDays(90));
    }

    [Fact]
    public async Task A_registration_is_visible_to_its_company_and_channel_manager_and_to_nobody_else()
    {
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var id = (await Deals.RegisterAsync(sam, Deals.Body("Wide World Importers", "wideworldimporters.example"))).Str("id");

        (await (await Api.ClientAsync(Demo.NorthwindAdmin)).GetAsync($"deals/{id}")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await (await Api.ClientAsync(Demo.CmEmea)).GetAsync($"deals/{id}")).StatusCode.Should().Be(HttpStatusCode.OK);
        await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.FabrikamAdmin)).GetAsync($"deals/{id}"), 404);
        await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.CmAmer)).GetAsync($"deals/{id}"), 404);
        (await (await sam.GetAsync("deals?status=Approved")).JsonAsync()).GetProperty("items").EnumerateArray().Should().Contain(d => d.Str("id") == id);
        (await (await (await Api.ClientAsync(Demo.FabrikamRep)).GetAsync("deals")).JsonAsync()).GetProperty("items").EnumerateArray().Should().NotContain(d => d.Str("id") == id);
    }

    [Fact]
    public async Task An_auto_approved_registration_raises_submitted_then_approved_once_each()
    {
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var id = (await Deals.RegisterAsync(sam, Deals.Body("Proseware Labs", "proseware-labs.example"))).Str("id");
        var events = await Responses.EventuallyAsync(async () => await (await Api.Anonymous.GetAsync("dev/events?limit=500")).JsonAsync(),
            e => e.GetProperty("items").EnumerateArray().Where(x => x.Str("subject") == $"deals/{id}").Select(x => x.Str("id")).Distinct().Count() >= 2);
        // At-least-once delivery: a redelivered event keeps its id (Service Bus drops it by MessageId).
        events.GetProperty("items").EnumerateArray().Where(x => x.Str("subject") == $"deals/{id}").DistinctBy(x => x.Str("id")).Select(x => x.Str("type"))
            .Should().BeEquivalentTo(["deal.submitted", "deal.approved"]);
    }

    [Fact]
    public async Task A_registration_is_counted_exactly_once_in_its_partners_stats()
    {
        var (partnerId, boss) = await Deals.PartnerAsync(Api, "Counted Partner GmbH", "counted-partner.example");
        var before = await (await boss.GetAsync($"partners/{partnerId}/deal-stats")).JsonAsync();
        before.GetProperty("submitted").GetInt32().Should().Be(0, "a new partner starts at zero");
        var id = (await Deals.RegisterAsync(boss, Deals.Body("Counted Customer AG", "counted-customer.example", amount: 20_000m))).Str("id");
        await Deals.DeliveredAsync(Api, id, "deal.approved");

        var stats = await Responses.EventuallyAsync(async () => await (await boss.GetAsync($"partners/{partnerId}/deal-stats")).JsonAsync(), s => s.GetProperty("approved").GetInt32() >= 1);
        stats.GetProperty("submitted").GetInt32().Should().Be(1);
        stats.GetProperty("approved").GetInt32().Should().Be(1);
        stats.GetProperty("pipelineValue").GetProperty("EUR").GetDecimal().Should().Be(20_000m);
    }

    [Fact]
    public async Task A_first_registration_completes_the_partners_onboarding_checklist_item()
    {
        var (partnerId, boss) = await Deals.PartnerAsync(Api, "Checklist Partner GmbH", "checklist-partner.example");
        FirstDeal(await (await boss.GetAsync($"partners/{partnerId}/onboarding")).JsonAsync()).Should().BeFalse();
        await Deals.RegisterAsync(boss, Deals.Body("Checklist Customer AG", "checklist-customer.example"));
        await Responses.EventuallyAsync(async () => await (await boss.GetAsync($"partners/{partnerId}/onboarding")).JsonAsync(), FirstDeal);

        static bool FirstDeal(JsonElement checklist) =>
            checklist.GetProperty("items").EnumerateArray().Single(i => i.Str("key") == "firstDealRegistered").GetProperty("done").GetBoolean();
    }

    [Fact]
    public async Task A_channel_manager_lists_the_registrations_of_their_partners()
    {
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var id = (await Deals.RegisterAsync(sam, Deals.Body("Trey Research", "treyresearch.example"))).Str("id");
        await Responses.EventuallyAsync(async () => await (await (await Api.ClientAsync(Demo.CmEmea)).GetAsync("deals")).JsonAsync(),
            l => l.GetProperty("items").EnumerateArray().Any(d => d.Str("id") == id));
        (await (await (await Api.ClientAsync(Demo.CmAmer)).GetAsync("deals")).JsonAsync()).GetProperty("items").EnumerateArray().Should().NotContain(d => d.Str("id") == id);
    }

    [Fact]
    public async Task A_second_partners_claim_is_flagged_without_naming_the_first_and_routed_to_its_channel_manager_who_decides_by_link()
    {
        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        var first = await Deals.RegisterAsync(anna, Deals.Body("Alpine Ski Haus AG", "alpineskihaus.example"));
        first.Str("status").Should().Be("Approved");
        await Deals.DeliveredAsync(Api, first.Str("id"), "deal.approved");

        var frank = await Api.ClientAsync(Demo.FabrikamAdmin);
        var same = await Deals.RegisterAsync(frank, Deals.Body("Alpine Ski House", "https://shop.alpineskihaus.example/", country: "US"));
        same.Str("status").Should().Be("UnderReview");
        var conflict = same.GetProperty("conflict");
        conflict.Str("level").Should().Be("certain");
        conflict.GetProperty("claimHeld").GetBoolean().Should().BeFalse();
        var evidence = string.Join(" ", conflict.GetProperty("evidence").EnumerateArray().Select(e => e.GetString()));
        evidence.Should().Contain("another partner").And.NotContain("Northwind").And.NotContain(first.Str("partnerId")).And.NotContain(first.Str("registrationNumber")).And.NotContain(first.Str("id"));

        var similar = await Deals.RegisterAsync(frank, Deals.Body("Alpine Ski Haus Holding", "alpine-holding.example", country: "DE"));
        similar.Str("status").Should().Be("UnderReview", "a similar name of an active registration is not auto-approved");
        similar.GetProperty("conflict").Str("level").Should().BeOneOf("possible", "likely");

        var cmMail = await Mailbox.MessageAsync(Api, Demo.CmAmer, "Deal registration to review: Alpine Ski Haus Holding by Fabrikam Solutions");
        var link = Mailbox.ApprovalPath(Mailbox.Link(cmMail, "/approvals/"));
        var page = await (await Api.Anonymous.GetAsync(link)).Content.ReadAsStringAsync();
        page.Should().Contain("Alpine Ski Haus Holding").And.Contain("value=\"approve\"").And.Contain("value=\"return\"").And.NotContain("<script");
        var approved = await Api.Anonymous.PostAsync(link, new FormUrlEncodedContent([new("decision", "approve"), new("reason", "Different company: the holding.")]));
        approved.StatusCode.Should().Be(HttpStatusCode.OK, await approved.Content.ReadAsStringAsync());
        (await approved.Content.ReadAsStringAsync()).Should().Contain("Approved.");
        (await (await frank.GetAsync($"deals/{similar.Str("id")}")).JsonAsync()).Str("status").Should().Be("Approved");
        (await Api.Anonymous.PostAsync(link, new FormUrlEncodedContent([new("decision", "reject"), new("reason", "x")]))).StatusCode.Should().Be(HttpStatusCode.Conflict);

        var cm = await Api.ClientAsync(Demo.CmAmer);
        var vendorView = await (await cm.GetAsync($"deals/{same.Str("id")}")).JsonAsync();
        vendorView.GetProperty("conflict").GetProperty("matchedDealIds").EnumerateArray().Select(e => e.GetString()).Should().Contain(first.Str("id"), "vendor staff see which registration it collides with");
        (await ApiSteps.ProblemAsync(await cm.PostJsonAsync($"deals/{same.Str("id")}/decision", new { decision = "approve" }), 409))
            .GetProperty("detail").GetString().Should().Contain("Another active registration holds this customer");
        await ApiSteps.ProblemAsync(await cm.PostJsonAsync($"deals/{same.Str("id")}/decision", new { decision = "reject" }), 400);
        (await cm.PostJsonAsync($"deals/{same.Str("id")}/decision", new { decision = "reject", reason = "Northwind registered this customer first." })).StatusCode.Should().Be(HttpStatusCode.OK);
        (await Mailbox.MessageAsync(Api, Demo.FabrikamAdmin, "Deal registration " + same.Str("registrationNumber") + " rejected")).Str("text").Should().Contain("registered this customer first");
        await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.CmEmea)).PostJsonAsync($"deals/{similar.Str("id")}/decision", new { decision = "reject", reason = "x" }), 404);
    }

    [Fact]
    public async Task Withdrawal_releases_the_claim_and_an_idempotent_retry_returns_the_first_registration()
    {
        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        var first = await Deals.RegisterAsync(anna, Deals.Body("Coho Winery", "cohowinery.example"));
        (await anna.PostJsonAsync($"deals/{first.Str("id")}/withdraw", new { reason = "Customer chose to wait." })).StatusCode.Should().Be(HttpStatusCode.OK);
        await ApiSteps.ProblemAsync(await anna.PostJsonAsync($"deals/{first.Str("id")}/withdraw", new { }), 409);
        await Deals.DeliveredAsync(Api, first.Str("id"), "deal.withdrawn");

        var rita = await Api.ClientAsync(Demo.FabrikamRep);
        var request = () =>
        {
            var message = new HttpRequestMessage(HttpMethod.Post, "deals") { Content = Responses.Json(Deals.Body("Coho Winery Inc.", "cohowinery.example")) };
            message.Headers.Add("Idempotency-Key", "coho-2026-11-29");
            return message;
        };
        var one = await rita.SendAsync(request());
        one.StatusCode.Should().Be(HttpStatusCode.Created, await one.Content.ReadAsStringAsync());
        var second = await rita.SendAsync(request());
        second.StatusCode.Should().Be(HttpStatusCode.Created);
        var a = await one.JsonAsync();
        var b = await second.JsonAsync();
        b.Str("id").Should().Be(a.Str("id"));
        b.Str("registrationNumber").Should().Be(a.Str("registrationNumber"));
        a.Str("status").Should().Be("Approved", "the withdrawn registration released its claim: " + a.GetRawText());
        a.GetProperty("conflict").GetProperty("claimHeld").GetBoolean().Should().BeTrue();
        var list = await (await rita.GetAsync("deals?customer=coho")).JsonAsync();
        list.GetProperty("items").EnumerateArray().Count(d => d.Str("id") == a.Str("id")).Should().Be(1);
        list.GetProperty("items").GetArrayLength().Should().Be(1);
    }

    [Fact]
    public async Task The_claims_holder_is_not_sent_to_review_by_a_registration_that_lost_the_claim_to_it()
    {
        var (_, first) = await Deals.PartnerAsync(Api, "First Comer GmbH", "first-comer.example");
        var (_, later) = await Deals.PartnerAsync(Api, "Later Comer GmbH", "later-comer.example");
        var holder = await Deals.RegisterAsync(first, Deals.Body("Contoso Pharmaceuticals", "contoso-pharma.example", amount: 90_000m));
        holder.Str("status").Should().Be("UnderReview", "above the auto-approval value");
        holder.GetProperty("conflict").GetProperty("claimHeld").GetBoolean().Should().BeTrue();
        var lost = await Deals.RegisterAsync(later, Deals.Body("Contoso Pharmaceuticals", "contoso-pharma.example"));
        lost.GetProperty("conflict").GetProperty("claimHeld").GetBoolean().Should().BeFalse();
        lost.GetProperty("conflict").Str("level").Should().Be("certain");
        var admin = await Api.ClientAsync(Demo.Admin);
        var vendorView = await (await admin.GetAsync($"deals/{lost.Str("id")}")).JsonAsync();
        vendorView.GetProperty("conflict").GetProperty("matchedDealIds").EnumerateArray().First().GetString().Should().Be(holder.Str("id"), "the claim's holder is named first");
        await Deals.DeliveredAsync(Api, lost.Str("id"), "deal.submitted"); // indexed: the holder's next assessment reads it

        // The holder is returned (it gives up the claim), fixed and submitted again: it claims the customer again and the registration that
        // lost the claim to it, still waiting for review, does not count against it. Before, it did: level "certain", to review.
        (await admin.PostJsonAsync($"deals/{holder.Str("id")}/decision", new { decision = "return", reason = "Lower the value." })).StatusCode.Should().Be(HttpStatusCode.OK);
        var returned = await first.GetAsync($"deals/{holder.Str("id")}");
        var edit = new HttpRequestMessage(HttpMethod.Patch, $"deals/{holder.Str("id")}") { Content = Responses.Json(new { estimatedValue = new { amount = 20_000m, currency = "EUR" } }) };
        edit.Headers.TryAddWithoutValidation("If-Match", returned.Headers.ETag!.ToString());
        (await first.SendAsync(edit)).StatusCode.Should().Be(HttpStatusCode.OK);
        var resubmitted = await (await first.PostJsonAsync($"deals/{holder.Str("id")}/submit", new { })).JsonAsync();
        resubmitted.GetProperty("conflict").GetProperty("claimHeld").GetBoolean().Should().BeTrue();
        resubmitted.GetProperty("conflict").Str("level").Should().Be("none");
        resubmitted.Str("status").Should().Be("Approved");
    }

    [Fact]
    public async Task A_returned_registration_gives_up_its_claim_and_outcomes_follow_the_rules()
    {
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var first = await Deals.RegisterAsync(sam, Deals.Body("Margie's Travel", "margiestravel.example", amount: 90_000m));
        first.Str("status").Should().Be("UnderReview", "above the auto-approval value");
        first.GetProperty("conflict").GetProperty("claimHeld").GetBoolean().Should().BeTrue();
        var cm = await Api.ClientAsync(Demo.CmEmea);
        await ApiSteps.ProblemAsync(await cm.PostJsonAsync($"deals/{first.Str("id")}/outcome", new { result = "won", amount = new { amount = 1m, currency = "EUR" }, closeDate = DateTime.UtcNow.ToString("yyyy-MM-dd") }), 409);
        (await cm.PostJsonAsync($"deals/{first.Str("id")}/decision", new { decision = "return", reason = "Name the project." })).StatusCode.Should().Be(HttpStatusCode.OK);
        await Deals.DeliveredAsync(Api, first.Str("id"), "deal.returned");

        var frank = await Api.ClientAsync(Demo.FabrikamAdmin);
        var second = await Deals.RegisterAsync(frank, Deals.Body("Margies Travel", "margiestravel.example"));
        second.GetProperty("conflict").GetProperty("claimHeld").GetBoolean().Should().BeTrue("a returned registration is not protected");
        second.Str("status").Should().Be("Approved");
        await Deals.DeliveredAsync(Api, second.Str("id"), "deal.approved");
        var resubmitted = await (await sam.PostJsonAsync($"deals/{first.Str("id")}/submit", new { })).JsonAsync();
        resubmitted.Str("status").Should().Be("UnderReview");
        resubmitted.GetProperty("conflict").Str("level").Should().Be("certain");
        resubmitted.GetProperty("conflict").GetProperty("claimHeld").GetBoolean().Should().BeFalse();
        await ApiSteps.ProblemAsync(await cm.PostJsonAsync($"deals/{first.Str("id")}/decision", new { decision = "approve" }), 409);

        var wrongCurrency = await ApiSteps.ProblemAsync(await frank.PostJsonAsync($"deals/{second.Str("id")}/outcome",
            new { result = "won", amount = new { amount = 5_000_000m, currency = "JPY" }, closeDate = DateTime.UtcNow.ToString("yyyy-MM-dd") }), 422);
        wrongCurrency.GetProperty("errors").TryGetProperty("amount.currency", out _).Should().BeTrue();
        var draft = await Deals.RegisterAsync(frank, Deals.Body("Draft Only Ltd", "draftonly.example", draft: true));
        await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.CmAmer)).GetAsync($"deals/{draft.Str("id")}"), 404);
        (await (await (await Api.ClientAsync(Demo.CmAmer)).GetAsync($"deals?partnerId={draft.Str("partnerId")}")).JsonAsync())
            .GetProperty("items").EnumerateArray().Should().NotContain(d => d.Str("id") == draft.Str("id"), "drafts are the partner's own");
        var (_, etag) = await ApiSteps.GetWithETagAsync(frank, $"deals/{draft.Str("id")}");
        await ApiSteps.ProblemAsync(await frank.SendAsync(ApiSteps.Patch($"deals/{draft.Str("id")}", new { notes = "x" }, "*")), 428);
        (await frank.SendAsync(ApiSteps.Patch($"deals/{draft.Str("id")}", new { notes = "Ready soon." }, etag))).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_house_account_is_a_certain_conflict_that_is_never_auto_approved()
    {
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var deal = await Deals.RegisterAsync(sam, Deals.Body("Woodgrove Bank plc", "woodgrovebank.example", amount: 1_000m));
        deal.Str("status").Should().Be("UnderReview");
        deal.GetProperty("conflict").Str("level").Should().Be("certain");
        string.Join(" ", deal.GetProperty("conflict").GetProperty("evidence").EnumerateArray().Select(e => e.GetString())).Should().Contain("house account");
        var admin = await Api.ClientAsync(Demo.Admin);
        var houses = await (await admin.GetAsync("house-accounts")).JsonAsync();
        houses.GetProperty("items").EnumerateArray().Should().Contain(h => h.Str("name") == "Woodgrove Bank");
        await ApiSteps.ProblemAsync(await sam.GetAsync("house-accounts"), 403);
        await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.CmEmea)).PostJsonAsync("house-accounts", new { name = "X", domain = "x.example" }), 403);

        var created = await admin.PostJsonAsync("house-accounts", new { name = "Litware Bank", domain = "https://litwarebank.example" });
        created.StatusCode.Should().Be(HttpStatusCode.Created);
        var house = await created.JsonAsync();
        house.Str("domain").Should().Be("litwarebank.example");
        (await Deals.RegisterAsync(sam, Deals.Body("Litware Bank", "litwarebank.example"))).GetProperty("conflict").Str("level").Should().Be("certain");
        var (body, etag) = await ApiSteps.GetWithETagAsync(admin, $"house-accounts/{house.Str("id")}");
        var delete = new HttpRequestMessage(HttpMethod.Delete, $"house-accounts/{body.Str("id")}");
        delete.Headers.TryAddWithoutValidation("If-Match", etag);
        (await admin.SendAsync(delete)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await Deals.RegisterAsync(sam, Deals.Body("Litware Bank Services", "litwarebank-services.example"))).GetProperty("conflict").Str("level").Should().NotBe("certain");
    }

    [Fact]
    public async Task Bad_input_names_the_field_and_writes_nothing()
    {
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        async Task<JsonElement> Bad(object body, int status) => await ApiSteps.ProblemAsync(await sam.PostJsonAsync("deals", body), status);
        var missing = await Bad(new { customer = new { country = "DE" }, products = new[] { "cloud-backup" }, estimatedValue = new { amount = 10, currency = "EUR" }, expectedCloseDate = Deals.CloseDate() }, 400);
        missing.GetProperty("errors").EnumerateObject().Select(e => e.Name).Should().Contain(["customer.companyName", "customer.domain"]);
        (await Bad(Deals.Body("A Co", "gmail.com"), 400)).GetProperty("errors").TryGetProperty("customer.domain", out _).Should().BeTrue();
        (await Bad(Deals.Body("A Co", "aco.example", products: ["no-such-line"]), 422)).GetProperty("errors").TryGetProperty("products[0]", out _).Should().BeTrue();
        (await Bad(Deals.Body("A Co", "aco.example", currency: "XYZ"), 400)).GetProperty("errors").TryGetProperty("estimatedValue.currency", out _).Should().BeTrue();
        (await Bad(Deals.Body("A Co", "aco.example", amount: 0), 400)).GetProperty("errors").TryGetProperty("estimatedValue.amount", out _).Should().BeTrue();
        (await Bad(Deals.Body("A Co", "aco.example", amount: 5_000_000_000m), 400)).GetProperty("errors").TryGetProperty("estimatedValue.amount", out _).Should().BeTrue();
        (await Bad(Deals.Body("A Co", "aco.example", amount: 10.001m), 400)).GetProperty("errors").TryGetProperty("estimatedValue.amount", out _).Should().BeTrue();
        var past = new { customer = new { companyName = "A Co", domain = "aco.example", country = "DE" }, products = new[] { "cloud-backup" }, estimatedValue = new { amount = 10, currency = "EUR" }, expectedCloseDate = "2020-01-01" };
        (await Bad(past, 400)).GetProperty("errors").TryGetProperty("expectedCloseDate", out _).Should().BeTrue();
        await Bad(new { customer = new { companyName = "A Co", domain = "aco.example", country = "DE" }, products = new[] { "cloud-backup" }, estimatedValue = new { amount = "ten", currency = "EUR" }, expectedCloseDate = Deals.CloseDate() }, 400);
        await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.CmEmea)).PostJsonAsync("deals", Deals.Body("A Co", "aco.example")), 403);
        (await (await sam.GetAsync("deals?customer=a%20co")).JsonAsync()).GetProperty("items").GetArrayLength().Should().Be(0, "nothing was half-written");

        // A rep cannot touch another rep's registration; another company's id is 404; drafts need If-Match.
        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        var draft = await Deals.RegisterAsync(anna, Deals.Body("Fourth Coffee", "fourthcoffee.example", draft: true));
        draft.Str("status").Should().Be("Draft");
        await ApiSteps.ProblemAsync(await sam.GetAsync($"deals/{draft.Str("id")}"), 404);
        await ApiSteps.ProblemAsync(await sam.PostJsonAsync($"deals/{draft.Str("id")}/withdraw", new { }), 404);
        await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.FabrikamAdmin)).PostJsonAsync($"deals/{draft.Str("id")}/submit", new { }), 404);
        await ApiSteps.ProblemAsync(await anna.GetAsync("deals/deal_" + new string('a', 56)), 404);
        await ApiSteps.ProblemAsync(await anna.SendAsync(ApiSteps.Patch($"deals/{draft.Str("id")}", new { notes = "x" }, null)), 428);
        var (_, etag) = await ApiSteps.GetWithETagAsync(anna, $"deals/{draft.Str("id")}");
        var patched = await anna.SendAsync(ApiSteps.Patch($"deals/{draft.Str("id")}", new { estimatedValue = new { amount = 30_000, currency = "EUR" } }, etag));
        patched.StatusCode.Should().Be(HttpStatusCode.OK, await patched.Content.ReadAsStringAsync());
        await ApiSteps.ProblemAsync(await anna.SendAsync(ApiSteps.Patch($"deals/{draft.Str("id")}", new { notes = "stale" }, etag)), 412);
        var submitted = await anna.PostJsonAsync($"deals/{draft.Str("id")}/submit", new { });
        submitted.StatusCode.Should().Be(HttpStatusCode.OK, await submitted.Content.ReadAsStringAsync());
        var done = await submitted.JsonAsync();
        done.Str("status").Should().Be("Approved");
        done.GetProperty("estimatedValue").GetProperty("amount").GetDecimal().Should().Be(30_000m);
        await ApiSteps.ProblemAsync(await anna.SendAsync(ApiSteps.Patch($"deals/{draft.Str("id")}", new { notes = "late" }, submitted.Headers.ETag!.ToString())), 409);
    }

    [Fact]
    public async Task Twenty_partners_registering_one_customer_at_once_leave_exactly_one_claim_holder()
    {
        var partners = new List<HttpClient>();
        for (var i = 0; i < 20; i++) partners.Add((await Deals.PartnerAsync(Api, $"Racer Partner {i:D2}", $"racer{i:D2}.example")).Admin);
        using var start = new SemaphoreSlim(0);
        var tasks = partners.Select(async client =>
        {
            await start.WaitAsync();
            return await client.PostJsonAsync("deals", Deals.Body("Contested Customer Ltd", "contested-customer.example"));
        }).ToList();
        start.Release(partners.Count);
        var responses = await Task.WhenAll(tasks);
        var deals = new List<JsonElement>();
        foreach (var response in responses)
        {
            response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
            deals.Add(await response.JsonAsync());
        }
        deals.Count(d => d.GetProperty("conflict").GetProperty("claimHeld").GetBoolean()).Should().Be(1);
        var holder = deals.Single(d => d.GetProperty("conflict").GetProperty("claimHeld").GetBoolean());
        holder.Str("status").Should().Be("Approved");
        var others = deals.Where(d => d.Str("id") != holder.Str("id")).ToList();
        others.Should().HaveCount(19).And.OnlyContain(d => d.Str("status") == "UnderReview" && d.GetProperty("conflict").Str("level") == "certain");
        foreach (var d in deals) DateTimeOffset.Parse(d.Str("submittedAt"), System.Globalization.CultureInfo.InvariantCulture).Should().BeAfter(DateTimeOffset.UtcNow.AddMinutes(-5));
    }

    [Fact]
    public async Task Product_lines_are_listed_for_everyone_and_managed_by_admins()
    {
        var lines = await (await (await Api.ClientAsync(Demo.NorthwindRep)).GetAsync("product-lines")).JsonAsync();
        lines.GetProperty("items").EnumerateArray().Select(l => l.Str("id")).Should().Contain(["cloud-backup", "endpoint-security"]);
        var admin = await Api.ClientAsync(Demo.Admin);
        await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.NorthwindAdmin)).PostJsonAsync("product-lines", new { id = "x-line", name = "X" }), 403);
        await ApiSteps.ProblemAsync(await admin.PostJsonAsync("product-lines", new { id = "Bad Id", name = "X" }), 400);
        var created = await admin.PostJsonAsync("product-lines", new { id = "iot-gateway", name = "IoT Gateway" });
        created.StatusCode.Should().Be(HttpStatusCode.Created);
        await ApiSteps.ProblemAsync(await admin.PostJsonAsync("product-lines", new { id = "iot-gateway", name = "Again" }), 409);
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        (await Deals.RegisterAsync(sam, Deals.Body("Graphic Design Institute", "gdi.example", products: ["iot-gateway"]))).Str("status").Should().Be("Approved");
        var retire = new HttpRequestMessage(HttpMethod.Put, "product-lines/iot-gateway") { Content = Responses.Json(new { active = false }) };
        retire.Headers.TryAddWithoutValidation("If-Match", created.Headers.ETag!.ToString());
        (await admin.SendAsync(retire)).StatusCode.Should().Be(HttpStatusCode.OK);
        await ApiSteps.ProblemAsync(await sam.PostJsonAsync("deals", Deals.Body("Humongous Insurance", "humongous.example", products: ["iot-gateway"])), 422);
    }
}

/// <summary>Deal deadlines in seconds: review reminders, protection reminders and expiry, an extension that moves the timer.</summary>
public sealed class ShortDealFixture : ApiHostFixture
{
    public override async Task InitializeAsync() => Api = await ApiHost.StartAsync(new Dictionary<string, string?>
    {
        // Protection long enough that a workflow started late on a loaded machine still sends its (late) reminders before the expiry.
        ["Deals:ProtectionPeriod"] = "00:00:30",
        ["Deals:ExpiryFirstReminderBefore"] = "00:00:20",
        ["Deals:ExpirySecondReminderBefore"] = "00:00:10",
        ["Deals:ReviewReminderAfter"] = "00:00:02",
        ["Deals:ReviewEscalateAfter"] = "00:00:04",
    });
}

public sealed class DealDeadlineTests(ShortDealFixture fixture) : IClassFixture<ShortDealFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task Protection_sends_two_reminders_then_expires_and_releases_the_claim()
    {
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var deal = await Deals.RegisterAsync(sam, Deals.Body("Expiring Customer GmbH", "expiring-customer.example"));
        deal.Str("status").Should().Be("Approved");
        var id = deal.Str("id");
        var expired = await Responses.EventuallyAsync(async () => await (await sam.GetAsync($"deals/{id}")).JsonAsync(), d => d.Str("status") == "Expired", TimeSpan.FromSeconds(180));
        expired.Str("status").Should().Be("Expired");
        // The reminders' emails leave through the outbox after their commits: wait until at least two arrived, then expect exactly two.
        (await Responses.EventuallyAsync(() => Mailbox.CountAsync(Api, Demo.NorthwindRep, "Protection of Expiring Customer GmbH"), n => n >= 2, TimeSpan.FromSeconds(180))).Should().Be(2);
        (await Mailbox.MessageAsync(Api, Demo.NorthwindRep, $"Deal registration {deal.Str("registrationNumber")} expired")).Str("text").Should().Contain("Expiring Customer GmbH").And.Contain("open for registration again");
        var actions = (await (await sam.GetAsync($"deals/{id}/timeline")).JsonAsync()).GetProperty("items").EnumerateArray().Select(e => e.Str("action")).ToList();
        actions.Should().ContainInOrder("deal.expire", "deal.expirySecondReminder", "deal.expiryFirstReminder", "deal.submitted");
        await Deals.DeliveredAsync(Api, id, "deal.expired");

        var frank = await Api.ClientAsync(Demo.FabrikamAdmin);
        var next = await Deals.RegisterAsync(frank, Deals.Body("Expiring Customer GmbH", "expiring-customer.example"));
        next.GetProperty("conflict").GetProperty("claimHeld").GetBoolean().Should().BeTrue("expiry released the claim");
        next.Str("status").Should().Be("Approved");
    }

    [Fact]
    public async Task An_undecided_registration_reminds_the_channel_manager_then_escalates_to_admins_with_links()
    {
        var rita = await Api.ClientAsync(Demo.FabrikamRep);
        var deal = await Deals.RegisterAsync(rita, Deals.Body("Big Ticket Corp", "bigticket.example", amount: 250_000m, country: "US"));
        deal.Str("status").Should().Be("UnderReview", "above the auto-approval value");
        (await Mailbox.MessageAsync(Api, Demo.CmAmer, $"Reminder: deal registration {deal.Str("registrationNumber")}", TimeSpan.FromSeconds(180))).Str("text").Should().Contain("Big Ticket Corp");
        var escalated = await Mailbox.MessageAsync(Api, Demo.Admin, $"Escalated: deal registration {deal.Str("registrationNumber")}", TimeSpan.FromSeconds(180));
        var link = Mailbox.ApprovalPath(Mailbox.Link(escalated, "/approvals/"));
        var returned = await Api.Anonymous.PostAsync(link, new FormUrlEncodedContent([new("decision", "return"), new("reason", "Add the buying center contact.")]));
        returned.StatusCode.Should().Be(HttpStatusCode.OK, await returned.Content.ReadAsStringAsync());
        (await Mailbox.MessageAsync(Api, Demo.FabrikamRep, $"Deal registration {deal.Str("registrationNumber")} returned")).Str("text").Should().Contain("Add the buying center contact.");
        var (_, etag) = await ApiSteps.GetWithETagAsync(rita, $"deals/{deal.Str("id")}");
        (await rita.SendAsync(ApiSteps.Patch($"deals/{deal.Str("id")}", new { customer = new { contactName = "Dana Buyer" } }, etag))).StatusCode.Should().Be(HttpStatusCode.OK);
        var resubmitted = await (await rita.PostJsonAsync($"deals/{deal.Str("id")}/submit", new { })).JsonAsync();
        resubmitted.Str("status").Should().Be("UnderReview");
        resubmitted.GetProperty("conflict").GetProperty("claimHeld").GetBoolean().Should().BeTrue("nobody claimed the customer meanwhile, so the resubmission claims it again");
        await Responses.EventuallyAsync(() => Mailbox.CountAsync(Api, Demo.CmAmer, $"Reminder: deal registration {deal.Str("registrationNumber")}"), n => n >= 2, TimeSpan.FromSeconds(180));
        (await Mailbox.CountAsync(Api, Demo.CmAmer, $"Reminder: deal registration {deal.Str("registrationNumber")}")).Should().Be(2, "the resubmission starts a new review cycle with its own reminder");
    }
}

/// <summary>A partner's registrations follow it to its new channel manager; the previous one loses them at once.</summary>
public sealed class DealReassignmentTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task After_a_reassignment_the_old_channel_manager_no_longer_sees_the_partners_deals_and_the_new_one_does()
    {
        var rita = await Api.ClientAsync(Demo.FabrikamRep);
        var deal = await Deals.RegisterAsync(rita, Deals.Body("Reassigned Customer Inc", "reassigned-customer.example", country: "US"));
        var amer = await Api.ClientAsync(Demo.CmAmer);
        var emea = await Api.ClientAsync(Demo.CmEmea);
        await Responses.EventuallyAsync(async () => await (await amer.GetAsync("deals")).JsonAsync(), l => l.GetProperty("items").EnumerateArray().Any(d => d.Str("id") == deal.Str("id")));

        var admin = await Api.ClientAsync(Demo.Admin);
        var partnerId = deal.Str("partnerId");
        var emeaId = (await (await emea.GetAsync("me")).JsonAsync()).Str("userId");
        var (_, etag) = await ApiSteps.GetWithETagAsync(admin, $"partners/{partnerId}");
        (await admin.SendAsync(ApiSteps.Patch($"partners/{partnerId}", new { channelManagerId = emeaId }, etag))).StatusCode.Should().Be(HttpStatusCode.OK);

        await ApiSteps.ProblemAsync(await amer.GetAsync($"deals/{deal.Str("id")}"), 404);
        await ApiSteps.ProblemAsync(await amer.PostJsonAsync($"deals/{deal.Str("id")}/outcome", new { result = "lost", reason = "x" }), 404);
        var moved = await Responses.EventuallyAsync(async () => await (await emea.GetAsync("deals")).JsonAsync(), l => l.GetProperty("items").EnumerateArray().Any(d => d.Str("id") == deal.Str("id")));
        moved.GetProperty("items").EnumerateArray().Should().Contain(d => d.Str("id") == deal.Str("id"));
        (await Responses.EventuallyAsync(async () => await (await amer.GetAsync("deals")).JsonAsync(), l => !l.GetProperty("items").EnumerateArray().Any(d => d.Str("partnerId") == partnerId)))
            .GetProperty("items").EnumerateArray().Should().NotContain(d => d.Str("partnerId") == partnerId);
        (await emea.GetAsync($"deals/{deal.Str("id")}")).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}

/// <summary>
/// An extension on the program's real protection period: it needs no short deadline (it checks the moved timer, not an expiry), and a
/// 30 s protection expired before the extension was approved once, with two suite copies running.
/// </summary>
public sealed class DealExtensionTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task An_approved_extension_moves_the_expiry_and_only_one_is_allowed()
    {
        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        var deal = await Deals.RegisterAsync(anna, Deals.Body("Extended Customer AG", "extended-customer.example"));
        var id = deal.Str("id");
        var originalEnd = DateTimeOffset.Parse(deal.Str("protectedUntil"), System.Globalization.CultureInfo.InvariantCulture);
        await ApiSteps.ProblemAsync(await anna.PostJsonAsync($"deals/{id}/extension-requests", new { days = 0, reason = "x" }), 400);
        var asked = await anna.PostJsonAsync($"deals/{id}/extension-requests", new { days = 30, reason = "Procurement moved to January." });
        asked.StatusCode.Should().Be(HttpStatusCode.Created, await asked.Content.ReadAsStringAsync());
        await ApiSteps.ProblemAsync(await anna.PostJsonAsync($"deals/{id}/extension-requests", new { days = 30, reason = "again" }), 409);

        var mail = await Mailbox.MessageAsync(Api, Demo.CmEmea, "Extension requested: Extended Customer AG");
        var link = Mailbox.ApprovalPath(Mailbox.Link(mail, "/approvals/"));
        (await (await Api.Anonymous.GetAsync(link)).Content.ReadAsStringAsync()).Should().Contain("Procurement moved to January.").And.NotContain("value=\"return\"");
        var approved = await Api.Anonymous.PostAsync(link, new FormUrlEncodedContent([new("decision", "approve"), new("reason", "")]));
        approved.StatusCode.Should().Be(HttpStatusCode.OK, await approved.Content.ReadAsStringAsync());
        var extended = await (await anna.GetAsync($"deals/{id}")).JsonAsync();
        DateTimeOffset.Parse(extended.Str("protectedUntil"), System.Globalization.CultureInfo.InvariantCulture).Should().Be(originalEnd.AddDays(30));

        // The running workflow continued as new with the new end as its expiry: the original end's timer is gone (no second instance).
        static JsonElement Field(JsonElement o, string name) => o.EnumerateObject().FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)).Value;
        await Api.WorkflowInputAsync("deal-" + id, i => Field(i, "phase") is var phase && (phase.ValueKind == JsonValueKind.Number ? phase.GetInt32() == 1 : phase.ValueKind == JsonValueKind.String && phase.GetString() == "Protection")
            && Field(i, "cycle").ValueKind == JsonValueKind.String && (Field(i, "cycle").GetDateTimeOffset() - originalEnd.AddDays(30)).Duration() < TimeSpan.FromMilliseconds(1));
        (await (await anna.GetAsync($"deals/{id}")).JsonAsync()).Str("status").Should().Be("Approved", "the extension moved the running timer");
        (await ApiSteps.ProblemAsync(await anna.PostJsonAsync($"deals/{id}/extension-requests", new { days = 10, reason = "one more" }), 422))
            .GetProperty("errors").TryGetProperty("days", out _).Should().BeTrue();

        var won = await anna.PostJsonAsync($"deals/{id}/outcome", new { result = "won", amount = new { amount = 18_500.50m, currency = "EUR" }, closeDate = DateTime.UtcNow.ToString("yyyy-MM-dd") });
        won.StatusCode.Should().Be(HttpStatusCode.OK, await won.Content.ReadAsStringAsync());
        (await won.JsonAsync()).Str("status").Should().Be("Won");
        await ApiSteps.ProblemAsync(await anna.PostJsonAsync($"deals/{id}/outcome", new { result = "lost", reason = "x" }), 409);
        var partnerId = deal.Str("partnerId");
        var stats = await Responses.EventuallyAsync(async () => await (await anna.GetAsync($"partners/{partnerId}/deal-stats")).JsonAsync(), s => s.GetProperty("won").GetInt32() >= 1);
        stats.GetProperty("wonValue").GetProperty("EUR").GetDecimal().Should().BeGreaterThanOrEqualTo(18_500.50m);
    }

    [Fact]
    public async Task A_workflow_wait_that_times_out_says_where_the_workflow_stands()
    {
        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        var deal = await Deals.RegisterAsync(anna, Deals.Body("Diagnosed Customer AG", "diagnosed-customer.example"));
        var instance = "deal-" + deal.Str("id");
        // Running: its first episode has run, so its history is stored (a scheduled instance is Pending and has none yet).
        var client = Api.Services.GetRequiredService<Microsoft.DurableTask.Client.DurableTaskClient>();
        await Responses.EventuallyAsync(() => client.GetInstanceAsync(instance, getInputsAndOutputs: false),
            s => s is { RuntimeStatus: Microsoft.DurableTask.Client.OrchestrationRuntimeStatus.Running });

        var act = () => Api.WorkflowInputAsync(instance, _ => false, TimeSpan.FromMilliseconds(1));
        var failure = (await act.Should().ThrowAsync<TimeoutException>()).Which.Message;
        failure.Should().Contain($"Workflow {instance}:").And.Contain("status: Running").And.Contain("ExecutionStarted(DealOrchestrator)@")
            .And.Contain("control queue: ").And.Contain("outbox pending: ").And.Contain("Durable worker warnings: ").And.NotContain("not read");
    }
}
