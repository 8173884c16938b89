using System.Text;
using Microsoft.AspNetCore.Http;
using System.Net;
using System.Text.Json;
using Prm.Testing;

namespace Prm.Api.Tests;

internal static class Applications
{
    /// <summary>The answer token of a request-for-information link (its token= query value).</summary>
    public static string InfoToken(string answerUrl) => Uri.UnescapeDataString(answerUrl[(answerUrl.IndexOf("token=", StringComparison.Ordinal) + 6)..]);

    public static object Form(string legalName, string domain, string email, string country = "DE", string region = "emea", string partnerType = "reseller") => new
    {
        company = new { legalName, website = $"https://www.{domain}", domain, country, region, sizeBand = "11-50", industries = new[] { "software" }, partnerType },
        applicant = new { name = "Alex Applicant", email, phone = "+49 30 1", jobTitle = "CEO" },
        expectedAnnualRevenueBand = "1m-10m",
        acceptedTermsVersion = "2026-01",
        acceptedPrivacyVersion = "2026-01",
    };

    public static async Task<(string Id, string StatusUrl)> SubmitAsync(HttpClient anonymous, object form, string? ip = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "partner-applications") { Content = Responses.Json(form) };
        request.Headers.Add("X-Forwarded-For", ip ?? $"10.1.{Random.Shared.Next(255)}.{Random.Shared.Next(255)}");
        var response = await anonymous.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var body = await response.JsonAsync();
        body.Str("status").Should().Be("UnderReview");
        return (body.Str("applicationId"), body.Str("statusUrl"));
    }
}

public sealed class PartnerApplicationTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task An_application_is_screened_assigned_by_region_and_followed_by_the_applicant()
    {
        var (id, statusUrl) = await Applications.SubmitAsync(Api.Anonymous, Applications.Form("Contoso Cloud GmbH", "contoso-cloud.example", "alex@contoso-cloud.example"));
        var status = await (await Api.Anonymous.GetAsync(statusUrl)).JsonAsync();
        status.Str("status").Should().Be("UnderReview");
        status.Str("companyName").Should().Be("Contoso Cloud GmbH");
        await ApiSteps.ProblemAsync(await Api.Anonymous.GetAsync($"partner-applications/{id}/status?token={id}.{new string('0', 32)}"), 404);

        var cm = await Api.ClientAsync(Demo.CmEmea);
        var application = await (await cm.GetAsync($"partner-applications/{id}")).JsonAsync();
        application.GetProperty("screening").GetProperty("flags").GetArrayLength().Should().Be(0);
        application.GetProperty("screening").GetProperty("fitScore").GetInt32().Should().Be(40 + 30 + 25);
        application.GetProperty("screening").GetProperty("fitReasons").EnumerateArray().Should().Contain(r => r.GetString()!.Contains("target country DE"));
        var queue = await (await cm.GetAsync("partner-applications?status=UnderReview")).JsonAsync();
        queue.GetProperty("items").EnumerateArray().Should().Contain(a => a.Str("id") == id);

        var other = await Api.ClientAsync(Demo.CmAmer);
        await ApiSteps.ProblemAsync(await other.GetAsync($"partner-applications/{id}"), 404);
        (await (await other.GetAsync("partner-applications")).JsonAsync()).GetProperty("items").EnumerateArray().Should().NotContain(a => a.Str("id") == id);
        await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.NorthwindAdmin)).GetAsync("partner-applications"), 403);

        var mail = await Responses.EventuallyAsync(
            async () => await (await Api.Anonymous.GetAsync($"dev/mail?to={Demo.CmEmea}")).JsonAsync(),
            m => m.GetProperty("items").EnumerateArray().Any(x => x.Str("subject").Contains("Contoso Cloud GmbH")));
        mail.GetProperty("items").EnumerateArray().Should().Contain(x => x.Str("subject") == "New partner application to review: Contoso Cloud GmbH");
        var receipt = await Responses.EventuallyAsync(
            async () => await (await Api.Anonymous.GetAsync("dev/mail?to=alex@contoso-cloud.example")).JsonAsync(),
            m => m.GetProperty("items").GetArrayLength() > 0);
        receipt.GetProperty("items")[0].GetProperty("links").EnumerateArray().Select(l => l.GetString()).Should().Contain(statusUrl);
    }

    [Fact]
    public async Task Screening_flags_free_mail_known_domains_duplicates_and_similar_names_without_refusing()
    {
        var (first, _) = await Applications.SubmitAsync(Api.Anonymous, Applications.Form("Northwind Traders Ltd", "northwind.example", "boss@gmail.com"));
        var (similar, _) = await Applications.SubmitAsync(Api.Anonymous, Applications.Form("Fabrikam Solutions Group", "fabrikam-group.example", "g@fabrikam-group.example"));
        var (second, _) = await Applications.SubmitAsync(Api.Anonymous, Applications.Form("Tailspin Toys", "tailspin.example", "t@tailspin.example"));
        var (third, _) = await Applications.SubmitAsync(Api.Anonymous, Applications.Form("Tailspin Toys Again", "tailspin.example", "u@tailspin.example"));
        var admin = await Api.ClientAsync(Demo.Admin);

        var screening = (await (await admin.GetAsync($"partner-applications/{first}")).JsonAsync()).GetProperty("screening");
        screening.GetProperty("flags").EnumerateArray().Select(f => f.GetString()).Should().Contain(["freeMailDomain", "domainBelongsToPartner", "applicantEmailOutsideCompanyDomain"]);
        screening.GetProperty("duplicateMatches").EnumerateArray().Should().Contain(m => m.GetString()!.Contains("owns the domain northwind.example"));
        var similarScreening = (await (await admin.GetAsync($"partner-applications/{similar}")).JsonAsync()).GetProperty("screening");
        similarScreening.GetProperty("flags").EnumerateArray().Select(f => f.GetString()).Should().Equal("similarPartnerName");
        similarScreening.GetProperty("duplicateMatches").EnumerateArray().Should().Contain(m => m.GetString()!.Contains("Fabrikam Solutions, fabrikam.example"));
        (await (await admin.GetAsync($"partner-applications/{second}")).JsonAsync()).GetProperty("screening").GetProperty("flags").GetArrayLength().Should().Be(0);
        (await (await admin.GetAsync($"partner-applications/{third}")).JsonAsync()).GetProperty("screening").GetProperty("flags").EnumerateArray()
            .Select(f => f.GetString()).Should().Contain("openApplicationForDomain");
    }

    [Fact]
    public async Task Bad_forms_name_the_fields_and_abuse_is_limited_per_email_and_address()
    {
        var invalid = await Api.Anonymous.PostAsync("partner-applications", Responses.Json(new { company = new { legalName = "", domain = "nope", country = "XX", partnerType = "pirate" }, applicant = new { email = "bad" } }));
        var problem = await ApiSteps.ProblemAsync(invalid, 400);
        problem.GetProperty("errors").EnumerateObject().Select(e => e.Name).Should().Contain(["company.legalName", "company.domain", "company.country", "company.partnerType", "applicant.name", "applicant.email", "acceptedTermsVersion"]);

        for (var i = 0; i < 3; i++) await Applications.SubmitAsync(Api.Anonymous, Applications.Form($"Spammy {i}", $"spammy{i}.example", "spam@spammy.example"));
        var limited = await Api.Anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Post, "partner-applications")
        {
            Content = Responses.Json(Applications.Form("Spammy 4", "spammy4.example", "spam@spammy.example")),
        });
        await ApiSteps.ProblemAsync(limited, 429);
        limited.Headers.RetryAfter!.Delta!.Value.TotalSeconds.Should().BeInRange(1, 3600);

        const string ip = "203.0.113.77";
        for (var i = 0; i < 20; i++) await Applications.SubmitAsync(Api.Anonymous, Applications.Form($"Crowd {i}", $"crowd{i}.example", $"p{i}@crowd{i}.example"), ip);
        var request = new HttpRequestMessage(HttpMethod.Post, "partner-applications") { Content = Responses.Json(Applications.Form("Crowd 21", "crowd21.example", "p@crowd21.example")) };
        request.Headers.Add("X-Forwarded-For", ip);
        await ApiSteps.ProblemAsync(await Api.Anonymous.SendAsync(request), 429);
    }

    [Fact]
    public async Task A_retried_application_with_its_idempotency_key_is_filed_once_and_each_retry_gets_a_working_status_link()
    {
        const string email = "ivy@retry-labs.example";
        HttpRequestMessage Post(string key)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "partner-applications") { Content = Responses.Json(Applications.Form("Retry Labs GmbH", "retry-labs.example", email)) };
            request.Headers.Add("Idempotency-Key", key);
            request.Headers.Add("X-Forwarded-For", $"10.2.{Random.Shared.Next(255)}.{Random.Shared.Next(255)}");
            return request;
        }

        // Four in flight at once (a form whose connection dropped and was sent again), then two more: six sends, over the limit of 3 per email.
        var first = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Api.Anonymous.SendAsync(Post("form-7f3a"))));
        var later = new[] { await Api.Anonymous.SendAsync(Post("form-7f3a")), await Api.Anonymous.SendAsync(Post("form-7f3a")) };
        var responses = first.Concat(later).ToList();
        responses.Select(r => (int)r.StatusCode).Should().OnlyContain(s => s == 202, string.Join(" | ", await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()))));
        var bodies = await Task.WhenAll(responses.Select(r => r.JsonAsync()));
        bodies.Select(b => b.Str("applicationId")).Distinct().Should().ContainSingle("every retry names the application the first send created");
        var id = bodies[0].Str("applicationId");
        var links = bodies.Select(b => b.Str("statusUrl")).ToList();
        links.Should().OnlyHaveUniqueItems("only hashes of status secrets are stored, so each retry gets a link of its own");
        foreach (var link in links)
        {
            var status = await Api.Anonymous.GetAsync(link);
            status.StatusCode.Should().Be(HttpStatusCode.OK, link);
            (await status.JsonAsync()).Str("applicationId").Should().Be(id);
        }

        // A seventh send: the status link was given out six times, which is enough.
        var refused = await ApiSteps.ProblemAsync(await Api.Anonymous.SendAsync(Post("form-7f3a")), 409);
        refused.Str("field").Should().Be("Idempotency-Key");

        // One receipt and one timeline entry of the submission: the retries wrote no application, sent nothing and counted against no limit.
        async Task<List<JsonElement>> Receipts() => (await (await Api.Anonymous.GetAsync($"dev/mail?to={email}")).JsonAsync()).GetProperty("items").EnumerateArray()
            .Where(m => m.Str("subject") == "We received the partner application of Retry Labs GmbH").ToList();
        (await Responses.EventuallyAsync(Receipts, r => r.Count >= 1)).Should().ContainSingle();
        var admin = await Api.ClientAsync(Demo.Admin);
        var actions = (await (await admin.GetAsync($"partner-applications/{id}/timeline")).JsonAsync()).GetProperty("items").EnumerateArray().Select(e => e.Str("action")).ToList();
        actions.Count(a => a == "application.submitted").Should().Be(1);
        actions.Count(a => a == "application.statusLinkReissued").Should().Be(5);
        var other = await Api.Anonymous.SendAsync(Post("form-other"));
        other.StatusCode.Should().Be(HttpStatusCode.Accepted, "the retries did not use up the applicant's 3 applications per hour");
        (await other.JsonAsync()).Str("applicationId").Should().NotBe(id);
    }

    [Fact]
    public async Task Approval_creates_the_partner_awaiting_its_agreement_and_invites_the_applicant()
    {
        var (id, _) = await Applications.SubmitAsync(Api.Anonymous, Applications.Form("Woodgrove Partners", "woodgrove.example", "wendy@woodgrove.example"));
        var cm = await Api.ClientAsync(Demo.CmEmea);
        await ApiSteps.ProblemAsync(await cm.PostJsonAsync($"partner-applications/{id}/decision", new { decision = "maybe" }), 400);
        var approved = await cm.PostJsonAsync($"partner-applications/{id}/decision", new { decision = "approve", tier = "silver", reason = "Strong fit" });
        approved.StatusCode.Should().Be(HttpStatusCode.OK, await approved.Content.ReadAsStringAsync());
        var application = await approved.JsonAsync();
        application.Str("status").Should().Be("Approved");
        var partnerId = application.Str("partnerId");

        var partner = await (await cm.GetAsync($"partners/{partnerId}")).JsonAsync();
        partner.Str("name").Should().Be("Woodgrove Partners");
        partner.Str("status").Should().Be("AgreementPending");
        partner.Str("tier").Should().Be("silver");
        partner.Str("channelManagerId").Should().Be((await (await cm.GetAsync("me")).JsonAsync()).Str("userId"));
        (await ApiSteps.UserByEmailAsync(cm, partnerId, "wendy@woodgrove.example")).Str("role").Should().Be("PartnerAdmin");

        var again = await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.Admin)).PostJsonAsync($"partner-applications/{id}/decision", new { decision = "reject", reason = "late" }), 409);
        again.Str("detail").Should().Contain("Already decided (approve) by Elena Emea");
        var mail = await Responses.EventuallyAsync(
            async () => await (await Api.Anonymous.GetAsync("dev/mail?to=wendy@woodgrove.example")).JsonAsync(),
            m => m.GetProperty("items").GetArrayLength() >= 4);
        // Received, approved, invited and the agreement offer: each once (they leave through the outbox in any order).
        mail.GetProperty("items").EnumerateArray().Select(m => m.Str("subject")).Should().HaveCount(4)
            .And.ContainSingle(s => s.StartsWith("Welcome: Woodgrove Partners is approved")).And.ContainSingle(s => s.Contains("invited you"));
    }

    [Fact]
    public async Task Rejection_needs_a_reason_is_final_and_the_applicant_sees_it()
    {
        var (id, statusUrl) = await Applications.SubmitAsync(Api.Anonymous, Applications.Form("Fourth Coffee", "fourthcoffee.example", "f@fourthcoffee.example"));
        var admin = await Api.ClientAsync(Demo.Admin);
        (await ApiSteps.ProblemAsync(await admin.PostJsonAsync($"partner-applications/{id}/decision", new { decision = "reject" }), 400)).GetProperty("errors").TryGetProperty("reason", out _).Should().BeTrue();
        (await admin.PostJsonAsync($"partner-applications/{id}/decision", new { decision = "reject", reason = "Outside our markets" })).StatusCode.Should().Be(HttpStatusCode.OK);
        await ApiSteps.ProblemAsync(await admin.PostJsonAsync($"partner-applications/{id}/decision", new { decision = "approve" }), 409);
        var status = await (await Api.Anonymous.GetAsync(statusUrl)).JsonAsync();
        status.Str("status").Should().Be("Rejected");
        status.Str("reason").Should().Be("Outside our markets");
        var mail = await Responses.EventuallyAsync(
            async () => await (await Api.Anonymous.GetAsync("dev/mail?to=f@fourthcoffee.example")).JsonAsync(),
            m => m.GetProperty("items").EnumerateArray().Any(x => x.Str("text").Contains("Outside our markets")));
        mail.GetProperty("items").EnumerateArray().Should().Contain(x => x.Str("text").Contains("Reason: Outside our markets"));
        var timeline = await (await admin.GetAsync($"partner-applications/{id}/timeline")).JsonAsync();
        timeline.GetProperty("items").EnumerateArray().Select(e => e.Str("action")).Should().Contain(["application.submitted", "application.rejected"]);
    }
}

/// <summary>Review deadlines in seconds, on the Durable backend of the local host.</summary>
public sealed class ShortReviewFixture : ApiHostFixture
{
    public override async Task InitializeAsync() => Api = await ApiHost.StartAsync(new Dictionary<string, string?>
    {
        ["Review:ReviewReminderAfter"] = "00:00:02",
        ["Review:ReviewEscalateAfter"] = "00:00:04",
        ["Review:ReviewExpiresAfter"] = "00:00:06",
    });
}

public sealed class ApplicationDeadlineTests(ShortReviewFixture fixture) : IClassFixture<ShortReviewFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task An_undecided_application_is_reminded_escalated_and_expires()
    {
        var (id, statusUrl) = await Applications.SubmitAsync(Api.Anonymous, Applications.Form("Slow Review Inc", "slowreview.example", "s@slowreview.example", country: "US", region: "amer"));
        var status = await Responses.EventuallyAsync(async () => await (await Api.Anonymous.GetAsync(statusUrl)).JsonAsync(), s => s.Str("status") == "Expired", TimeSpan.FromSeconds(90));
        status.Str("status").Should().Be("Expired");

        var admin = await Api.ClientAsync(Demo.Admin);
        var actions = (await (await admin.GetAsync($"partner-applications/{id}/timeline")).JsonAsync()).GetProperty("items").EnumerateArray().Select(e => e.Str("action")).ToList();
        actions.Should().ContainInOrder("application.expired", "application.escalated", "application.reminded", "application.submitted");
        async Task<JsonElement> Mail(string to) => (await (await Api.Anonymous.GetAsync($"dev/mail?to={to}")).JsonAsync()).GetProperty("items");
        (await Responses.EventuallyAsync(() => Mail(Demo.CmAmer), m => m.EnumerateArray().Any(x => x.Str("subject").StartsWith("Reminder: the application of Slow Review Inc"))))
            .EnumerateArray().Should().Contain(x => x.Str("subject").StartsWith("Reminder: the application of Slow Review Inc"));
        (await Responses.EventuallyAsync(() => Mail(Demo.Admin), m => m.EnumerateArray().Any(x => x.Str("subject").StartsWith("Escalated: the application of Slow Review Inc"))))
            .EnumerateArray().Should().Contain(x => x.Str("subject").StartsWith("Escalated"));
        (await Responses.EventuallyAsync(() => Mail("s@slowreview.example"), m => m.EnumerateArray().Any(x => x.Str("subject").Contains("expired"))))
            .EnumerateArray().Should().Contain(x => x.Str("subject") == "Your partner application for Slow Review Inc expired");
        await ApiSteps.ProblemAsync(await admin.PostJsonAsync($"partner-applications/{id}/decision", new { decision = "approve" }), 409);

        var assigned = (await Mail(Demo.CmAmer)).EnumerateArray().First(x => x.Str("subject") == "New partner application to review: Slow Review Inc");
        var link = assigned.GetProperty("links").EnumerateArray().Select(l => l.GetString()!).First(l => l.Contains("/approvals/"));
        var expired = await Api.Anonymous.GetAsync("approvals/" + link[(link.IndexOf("/approvals/", StringComparison.Ordinal) + 11)..]);
        expired.StatusCode.Should().Be(HttpStatusCode.Gone);
        // The link's own validity ends with the review (6 s here), so which of the two closed the link first depends on the machine's
        // speed: either page is a 410 that says the thing expired and offers no decision.
        (await expired.Content.ReadAsStringAsync()).Should().Contain("expired").And.NotContain("<button").And.NotContain("<form");
    }

    [Fact]
    public async Task A_decision_in_time_stops_the_deadlines()
    {
        var (id, statusUrl) = await Applications.SubmitAsync(Api.Anonymous, Applications.Form("Quick Review Co", "quickreview.example", "q@quickreview.example", country: "US", region: "amer"));
        var cm = await Api.ClientAsync(Demo.CmAmer);
        (await cm.PostJsonAsync($"partner-applications/{id}/decision", new { decision = "approve" })).StatusCode.Should().Be(HttpStatusCode.OK);
        (await Api.WorkflowFinishedAsync(Prm.Workflows.Onboarding.ApplicationReview.InstanceId(id))).Should().Be(Microsoft.DurableTask.Client.OrchestrationRuntimeStatus.Completed);
        (await (await Api.Anonymous.GetAsync(statusUrl)).JsonAsync()).Str("status").Should().Be("Approved");
        var actions = (await (await cm.GetAsync($"partner-applications/{id}/timeline")).JsonAsync()).GetProperty("items").EnumerateArray().Select(e => e.Str("action")).ToList();
        // Under load the approval (partner creation, invitation, links) can take longer than the 2 s reminder, which may then run first;
        // what the decision must stop is everything after it.
        actions.Should().Contain(["application.submitted", "application.approved"]).And.NotContain(["application.escalated", "application.expired"]);
    }
}

/// <summary>Decision links from the reviewer's email: a page to look at (GET changes nothing) and one click to decide.</summary>
public sealed class DecisionLinkTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    private async Task<(string Id, string Link)> SubmitAndReadLinkAsync(string company, string domain)
    {
        var (id, _) = await Applications.SubmitAsync(Api.Anonymous, Applications.Form(company, domain, $"ceo@{domain}"));
        var mail = await Responses.EventuallyAsync(
            async () => await (await Api.Anonymous.GetAsync($"dev/mail?to={Demo.CmEmea}")).JsonAsync(),
            m => m.GetProperty("items").EnumerateArray().Any(x => x.Str("subject").EndsWith(company)));
        var email = mail.GetProperty("items").EnumerateArray().First(x => x.Str("subject").EndsWith(company));
        return (id, email.GetProperty("links").EnumerateArray().Select(l => l.GetString()!).First(l => l.Contains("/approvals/")));
    }

    private static string PathOf(string link) => "approvals/" + link[(link.IndexOf("/approvals/", StringComparison.Ordinal) + "/approvals/".Length)..];

    private static FormUrlEncodedContent Form(string decision, string reason = "") => new([new("decision", decision), new("reason", reason)]);

    private async Task<string> StatusAsync(string id) =>
        (await (await (await Api.ClientAsync(Demo.Admin)).GetAsync($"partner-applications/{id}")).JsonAsync()).Str("status");

    [Fact]
    public async Task Opening_the_link_shows_the_application_and_changes_nothing_then_one_click_approves_once()
    {
        var (id, link) = await SubmitAndReadLinkAsync("Litware Systems", "litware.example");
        var path = PathOf(link);
        for (var i = 0; i < 2; i++)
        {
            var page = await Api.Anonymous.GetAsync(path);
            page.StatusCode.Should().Be(HttpStatusCode.OK);
            page.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
            var html = await page.Content.ReadAsStringAsync();
            html.Should().Contain("Partner application: Litware Systems").And.Contain("ceo@litware.example").And.Contain("value=\"approve\"").And.Contain("value=\"reject\"");
            html.Should().NotContain("<script").And.NotContain("http://", "the page loads nothing from elsewhere");
        }
        (await StatusAsync(id)).Should().Be("UnderReview", "mail scanners open links: GET never decides");

        var noReason = await Api.Anonymous.PostAsync(path, Form("reject"));
        noReason.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await noReason.Content.ReadAsStringAsync()).Should().Contain("reason is required");
        (await StatusAsync(id)).Should().Be("UnderReview");

        var approved = await Api.Anonymous.PostAsync(path, Form("approve"));
        approved.StatusCode.Should().Be(HttpStatusCode.OK, await approved.Content.ReadAsStringAsync());
        (await approved.Content.ReadAsStringAsync()).Should().Contain("Approved.");
        (await StatusAsync(id)).Should().Be("Approved");

        var reused = await Api.Anonymous.PostAsync(path, Form("reject", "changed my mind"));
        reused.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await reused.Content.ReadAsStringAsync()).Should().Contain("Already decided by Elena Emea");
        (await (await Api.Anonymous.GetAsync(path)).Content.ReadAsStringAsync()).Should().Contain("Already decided by Elena Emea").And.NotContain("value=\"approve\"");
        (await StatusAsync(id)).Should().Be("Approved");
    }

    [Fact]
    public async Task Tampered_and_unknown_links_are_404_and_a_decision_made_in_the_api_shows_on_the_link()
    {
        var (id, link) = await SubmitAndReadLinkAsync("Proseware Inc", "proseware.example");
        var path = PathOf(link);
        var tampered = path[..^1] + (path[^1] == 'a' ? 'b' : 'a');
        (await Api.Anonymous.GetAsync(tampered)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await Api.Anonymous.PostAsync(tampered, Form("approve"))).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await Api.Anonymous.GetAsync("approvals/" + new string('0', 40))).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await Api.Anonymous.GetAsync("approvals/not-a-token")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await StatusAsync(id)).Should().Be("UnderReview");

        var admin = await Api.ClientAsync(Demo.Admin);
        (await admin.PostJsonAsync($"partner-applications/{id}/decision", new { decision = "reject", reason = "Not a fit" })).StatusCode.Should().Be(HttpStatusCode.OK);
        (await (await Api.Anonymous.GetAsync(path)).Content.ReadAsStringAsync()).Should().Contain("Already decided by Avery Admin");
        var late = await Api.Anonymous.PostAsync(path, new StringContent("{\"decision\":\"approve\"}", Encoding.UTF8, "application/json"));
        late.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await StatusAsync(id)).Should().Be("Rejected");
    }
}

/// <summary>The client's address cannot be forged with X-Forwarded-For: only the entries trusted proxies appended count.</summary>
public sealed class ClientAddressTests
{
    private static HttpRequest Request(string? forwarded, string remote = "203.0.113.9")
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Connection.RemoteIpAddress = System.Net.IPAddress.Parse(remote);
        if (forwarded is not null) context.Request.Headers["X-Forwarded-For"] = forwarded;
        return context.Request;
    }

    [Theory]
    [InlineData("6.6.6.6", 0, "203.0.113.9")]
    [InlineData("6.6.6.6, 198.51.100.7", 1, "198.51.100.7")]
    [InlineData("198.51.100.7:51234", 1, "198.51.100.7")]
    [InlineData("[2001:db8:1:2::7]:443", 1, "2001:db8:1:2::7")]
    [InlineData("::ffff:198.51.100.7", 1, "198.51.100.7")]
    [InlineData("6.6.6.6, 198.51.100.7, 10.0.0.4", 2, "198.51.100.7")]
    [InlineData("", 1, "203.0.113.9")]
    public void Only_the_entries_of_trusted_proxies_count(string? forwarded, int hops, string expected) =>
        Prm.Functions.Http.ClientAddress.Of(Request(forwarded), new Prm.Functions.Http.ForwardingOptions { TrustedProxyHops = hops })!.ToString().Should().Be(expected);

    [Fact]
    public void An_ipv6_client_is_limited_by_its_64_network_and_ports_do_not_make_new_clients()
    {
        var one = Prm.Functions.Http.ClientAddress.RateLimitKey(Prm.Functions.Http.ClientAddress.Parse("[2001:db8:1:2::7]:443"));
        var other = Prm.Functions.Http.ClientAddress.RateLimitKey(Prm.Functions.Http.ClientAddress.Parse("[2001:db8:1:2:ffff::1]:8080"));
        one.Should().Be("2001:db8:1:2::/64").And.Be(other);
        Prm.Functions.Http.ClientAddress.RateLimitKey(Prm.Functions.Http.ClientAddress.Parse("2001:db8:1:3::7")).Should().NotBe(one);
    }
}

/// <summary>A host not behind a proxy trusts no X-Forwarded-For: a client cannot dodge the per-address limit by making entries up.</summary>
public sealed class NoProxyHostTests : IAsyncLifetime
{
    private ApiHost api = null!;

    public async Task InitializeAsync() => api = await ApiHost.StartAsync(new Dictionary<string, string?> { ["Http:TrustedProxyHops"] = "0", ["Onboarding:MaxPerIpPerHour"] = "3" });

    public async Task DisposeAsync() => await api.DisposeAsync();

    [Fact]
    public async Task Forged_forwarding_headers_do_not_reset_the_per_address_limit()
    {
        var statuses = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "partner-applications")
            {
                Content = Responses.Json(Applications.Form($"Spoof {i} GmbH", $"spoof{i}.example", $"boss@spoof{i}.example")),
            };
            request.Headers.Add("X-Forwarded-For", $"10.9.{i}.{i + 1}");
            statuses.Add((int)(await api.Anonymous.SendAsync(request)).StatusCode);
        }
        statuses.Should().Equal(202, 202, 202, 429);
    }
}
