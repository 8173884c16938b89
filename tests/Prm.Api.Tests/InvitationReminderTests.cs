using System.Net;
using Prm.Testing;

namespace Prm.Api.Tests;

/// <summary>Invitation reminder workflows run on the Durable backend of the local host (Azure Storage provider on Azurite).</summary>
public sealed class InvitationReminderFixture : ApiHostFixture
{
    public override async Task InitializeAsync() =>
        Api = await ApiHost.StartAsync(new Dictionary<string, string?> { ["Workflows:InvitationReminderAfter"] = "00:00:03" });
}

public sealed class InvitationReminderTests(InvitationReminderFixture fixture) : IClassFixture<InvitationReminderFixture>
{
    private ApiHost Api => fixture.Api;

    private async Task<System.Text.Json.JsonElement> MailToAsync(string email) =>
        (await (await Api.Anonymous.GetAsync($"dev/mail?to={Uri.EscapeDataString(email)}")).JsonAsync()).GetProperty("items");

    [Fact]
    public async Task Someone_who_has_not_signed_in_gets_one_reminder_when_it_is_due()
    {
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Fabrikam Solutions");
        var partnerAdmin = await Api.ClientAsync(Demo.FabrikamAdmin);
        (await partnerAdmin.PostJsonAsync($"partners/{partnerId}/users", new { email = "late@fabrikam.example", displayName = "Late Larry" })).StatusCode.Should().Be(HttpStatusCode.Created);

        var mail = await Responses.EventuallyAsync(() => MailToAsync("late@fabrikam.example"), m => m.GetArrayLength() >= 2, TimeSpan.FromSeconds(90));
        var subjects = mail.EnumerateArray().Select(m => m.Str("subject")).ToList();
        subjects.Should().HaveCount(2);
        subjects[0].Should().StartWith("Reminder: your invitation to the Fabrikam Solutions partner portal");
        mail[0].GetProperty("links").EnumerateArray().Should().Contain(l => l.GetString()!.Contains("invitations/accept"));

        var user = await ApiSteps.UserByEmailAsync(partnerAdmin, partnerId, "late@fabrikam.example");
        var timeline = await (await partnerAdmin.GetAsync($"partners/{partnerId}/timeline")).JsonAsync();
        timeline.GetProperty("items").EnumerateArray().Should().Contain(e => e.Str("action") == "partner.user.reminded" && e.Str("subjectId") == user.Str("id"));
        (await Api.WorkflowFinishedAsync(Prm.Workflows.Invitations.InvitationFollowUp.InstanceId(user.Str("id")))).Should().Be(Microsoft.DurableTask.Client.OrchestrationRuntimeStatus.Completed);
        (await MailToAsync("late@fabrikam.example")).GetArrayLength().Should().Be(2, "one reminder per invitation, and the follow-up has ended");

        // The reminder carries a new code; the first one no longer works.
        string Code(System.Text.Json.JsonElement m) => System.Web.HttpUtility.ParseQueryString(new Uri(m.GetProperty("links").EnumerateArray()
            .Select(l => l.GetString()!).First(l => l.Contains("invitations/accept"))).Query)["code"]!;
        var person = Api.WithToken(Api.IssueUnverifiedToken("late@fabrikam.example", "Late Larry", Guid.NewGuid().ToString()));
        await ApiSteps.ProblemAsync(await person.PostJsonAsync("invitations/accept", new { code = Code(mail[1]) }), 404);
        (await person.PostJsonAsync("invitations/accept", new { code = Code(mail[0]) })).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Someone_who_signed_in_in_time_gets_no_reminder()
    {
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var partnerAdmin = await Api.ClientAsync(Demo.NorthwindAdmin);
        (await partnerAdmin.PostJsonAsync($"partners/{partnerId}/users", new { email = "quick@northwind.example", displayName = "Quick Quinn" })).StatusCode.Should().Be(HttpStatusCode.Created);
        (await (await Api.ClientAsync("quick@northwind.example")).GetAsync("me")).StatusCode.Should().Be(HttpStatusCode.OK);

        var admin = await Api.ClientAsync(Demo.Admin);
        await Responses.EventuallyAsync(
            async () => await (await admin.GetAsync($"partners/{partnerId}/timeline?limit=200")).JsonAsync(),
            t => t.GetProperty("items").EnumerateArray().Any(e => e.Str("action") == "partner.user.joined"), TimeSpan.FromSeconds(30));
        var user = await ApiSteps.UserByEmailAsync(partnerAdmin, partnerId, "quick@northwind.example");
        (await Api.WorkflowFinishedAsync(Prm.Workflows.Invitations.InvitationFollowUp.InstanceId(user.Str("id")))).Should().Be(Microsoft.DurableTask.Client.OrchestrationRuntimeStatus.Completed);
        var mail = await MailToAsync("quick@northwind.example");
        mail.EnumerateArray().Select(m => m.Str("subject")).Should().ContainSingle().Which.Should().NotStartWith("Reminder");
    }
}
