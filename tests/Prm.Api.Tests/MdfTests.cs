using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Prm.Core.Common;
using Prm.Core.Mdf;
using Prm.Functions.Http;
using Prm.Testing;

namespace Prm.Api.Tests;

/// <summary>MDF end to end through the local host on Azurite: budgets, requests, decisions, claims with real SAS uploads, payout, ROI, concurrency, isolation.</summary>
public sealed class MdfTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    private static readonly byte[] Pdf = System.Text.Encoding.ASCII.GetBytes("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");

    private static (string Start, string End) DatesIn(string period) => period switch
    {
        "2026" => ("2026-11-01", "2026-11-02"),
        "2026-Q1" => ("2026-02-01", "2026-02-02"),
        "2026-Q2" => ("2026-05-01", "2026-05-02"),
        "2026-Q3" => ("2026-08-01", "2026-08-02"),
        "2026-Q4" => ("2026-10-01", "2026-10-02"),
        "2027" => ("2027-03-01", "2027-03-02"),
        "2028" => ("2028-03-01", "2028-03-02"),
        _ => ("2025-06-01", "2025-06-02"),
    };

    private async Task<JsonElement> BudgetAsync(string partnerName, string period, decimal amount)
    {
        var partnerId = await ApiSteps.PartnerIdAsync(Api, partnerName);
        var admin = await Api.ClientAsync(Demo.Admin);
        var response = await admin.PostJsonAsync("mdf/budgets", new { partnerId, period, amount = new { amount, currency = "EUR" } });
        ((int)response.StatusCode).Should().Be(201, await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    private static object RequestBody(string period, decimal amount, string title = "Partner summit") => new
    {
        activityType = "event", title, description = "A half-day event for customers.", startDate = DatesIn(period).Start, endDate = DatesIn(period).End,
        requestedAmount = new { amount, currency = "EUR" }, partnerContributionPercent = 25, targetAudience = "IT leads", expectedLeads = 40,
        expectedPipeline = new { amount = 150000m, currency = "EUR" },
    };

    private async Task<JsonElement> GetBudgetAsync(string budgetId) => await (await (await Api.ClientAsync(Demo.Admin)).GetAsync($"mdf/budgets/{budgetId}")).JsonAsync();

    private static decimal Amount(JsonElement e, string name) => e.GetProperty(name).GetProperty("amount").GetDecimal();

    private async Task AssertLedgerReplaysAsync(string budgetId)
    {
        var budget = await GetBudgetAsync(budgetId);
        var ledger = await (await (await Api.ClientAsync(Demo.Admin)).GetAsync($"mdf/budgets/{budgetId}/ledger")).JsonAsync();
        var entries = ledger.GetProperty("items").EnumerateArray().Select(e => new LedgerEntry("x" + e.GetProperty("sequence").GetInt64(), e.GetProperty("sequence").GetInt64(),
            Enum.Parse<LedgerEntryKind>(e.Str("kind"), ignoreCase: true), new Money(Amount(e, "amount"), "EUR"), e.Str("subject"), null, DateTimeOffset.UtcNow, "t",
            e.GetProperty("basis").ValueKind == JsonValueKind.Null ? null : new Money(Amount(e, "basis"), "EUR"))).ToList();
        var replayed = BudgetLedger.Replay("EUR", entries);
        replayed.Sequence.Should().Be(budget.GetProperty("ledgerSequence").GetInt64());
        replayed.Available.Amount.Should().Be(Amount(budget, "available"));
        replayed.Pending.Amount.Should().Be(Amount(budget, "pending"));
        replayed.Approved.Amount.Should().Be(Amount(budget, "approved"));
        replayed.Claimed.Amount.Should().Be(Amount(budget, "claimed"));
        replayed.Paid.Amount.Should().Be(Amount(budget, "paid"));
        (Amount(budget, "allocated") + Amount(budget, "adjustments")).Should().Be(
            Amount(budget, "available") + Amount(budget, "pending") + Amount(budget, "approved") + Amount(budget, "claimed") + Amount(budget, "paid"));
        Amount(budget, "available").Should().BeGreaterThanOrEqualTo(0);
    }

    private static async Task<HttpResponseMessage> PutBlobAsync(string url, byte[] content)
    {
        // The oversized proof is 25 MiB: on a loaded machine Azurite (one node process for the whole test run) may take longer than
        // HttpClient's default 100 s to take it in. The test is about what the API does with it, not about upload speed.
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        var put = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent(content) };
        put.Headers.TryAddWithoutValidation("x-ms-blob-type", "BlockBlob");
        put.Content.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        return await http.SendAsync(put);
    }

    /// <summary>A Northwind request approved by the channel manager with a draft claim; returns (budgetId, requestId, claimId).</summary>
    private async Task<(string BudgetId, string RequestId, string ClaimId)> ApprovedWithClaimAsync(string period)
    {
        var budget = await BudgetAsync("Northwind Traders", period, 20000m);
        var rep = await Api.ClientAsync(Demo.NorthwindRep);
        var request = await (await rep.PostJsonAsync("mdf/requests", RequestBody(period, 5000m))).JsonAsync();
        var cm = await Api.ClientAsync(Demo.CmEmea);
        (await cm.PostJsonAsync($"mdf/requests/{request.Str("id")}/decision", new { decision = "approve", claimDeadline = "2030-01-31" })).StatusCode.Should().Be(HttpStatusCode.OK);
        var claim = await rep.PostJsonAsync($"mdf/requests/{request.Str("id")}/claims", new { claimedAmount = new { amount = 4000m, currency = "EUR" }, actualLeads = 10 });
        ((int)claim.StatusCode).Should().Be(201, await claim.Content.ReadAsStringAsync());
        return (budget.Str("id"), request.Str("id"), (await claim.JsonAsync()).Str("id"));
    }

    [Fact]
    public async Task Request_approval_claim_with_an_uploaded_pdf_approval_and_payout_leave_exact_balances()
    {
        var budget = await BudgetAsync("Northwind Traders", "2026", 20000m);
        var budgetId = budget.Str("id");
        var rep = await Api.ClientAsync(Demo.NorthwindRep);
        var cm = await Api.ClientAsync(Demo.CmEmea);
        var admin = await Api.ClientAsync(Demo.Admin);

        var submitted = await rep.PostJsonAsync("mdf/requests", RequestBody("2026", 5000m));
        ((int)submitted.StatusCode).Should().Be(201, await submitted.Content.ReadAsStringAsync());
        var requestId = (await submitted.JsonAsync()).Str("id");
        var afterSubmit = await GetBudgetAsync(budgetId);
        Amount(afterSubmit, "pending").Should().Be(5000m);
        Amount(afterSubmit, "available").Should().Be(15000m);

        var tooBig = await ApiSteps.ProblemAsync(await rep.PostJsonAsync("mdf/requests", RequestBody("2026", 15000.01m)), 422);
        tooBig.GetProperty("available").GetProperty("amount").GetDecimal().Should().Be(15000m);
        tooBig.Str("field").Should().Be("requestedAmount.amount");

        var decided = await cm.PostJsonAsync($"mdf/requests/{requestId}/decision", new { decision = "approve", approvedAmount = new { amount = 4000m, currency = "EUR" }, maxReimbursementPercent = 75, claimDeadline = "2030-01-31" });
        ((int)decided.StatusCode).Should().Be(200, await decided.Content.ReadAsStringAsync());
        (await decided.JsonAsync()).GetProperty("maxClaim").GetProperty("amount").GetDecimal().Should().Be(3000m);
        var afterApproval = await GetBudgetAsync(budgetId);
        Amount(afterApproval, "approved").Should().Be(4000m);
        Amount(afterApproval, "pending").Should().Be(0m);
        Amount(afterApproval, "available").Should().Be(16000m);

        (await ApiSteps.ProblemAsync(await rep.PostJsonAsync($"mdf/requests/{requestId}/claims", new { claimedAmount = new { amount = 3000.01m, currency = "EUR" }, actualLeads = 12 }), 400))
            .GetProperty("errors").TryGetProperty("claimedAmount.amount", out _).Should().BeTrue();
        var claim = await (await rep.PostJsonAsync($"mdf/requests/{requestId}/claims", new { claimedAmount = new { amount = 2500m, currency = "EUR" }, actualLeads = 12, attendees = 80, notes = "Full room." })).JsonAsync();
        var claimId = claim.Str("id");
        await ApiSteps.ProblemAsync(await rep.PostAsync($"mdf/claims/{claimId}/submit", null), 422);

        var slot = await rep.PostJsonAsync($"mdf/claims/{claimId}/proofs", new { fileName = "invoice.pdf" });
        ((int)slot.StatusCode).Should().Be(201, await slot.Content.ReadAsStringAsync());
        var upload = await slot.JsonAsync();
        (await PutBlobAsync(upload.Str("uploadUrl"), Pdf)).StatusCode.Should().Be(HttpStatusCode.Created);
        var completed = await rep.PostAsync($"mdf/claims/{claimId}/proofs/{upload.Str("proofId")}/complete", null);
        ((int)completed.StatusCode).Should().Be(200, await completed.Content.ReadAsStringAsync());
        var proof = (await completed.JsonAsync()).GetProperty("proofs").EnumerateArray().Single();
        proof.Str("status").Should().Be("Verified");
        proof.Str("contentType").Should().Be("application/pdf");

        var submit = await rep.PostAsync($"mdf/claims/{claimId}/submit", null);
        ((int)submit.StatusCode).Should().Be(200, await submit.Content.ReadAsStringAsync());
        var afterClaim = await GetBudgetAsync(budgetId);
        Amount(afterClaim, "claimed").Should().Be(2500m);
        Amount(afterClaim, "approved").Should().Be(1500m);

        var link = await (await cm.GetAsync($"mdf/claims/{claimId}/proofs/{upload.Str("proofId")}")).JsonAsync();
        using (var http = new HttpClient()) (await http.GetByteArrayAsync(link.Str("url"))).Should().Equal(Pdf);
        (await rep.GetAsync($"mdf/claims/{claimId}/proofs/{upload.Str("proofId")}")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await (await Api.ClientAsync(Demo.FabrikamAdmin)).GetAsync($"mdf/claims/{claimId}")).StatusCode.Should().Be(HttpStatusCode.NotFound);

        var approved = await cm.PostJsonAsync($"mdf/claims/{claimId}/decision", new { decision = "approve", amount = new { amount = 2400m, currency = "EUR" } });
        ((int)approved.StatusCode).Should().Be(200, await approved.Content.ReadAsStringAsync());
        var afterClaimApproval = await GetBudgetAsync(budgetId);
        Amount(afterClaimApproval, "claimed").Should().Be(2400m);
        Amount(afterClaimApproval, "approved").Should().Be(0m);
        Amount(afterClaimApproval, "available").Should().Be(17600m);

        (await cm.PostJsonAsync($"mdf/claims/{claimId}/payout", new { paymentReference = "PAY-1", paidOn = "2026-11-29" })).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var paid = await admin.PostJsonAsync($"mdf/claims/{claimId}/payout", new { paymentReference = "PAY-1", paidOn = "2026-11-29" });
        ((int)paid.StatusCode).Should().Be(200, await paid.Content.ReadAsStringAsync());
        (await paid.JsonAsync()).Str("status").Should().Be("Paid");
        await ApiSteps.ProblemAsync(await admin.PostJsonAsync($"mdf/claims/{claimId}/payout", new { paymentReference = "PAY-2", paidOn = "2026-11-29" }), 409);

        var final = await GetBudgetAsync(budgetId);
        Amount(final, "paid").Should().Be(2400m);
        Amount(final, "claimed").Should().Be(0m);
        Amount(final, "available").Should().Be(17600m);
        (await (await rep.GetAsync($"mdf/requests/{requestId}")).JsonAsync()).Str("status").Should().Be("Closed");
        await AssertLedgerReplaysAsync(budgetId);

        // Deals registered with the request's id are attributed to it: one won, one still open.
        var wonDeal = await Deals.RegisterAsync(rep, new
        {
            customer = new { companyName = "Summit Lead One GmbH", domain = "summit-lead-one.example", country = "DE" }, products = new[] { "cloud-backup" },
            estimatedValue = new { amount = 25_000m, currency = "EUR" }, expectedCloseDate = Deals.CloseDate(), mdfRequestId = requestId,
        });
        (await rep.PostJsonAsync($"deals/{wonDeal.Str("id")}/outcome", new { result = "won", amount = new { amount = 30_000m, currency = "EUR" }, closeDate = DateTime.UtcNow.ToString("yyyy-MM-dd") }))
            .StatusCode.Should().Be(HttpStatusCode.OK);
        await Deals.RegisterAsync(rep, new
        {
            customer = new { companyName = "Summit Lead Two AG", domain = "summit-lead-two.example", country = "DE" }, products = new[] { "endpoint-security" },
            estimatedValue = new { amount = 20_000m, currency = "EUR" }, expectedCloseDate = Deals.CloseDate(), mdfRequestId = requestId,
        });
        var roi = await Responses.EventuallyAsync(async () => await (await rep.GetAsync($"mdf/requests/{requestId}/roi")).JsonAsync(),
            r => r.GetProperty("registeredDeals").GetInt32() == 2 && Amount(r, "wonValue") == 30_000m);
        roi.GetProperty("registeredDeals").GetInt32().Should().Be(2);
        Amount(roi, "wonValue").Should().Be(30_000m);
        Amount(roi, "pipelineValue").Should().Be(50_000m);
        roi.GetProperty("returnOnSpend").GetDecimal().Should().Be(12.5m);
        Amount(roi, "paid").Should().Be(2400m);
        roi.GetProperty("leads").GetInt32().Should().Be(12);
        Amount(roi, "costPerLead").Should().Be(200m);
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var periodRoi = await (await cm.GetAsync($"mdf/roi?partnerId={partnerId}&period=2026")).JsonAsync();
        Amount(periodRoi, "paid").Should().Be(2400m);

        var mail = await Responses.EventuallyAsync(async () => await (await Api.Anonymous.GetAsync($"dev/mail?to={Uri.EscapeDataString(Demo.NorthwindRep)}")).Content.ReadAsStringAsync(),
            text => text.Contains("Your claim was paid"));
        mail.Should().Contain("Your fund request was approved").And.Contain("Your claim was paid");
    }

    [Fact]
    public async Task A_retried_fund_request_with_the_same_idempotency_key_is_filed_and_reserved_once()
    {
        var budget = await BudgetAsync("Fabrikam Solutions", "2026-Q3", 5_000m);
        var sam = await Api.ClientAsync(Demo.FabrikamRep);
        HttpRequestMessage Post(string key) => new(HttpMethod.Post, "mdf/requests")
        {
            Content = Responses.Json(RequestBody("2026-Q3", 1_200m, "Retried roadshow")),
            Headers = { { "Idempotency-Key", key } },
        };
        // Three in flight at once (a client that lost its connection and retried), then one more after.
        var responses = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => sam.SendAsync(Post("roadshow-2026-q3"))));
        responses.Select(r => (int)r.StatusCode).Should().OnlyContain(s => s == 201, string.Join(" ", await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()))));
        var ids = (await Task.WhenAll(responses.Select(async r => (await r.JsonAsync()).Str("id")))).Distinct().ToList();
        ids.Should().ContainSingle();
        (await (await sam.SendAsync(Post("roadshow-2026-q3"))).JsonAsync()).Str("id").Should().Be(ids[0]);
        Amount(await GetBudgetAsync(budget.Str("id")), "pending").Should().Be(1_200m, "the retries reserved nothing again");
        (await (await sam.SendAsync(Post("another-key"))).JsonAsync()).Str("id").Should().NotBe(ids[0]);
        await AssertLedgerReplaysAsync(budget.Str("id"));
    }

    [Fact]
    public async Task Ten_concurrent_opposite_decisions_on_a_fund_request_decide_once_and_the_losers_hear_already_decided()
    {
        // A quarter no other test budgets for this partner (a request goes to the narrowest budget covering its dates).
        var budget = await BudgetAsync("Fabrikam Solutions", "2026-Q1", 10_000m);
        var rep = await Api.ClientAsync(Demo.FabrikamRep);
        var cm = await Api.ClientAsync(Demo.Admin);
        var requestId = (await (await rep.PostJsonAsync("mdf/requests", RequestBody("2026-Q1", 2_000m, "Racing decisions"))).JsonAsync()).Str("id");

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => cm.PostJsonAsync($"mdf/requests/{requestId}/decision",
            i % 2 == 0 ? new { decision = "approve", reason = (string?)null } : new { decision = "reject", reason = (string?)"Not this quarter." })));

        var bodies = await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()));
        responses.Select(r => (int)r.StatusCode).Should().ContainSingle(s => s == 200, string.Join(" | ", bodies))
            .And.Subject.Count(s => s == 409).Should().Be(9, "every loser hears the request was decided already");
        bodies.Should().NotContain(b => b.Contains("led_") || b.Contains("below zero"), "ledger internals never reach a client");
        var after = await GetBudgetAsync(budget.Str("id"));
        (Amount(after, "pending") + Amount(after, "approved") + Amount(after, "available")).Should().Be(10_000m);
        Amount(after, "pending").Should().Be(0m);
        var status = (await (await cm.GetAsync($"mdf/requests/{requestId}")).JsonAsync()).Str("status");
        Amount(after, "approved").Should().Be(status == "Approved" ? 2_000m : 0m, $"the request ended {status}, on this budget");
        await AssertLedgerReplaysAsync(budget.Str("id"));
    }

    [Fact]
    public async Task A_deal_names_only_a_fund_request_of_its_own_company()
    {
        await BudgetAsync("Fabrikam Solutions", "2026-Q2", 5_000m);
        var rita = await Api.ClientAsync(Demo.FabrikamRep);
        var foreign = await (await rita.PostJsonAsync("mdf/requests", RequestBody("2026-Q2", 1_000m, "Fabrikam roadshow"))).JsonAsync();
        await BudgetAsync("Northwind Traders", "2026-Q2", 5_000m);
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var own = await (await sam.PostJsonAsync("mdf/requests", RequestBody("2026-Q2", 1_000m, "Northwind roadshow"))).JsonAsync();
        object Body(string customer, string? mdfRequestId) => new
        {
            customer = new { companyName = customer, domain = customer.ToLowerInvariant().Replace(' ', '-') + ".example", country = "DE" }, products = new[] { "cloud-backup" },
            estimatedValue = new { amount = 10_000m, currency = "EUR" }, expectedCloseDate = Deals.CloseDate(), mdfRequestId,
        };

        foreach (var (customer, reference) in new[] { ("Reference One", foreign.Str("id")), ("Reference Two", "mdr_" + new string('0', 32)), ("Reference Three", "garbage'--") })
        {
            var problem = await ApiSteps.ProblemAsync(await sam.PostJsonAsync("deals", Body(customer, reference)), 422);
            problem.GetProperty("errors").TryGetProperty("mdfRequestId", out _).Should().BeTrue(reference);
        }
        var attributed = await Deals.RegisterAsync(sam, Body("Reference Four", own.Str("id")));
        attributed.Str("mdfRequestId").Should().Be(own.Str("id"));
        var draft = await Deals.RegisterAsync(sam, new
        {
            customer = new { companyName = "Reference Five", domain = "reference-five.example", country = "DE" }, products = new[] { "cloud-backup" },
            estimatedValue = new { amount = 10_000m, currency = "EUR" }, expectedCloseDate = Deals.CloseDate(), draft = true,
        });
        var (_, etag) = await ApiSteps.GetWithETagAsync(sam, $"deals/{draft.Str("id")}");
        await ApiSteps.ProblemAsync(await sam.SendAsync(ApiSteps.Patch($"deals/{draft.Str("id")}", new { mdfRequestId = foreign.Str("id") }, etag)), 422);
    }

    [Fact]
    public async Task The_claim_deadline_step_releases_the_unclaimed_reservation_exactly_once_and_tells_the_partner()
    {
        var budget = await BudgetAsync("Northwind Traders", "2027", 10_000m);
        var rep = await Api.ClientAsync(Demo.NorthwindRep);
        var request = await (await rep.PostJsonAsync("mdf/requests", RequestBody("2027", 3_000m, "Deadline webinar"))).JsonAsync();
        var requestId = request.Str("id");
        (await (await Api.ClientAsync(Demo.CmEmea)).PostJsonAsync($"mdf/requests/{requestId}/decision", new { decision = "approve", claimDeadline = "2030-01-31" })).StatusCode.Should().Be(HttpStatusCode.OK);
        Amount(await GetBudgetAsync(budget.Str("id")), "approved").Should().Be(3_000m);

        // What MdfRequestOrchestrator runs when the claim deadline's timer fires (the timer itself is covered by MdfWorkflowTests).
        var steps = Api.Services.GetRequiredService<IMdfWorkflowSteps>();
        (await steps.RunStepAsync(new MdfStep(requestId, MdfStepKind.ClaimDeadlineReminder, DaysBefore: 3), CancellationToken.None)).Should().Be(StepOutcome.Done);
        (await steps.RunStepAsync(new MdfStep(requestId, MdfStepKind.ClaimExpire), CancellationToken.None)).Should().Be(StepOutcome.Done);
        (await steps.RunStepAsync(new MdfStep(requestId, MdfStepKind.ClaimExpire), CancellationToken.None)).Should().Be(StepOutcome.DoneAlready);

        var after = await GetBudgetAsync(budget.Str("id"));
        Amount(after, "approved").Should().Be(0m);
        Amount(after, "available").Should().Be(10_000m);
        (await (await rep.GetAsync($"mdf/requests/{requestId}")).JsonAsync()).Str("status").Should().Be("Expired");
        var ledger = await (await (await Api.ClientAsync(Demo.Admin)).GetAsync($"mdf/budgets/{budget.Str("id")}/ledger")).JsonAsync();
        ledger.GetProperty("items").EnumerateArray().Count(e => e.Str("kind").Equals("Released", StringComparison.OrdinalIgnoreCase)).Should().Be(1);
        await AssertLedgerReplaysAsync(budget.Str("id"));
        await ApiSteps.ProblemAsync(await rep.PostJsonAsync($"mdf/requests/{requestId}/claims", new { claimedAmount = new { amount = 100m, currency = "EUR" }, actualLeads = 1 }), 409);
        var mail = await Responses.EventuallyAsync(async () => await (await Api.Anonymous.GetAsync($"dev/mail?to={Uri.EscapeDataString(Demo.NorthwindRep)}")).Content.ReadAsStringAsync(),
            text => text.Contains("Your MDF reservation expired"));
        mail.Should().Contain("Your MDF reservation expired").And.Contain("Your claim deadline is near");
    }

    [Fact]
    public async Task Opposite_decisions_through_the_link_and_the_api_at_once_decide_a_fund_request_once()
    {
        var budget = await BudgetAsync("Fabrikam Solutions", "2028", 5_000m);
        var rita = await Api.ClientAsync(Demo.FabrikamRep);
        var cm = await Api.ClientAsync(Demo.CmAmer);
        var request = await (await rita.PostJsonAsync("mdf/requests", RequestBody("2028", 900m, "Contested roadshow"))).JsonAsync();
        var link = Mailbox.ApprovalPath(Mailbox.Link(await Mailbox.MessageAsync(Api, Demo.CmAmer, "A fund request waits for your decision: Contested roadshow"), "/approvals/"));

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => i % 2 == 0
            ? Api.Anonymous.PostAsync(link, new FormUrlEncodedContent([new("decision", i % 4 == 0 ? "approve" : "reject"), new("reason", "By link.")]))
            : cm.PostJsonAsync($"mdf/requests/{request.Str("id")}/decision", new { decision = i % 4 == 1 ? "reject" : "approve", reason = "By API." })));

        var statuses = responses.Select(r => (int)r.StatusCode).ToList();
        statuses.Count(s => s == 200).Should().Be(1, string.Join(",", statuses));
        statuses.Where(s => s != 200).Should().OnlyContain(s => s == 409, "every loser hears it was decided already");
        var after = await (await rita.GetAsync($"mdf/requests/{request.Str("id")}")).JsonAsync();
        var total = await GetBudgetAsync(budget.Str("id"));
        Amount(total, "pending").Should().Be(0m);
        Amount(total, "approved").Should().Be(after.Str("status") == "Approved" ? 900m : 0m);
        await AssertLedgerReplaysAsync(budget.Str("id"));
    }

    [Fact]
    public async Task The_channel_manager_approves_a_fund_request_from_the_emailed_link_once()
    {
        var budget = await BudgetAsync("Fabrikam Solutions", "2027", 5_000m);
        var rita = await Api.ClientAsync(Demo.FabrikamRep);
        var request = await (await rita.PostJsonAsync("mdf/requests", RequestBody("2027", 1_200m, "Linked roadshow"))).JsonAsync();
        var mail = await Mailbox.MessageAsync(Api, Demo.CmAmer, "A fund request waits for your decision: Linked roadshow");
        var link = Mailbox.ApprovalPath(Mailbox.Link(mail, "/approvals/"));
        var page = await (await Api.Anonymous.GetAsync(link)).Content.ReadAsStringAsync();
        page.Should().Contain("Linked roadshow").And.Contain("value=\"approve\"").And.NotContain("<script");
        Amount(await GetBudgetAsync(budget.Str("id")), "approved").Should().Be(0m, "opening the link changes nothing");

        var approved = await Api.Anonymous.PostAsync(link, new FormUrlEncodedContent([new("decision", "approve"), new("reason", "")]));
        approved.StatusCode.Should().Be(HttpStatusCode.OK, await approved.Content.ReadAsStringAsync());
        (await (await rita.GetAsync($"mdf/requests/{request.Str("id")}")).JsonAsync()).Str("status").Should().Be("Approved");
        Amount(await GetBudgetAsync(budget.Str("id")), "approved").Should().Be(1_200m);
        (await Api.Anonymous.PostAsync(link, new FormUrlEncodedContent([new("decision", "reject"), new("reason", "changed my mind")]))).StatusCode.Should().Be(HttpStatusCode.Conflict);
        Amount(await GetBudgetAsync(budget.Str("id")), "approved").Should().Be(1_200m);
    }

    [Fact]
    public async Task Fifty_concurrent_requests_never_take_available_below_zero_and_the_ledger_replays_to_the_row()
    {
        var budget = await BudgetAsync("Fabrikam Solutions", "2026", 1000m);
        var rep = await Api.ClientAsync(Demo.FabrikamRep);
        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => rep.PostJsonAsync("mdf/requests", RequestBody("2026", 30m, $"Webinar {i}"))));
        var created = responses.Count(r => r.StatusCode == HttpStatusCode.Created);
        var refused = responses.Where(r => (int)r.StatusCode == 422).ToList();
        (created + refused.Count).Should().Be(50, string.Join(", ", responses.Select(r => (int)r.StatusCode)));
        created.Should().Be(33);
        var after = await GetBudgetAsync(budget.Str("id"));
        Amount(after, "pending").Should().Be(990m);
        Amount(after, "available").Should().Be(10m);
        await AssertLedgerReplaysAsync(budget.Str("id"));

        // Every cancelled amount returns exactly once.
        var first = (await responses.First(r => r.StatusCode == HttpStatusCode.Created).JsonAsync()).Str("id");
        var cancels = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => rep.PostJsonAsync($"mdf/requests/{first}/cancel", new { reason = "Changed plans" })));
        cancels.Count(c => c.StatusCode == HttpStatusCode.OK).Should().Be(1);
        cancels.Count(c => c.StatusCode == HttpStatusCode.Conflict).Should().Be(4);
        Amount(await GetBudgetAsync(budget.Str("id")), "available").Should().Be(40m);
        await AssertLedgerReplaysAsync(budget.Str("id"));
    }

    [Fact]
    public async Task A_request_above_the_threshold_needs_a_second_admin_approval_and_a_rejection_returns_its_funds()
    {
        var budget = await BudgetAsync("Northwind Traders", "2026-Q3", 30000m);
        var rep = await Api.ClientAsync(Demo.NorthwindRep);
        var cm = await Api.ClientAsync(Demo.CmEmea);
        var admin = await Api.ClientAsync(Demo.Admin);
        var big = await (await rep.PostJsonAsync("mdf/requests", RequestBody("2026-Q3", 12000m))).JsonAsync();
        var first = await (await cm.PostJsonAsync($"mdf/requests/{big.Str("id")}/decision", new { decision = "approve" })).JsonAsync();
        first.Str("status").Should().Be("AwaitingSecondApproval");
        Amount(await GetBudgetAsync(budget.Str("id")), "pending").Should().Be(12000m);
        (await cm.PostJsonAsync($"mdf/requests/{big.Str("id")}/decision", new { decision = "approve" })).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var second = await admin.PostJsonAsync($"mdf/requests/{big.Str("id")}/decision", new { decision = "approve" });
        ((int)second.StatusCode).Should().Be(200, await second.Content.ReadAsStringAsync());
        (await second.JsonAsync()).Str("status").Should().Be("Approved");
        Amount(await GetBudgetAsync(budget.Str("id")), "approved").Should().Be(12000m);

        var small = await (await rep.PostJsonAsync("mdf/requests", RequestBody("2026-Q3", 1000m))).JsonAsync();
        (await cm.PostJsonAsync($"mdf/requests/{small.Str("id")}/decision", new { decision = "reject", reason = "Out of scope" })).StatusCode.Should().Be(HttpStatusCode.OK);
        await ApiSteps.ProblemAsync(await cm.PostJsonAsync($"mdf/requests/{small.Str("id")}/decision", new { decision = "approve" }), 409);
        var after = await GetBudgetAsync(budget.Str("id"));
        Amount(after, "available").Should().Be(18000m);
        Amount(after, "pending").Should().Be(0m);
        await AssertLedgerReplaysAsync(budget.Str("id"));
    }

    [Fact]
    public async Task A_renamed_executable_and_an_oversized_upload_are_rejected_and_deleted()
    {
        var (_, _, claimId) = await ApprovedWithClaimAsync("2026-Q1");
        var rep = await Api.ClientAsync(Demo.NorthwindRep);

        var exe = await (await rep.PostJsonAsync($"mdf/claims/{claimId}/proofs", new { fileName = "invoice.pdf" })).JsonAsync();
        var executable = new byte[4096];
        executable[0] = (byte)'M';
        executable[1] = (byte)'Z';
        (await PutBlobAsync(exe.Str("uploadUrl"), executable)).StatusCode.Should().Be(HttpStatusCode.Created);
        await ApiSteps.ProblemAsync(await rep.PostAsync($"mdf/claims/{claimId}/proofs/{exe.Str("proofId")}/complete", null), 422);
        (await (await Api.ClientAsync(Demo.CmEmea)).GetAsync($"mdf/claims/{claimId}/proofs/{exe.Str("proofId")}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        var admin = await Api.ClientAsync(Demo.Admin);
        var storage = Api.Services.GetService(typeof(Prm.Storage.Files.BlobFiles)) as Prm.Storage.Files.BlobFiles;
        (await storage!.Blob(Prm.Storage.Files.Containers.Proofs, $"{(await (await admin.GetAsync($"mdf/claims/{claimId}")).JsonAsync()).Str("requestId")}/{claimId}/{exe.Str("proofId")}").ExistsAsync()).Value.Should().BeFalse();

        var big = await (await rep.PostJsonAsync($"mdf/claims/{claimId}/proofs", new { fileName = "huge.pdf" })).JsonAsync();
        var oversized = new byte[ProofSniffer.MaxSize + 1];
        Pdf.CopyTo(oversized, 0);
        (await PutBlobAsync(big.Str("uploadUrl"), oversized)).StatusCode.Should().Be(HttpStatusCode.Created);
        var problem = await ApiSteps.ProblemAsync(await rep.PostAsync($"mdf/claims/{claimId}/proofs/{big.Str("proofId")}/complete", null), 422);
        problem.Str("detail").Should().Contain("25 MiB");
        var claim = await (await rep.GetAsync($"mdf/claims/{claimId}")).JsonAsync();
        claim.GetProperty("proofs").GetArrayLength().Should().Be(0);
        await ApiSteps.ProblemAsync(await rep.PostAsync($"mdf/claims/{claimId}/submit", null), 422);
    }

    public static TheoryData<string, string> MdfRoutes()
    {
        var data = new TheoryData<string, string>();
        foreach (var function in FunctionCatalog.HttpFunctions.Where(f => f.Route.StartsWith("mdf/", StringComparison.Ordinal) && f.Route.Contains('{')))
        {
            foreach (var method in function.Methods) data.Add(method, function.Route);
        }
        return data;
    }

    [Fact]
    public void The_isolation_matrix_covers_every_mdf_route_with_an_id() => MdfRoutes().Count.Should().BeGreaterThanOrEqualTo(17);

    [Theory]
    [MemberData(nameof(MdfRoutes))]
    public async Task Users_of_another_partner_and_a_foreign_channel_manager_get_404_and_nothing_changes(string method, string route)
    {
        var period = "2025";
        var (budgetId, requestId, claimId) = await IsolationTargetAsync(period);
        var admin = await Api.ClientAsync(Demo.Admin);
        var claim = await (await admin.GetAsync($"mdf/claims/{claimId}")).JsonAsync();
        var proofId = claim.GetProperty("proofs").EnumerateArray().First().Str("id");
        var url = route.Replace("{budgetId}", budgetId).Replace("{requestId}", requestId).Replace("{claimId}", claimId).Replace("{proofId}", proofId);
        var beforeRequest = await (await admin.GetAsync($"mdf/requests/{requestId}")).Content.ReadAsStringAsync();
        var beforeBudget = await (await admin.GetAsync($"mdf/budgets/{budgetId}")).Content.ReadAsStringAsync();
        var policy = FunctionCatalog.HttpFunctions.Single(f => f.Route == route && f.Methods.Contains(method)).Policy;
        foreach (var email in new[] { Demo.FabrikamAdmin, Demo.FabrikamRep, Demo.CmAmer })
        {
            var client = await Api.ClientAsync(email);
            var request = new HttpRequestMessage(new HttpMethod(method), url);
            if (method == "POST") request.Content = Responses.Json(new { decision = "approve", amount = new { amount = 1m, currency = "EUR" }, reason = "x", paymentReference = "P", paidOn = "2026-01-01", claimedAmount = new { amount = 1m, currency = "EUR" }, actualLeads = 1, answer = "x" });
            var response = await client.SendAsync(request);
            // 403 only where the route's policy excludes the caller's role whatever the id (it reveals nothing); otherwise 404.
            var isVendor = email == Demo.CmAmer;
            var roleExcluded = policy == Prm.Core.Identity.AccessPolicy.Admin
                || (isVendor && policy == Prm.Core.Identity.AccessPolicy.PartnerMember)
                || (!isVendor && policy == Prm.Core.Identity.AccessPolicy.Vendor);
            var expected = roleExcluded ? 403 : 404;
            ((int)response.StatusCode).Should().Be(expected, $"{email} {method} {url}: {await response.Content.ReadAsStringAsync()}");
            (await response.Content.ReadAsStringAsync()).Should().NotContain("Northwind");
        }
        (await (await admin.GetAsync($"mdf/requests/{requestId}")).Content.ReadAsStringAsync()).Should().Be(beforeRequest, "nothing was changed");
        (await (await admin.GetAsync($"mdf/budgets/{budgetId}")).Content.ReadAsStringAsync()).Should().Be(beforeBudget, "nothing was changed");
    }

    [Theory]
    [InlineData("mdf/budgets?partnerId={p}")]
    [InlineData("mdf/requests?partnerId={p}")]
    [InlineData("mdf/roi?partnerId={p}&period=2025")]
    public async Task Lists_of_another_partner_are_404(string route)
    {
        var victim = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        foreach (var email in new[] { Demo.FabrikamAdmin, Demo.FabrikamRep, Demo.CmAmer })
        {
            var response = await (await Api.ClientAsync(email)).GetAsync(route.Replace("{p}", victim));
            ((int)response.StatusCode).Should().Be(404, email);
        }
    }

    private static readonly SemaphoreSlim IsolationLock = new(1, 1);
    private static (string, string, string)? isolationTarget;

    /// <summary>One Northwind request with a submitted claim and a verified proof, shared by the matrix.</summary>
    private async Task<(string BudgetId, string RequestId, string ClaimId)> IsolationTargetAsync(string period)
    {
        await IsolationLock.WaitAsync();
        try
        {
            if (isolationTarget is { } known && (await (await Api.ClientAsync(Demo.Admin)).GetAsync($"mdf/budgets/{known.Item1}")).IsSuccessStatusCode) return known;
            var target = await ApprovedWithClaimAsync(period);
            var rep = await Api.ClientAsync(Demo.NorthwindRep);
            var slot = await (await rep.PostJsonAsync($"mdf/claims/{target.ClaimId}/proofs", new { fileName = "p.pdf" })).JsonAsync();
            await PutBlobAsync(slot.Str("uploadUrl"), Pdf);
            (await rep.PostAsync($"mdf/claims/{target.ClaimId}/proofs/{slot.Str("proofId")}/complete", null)).StatusCode.Should().Be(HttpStatusCode.OK);
            (await rep.PostAsync($"mdf/claims/{target.ClaimId}/submit", null)).StatusCode.Should().Be(HttpStatusCode.OK);
            isolationTarget = target;
            return target;
        }
        finally
        {
            IsolationLock.Release();
        }
    }
}
