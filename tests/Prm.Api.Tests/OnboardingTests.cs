using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Testing;

namespace Prm.Api.Tests;

/// <summary>From "become a partner" to an active partner: approval by link, agreement acceptance by link, checklist.</summary>
public sealed class OnboardingTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    private async Task<string> LinkInMailAsync(string to, string subjectStart)
    {
        var mail = await Responses.EventuallyAsync(
            async () => await (await Api.Anonymous.GetAsync($"dev/mail?to={Uri.EscapeDataString(to)}")).JsonAsync(),
            m => m.GetProperty("items").EnumerateArray().Any(x => x.Str("subject").StartsWith(subjectStart)));
        var link = mail.GetProperty("items").EnumerateArray().First(x => x.Str("subject").StartsWith(subjectStart))
            .GetProperty("links").EnumerateArray().Select(l => l.GetString()!).First(l => l.Contains("/approvals/"));
        return "approvals/" + link[(link.IndexOf("/approvals/", StringComparison.Ordinal) + 11)..];
    }

    [Fact]
    public async Task The_happy_path_runs_on_links_from_the_mail_outbox_only()
    {
        var (id, statusUrl) = await Applications.SubmitAsync(Api.Anonymous, Applications.Form("Adventure Works Cycles", "adventure-works.example", "ann@adventure-works.example"));
        var review = await LinkInMailAsync(Demo.CmEmea, "New partner application to review: Adventure Works Cycles");
        (await Api.Anonymous.PostAsync(review, new FormUrlEncodedContent([new("decision", "approve"), new("reason", "")]))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await (await Api.Anonymous.GetAsync(statusUrl)).JsonAsync()).Str("status").Should().Be("Approved");

        var agreement = await LinkInMailAsync("ann@adventure-works.example", "Please accept the partner program agreement");
        var page = await (await Api.Anonymous.GetAsync(agreement)).Content.ReadAsStringAsync();
        page.Should().Contain("PARTNER PROGRAM AGREEMENT").And.Contain("I accept the agreement").And.Contain("version 2026-01");
        var partnerId = (await (await (await Api.ClientAsync(Demo.Admin)).GetAsync($"partner-applications/{id}")).JsonAsync()).Str("partnerId");
        var admin = await Api.ClientAsync(Demo.Admin);
        (await (await admin.GetAsync($"partners/{partnerId}")).JsonAsync()).Str("status").Should().Be("AgreementPending", "opening the link changes nothing");

        var request = new HttpRequestMessage(HttpMethod.Post, agreement) { Content = new FormUrlEncodedContent([new("decision", "accept")]) };
        request.Headers.UserAgent.ParseAdd("PrmTestBrowser/1.0");
        request.Headers.Add("X-Forwarded-For", "198.51.100.7");
        var accepted = await Api.Anonymous.SendAsync(request);
        accepted.StatusCode.Should().Be(HttpStatusCode.OK, await accepted.Content.ReadAsStringAsync());
        (await accepted.Content.ReadAsStringAsync()).Should().Contain("is now an active partner");
        (await (await admin.GetAsync($"partners/{partnerId}")).JsonAsync()).Str("status").Should().Be("Active");

        var timeline = await (await admin.GetAsync($"partners/{partnerId}/timeline")).JsonAsync();
        var acceptance = timeline.GetProperty("items").EnumerateArray().Single(e => e.Str("action") == "partner.agreement.accepted");
        var fields = acceptance.GetProperty("changes").EnumerateArray().ToDictionary(c => c.Str("field"), c => c.Str("after"));
        fields["agreementVersion"].Should().Be("2026-01");
        var document = await Api.Services.GetRequiredService<Prm.Core.Onboarding.IAgreementDocuments>().GetAsync("2026-01", CancellationToken.None);
        fields["agreementSha256"].Should().Be(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(document.Text))));
        fields["clientIp"].Should().Be("198.51.100.7");
        fields["userAgent"].Should().Be("PrmTestBrowser/1.0");
        fields["acceptedBy"].Should().Contain("ann@adventure-works.example");

        (await LinkInMailAsync("ann@adventure-works.example", "Please accept")).Should().MatchRegex("^approvals/[0-9a-f]{40}$");
        var welcome = await Responses.EventuallyAsync(
            async () => await (await Api.Anonymous.GetAsync("dev/mail?to=ann@adventure-works.example")).JsonAsync(),
            m => m.GetProperty("items").EnumerateArray().Any(x => x.Str("subject").StartsWith("Welcome to the partner program")));
        welcome.GetProperty("items").EnumerateArray().Should().Contain(x => x.Str("subject") == "Welcome to the partner program, Adventure Works Cycles");

        var again = await Api.Anonymous.PostAsync(agreement, new FormUrlEncodedContent([new("decision", "accept")]));
        again.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await again.Content.ReadAsStringAsync()).Should().Contain("Already accepted by");

        var partnerAdmin = await Api.ClientAsync("ann@adventure-works.example");
        var checklist = await (await partnerAdmin.GetAsync($"partners/{partnerId}/onboarding")).JsonAsync();
        checklist.Str("status").Should().Be("Active");
        var items = checklist.GetProperty("items").EnumerateArray().ToDictionary(i => i.Str("key"), i => i);
        items["agreementAccepted"].GetProperty("done").GetBoolean().Should().BeTrue();
        DateTimeOffset.Parse(items["agreementAccepted"].Str("completedAt"), System.Globalization.CultureInfo.InvariantCulture).Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
        items["firstUserInvited"].GetProperty("done").GetBoolean().Should().BeFalse();
        items["firstDealRegistered"].GetProperty("done").GetBoolean().Should().BeFalse();

        (await partnerAdmin.PostJsonAsync($"partners/{partnerId}/users", new { email = "bob@adventure-works.example", displayName = "Bob" })).StatusCode.Should().Be(HttpStatusCode.Created);
        var (_, etag) = await ApiSteps.GetWithETagAsync(partnerAdmin, $"partners/{partnerId}");
        (await partnerAdmin.SendAsync(ApiSteps.Patch($"partners/{partnerId}", new { phone = "+1 555 0100", city = "Redmond" }, etag))).StatusCode.Should().Be(HttpStatusCode.OK);
        checklist = await (await partnerAdmin.GetAsync($"partners/{partnerId}/onboarding")).JsonAsync();
        checklist.GetProperty("completed").GetInt32().Should().Be(3, "profile, agreement and first colleague are done");
    }

    [Fact]
    public async Task Later_capabilities_complete_checklist_items_through_their_events_and_the_first_one_wins()
    {
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Fabrikam Solutions");
        var hook = Api.Services.GetServices<IOutboxProjection>().OfType<OnboardingChecklistProjection>().Single();
        var first = new DateTimeOffset(2026, 11, 1, 9, 0, 0, TimeSpan.Zero);
        await hook.ApplyAsync(IntegrationEvent.Create("evt_1", OnboardingChecklistProjection.DealSubmitted, first, "deals/d1", partnerId, null, new { }), CancellationToken.None);
        await hook.ApplyAsync(IntegrationEvent.Create("evt_2", OnboardingChecklistProjection.DealSubmitted, first.AddDays(3), "deals/d2", partnerId, null, new { }), CancellationToken.None);
        var checklist = await (await (await Api.ClientAsync(Demo.FabrikamAdmin)).GetAsync($"partners/{partnerId}/onboarding")).JsonAsync();
        var deal = checklist.GetProperty("items").EnumerateArray().Single(i => i.Str("key") == "firstDealRegistered");
        deal.GetProperty("done").GetBoolean().Should().BeTrue();
        deal.Str("completedAt").Should().Be("2026-11-01T09:00:00.000Z");
    }
}

/// <summary>Agreement deadlines in seconds.</summary>
public sealed class ShortAgreementFixture : ApiHostFixture
{
    public override async Task InitializeAsync() => Api = await ApiHost.StartAsync(new Dictionary<string, string?>
    {
        ["Agreement:FirstReminderAfter"] = "00:00:02",
        ["Agreement:SecondReminderAfter"] = "00:00:04",
        ["Agreement:ExpiresAfter"] = "00:00:06",
    });
}

public sealed class AgreementDeadlineTests(ShortAgreementFixture fixture) : IClassFixture<ShortAgreementFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task An_agreement_not_accepted_is_reminded_twice_then_expires_and_the_channel_manager_is_told()
    {
        var (id, _) = await Applications.SubmitAsync(Api.Anonymous, Applications.Form("Tardy Traders", "tardy.example", "t@tardy.example"));
        var cm = await Api.ClientAsync(Demo.CmEmea);
        var partnerId = (await (await cm.PostJsonAsync($"partner-applications/{id}/decision", new { decision = "approve" })).JsonAsync()).Str("partnerId");
        var partner = await Responses.EventuallyAsync(async () => await (await cm.GetAsync($"partners/{partnerId}")).JsonAsync(), p => p.Str("status") == "AgreementExpired", TimeSpan.FromSeconds(90));
        partner.Str("status").Should().Be("AgreementExpired");
        var mail = await Responses.EventuallyAsync(
            async () => await (await Api.Anonymous.GetAsync("dev/mail?to=t@tardy.example")).JsonAsync(),
            m => m.GetProperty("items").EnumerateArray().Count(x => x.Str("subject").StartsWith("Reminder: the partner agreement")) >= 2);
        mail.GetProperty("items").EnumerateArray().Count(x => x.Str("subject").StartsWith("Reminder: the partner agreement")).Should().Be(2);
        var told = await Responses.EventuallyAsync(
            async () => await (await Api.Anonymous.GetAsync($"dev/mail?to={Demo.CmEmea}")).JsonAsync(),
            m => m.GetProperty("items").EnumerateArray().Any(x => x.Str("subject") == "Tardy Traders did not accept the partner agreement in time"));
        told.GetProperty("items").EnumerateArray().Should().Contain(x => x.Str("subject") == "Tardy Traders did not accept the partner agreement in time");
        var offer = mail.GetProperty("items").EnumerateArray().First(x => x.Str("subject").StartsWith("Please accept")).GetProperty("links").EnumerateArray().Select(l => l.GetString()!).First(l => l.Contains("/approvals/"));
        var late = await Api.Anonymous.PostAsync("approvals/" + offer[(offer.IndexOf("/approvals/", StringComparison.Ordinal) + 11)..], new FormUrlEncodedContent([new("decision", "accept")]));
        ((int)late.StatusCode).Should().Be(410, "the offer's link expired with the offer");
        var shown = await Api.Anonymous.GetAsync("approvals/" + offer[(offer.IndexOf("/approvals/", StringComparison.Ordinal) + 11)..]);
        ((int)shown.StatusCode).Should().Be(410, "the page of a lapsed offer says it expired");
    }
}
