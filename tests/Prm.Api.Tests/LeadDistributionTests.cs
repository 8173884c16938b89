using System.Net;
using System.Text.Json;
using Prm.Testing;

namespace Prm.Api.Tests;

internal static class Leads
{
    public static object Body(string company, string domain, string email, string country = "DE", bool? consent = true, string[]? lines = null, string? externalId = null, string? notes = "Call after 3pm, budget approved.") => new
    {
        company = new { name = company, domain, country, industry = "Manufacturing", sizeBand = "200-999", postalCode = "10115" },
        contact = new { name = "Chris Contact", email, phone = "+49 30 1234567", jobTitle = "CIO" },
        productLines = lines ?? ["cloud-backup"],
        source = new { campaign = "Spring webinar", channel = "web" },
        grade = "A",
        estimatedValue = new { amount = 25_000m, currency = "EUR" },
        notes,
        externalId,
        consentToShare = consent,
    };

    public static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..10];

    public static async Task<JsonElement> CreateAsync(HttpClient client, object body, int status = 201)
    {
        var response = await client.PostJsonAsync("leads", body);
        ((int)response.StatusCode).Should().Be(status, await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    public static async Task<JsonElement> GetAsync(HttpClient client, string leadId)
    {
        var response = await client.GetAsync($"leads/{leadId}");
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }
}

/// <summary>Lead distribution end to end on the local host: intake, routing by the demo rules, masked offer, acceptance, conversion.</summary>
public sealed class LeadDistributionTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task An_emea_lead_is_offered_to_Northwind_masked_accepted_seen_whole_and_converted_into_a_deal_that_carries_the_lead_id()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var company = "Contoso Leads " + Guid.NewGuid().ToString("N")[..6];
        var domain = Leads.Unique("contoso") + ".example";
        var email = "chris@" + domain;
        var created = await Leads.CreateAsync(admin, Leads.Body(company, domain, email));
        var northwind = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        created.Str("outcome").Should().Be("offered");
        created.Str("offeredTo").Should().Be(northwind);
        var leadId = created.GetProperty("lead").Str("id");
        var trace = created.GetProperty("lead").GetProperty("offers")[0].GetProperty("trace");
        trace.Str("ruleName").Should().Be("EMEA leads to Northwind");

        // The offer email to Northwind's admin names no customer data.
        var mail = await Responses.EventuallyAsync(
            async () => await (await Api.Anonymous.GetAsync($"dev/mail?to={Uri.EscapeDataString(Demo.NorthwindAdmin)}")).Content.ReadAsStringAsync(),
            text => text.Contains(leadId, StringComparison.Ordinal));
        var offerMail = JsonDocument.Parse(mail).RootElement.GetProperty("items").EnumerateArray().First(m => m.GetRawText().Contains(leadId, StringComparison.Ordinal));
        foreach (var secret in new[] { company, domain, email, "Chris Contact", "Call after 3pm", "+49 30" })
        {
            offerMail.GetRawText().Should().NotContain(secret, "the offer email names no customer data");
        }
        offerMail.GetRawText().Should().Contain("Manufacturing");

        // Before acceptance the partner sees the facts, not the customer.
        var rep = await Api.ClientAsync(Demo.NorthwindRep);
        var masked = await Leads.GetAsync(rep, leadId);
        masked.GetProperty("masked").GetBoolean().Should().BeTrue();
        masked.GetProperty("company").GetProperty("name").ValueKind.Should().Be(JsonValueKind.Null);
        masked.GetProperty("company").GetProperty("domain").ValueKind.Should().Be(JsonValueKind.Null);
        masked.GetProperty("company").Str("industry").Should().Be("Manufacturing");
        masked.GetProperty("company").Str("country").Should().Be("DE");
        masked.GetProperty("company").Str("sizeBand").Should().Be("200-999");
        masked.GetProperty("contact").ValueKind.Should().Be(JsonValueKind.Null);
        masked.GetProperty("notes").ValueKind.Should().Be(JsonValueKind.Null);
        masked.Str("grade").Should().Be("A");
        masked.GetProperty("estimatedValue").GetProperty("amount").GetDecimal().Should().Be(25_000m);
        masked.GetProperty("acceptDeadline").ValueKind.Should().Be(JsonValueKind.String);
        masked.GetRawText().Should().NotContain(company).And.NotContain(email);
        masked.GetProperty("offers")[0].GetProperty("trace").ValueKind.Should().Be(JsonValueKind.Null, "partners never see routing traces");
        masked.GetProperty("offers")[0].GetProperty("openedAt").ValueKind.Should().Be(JsonValueKind.String, "the first read opened the offer");

        // Another partner does not see it at all.
        var fabrikam = await Api.ClientAsync(Demo.FabrikamAdmin);
        (await fabrikam.GetAsync($"leads/{leadId}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await fabrikam.PostAsync($"leads/{leadId}/accept", null)).StatusCode.Should().Be(HttpStatusCode.NotFound);

        var accepted = await rep.PostAsync($"leads/{leadId}/accept", null);
        accepted.StatusCode.Should().Be(HttpStatusCode.OK, await accepted.Content.ReadAsStringAsync());
        var whole = await accepted.JsonAsync();
        whole.GetProperty("masked").GetBoolean().Should().BeFalse();
        whole.GetProperty("company").Str("name").Should().Be(company);
        whole.GetProperty("contact").Str("email").Should().Be(email);
        whole.Str("status").Should().Be("Accepted");
        whole.Str("assignedToName").Should().Be("Sam Northwind");

        var converted = await rep.PostJsonAsync($"leads/{leadId}/convert", new { });
        converted.StatusCode.Should().Be(HttpStatusCode.Created, await converted.Content.ReadAsStringAsync());
        var deal = await converted.JsonAsync();
        deal.Str("leadId").Should().Be(leadId);
        deal.GetProperty("customer").Str("companyName").Should().Be(company);
        var after = await Leads.GetAsync(rep, leadId);
        after.Str("status").Should().Be("Converted");
        after.Str("dealId").Should().Be(deal.Str("id"));

        var again = await rep.PostJsonAsync($"leads/{leadId}/convert", new { });
        (await ApiSteps.ProblemAsync(again, 409)).GetProperty("detail").GetString().Should().Contain(deal.Str("id"));

        // The partner's figures follow from the outbox.
        var stats = await Responses.EventuallyAsync(async () => await (await rep.GetAsync($"partners/{northwind}/lead-stats")).JsonAsync(),
            s => s.GetProperty("converted").GetInt32() >= 1);
        stats.GetProperty("accepted").GetInt32().Should().BeGreaterThanOrEqualTo(1);
    }

    [Fact]
    public async Task Two_members_of_the_offered_partner_accepting_at_once_one_wins()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var domain = Leads.Unique("race") + ".example";
        var leadId = (await Leads.CreateAsync(admin, Leads.Body("Race Corp", domain, "buyer@" + domain))).GetProperty("lead").Str("id");
        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var answers = await Task.WhenAll(anna.PostAsync($"leads/{leadId}/accept", null), sam.PostAsync($"leads/{leadId}/accept", null));
        answers.Count(a => a.StatusCode == HttpStatusCode.OK).Should().Be(1, string.Join(" | ", await Task.WhenAll(answers.Select(a => a.Content.ReadAsStringAsync()))));
        answers.Count(a => a.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.NotFound).Should().Be(1);
        var lead = await Leads.GetAsync(admin, leadId);
        lead.GetProperty("offers").EnumerateArray().Count(o => o.Str("status") == "Accepted").Should().Be(1);
    }

    [Theory]
    [InlineData("consent", 400, "consentToShare")]
    [InlineData("productLine", 422, "productLines[0]")]
    [InlineData("email", 400, "contact.email")]
    [InlineData("country", 400, "company.country")]
    [InlineData("notes", 400, "notes")]
    [InlineData("grade", 400, "grade")]
    public async Task Bad_intake_is_a_problem_naming_the_field_and_writes_nothing(string what, int status, string field)
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var domain = Leads.Unique("bad") + ".example";
        var externalId = Leads.Unique("ext");
        var body = what switch
        {
            "consent" => Leads.Body("Bad Corp", domain, "a@" + domain, consent: null, externalId: externalId),
            "productLine" => Leads.Body("Bad Corp", domain, "a@" + domain, lines: ["no-such-line"], externalId: externalId),
            "email" => Leads.Body("Bad Corp", domain, "not-an-email", externalId: externalId),
            "country" => Leads.Body("Bad Corp", domain, "a@" + domain, country: "XX", externalId: externalId),
            "notes" => Leads.Body("Bad Corp", domain, "a@" + domain, notes: new string('n', 4001), externalId: externalId),
            _ => (object)new { company = new { name = "Bad Corp", country = "DE" }, contact = new { name = "A", email = "a@" + domain }, productLines = new[] { "cloud-backup" }, grade = "Z", consentToShare = true },
        };
        var problem = await ApiSteps.ProblemAsync(await admin.PostJsonAsync("leads", body), status);
        problem.GetProperty("errors").TryGetProperty(field, out _).Should().BeTrue(problem.GetRawText());
        // Nothing was written: the same externalId with a valid body creates the lead (201), not an update.
        if (what != "grade") await Leads.CreateAsync(admin, Leads.Body("Good Corp", domain, "good@" + domain, externalId: externalId), 201);
    }

    [Fact]
    public async Task The_same_external_id_updates_the_lead_and_the_same_contact_merges_and_no_consent_keeps_it_with_the_vendor()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var domain = Leads.Unique("idem") + ".example";
        var externalId = Leads.Unique("crm");
        var first = await Leads.CreateAsync(admin, Leads.Body("Idem Corp", domain, "one@" + domain, externalId: externalId));
        var second = await Leads.CreateAsync(admin, Leads.Body("Idem Corp Renamed", domain, "one@" + domain, externalId: externalId), 200);
        second.GetProperty("lead").Str("id").Should().Be(first.GetProperty("lead").Str("id"));
        second.GetProperty("lead").GetProperty("company").Str("name").Should().Be("Idem Corp Renamed");
        var merged = await Leads.CreateAsync(admin, Leads.Body("Idem Corp", domain, "one@" + domain, notes: "Asked again"), 200);
        merged.Str("outcome").Should().Be("merged");
        merged.GetProperty("lead").Str("id").Should().Be(first.GetProperty("lead").Str("id"));
        merged.GetProperty("lead").GetProperty("history").EnumerateArray().Should().Contain(n => n.Str("action") == "merged");

        var noConsentDomain = Leads.Unique("private") + ".example";
        var vendorOnly = await Leads.CreateAsync(admin, Leads.Body("Private Corp", noConsentDomain, "x@" + noConsentDomain, consent: false));
        vendorOnly.GetProperty("lead").Str("status").Should().Be("VendorOnly");
        vendorOnly.GetProperty("lead").GetProperty("offers").GetArrayLength().Should().Be(0);
        var reroute = await admin.PostJsonAsync($"leads/{vendorOnly.GetProperty("lead").Str("id")}/reroute", new { });
        ((int)reroute.StatusCode).Should().Be(409, await reroute.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Decline_needs_a_reason_routes_the_lead_on_and_bad_data_goes_to_vendor_review()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        var domain = Leads.Unique("decline") + ".example";
        var leadId = (await Leads.CreateAsync(admin, Leads.Body("Decline Corp", domain, "d@" + domain))).GetProperty("lead").Str("id");
        (await ApiSteps.ProblemAsync(await anna.PostJsonAsync($"leads/{leadId}/decline", new { }), 400)).GetProperty("errors").TryGetProperty("reason", out _).Should().BeTrue();
        var declined = await anna.PostJsonAsync($"leads/{leadId}/decline", new { reason = "notMyTerritory" });
        declined.StatusCode.Should().Be(HttpStatusCode.OK, await declined.Content.ReadAsStringAsync());
        var lead = await Leads.GetAsync(admin, leadId);
        var fabrikam = await ApiSteps.PartnerIdAsync(Api, "Fabrikam Solutions");
        lead.Str("status").Should().Be("Offered");
        lead.GetProperty("offers")[1].Str("partnerId").Should().Be(fabrikam, "the fallback weighted rule excludes the partner that declined");
        lead.GetProperty("offers")[1].GetProperty("trace").Str("ruleName").Should().Be("Weighted over all Active partners");

        var frank = await Api.ClientAsync(Demo.FabrikamAdmin);
        (await frank.PostJsonAsync($"leads/{leadId}/decline", new { reason = "badData" })).StatusCode.Should().Be(HttpStatusCode.OK);
        var reviewed = await Leads.GetAsync(admin, leadId);
        reviewed.Str("status").Should().Be("VendorPool");
        reviewed.Str("poolReason").Should().Be("review:badData");
        (await anna.PostAsync($"leads/{leadId}/accept", null)).StatusCode.Should().Be(HttpStatusCode.Conflict, "Northwind declined it");
    }

    [Fact]
    public async Task A_rep_cannot_see_or_work_another_reps_lead_and_a_partner_admin_assigns_it()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var domain = Leads.Unique("assign") + ".example";
        var leadId = (await Leads.CreateAsync(admin, Leads.Body("Assign Corp", domain, "a@" + domain))).GetProperty("lead").Str("id");
        (await anna.PostAsync($"leads/{leadId}/accept", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await sam.GetAsync($"leads/{leadId}")).StatusCode.Should().Be(HttpStatusCode.NotFound, "the lead is not assigned to Sam");
        (await sam.PostJsonAsync($"leads/{leadId}/status", new { status = "Contacted" })).StatusCode.Should().Be(HttpStatusCode.NotFound);
        var northwind = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var samUser = await ApiSteps.UserByEmailAsync(anna, northwind, Demo.NorthwindRep);
        var assigned = await anna.PostJsonAsync($"leads/{leadId}/assign", new { userId = samUser.Str("id") });
        assigned.StatusCode.Should().Be(HttpStatusCode.OK, await assigned.Content.ReadAsStringAsync());
        var contacted = await sam.PostJsonAsync($"leads/{leadId}/status", new { status = "Contacted" });
        contacted.StatusCode.Should().Be(HttpStatusCode.OK, await contacted.Content.ReadAsStringAsync());
        (await contacted.JsonAsync()).Str("status").Should().Be("Contacted");
        (await ApiSteps.ProblemAsync(await sam.PostJsonAsync($"leads/{leadId}/status", new { status = "Disqualified" }), 400)).GetProperty("errors").TryGetProperty("reason", out _).Should().BeTrue();
    }
}

/// <summary>Accept deadlines shortened by configuration: expiry reroutes (excluding the partner), then the vendor pool; 410 for a late accept.</summary>
public sealed class ShortLeadFixture : ApiHostFixture
{
    public override async Task InitializeAsync() => Api = await ApiHost.StartAsync(new Dictionary<string, string?>
    {
        ["Leads:AcceptWindow"] = "00:00:04",
    });
}

public sealed class LeadDeadlineTests(ShortLeadFixture fixture) : IClassFixture<ShortLeadFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task An_offer_nobody_answers_expires_is_routed_to_the_next_partner_and_then_to_the_vendor_pool()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var domain = Leads.Unique("expire") + ".example";
        var leadId = (await Leads.CreateAsync(admin, Leads.Body("Expire Corp", domain, "e@" + domain))).GetProperty("lead").Str("id");
        var northwind = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var fabrikam = await ApiSteps.PartnerIdAsync(Api, "Fabrikam Solutions");
        var pooled = await Responses.EventuallyAsync(() => Leads.GetAsync(admin, leadId), l => l.Str("status") == "VendorPool", TimeSpan.FromSeconds(90));
        var offers = pooled.GetProperty("offers").EnumerateArray().ToList();
        offers.Select(o => o.Str("partnerId")).Should().Equal(northwind, fabrikam);
        offers.Should().OnlyContain(o => o.Str("status") == "Expired");
        pooled.Str("poolReason").Should().Be("noCandidate");

        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        var late = await anna.PostAsync($"leads/{leadId}/accept", null);
        await ApiSteps.ProblemAsync(late, 410);

        var reminders = await Responses.EventuallyAsync(
            async () => await (await Api.Anonymous.GetAsync($"dev/mail?to={Uri.EscapeDataString(Demo.NorthwindAdmin)}")).Content.ReadAsStringAsync(),
            text => JsonDocument.Parse(text).RootElement.GetProperty("items").EnumerateArray().Count(m => m.GetRawText().Contains(leadId, StringComparison.Ordinal)) >= 3);
        reminders.Should().Contain("Reminder");
        var pool = await Responses.EventuallyAsync(
            async () => await (await Api.Anonymous.GetAsync($"dev/mail?to={Uri.EscapeDataString(Demo.CmAmer)}")).Content.ReadAsStringAsync(),
            text => text.Contains(leadId, StringComparison.Ordinal));
        pool.Should().Contain("vendor pool");
    }
}

/// <summary>Machine clients: an app-only token with the app role Prm.Integration creates leads, and nothing else.</summary>
public sealed class LeadIntegrationTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task An_app_only_integration_token_creates_leads_and_may_not_read_the_program()
    {
        var response = await Api.Anonymous.PostJsonAsync("dev/token", new { app = "marketing-automation" });
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var crm = Api.WithToken((await response.JsonAsync()).Str("accessToken"));
        var domain = Leads.Unique("machine") + ".example";
        var created = await Leads.CreateAsync(crm, Leads.Body("Machine Corp", domain, "m@" + domain, externalId: Leads.Unique("mkto")));
        created.GetProperty("lead").Str("status").Should().Be("Offered");
        (await crm.GetAsync("partners")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await crm.GetAsync("leads")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await crm.GetAsync("me")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        // A person's token never carries the integration role into a caller; partner users may not create leads.
        var partner = await Api.ClientAsync(Demo.NorthwindAdmin);
        (await partner.PostJsonAsync("leads", Leads.Body("Nope", domain, "n@" + domain))).StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }
}

/// <summary>CSV import of leads: a dry run reports row by row and writes nothing; a real run routes each valid row, idempotent by externalId.</summary>
public sealed class LeadImportTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task A_dry_run_writes_nothing_and_a_real_run_creates_then_updates_by_external_id()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var ext = Leads.Unique("csv");
        var domain = Leads.Unique("csv") + ".example";
        var csv = "companyName,domain,country,industry,contactName,contactEmail,productLines,grade,amount,currency,externalId,consentToShare\n"
            + $"Csv Corp,{domain},DE,Retail,Carla Csv,carla@{domain},cloud-backup;endpoint-security,A,1000.00,EUR,{ext},true\n"
            + $"Bad Corp,{domain},XX,Retail,Bob,not-an-email,no-such-line,Z,,,,maybe\n";
        async Task<System.Text.Json.JsonElement> ImportAsync(bool dryRun)
        {
            using var content = new StringContent(csv, System.Text.Encoding.UTF8, "text/csv");
            var response = await admin.PostAsync($"leads/import?dryRun={(dryRun ? "true" : "false")}", content);
            response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            return await response.JsonAsync();
        }
        var dry = await ImportAsync(true);
        dry.GetProperty("created").GetInt32().Should().Be(1);
        dry.GetProperty("rejected").GetInt32().Should().Be(1);
        var rejected = dry.GetProperty("results")[1].GetProperty("reasons").EnumerateArray().Select(r => r.GetString()!).ToList();
        rejected.Should().Contain(r => r.StartsWith("consentToShare", StringComparison.Ordinal));
        rejected.Should().Contain(r => r.StartsWith("company.country", StringComparison.Ordinal));
        rejected.Should().Contain(r => r.StartsWith("contact.email", StringComparison.Ordinal));
        rejected.Should().Contain(r => r.StartsWith("grade", StringComparison.Ordinal));
        (await Leads.CreateAsync(admin, Leads.Body("Probe", Leads.Unique("probe") + ".example", "p@probe.example", externalId: ext), 201))
            .GetProperty("lead").Str("externalId").Should().Be(ext, "the dry run wrote no key row for the externalId");

        var real = await ImportAsync(false);
        real.GetProperty("results")[0].Str("outcome").Should().Be("updated", "the probe above took the externalId first");
        real.GetProperty("rejected").GetInt32().Should().Be(1);
        var again = await ImportAsync(false);
        again.GetProperty("results")[0].Str("leadId").Should().Be(real.GetProperty("results")[0].Str("leadId"));
    }
}

/// <summary>A partner's lead routing profile: the holiday (partner admins too) and the weight (channel manager, admins) steer routing at once.</summary>
public sealed class LeadRoutingProfileTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    private static async Task<HttpResponseMessage> PutAsync(HttpClient client, string partnerId, string etag, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"partners/{partnerId}/lead-routing") { Content = Responses.Json(body) };
        request.Headers.TryAddWithoutValidation("If-Match", etag);
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task A_partner_on_holiday_gets_no_offer_weight_zero_gets_none_and_only_the_vendor_sets_the_weight()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        var northwind = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var fabrikam = await ApiSteps.PartnerIdAsync(Api, "Fabrikam Solutions");
        var (profile, etag) = await ApiSteps.GetWithETagAsync(anna, $"partners/{northwind}/lead-routing");
        profile.GetProperty("weight").GetDouble().Should().Be(1);
        (await PutAsync(anna, northwind, etag, new { weight = 5 })).StatusCode.Should().Be(HttpStatusCode.Forbidden, "a partner admin does not set its own weight");
        (await ApiSteps.ProblemAsync(await PutAsync(anna, northwind, etag, new { weight = 1, holidayUntil = "1999-01-01" }), 400)).GetProperty("errors").TryGetProperty("holidayUntil", out _).Should().BeTrue();
        var holiday = await PutAsync(anna, northwind, etag, new { weight = 1, holidayUntil = DateTime.UtcNow.AddDays(3).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) });
        holiday.StatusCode.Should().Be(HttpStatusCode.OK, await holiday.Content.ReadAsStringAsync());
        (await PutAsync(anna, northwind, etag, new { weight = 1 })).StatusCode.Should().Be(HttpStatusCode.PreconditionFailed, "the ETag is stale");

        var domain = Leads.Unique("holiday") + ".example";
        var created = await Leads.CreateAsync(admin, Leads.Body("Holiday Corp", domain, "h@" + domain));
        created.Str("offeredTo").Should().Be(fabrikam);
        var candidates = created.GetProperty("lead").GetProperty("offers")[0].GetProperty("trace").GetProperty("candidates").EnumerateArray().ToList();
        candidates.Single(c => c.Str("partnerId") == northwind).Str("excludedBecause").Should().Be("on holiday");

        var (_, fabrikamETag) = await ApiSteps.GetWithETagAsync(admin, $"partners/{fabrikam}/lead-routing");
        (await PutAsync(admin, fabrikam, fabrikamETag, new { weight = 0 })).StatusCode.Should().Be(HttpStatusCode.OK);
        var pooledDomain = Leads.Unique("weight0") + ".example";
        var pooled = await Leads.CreateAsync(admin, Leads.Body("Nobody Corp", pooledDomain, "n@" + pooledDomain));
        pooled.Str("outcome").Should().Be("vendorPool");
        pooled.Str("poolReason").Should().Be("noCandidate");
    }
}

/// <summary>Repeated expiries pause a partner from routing (two strikes here, by configuration), its channel manager is told.</summary>
public sealed class ShortLeadPauseFixture : ApiHostFixture
{
    public override async Task InitializeAsync() => Api = await ApiHost.StartAsync(new Dictionary<string, string?>
    {
        ["Leads:AcceptWindow"] = "00:00:03",
        ["Leads:PauseAfterStrikes"] = "2",
    });
}

public sealed class LeadPauseTests(ShortLeadPauseFixture fixture) : IClassFixture<ShortLeadPauseFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task Two_expired_offers_pause_the_partner_its_channel_manager_is_told_and_new_leads_skip_it()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var northwind = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var ids = new List<string>();
        foreach (var i in new[] { 1, 2 })
        {
            var domain = Leads.Unique("pause" + i) + ".example";
            ids.Add((await Leads.CreateAsync(admin, Leads.Body("Pause Corp " + i, domain, "p@" + domain))).GetProperty("lead").Str("id"));
        }
        foreach (var id in ids)
        {
            await Api.WithWorkflowDiagnosticsAsync("lead-" + id, () => Responses.EventuallyAsync(() => Leads.GetAsync(admin, id), l => l.Str("status") == "VendorPool", TimeSpan.FromSeconds(90)));
        }
        var stats = await Responses.EventuallyAsync(async () => await (await admin.GetAsync($"partners/{northwind}/lead-stats")).JsonAsync(),
            s => s.GetProperty("pausedUntil").ValueKind == System.Text.Json.JsonValueKind.String);
        stats.GetProperty("expired").GetInt32().Should().Be(2);
        await Responses.EventuallyAsync(
            async () => await (await Api.Anonymous.GetAsync($"dev/mail?to={Uri.EscapeDataString(Demo.CmEmea)}")).Content.ReadAsStringAsync(),
            text => text.Contains("paused from lead routing", StringComparison.Ordinal));
        var domain3 = Leads.Unique("paused") + ".example";
        var next = await Leads.CreateAsync(admin, Leads.Body("After Pause", domain3, "a@" + domain3));
        next.GetProperty("lead").GetProperty("offers").EnumerateArray().Should().NotContain(o => o.Str("partnerId") == northwind, "a paused partner gets no offers");
    }
}

/// <summary>The fairness report: per weighted rule, each partner's share of offers against its share of effective weight.</summary>
public sealed class LeadFairnessTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task The_report_counts_the_offers_of_the_weighted_rule_and_compares_shares()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var from = DateTime.UtcNow.AddMinutes(-1).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        for (var i = 0; i < 6; i++)
        {
            var domain = Leads.Unique("fair" + i) + ".example";
            // APAC leads match neither demo region rule: the weighted fallback over all Active partners decides.
            (await Leads.CreateAsync(admin, Leads.Body("Fair Corp " + i, domain, "f@" + domain, country: "JP"))).Str("outcome").Should().Be("offered");
        }
        var to = DateTime.UtcNow.AddMinutes(1).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var report = await Responses.EventuallyAsync(
            async () => await (await admin.GetAsync($"lead-fairness?from={Uri.EscapeDataString(from)}&to={Uri.EscapeDataString(to)}")).JsonAsync(),
            r => r.GetProperty("rules").EnumerateArray().Any(x => x.Str("rule") == "Weighted over all Active partners" && x.GetProperty("offers").GetInt32() == 6));
        var rule = report.GetProperty("rules").EnumerateArray().Single(x => x.Str("rule") == "Weighted over all Active partners");
        var partners = rule.GetProperty("partners").EnumerateArray().ToList();
        partners.Sum(p => p.GetProperty("offers").GetInt32()).Should().Be(6);
        partners.Sum(p => p.GetProperty("offerShare").GetDouble()).Should().BeApproximately(1, 0.001);
        partners.Sum(p => p.GetProperty("weightShare").GetDouble()).Should().BeApproximately(1, 0.001);
        partners.Should().OnlyContain(p => p.GetProperty("flagged").GetBoolean() == Math.Abs(p.GetProperty("deviation").GetDouble()) > 0.2);

        (await (await Api.ClientAsync(Demo.NorthwindAdmin)).GetAsync("lead-fairness")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await ApiSteps.ProblemAsync(await admin.GetAsync($"lead-fairness?from={Uri.EscapeDataString(to)}&to={Uri.EscapeDataString(from)}"), 400)).GetProperty("errors").TryGetProperty("to", out _).Should().BeTrue();
    }
}

/// <summary>A host whose lead store fails like storage that stopped answering when a lead of the company "Outage Corp" is created.</summary>
public sealed class LeadOutageFixture : ApiHostFixture
{
    public const string FailingCompany = "Outage Corp";

    public override async Task InitializeAsync() => Api = await ApiHost.StartAsync(configure: builder =>
        // After every registration of the app (ConfigureContainer runs when the provider is built): the real store, decorated.
        builder.Host.ConfigureContainer<Microsoft.Extensions.DependencyInjection.IServiceCollection>((_, services) =>
        {
            var real = services.Last(d => d.ServiceType == typeof(Prm.Core.Leads.ILeadStore));
            services.Remove(real);
            services.Add(new Microsoft.Extensions.DependencyInjection.ServiceDescriptor(typeof(Prm.Core.Leads.ILeadStore),
                sp => FailingLeadStore.Wrap((Prm.Core.Leads.ILeadStore)Microsoft.Extensions.DependencyInjection.ActivatorUtilities.CreateInstance(sp, real.ImplementationType!)),
                real.Lifetime));
        }));

    /// <summary>Every call passes through, except the creation of a lead of <see cref="FailingCompany"/>, which fails with a 503 from storage.</summary>
    public class FailingLeadStore : System.Reflection.DispatchProxy
    {
        private Prm.Core.Leads.ILeadStore inner = null!;

        public static Prm.Core.Leads.ILeadStore Wrap(Prm.Core.Leads.ILeadStore inner)
        {
            var proxy = Create<Prm.Core.Leads.ILeadStore, FailingLeadStore>();
            ((FailingLeadStore)(object)proxy).inner = inner;
            return proxy;
        }

        protected override object? Invoke(System.Reflection.MethodInfo? method, object?[]? args)
        {
            if (method!.Name == nameof(Prm.Core.Leads.ILeadStore.CreateAsync) && args![0] is Prm.Core.Leads.Lead { Company.Name: FailingCompany })
                return Task.FromException<string>(new Azure.RequestFailedException(503, "Server busy"));
            try
            {
                return method.Invoke(inner, args);
            }
            catch (System.Reflection.TargetInvocationException ex) when (ex.InnerException is not null)
            {
                throw ex.InnerException;
            }
        }
    }
}

/// <summary>A lead import that storage stops part way says what it kept, and the rows kept are not imported twice.</summary>
public sealed class LeadImportOutageTests(LeadOutageFixture fixture) : IClassFixture<LeadOutageFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task An_import_interrupted_by_storage_answers_503_saying_which_rows_are_kept()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        string Row(string company, string ext)
        {
            var domain = Leads.Unique("out") + ".example";
            return $"{company},{domain},DE,Retail,Olga Out,olga@{domain},cloud-backup,A,1000.00,EUR,{ext},true\n";
        }
        const string Header = "companyName,domain,country,industry,contactName,contactEmail,productLines,grade,amount,currency,externalId,consentToShare\n";
        var (first, second, failing, after) = (Leads.Unique("ext"), Leads.Unique("ext"), Leads.Unique("ext"), Leads.Unique("ext"));
        var (one, two, never) = (Row("Kept One", first), Row("Kept Two", second), Row("Never Reached", after));
        var csv = Header + one + two + Row(LeadOutageFixture.FailingCompany, failing) + never;
        using var content = new StringContent(csv, System.Text.Encoding.UTF8, "text/csv");
        var response = await admin.PostAsync("leads/import", content);

        var problem = await ApiSteps.ProblemAsync(response, 503);
        response.Headers.RetryAfter.Should().NotBeNull();
        problem.Str("detail").Should().StartWith("The import stopped at line 4. The 2 rows imported before it are kept;",
            "lines 2 and 3 were committed before line 4 failed: the answer must not claim that nothing was changed");
        problem.Str("detail").Should().NotContain("nothing was changed");

        // What the detail says is what storage holds: the two rows before the failure are there (a second import updates them), the
        // row after it is not (a second import creates it).
        using var again = new StringContent(Header + one + two + never, System.Text.Encoding.UTF8, "text/csv");
        var retried = await admin.PostAsync("leads/import", again);
        retried.StatusCode.Should().Be(HttpStatusCode.OK, await retried.Content.ReadAsStringAsync());
        (await retried.JsonAsync()).GetProperty("results").EnumerateArray().Select(r => r.Str("outcome")).Should().Equal("updated", "updated", "created");
    }
}
