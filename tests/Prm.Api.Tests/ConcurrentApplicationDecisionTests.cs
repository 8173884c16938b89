using System.Net;
using Prm.Core.Onboarding;
using Prm.Testing;

namespace Prm.Api.Tests;

/// <summary>
/// Opposite decisions on one application through the API at the same time (no decision link to claim first): the application's ETag
/// lets one commit, and the partner follows only the approval that committed.
/// </summary>
public sealed class ConcurrentApplicationDecisionTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    [Theory]
    [InlineData("approve", "reject", "Velocity Racing Parts GmbH", "velocity-racing.example")]
    [InlineData("reject", "approve", "Momentum Racing Parts GmbH", "momentum-racing.example")]
    public async Task Ten_concurrent_opposite_api_decisions_decide_once_and_only_a_winning_approval_creates_the_partner(string even, string odd, string company, string domain)
    {
        var (id, _) = await Applications.SubmitAsync(Api.Anonymous, Applications.Form(company, domain, $"rita@{domain}"));
        var cm = await Api.ClientAsync(Demo.CmEmea);

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            cm.PostJsonAsync($"partner-applications/{id}/decision", new { decision = i % 2 == 0 ? even : odd, reason = $"Decision number {i}." })));

        var statuses = responses.Select(r => r.StatusCode).ToList();
        statuses.Should().ContainSingle(s => s == HttpStatusCode.OK, string.Join(", ", statuses));
        statuses.Count(s => s == HttpStatusCode.Conflict).Should().Be(9, string.Join(", ", statuses));
        var admin = await Api.ClientAsync(Demo.Admin);
        var application = await (await admin.GetAsync($"partner-applications/{id}")).JsonAsync();
        application.GetProperty("decisions").EnumerateArray().Where(d => d.Str("decision") is "approve" or "reject").Should().ContainSingle();
        var timeline = await (await admin.GetAsync($"partner-applications/{id}/timeline")).JsonAsync();
        timeline.GetProperty("items").EnumerateArray().Where(e => e.Str("action") is "application.approved" or "application.rejected").Should().ContainSingle();

        var partnerId = PartnerApplication.PartnerIdOf(id);
        var partners = (await (await admin.GetAsync($"partners?scope=all&search={Uri.EscapeDataString(company)}")).JsonAsync()).GetProperty("items").EnumerateArray().ToList();
        if (application.Str("status") == "Approved")
        {
            application.Str("partnerId").Should().Be(partnerId);
            partners.Should().ContainSingle(p => p.Str("domain") == domain);
            (await (await admin.GetAsync($"partners/{partnerId}")).JsonAsync()).Str("status").Should().Be("AgreementPending");
            return;
        }
        application.Str("status").Should().Be("Rejected");
        application.GetProperty("partnerId").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
        partners.Should().BeEmpty("the rejection won: no partner may exist");
        await ApiSteps.ProblemAsync(await admin.GetAsync($"partners/{partnerId}"), 404);

        // The approvals that lost gave their reservation back: a new application for the domain can be approved.
        var (again, _) = await Applications.SubmitAsync(Api.Anonymous, Applications.Form(company, domain, $"sam@{domain}"));
        var approved = await cm.PostJsonAsync($"partner-applications/{again}/decision", new { decision = "approve" });
        approved.StatusCode.Should().Be(HttpStatusCode.OK, await approved.Content.ReadAsStringAsync());
        (await (await admin.GetAsync($"partners/{PartnerApplication.PartnerIdOf(again)}")).JsonAsync()).Str("domain").Should().Be(domain);
    }
}
