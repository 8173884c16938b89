using System.Net;
using System.Text;
using System.Text.Json;
using Prm.Testing;

namespace Prm.Api.Tests;

/// <summary>Mail helpers the onboarding tests share.</summary>
internal static class Mailbox
{
    public static Task<JsonElement> MessageAsync(ApiHost api, string to, string subjectStart, TimeSpan? timeout = null) =>
        MessageAsync(api, to, subjectStart, _ => true, timeout);

    /// <summary>The newest mail to <paramref name="to"/> whose subject starts so and that <paramref name="matching"/> accepts (e.g. by its text).</summary>
    public static async Task<JsonElement> MessageAsync(ApiHost api, string to, string subjectStart, Func<JsonElement, bool> matching, TimeSpan? timeout = null)
    {
        bool Wanted(JsonElement x) => x.Str("subject").StartsWith(subjectStart, StringComparison.Ordinal) && matching(x);
        // Newest 500 and up to three minutes: after a test that files hundreds of requests, the outbox works through their emails first.
        var mail = await Responses.EventuallyAsync(
            async () => await (await api.Anonymous.GetAsync($"dev/mail?to={Uri.EscapeDataString(to)}&limit=500")).JsonAsync(),
            m => m.GetProperty("items").EnumerateArray().Any(Wanted), timeout ?? TimeSpan.FromMinutes(3));
        return mail.GetProperty("items").EnumerateArray().First(Wanted);
    }

    public static async Task<int> CountAsync(ApiHost api, string to, string subjectStart) =>
        (await (await api.Anonymous.GetAsync($"dev/mail?to={Uri.EscapeDataString(to)}")).JsonAsync()).GetProperty("items").EnumerateArray()
            .Count(x => x.Str("subject").StartsWith(subjectStart, StringComparison.Ordinal));

    public static string Link(JsonElement message, string contains) =>
        message.GetProperty("links").EnumerateArray().Select(l => l.GetString()!).First(l => l.Contains(contains, StringComparison.Ordinal));

    public static string ApprovalPath(string link) => "approvals/" + link[(link.IndexOf("/approvals/", StringComparison.Ordinal) + 11)..];
}

/// <summary>Request for information: the reviewer asks, the applicant answers through the emailed link, the review starts again.</summary>
public sealed class ShortInfoFixture : ApiHostFixture
{
    public override async Task InitializeAsync() => Api = await ApiHost.StartAsync(new Dictionary<string, string?>
    {
        ["Review:InfoAnswerWithin"] = "00:00:05",
    });
}

/// <summary>An answer window long enough for a loaded machine to get through the exchange before it ends (the expiry has its own fixture).</summary>
public sealed class AnswerInfoFixture : ApiHostFixture
{
    public override async Task InitializeAsync() => Api = await ApiHost.StartAsync(new Dictionary<string, string?>
    {
        ["Review:InfoAnswerWithin"] = "00:00:30",
    });
}

public sealed class AnswerInfoTests(AnswerInfoFixture fixture) : IClassFixture<AnswerInfoFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task The_reviewer_asks_from_the_link_the_applicant_answers_once_and_the_new_link_approves()
    {
        var (id, statusUrl) = await Applications.SubmitAsync(Api.Anonymous, Applications.Form("Wingtip Toys AG", "wingtip.example", "wendy@wingtip.example"));
        var review = Mailbox.ApprovalPath(Mailbox.Link(await Mailbox.MessageAsync(Api, Demo.CmEmea, "New partner application to review: Wingtip Toys AG"), "/approvals/"));
        (await (await Api.Anonymous.GetAsync(review)).Content.ReadAsStringAsync()).Should().Contain("value=\"requestInfo\"");
        var noQuestion = await Api.Anonymous.PostAsync(review, new FormUrlEncodedContent([new("decision", "requestInfo"), new("reason", "")]));
        noQuestion.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var askedAt = DateTimeOffset.UtcNow;
        var asked = await Api.Anonymous.PostAsync(review, new FormUrlEncodedContent([new("decision", "requestInfo"), new("reason", "Which vendors do you resell today?")]));
        asked.StatusCode.Should().Be(HttpStatusCode.OK, await asked.Content.ReadAsStringAsync());
        (await asked.Content.ReadAsStringAsync()).Should().Contain("Information requested.");

        var status = await (await Api.Anonymous.GetAsync(statusUrl)).JsonAsync();
        status.Str("status").Should().Be("InfoRequested");
        status.Str("infoRequest").Should().Be("Which vendors do you resell today?");
        var question = await Mailbox.MessageAsync(Api, "wendy@wingtip.example", "Your partner application for Wingtip Toys AG: a question");
        question.Str("text").Should().Contain("Which vendors do you resell today?");
        var token = Applications.InfoToken(Mailbox.Link(question, "/info?token="));

        var cm = await Api.ClientAsync(Demo.CmEmea);
        (await ApiSteps.ProblemAsync(await cm.PostJsonAsync($"partner-applications/{id}/decision", new { decision = "requestInfo", reason = "again" }), 409))
            .GetProperty("detail").GetString().Should().Contain("requested already");
        await ApiSteps.ProblemAsync(await Api.Anonymous.PostJsonAsync($"partner-applications/{id}/info", new { token = $"{id}.{new string('0', 32)}", answer = "x" }), 404);
        await ApiSteps.ProblemAsync(await Api.Anonymous.PostJsonAsync($"partner-applications/{id}/info", new { token, answer = "" }), 400);

        // The workflow runs the answer window now (its generation carries the due time), so the wait after the answer below sees a change.
        static System.Text.Json.JsonElement Due(System.Text.Json.JsonElement i) => i.EnumerateObject().FirstOrDefault(p => string.Equals(p.Name, "infoDueAt", StringComparison.OrdinalIgnoreCase)).Value;
        await Api.WorkflowInputAsync("application-" + id, i => Due(i).ValueKind == System.Text.Json.JsonValueKind.String);
        var answered = await Api.Anonymous.PostJsonAsync($"partner-applications/{id}/info", new { token, answer = "Contoso and Litware, 40% of revenue." });
        answered.StatusCode.Should().Be(HttpStatusCode.OK, await answered.Content.ReadAsStringAsync());
        (await answered.JsonAsync()).Str("status").Should().Be("UnderReview");
        await ApiSteps.ProblemAsync(await Api.Anonymous.PostJsonAsync($"partner-applications/{id}/info", new { token, answer = "second answer" }), 404);

        // The answered application must not expire with the answer window: the running workflow continued as new without its due time.
        var generation = await Api.WorkflowInputAsync("application-" + id, i => Due(i).ValueKind == System.Text.Json.JsonValueKind.Null);
        generation.EnumerateObject().First(p => string.Equals(p.Name, "expiresAt", StringComparison.OrdinalIgnoreCase)).Value.GetDateTimeOffset().Should().BeAfter(askedAt.AddMinutes(1));
        var application = await (await cm.GetAsync($"partner-applications/{id}")).JsonAsync();
        application.Str("status").Should().Be("UnderReview");
        application.Str("infoAnswer").Should().Be("Contoso and Litware, 40% of revenue.");

        var again = await Mailbox.MessageAsync(Api, Demo.CmEmea, "Wingtip Toys AG answered your question");
        again.Str("text").Should().Contain("Contoso and Litware, 40% of revenue.");
        var second = Mailbox.ApprovalPath(Mailbox.Link(again, "/approvals/"));
        second.Should().NotBe(review);
        (await (await Api.Anonymous.GetAsync(review)).Content.ReadAsStringAsync()).Should().Contain("Already decided by Elena Emea").And.Contain("information requested");
        (await Api.Anonymous.PostAsync(second, new FormUrlEncodedContent([new("decision", "approve"), new("reason", "")]))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await (await Api.Anonymous.GetAsync(statusUrl)).JsonAsync()).Str("status").Should().Be("Approved");

        var actions = (await (await cm.GetAsync($"partner-applications/{id}/timeline")).JsonAsync()).GetProperty("items").EnumerateArray().Select(e => e.Str("action")).ToList();
        actions.Should().ContainInOrder("application.approved", "application.infoAnswered", "application.infoRequested", "application.submitted");
    }

}

public sealed class RequestInfoTests(ShortInfoFixture fixture) : IClassFixture<ShortInfoFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task Without_an_answer_the_application_expires_at_the_info_deadline()
    {
        var (id, statusUrl) = await Applications.SubmitAsync(Api.Anonymous, Applications.Form("Silent Partner GmbH", "silent-partner.example", "sid@silent-partner.example"));
        var cm = await Api.ClientAsync(Demo.CmEmea);
        (await cm.PostJsonAsync($"partner-applications/{id}/decision", new { decision = "requestInfo", reason = "Send your reseller certificate." })).StatusCode.Should().Be(HttpStatusCode.OK);
        var question = await Mailbox.MessageAsync(Api, "sid@silent-partner.example", "Your partner application for Silent Partner GmbH: a question");
        var token = Applications.InfoToken(Mailbox.Link(question, "/info?token="));

        var status = await Responses.EventuallyAsync(async () => await (await Api.Anonymous.GetAsync(statusUrl)).JsonAsync(), s => s.Str("status") == "Expired", TimeSpan.FromSeconds(180));
        status.Str("status").Should().Be("Expired");
        (await Mailbox.MessageAsync(Api, "sid@silent-partner.example", "Your partner application for Silent Partner GmbH expired")).Str("text").Should().Contain("did not receive an answer");
        var late = await Api.Anonymous.PostJsonAsync($"partner-applications/{id}/info", new { token, answer = "Sorry, late." });
        ((int)late.StatusCode).Should().Be(410, "the answer came after its due time: " + await late.Content.ReadAsStringAsync());
        (await (await cm.GetAsync($"partner-applications/{id}")).JsonAsync()).Str("status").Should().Be("Expired");
    }
}

/// <summary>Program settings of onboarding: admins change fit rules, assignment, deadlines and the agreement; the workflow applies them.</summary>
public sealed class OnboardingSettingsTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    private static HttpRequestMessage Put(string url, object body, string? etag)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = Responses.Json(body) };
        if (etag is not null) request.Headers.TryAddWithoutValidation("If-Match", etag);
        return request;
    }

    [Fact]
    public async Task Admins_change_assignment_and_fit_rules_with_etags_and_the_next_application_follows_them()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.CmEmea)).GetAsync("settings/onboarding"), 403);
        await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.NorthwindAdmin)).GetAsync("settings/onboarding"), 403);
        await ApiSteps.ProblemAsync(await admin.GetAsync("settings/nonsense"), 404);
        var (defaults, etag) = await ApiSteps.GetWithETagAsync(admin, "settings/onboarding");
        etag.Should().Be("\"defaults\"");
        defaults.GetProperty("targetCountryPoints").GetInt32().Should().Be(40);
        defaults.Str("agreementVersion").Should().Be("2026-01");

        var cmAmer = (await (await (await Api.ClientAsync(Demo.CmAmer)).GetAsync("me")).JsonAsync()).Str("userId");
        await ApiSteps.ProblemAsync(await admin.SendAsync(Put("settings/onboarding", new { targetCountryPoints = 10 }, null)), 428);
        var bad = await ApiSteps.ProblemAsync(await admin.SendAsync(Put("settings/onboarding", new
        {
            targetCountries = new[] { "XX" },
            assignments = new[] { new { country = "FR", channelManagerId = "stf_nobody" } },
            reviewReminderAfter = "3.00:00:00",
        }, etag)), 422);
        bad.GetProperty("errors").EnumerateObject().Select(e => e.Name).Should().Contain(["targetCountries[0]", "assignments[0].channelManagerId", "reviewExpiresAfter"]);
        await ApiSteps.ProblemAsync(await admin.SendAsync(Put("settings/onboarding", new { reviewReminderAfter = "soon" }, etag)), 400);
        (await ApiSteps.ProblemAsync(await admin.SendAsync(Put("settings/onboarding", new { noSuchSetting = 1 }, etag)), 400)).GetProperty("errors").TryGetProperty("noSuchSetting", out _).Should().BeTrue();

        var saved = await admin.SendAsync(Put("settings/onboarding", new
        {
            targetCountries = new[] { "FR" },
            targetCountryPoints = 35,
            assignments = new[] { new { country = "FR", region = (string?)null, channelManagerId = cmAmer } },
        }, etag));
        saved.StatusCode.Should().Be(HttpStatusCode.OK, await saved.Content.ReadAsStringAsync());
        var newEtag = saved.Headers.ETag!.ToString();
        newEtag.Should().NotBe(etag);
        (await saved.JsonAsync()).GetProperty("reviewReminderAfter").GetString().Should().Be("P1D", "left-out settings keep their defaults, and durations are ISO 8601");
        await ApiSteps.ProblemAsync(await admin.SendAsync(Put("settings/onboarding", new { targetCountryPoints = 20 }, etag)), 412);

        var (id, _) = await Applications.SubmitAsync(Api.Anonymous, Applications.Form("Vins de France SARL", "vins-france.example", "v@vins-france.example", country: "FR", region: "emea"));
        var application = await (await (await Api.ClientAsync(Demo.CmAmer)).GetAsync($"partner-applications/{id}")).JsonAsync();
        application.Str("assigneeId").Should().Be(cmAmer, "the country rule beats the region's channel manager");
        application.GetProperty("screening").GetProperty("fitScore").GetInt32().Should().Be(35 + 30 + 25);
        await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.CmEmea)).GetAsync($"partner-applications/{id}"), 404);

        var timeline = await (await admin.GetAsync("settings-timeline")).JsonAsync();
        var change = timeline.GetProperty("items").EnumerateArray().First(e => e.Str("action") == "settings.updated");
        change.Str("subjectId").Should().Be("onboarding");
        change.GetProperty("changes").EnumerateArray().Select(c => c.Str("field")).Should().Contain(["targetCountries", "targetCountryPoints", "assignments"]);
    }

    [Fact]
    public async Task A_new_agreement_version_is_uploaded_once_made_current_and_offered_to_the_next_partner()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        const string text = "PARTNER PROGRAM AGREEMENT 2026-07\n\n1. Partners register deals before quoting.\n";
        HttpRequestMessage Upload(string version, string content, string type) => new(HttpMethod.Put, $"settings/agreements/{version}") { Content = new StringContent(content, Encoding.UTF8, type) };
        await ApiSteps.ProblemAsync(await admin.SendAsync(Upload("2026-07", text, "application/json")), 415);
        await ApiSteps.ProblemAsync(await admin.SendAsync(Upload("bad version!", text, "text/plain")), 400);
        await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.CmEmea)).SendAsync(Upload("2026-07", text, "text/plain")), 403);
        var uploaded = await admin.SendAsync(Upload("2026-07", text, "text/plain"));
        uploaded.StatusCode.Should().Be(HttpStatusCode.Created, await uploaded.Content.ReadAsStringAsync());
        (await uploaded.JsonAsync()).Str("sha256").Should().Be(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text))));
        await ApiSteps.ProblemAsync(await admin.SendAsync(Upload("2026-07", "changed", "text/plain")), 409);
        (await (await admin.GetAsync("settings/agreements/2026-07")).JsonAsync()).Str("text").Should().Be(text);

        var (_, etag) = await ApiSteps.GetWithETagAsync(admin, "settings/onboarding");
        (await ApiSteps.ProblemAsync(await admin.SendAsync(Put("settings/onboarding", new { agreementVersion = "2099-01" }, etag)), 422))
            .GetProperty("errors").TryGetProperty("agreementVersion", out _).Should().BeTrue();
        (await admin.SendAsync(Put("settings/onboarding", new { agreementVersion = "2026-07" }, etag))).StatusCode.Should().Be(HttpStatusCode.OK);

        var (id, _) = await Applications.SubmitAsync(Api.Anonymous, Applications.Form("Tailspin Gear GmbH", "tailspin-gear.example", "tom@tailspin-gear.example"));
        (await admin.PostJsonAsync($"partner-applications/{id}/decision", new { decision = "approve" })).StatusCode.Should().Be(HttpStatusCode.OK);
        var offer = await Mailbox.MessageAsync(Api, "tom@tailspin-gear.example", "Please accept the partner program agreement");
        var page = await (await Api.Anonymous.GetAsync(Mailbox.ApprovalPath(Mailbox.Link(offer, "/approvals/")))).Content.ReadAsStringAsync();
        page.Should().Contain("version 2026-07").And.Contain("Partners register deals before quoting.");
    }
}

/// <summary>Checklist reminders after activation, in seconds.</summary>
public sealed class ShortChecklistFixture : ApiHostFixture
{
    public override async Task InitializeAsync() => Api = await ApiHost.StartAsync(new Dictionary<string, string?>
    {
        ["Onboarding:ChecklistFirstReminderAfter"] = "00:00:02",
        ["Onboarding:ChecklistSecondReminderAfter"] = "00:00:04",
    });
}

public sealed class ChecklistReminderTests(ShortChecklistFixture fixture) : IClassFixture<ShortChecklistFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task An_active_partner_is_reminded_twice_of_the_open_checklist_items_only()
    {
        var (id, _) = await Applications.SubmitAsync(Api.Anonymous, Applications.Form("Blue Yonder Travel", "blue-yonder.example", "bea@blue-yonder.example"));
        var admin = await Api.ClientAsync(Demo.Admin);
        (await admin.PostJsonAsync($"partner-applications/{id}/decision", new { decision = "approve" })).StatusCode.Should().Be(HttpStatusCode.OK);
        var offer = await Mailbox.MessageAsync(Api, "bea@blue-yonder.example", "Please accept the partner program agreement");
        (await Api.Anonymous.PostAsync(Mailbox.ApprovalPath(Mailbox.Link(offer, "/approvals/")), new FormUrlEncodedContent([new("decision", "accept")]))).StatusCode.Should().Be(HttpStatusCode.OK);

        var first = await Mailbox.MessageAsync(Api, "bea@blue-yonder.example", "Blue Yonder Travel: ", TimeSpan.FromSeconds(180));
        first.Str("subject").Should().Be("Blue Yonder Travel: 4 onboarding steps left");
        first.Str("text").Should().Contain("- Register a first deal").And.Contain("- Invite a colleague").And.NotContain("Accept the program agreement");
        await Responses.EventuallyAsync(() => Mailbox.CountAsync(Api, "bea@blue-yonder.example", "Blue Yonder Travel: "), n => n >= 2, TimeSpan.FromSeconds(180));
        var partnerId = (await (await admin.GetAsync($"partner-applications/{id}")).JsonAsync()).Str("partnerId");
        (await Api.WorkflowFinishedAsync(Prm.Workflows.Onboarding.ChecklistFollowUp.InstanceId(partnerId))).Should().Be(Microsoft.DurableTask.Client.OrchestrationRuntimeStatus.Completed);
        (await Mailbox.CountAsync(Api, "bea@blue-yonder.example", "Blue Yonder Travel: ")).Should().Be(2, "two reminders, each sent once, and the follow-up has ended");
        var reminded = (await (await admin.GetAsync($"partners/{partnerId}/timeline")).JsonAsync()).GetProperty("items").EnumerateArray().Count(e => e.Str("action") == "partner.onboarding.reminded");
        reminded.Should().Be(2);
    }
}
