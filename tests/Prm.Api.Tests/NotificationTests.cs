using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Prm.Functions.Http;
using Prm.Testing;

namespace Prm.Api.Tests;

internal static class Notifications
{
    public static async Task<(JsonElement Body, string ETag)> GetAsync(HttpClient client)
    {
        var response = await client.GetAsync("me/notifications");
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.JsonAsync(), response.Headers.ETag!.ToString());
    }

    public static string ModeOf(JsonElement preferences, string kind) =>
        preferences.GetProperty("kinds").EnumerateArray().First(k => k.Str("kind") == kind).Str("mode");

    public static Task<HttpResponseMessage> PutAsync(HttpClient client, object body) => client.PutAsync("me/notifications", Responses.Json(body));

    /// <summary>A registration above the auto-approval value: it waits for the channel manager, whose approval emails the registrant.</summary>
    public static async Task<JsonElement> UnderReviewAsync(HttpClient rep, string company)
    {
        var domain = company.ToLowerInvariant().Replace(' ', '-') + "-" + Guid.NewGuid().ToString("N")[..8] + ".example";
        var deal = await Deals.RegisterAsync(rep, Deals.Body(company, domain, amount: 80_000m));
        deal.Str("status").Should().Be("UnderReview");
        return deal;
    }

    public static async Task ApproveAsync(HttpClient cm, string dealId)
    {
        var response = await cm.PostJsonAsync($"deals/{dealId}/decision", new { decision = "approve", reason = "Fine." });
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    public static async Task<IReadOnlyList<JsonElement>> MailAsync(ApiHost api, string to) =>
        (await (await api.Anonymous.GetAsync($"dev/mail?to={Uri.EscapeDataString(to)}&limit=500")).JsonAsync()).GetProperty("items").EnumerateArray().ToList();
}

/// <summary>A daily digest period of 40 seconds: long enough for two approvals to land in one digest on a loaded machine.</summary>
public sealed class DigestFixture : ApiHostFixture
{
    public override async Task InitializeAsync() => Api = await ApiHost.StartAsync(new Dictionary<string, string?>
    {
        ["Notifications:DailyDigestPeriod"] = "00:00:40",
        ["Notifications:WeeklyDigestPeriod"] = "00:01:00",
    });
}

/// <summary>Notification preferences, digests, own actions and one-click unsubscribe end to end on the local host.</summary>
public sealed class NotificationTests(DigestFixture fixture) : IClassFixture<DigestFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task A_person_reads_program_defaults_and_locked_kinds_refuse_off_or_digest_naming_the_field()
    {
        var frank = await Api.ClientAsync(Demo.FabrikamAdmin);
        var (before, etag) = await Notifications.GetAsync(frank);
        etag.Should().Be("\"defaults\"");
        before.Str("timeZone").Should().Be("UTC", "without a choice the program's time zone applies");
        before.GetProperty("timeZoneChosen").GetBoolean().Should().BeFalse();
        Notifications.ModeOf(before, "dealUpdates").Should().Be("immediate");
        before.GetProperty("kinds").EnumerateArray().First(k => k.Str("kind") == "leadOffers").GetProperty("locked").GetBoolean().Should().BeTrue();

        var off = await ApiSteps.ProblemAsync(await Notifications.PutAsync(frank, new { preferences = new Dictionary<string, string> { ["leadOffers"] = "off" } }), 422);
        off.GetProperty("errors").TryGetProperty("preferences.leadOffers", out _).Should().BeTrue(off.GetRawText());
        var digest = await ApiSteps.ProblemAsync(await Notifications.PutAsync(frank, new { preferences = new Dictionary<string, string> { ["invitations"] = "weeklyDigest" } }), 422);
        digest.GetProperty("errors").TryGetProperty("preferences.invitations", out _).Should().BeTrue(digest.GetRawText());
        var zone = await ApiSteps.ProblemAsync(await Notifications.PutAsync(frank, new { timeZone = "Mars/Olympus_Mons" }), 422);
        zone.GetProperty("errors").TryGetProperty("timeZone", out _).Should().BeTrue(zone.GetRawText());

        var saved = await Notifications.PutAsync(frank, new { timeZone = "Europe/Berlin", preferences = new Dictionary<string, string> { ["tierUpdates"] = "weeklyDigest", ["leadOffers"] = "immediate" } });
        saved.StatusCode.Should().Be(HttpStatusCode.OK, await saved.Content.ReadAsStringAsync());
        var after = await saved.JsonAsync();
        after.Str("timeZone").Should().Be("Europe/Berlin");
        Notifications.ModeOf(after, "tierUpdates").Should().Be("weeklyDigest");
        var stale = new HttpRequestMessage(HttpMethod.Put, "me/notifications") { Content = Responses.Json(new { preferences = new Dictionary<string, string>() }) };
        stale.Headers.TryAddWithoutValidation("If-Match", etag);
        await ApiSteps.ProblemAsync(await frank.SendAsync(stale), 412);
    }

    [Fact]
    public async Task Two_updates_of_a_daily_digest_kind_arrive_in_one_digest_and_nothing_at_once()
    {
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        (await Notifications.PutAsync(sam, new { preferences = new Dictionary<string, string> { ["dealUpdates"] = "dailyDigest" } })).StatusCode.Should().Be(HttpStatusCode.OK);
        var first = await Notifications.UnderReviewAsync(sam, "Digest One Holding");
        var second = await Notifications.UnderReviewAsync(sam, "Digest Two Holding");
        var cm = await Api.ClientAsync(Demo.CmEmea);
        await Notifications.ApproveAsync(cm, first.Str("id"));
        await Notifications.ApproveAsync(cm, second.Str("id"));

        var digest = await Mailbox.MessageAsync(Api, Demo.NorthwindRep, "Your daily digest", TimeSpan.FromMinutes(4));

        digest.Str("subject").Should().Be("Your daily digest: 2 updates");
        digest.Str("text").Should().Contain(first.Str("registrationNumber")).And.Contain(second.Str("registrationNumber"));
        digest.Str("html").Should().Contain(first.Str("registrationNumber")).And.Contain(second.Str("registrationNumber"));
        digest.GetProperty("headers").Str("List-Unsubscribe").Should().Contain("/notifications/unsubscribe/");
        digest.GetProperty("headers").Str("List-Unsubscribe-Post").Should().Be("List-Unsubscribe=One-Click");
        var mail = await Notifications.MailAsync(Api, Demo.NorthwindRep);
        mail.Where(m => m.Str("subject").StartsWith("Deal registration", StringComparison.Ordinal)).Should().BeEmpty("deal updates wait for the digest, and registering is Sam's own action");
        mail.Count(m => m.Str("subject").StartsWith("Your daily digest", StringComparison.Ordinal)).Should().Be(1);
    }

    [Fact]
    public async Task Nobody_is_emailed_about_their_own_action_while_others_are()
    {
        var frank = await Api.ClientAsync(Demo.FabrikamAdmin);
        var deal = await Notifications.UnderReviewAsync(frank, "Own Action Outfitters");
        var cm = await Api.ClientAsync(Demo.CmAmer);
        // The channel manager is told about Frank's registration; Frank is not told he registered it.
        await Mailbox.MessageAsync(Api, Demo.CmAmer, "Deal registration to review: Own Action Outfitters");
        await Notifications.ApproveAsync(cm, deal.Str("id"));
        // Frank is told about the channel manager's approval: his emails are delivered, so an under-review email would be there by now.
        await Mailbox.MessageAsync(Api, Demo.FabrikamAdmin, $"Deal registration {deal.Str("registrationNumber")} approved", TimeSpan.FromMinutes(3));

        var frankMail = await Notifications.MailAsync(Api, Demo.FabrikamAdmin);
        frankMail.Where(m => m.Str("text").Contains(deal.Str("registrationNumber"), StringComparison.Ordinal)).Select(m => m.Str("template"))
            .Should().Equal(["deal-approved"], "the registration was Frank's own action, the approval the channel manager's");
    }

    [Fact]
    public async Task An_update_carries_a_text_part_and_a_one_click_unsubscribe_that_works_once_and_refuses_forgeries()
    {
        var rita = await Api.ClientAsync(Demo.FabrikamRep);
        var deal = await Notifications.UnderReviewAsync(rita, "Unsubscribe Ventures");
        await Notifications.ApproveAsync(await Api.ClientAsync(Demo.CmAmer), deal.Str("id"));
        var mail = await Mailbox.MessageAsync(Api, Demo.FabrikamRep, $"Deal registration {deal.Str("registrationNumber")} approved", TimeSpan.FromMinutes(3));

        mail.Str("text").Should().Contain(deal.Str("registrationNumber")).And.Contain("Stop emails about deal updates: ");
        mail.GetProperty("headers").Str("List-Unsubscribe-Post").Should().Be("List-Unsubscribe=One-Click");
        var header = mail.GetProperty("headers").Str("List-Unsubscribe");
        var url = header.Trim('<', '>');
        mail.Str("text").Should().Contain(url);
        var path = url[(url.IndexOf("/api/", StringComparison.Ordinal) + 5)..];

        var page = await Api.Anonymous.GetAsync(path);
        page.StatusCode.Should().Be(HttpStatusCode.OK);
        page.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        (await page.Content.ReadAsStringAsync()).Should().Contain("deal updates").And.Contain("<form method=\"post\"");
        Notifications.ModeOf((await Notifications.GetAsync(rita)).Body, "dealUpdates").Should().Be("immediate", "showing the page changes nothing");

        var forged = "notifications/unsubscribe/" + new string('a', 40);
        (await Api.Anonymous.GetAsync(forged)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await Api.Anonymous.PostAsync(forged, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]))).StatusCode.Should().Be(HttpStatusCode.NotFound);
        var tampered = path[..^1] + (path[^1] == '0' ? '1' : '0');
        (await Api.Anonymous.PostAsync(tampered, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]))).StatusCode.Should().Be(HttpStatusCode.NotFound);
        Notifications.ModeOf((await Notifications.GetAsync(rita)).Body, "dealUpdates").Should().Be("immediate", "a forged link does nothing");

        var done = await Api.Anonymous.PostAsync(path, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
        done.StatusCode.Should().Be(HttpStatusCode.OK, await done.Content.ReadAsStringAsync());
        Notifications.ModeOf((await Notifications.GetAsync(rita)).Body, "dealUpdates").Should().Be("off");

        (await Api.Anonymous.PostAsync(path, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]))).StatusCode.Should().Be(HttpStatusCode.NotFound, "a link works once");
        (await Api.Anonymous.GetAsync(path)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await Api.Anonymous.GetAsync("approvals/" + path[(path.LastIndexOf('/') + 1)..])).StatusCode.Should().Be(HttpStatusCode.NotFound, "an unsubscribe token decides nothing");
    }

    [Fact]
    public async Task A_digest_for_a_person_removed_from_their_partner_is_not_sent()
    {
        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var email = $"leaver-{Guid.NewGuid():N}"[..16] + "@northwind.example";
        var invited = await anna.PostJsonAsync($"partners/{partnerId}/users", new { email, displayName = "Lee Leaver" });
        invited.StatusCode.Should().Be(HttpStatusCode.Created, await invited.Content.ReadAsStringAsync());
        var userId = (await invited.JsonAsync()).Str("id");
        var leaver = await Api.ClientAsync(email);
        (await Notifications.PutAsync(leaver, new { preferences = new Dictionary<string, string> { ["dealUpdates"] = "dailyDigest" } })).StatusCode.Should().Be(HttpStatusCode.OK);
        var deal = await Notifications.UnderReviewAsync(leaver, "Leaver Logistics");
        await Notifications.ApproveAsync(await Api.ClientAsync(Demo.CmEmea), deal.Str("id"));
        // The approval was kept for the digest (its workflow runs), then the person leaves before the digest is due.
        await Api.WorkflowInputAsync("digest-daily-" + userId, input => true);
        (await anna.DeleteAsync($"partners/{partnerId}/users/{userId}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var status = await Api.WorkflowFinishedAsync("digest-daily-" + userId, TimeSpan.FromMinutes(4));

        status.Should().Be(Microsoft.DurableTask.Client.OrchestrationRuntimeStatus.Completed);
        (await Notifications.MailAsync(Api, email)).Where(m => m.Str("subject").StartsWith("Your daily digest", StringComparison.Ordinal)).Should().BeEmpty();
        (await Notifications.MailAsync(Api, email)).Where(m => m.Str("subject").StartsWith("Deal registration", StringComparison.Ordinal)).Should().BeEmpty();
    }
}

/// <summary>The emailed status link of an application: a page for a browser, JSON for an API client, and no raw JSON error in a page.</summary>
public sealed class StatusPageTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    private static HttpRequestMessage Get(string url, string accept)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd(accept);
        return request;
    }

    [Fact]
    public async Task The_follow_your_application_link_is_a_page_in_a_browser_and_json_for_api_clients()
    {
        var (_, statusUrl) = await Applications.SubmitAsync(Api.Anonymous, Applications.Form("Status Page Systems", "status-page.example", "sue@status-page.example"));
        const string browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

        var page = await Api.Anonymous.SendAsync(Get(statusUrl, browser));
        page.StatusCode.Should().Be(HttpStatusCode.OK);
        page.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        (await page.Content.ReadAsStringAsync()).Should().Contain("Status Page Systems").And.Contain("Partner Program").And.Contain("#0B5CAD").And.NotContain("\"applicationId\"");

        var json = await Api.Anonymous.SendAsync(Get(statusUrl, "application/json"));
        json.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        (await json.JsonAsync()).Str("companyName").Should().Be("Status Page Systems");
        (await (await Api.Anonymous.GetAsync(statusUrl)).JsonAsync()).Str("companyName").Should().Be("Status Page Systems", "without Accept the API answers JSON");

        var wrong = statusUrl[..(statusUrl.IndexOf("token=", StringComparison.Ordinal) + 6)] + "forged";
        var wrongPage = await Api.Anonymous.SendAsync(Get(wrong, browser));
        wrongPage.StatusCode.Should().Be(HttpStatusCode.NotFound);
        wrongPage.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        var body = await wrongPage.Content.ReadAsStringAsync();
        body.Should().Contain("Link not valid").And.NotContain("\"status\":").And.NotContain("\"title\":").And.NotContain("   at ");
        (await Api.Anonymous.SendAsync(Get(wrong, "application/json"))).Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
    }

    [Theory]
    [InlineData("text/html,application/xhtml+xml,*/*;q=0.8", true)]
    [InlineData("application/json", false)]
    [InlineData("*/*", false)]
    [InlineData("application/json, text/html;q=0.5", false)]
    [InlineData("text/html;q=0.9, application/json;q=0.5", true)]
    public void Html_is_served_only_when_accept_prefers_it(string accept, bool html)
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.Headers.Accept = accept;

        BrowserPages.PrefersHtml(context.Request).Should().Be(html);
    }
}

/// <summary>Self-scoped routes (me/...): a person only ever reads and changes their own preferences; there is no id to name another's.</summary>
public sealed class NotificationIsolationTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public void The_matrix_covers_the_self_scoped_routes() =>
        FunctionCatalog.HttpFunctions.Where(f => f.Route.StartsWith("me/", StringComparison.Ordinal)).Select(f => f.Route).Should().Contain("me/notifications")
            .And.OnlyContain(r => !r.Contains('{'), "a self-scoped route names nobody");

    [Fact]
    public async Task A_persons_change_is_theirs_alone_and_a_machine_client_has_none()
    {
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        var rita = await Api.ClientAsync(Demo.FabrikamRep);
        var (samBefore, _) = await Notifications.GetAsync(sam);
        (await Notifications.PutAsync(sam, new { timeZone = "Asia/Tokyo", preferences = new Dictionary<string, string> { ["mdfUpdates"] = "off" }, userId = "someone-else" }))
            .StatusCode.Should().BeOneOf(HttpStatusCode.OK, HttpStatusCode.BadRequest);
        (await Notifications.PutAsync(sam, new { timeZone = "Asia/Tokyo", preferences = new Dictionary<string, string> { ["mdfUpdates"] = "off" } })).StatusCode.Should().Be(HttpStatusCode.OK);

        foreach (var other in new[] { anna, rita })
        {
            var (theirs, etag) = await Notifications.GetAsync(other);
            theirs.Str("userId").Should().NotBe(samBefore.Str("userId"));
            theirs.Str("timeZone").Should().Be("UTC");
            Notifications.ModeOf(theirs, "mdfUpdates").Should().Be("immediate");
            etag.Should().Be("\"defaults\"");
        }
        var (samAfter, _) = await Notifications.GetAsync(sam);
        samAfter.Str("userId").Should().Be(samBefore.Str("userId"));
        Notifications.ModeOf(samAfter, "mdfUpdates").Should().Be("off");
        (await Api.Anonymous.GetAsync("me/notifications")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }
}
