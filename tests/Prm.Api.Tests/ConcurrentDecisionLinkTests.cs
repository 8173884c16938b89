using System.Net;
using Prm.Testing;

namespace Prm.Api.Tests;

/// <summary>Decision links used concurrently: the link is claimed before its decision runs, so of concurrent posts exactly one decides.</summary>
public sealed class ConcurrentDecisionLinkTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    private async Task<HttpResponseMessage[]> PostConcurrentlyAsync(string link, string[] decisions) =>
        await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            Api.Anonymous.PostAsync(link, new FormUrlEncodedContent([new("decision", decisions[i % decisions.Length]), new("reason", $"Decision number {i}.")]))));

    [Fact]
    public async Task Ten_concurrent_posts_of_a_deal_review_link_decide_once()
    {
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var deal = await Deals.RegisterAsync(sam, Deals.Body("Lamna Healthcare Group", "lamna-healthcare.example", amount: 80_000m));
        deal.Str("status").Should().Be("UnderReview", "above the auto-approval limit");
        var link = Mailbox.ApprovalPath(Mailbox.Link(await Mailbox.MessageAsync(Api, Demo.CmEmea, "Deal registration to review: Lamna Healthcare Group"), "/approvals/"));

        var responses = await PostConcurrentlyAsync(link, ["approve", "reject", "return"]);

        responses.Select(r => r.StatusCode).Should().ContainSingle(s => s == HttpStatusCode.OK)
            .And.Subject.Count(s => s == HttpStatusCode.Conflict).Should().Be(9);
        var after = await (await sam.GetAsync($"deals/{deal.Str("id")}")).JsonAsync();
        after.GetProperty("decisions").EnumerateArray().Where(d => d.Str("decision") is "approve" or "reject" or "return").Should().ContainSingle();
        var timeline = await (await sam.GetAsync($"deals/{deal.Str("id")}/timeline")).JsonAsync();
        timeline.GetProperty("items").EnumerateArray().Where(e => e.Str("action") is "deal.approved" or "deal.rejected" or "deal.returned").Should().ContainSingle();
        (await (await Api.Anonymous.GetAsync(link)).Content.ReadAsStringAsync()).Should().Contain("Already decided by Elena Emea").And.NotContain("value=\"approve\"");
    }

    [Fact]
    public async Task Ten_concurrent_opposite_posts_of_an_application_link_decide_once_and_a_rejection_creates_no_partner()
    {
        var (id, _) = await Applications.SubmitAsync(Api.Anonymous, Applications.Form("Contoso Racing Parts GmbH", "contoso-racing.example", "carla@contoso-racing.example"));
        var link = Mailbox.ApprovalPath(Mailbox.Link(await Mailbox.MessageAsync(Api, Demo.CmEmea, "New partner application to review: Contoso Racing Parts GmbH"), "/approvals/"));

        var responses = await PostConcurrentlyAsync(link, ["approve", "reject"]);

        responses.Select(r => r.StatusCode).Should().ContainSingle(s => s == HttpStatusCode.OK)
            .And.Subject.Count(s => s == HttpStatusCode.Conflict).Should().Be(9);
        var admin = await Api.ClientAsync(Demo.Admin);
        var application = await (await admin.GetAsync($"partner-applications/{id}")).JsonAsync();
        application.GetProperty("decisions").EnumerateArray().Where(d => d.Str("decision") is "approve" or "reject").Should().ContainSingle();
        var partners = (await (await admin.GetAsync("partners?scope=all&search=Contoso%20Racing")).JsonAsync()).GetProperty("items").EnumerateArray().ToList();
        if (application.Str("status") == "Approved") partners.Should().ContainSingle(p => p.Str("domain") == "contoso-racing.example");
        else partners.Should().BeEmpty("the rejection won: no partner may exist");
    }
}
