using System.Net;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Prm.Storage;
using Prm.Testing;

namespace Prm.Api.Tests.Operations;

/// <summary>
/// Export and erasure of a person's data: one email that is a partner admin (who registered a deal and took an exam), a lead's contact and
/// a partner applicant; erased, nothing of it is left in any table, the audit trail keeps a stable pseudonym, money and counts stay.
/// </summary>
public sealed class PrivacyTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    private async Task<JsonElement> ExportAsync(HttpClient admin, string email)
    {
        var response = await admin.GetAsync($"people/{Uri.EscapeDataString(email)}/export");
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    /// <summary>Every row of every table of the app whose text holds <paramref name="needle"/> (case-insensitive).</summary>
    private async Task<List<string>> RowsHoldingAsync(string needle)
    {
        var tables = Api.Services.GetRequiredService<PrmTables>();
        var hits = new List<string>();
        foreach (var table in tables.All)
        {
            await foreach (var e in table.QueryAsync<TableEntity>())
            {
                var text = string.Join("\n", e.Select(p => p.Key + "=" + p.Value));
                if (text.Contains(needle, StringComparison.OrdinalIgnoreCase)) hits.Add($"{table.Name} {e.PartitionKey} {e.RowKey}");
            }
        }
        return hits;
    }

    [Fact]
    public async Task Export_finds_the_person_everywhere_and_after_the_erasure_nothing_of_them_is_left()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var domain = $"privacy-{suffix}.example";
        var (partnerId, boss) = await Deals.PartnerAsync(Api, "Privacy Co " + suffix, domain);
        var email = $"boss@{domain}";
        var name = $"Privacy Co {suffix} Boss";
        await boss.GetAsync("me"); // signs in: the identity link is written

        // A deal the person registered, a lead whose contact they are, an application they sent, an exam they took.
        var deal = await Deals.RegisterAsync(boss, Deals.Body("Privacy Customer " + suffix, $"privacy-customer-{suffix}.example"));
        await Deals.DeliveredAsync(Api, deal.Str("id"), "deal.approved");
        await Leads.CreateAsync(admin, Leads.Body("Privacy Lead Corp " + suffix, $"privacy-lead-{suffix}.example", email));
        await Applications.SubmitAsync(Api.Anonymous, Applications.Form("Privacy Applicant " + suffix + " GmbH", $"privacy-app-{suffix}.example", email));
        var courseId = await Training.CourseAsync(admin, Training.CourseBody("Privacy course " + suffix));
        await Training.PassAsync(boss, courseId);
        var statsBefore = await (await admin.GetAsync($"partners/{partnerId}/deal-stats")).Content.ReadAsStringAsync();
        var dealBefore = await (await admin.GetAsync($"deals/{deal.Str("id")}")).JsonAsync();

        var export = await ExportAsync(admin, email.ToUpperInvariant());
        export.Str("email").Should().Be(email, "the email is normalized");
        export.Str("userId").Should().StartWith("usr_");
        export.GetProperty("erased").ValueKind.Should().Be(JsonValueKind.Null);
        var stores = export.GetProperty("records").EnumerateArray().Select(r => r.Str("store")).ToHashSet();
        stores.Should().Contain(["partners", "keys", "deals", "leads", "applications", "training"]);
        var records = export.GetProperty("records").EnumerateArray().ToList();
        records.Should().Contain(r => r.Str("store") == "partners" && r.Str("kind") == "user" && r.GetProperty("data").Str("email") == email);
        records.Should().Contain(r => r.Str("store") == "leads" && r.GetProperty("data").GetRawText().Contains(email));
        export.GetProperty("count").GetInt32().Should().Be(records.Count);
        export.GetProperty("coverage").GetArrayLength().Should().BeGreaterThan(0);
        (await RowsHoldingAsync(email)).Should().NotBeEmpty();

        var erased = await admin.PostJsonAsync($"people/{Uri.EscapeDataString(email)}/erase", new { reason = "GDPR request #42" });
        erased.StatusCode.Should().Be(HttpStatusCode.OK, await erased.Content.ReadAsStringAsync());
        var result = await erased.JsonAsync();
        var pseudonym = result.Str("pseudonym");
        pseudonym.Should().MatchRegex("^anon_[0-9a-f]{16}$");
        result.GetProperty("rowsChanged").GetInt32().Should().BeGreaterThan(5);
        result.GetProperty("keyRowsDeleted").GetInt32().Should().BeGreaterThanOrEqualTo(1, "the email's key row goes");
        result.GetProperty("notCovered").GetArrayLength().Should().BeGreaterThan(0);

        // Nothing of the person is left in any table, and the export finds nothing but the erasure.
        (await RowsHoldingAsync(email)).Should().BeEmpty();
        (await RowsHoldingAsync(name)).Should().BeEmpty();
        var after = await ExportAsync(admin, email);
        after.GetProperty("count").GetInt32().Should().Be(0);
        after.GetProperty("records").GetArrayLength().Should().Be(0);
        after.GetProperty("erased").Str("pseudonym").Should().Be(pseudonym);

        // Money and counts stay; the deal keeps its customer contact (another person) and its amount.
        (await (await admin.GetAsync($"partners/{partnerId}/deal-stats")).Content.ReadAsStringAsync()).Should().Be(statsBefore);
        var dealAfter = await (await admin.GetAsync($"deals/{deal.Str("id")}")).JsonAsync();
        dealAfter.GetProperty("estimatedValue").GetRawText().Should().Be(dealBefore.GetProperty("estimatedValue").GetRawText());
        dealAfter.GetProperty("customer").Str("contactEmail").Should().Be(dealBefore.GetProperty("customer").Str("contactEmail"));
        dealAfter.Str("status").Should().Be(dealBefore.Str("status"));
        var user = (await (await admin.GetAsync($"partners/{partnerId}/users?limit=200")).JsonAsync()).GetProperty("items").EnumerateArray().Single(u => u.Str("role") == "PartnerAdmin");
        user.Str("email").Should().Be(pseudonym + "@erased.invalid");
        user.Str("displayName").Should().Be(pseudonym);

        // The audit trail keeps the who as the same pseudonym in every entry the person made.
        var timeline = (await (await admin.GetAsync($"deals/{deal.Str("id")}/timeline")).JsonAsync()).GetProperty("items").EnumerateArray().ToList();
        timeline.Should().NotBeEmpty();
        timeline.Where(t => t.Str("actorId") == user.Str("id")).Select(t => t.Str("actorName")).Should().OnlyContain(n => n == pseudonym);

        // A second erasure finds nothing more and keeps the pseudonym.
        var again = await (await admin.PostAsync($"people/{Uri.EscapeDataString(email)}/erase", null)).JsonAsync();
        again.Str("pseudonym").Should().Be(pseudonym);
        again.GetProperty("rowsChanged").GetInt32().Should().Be(0);
    }

    [Fact]
    public async Task A_customer_contact_is_erased_from_the_deal_that_names_them_and_the_deal_keeps_its_money()
    {
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var admin = await Api.ClientAsync(Demo.Admin);
        var customerDomain = $"contact-{Guid.NewGuid():N}"[..20] + ".example";
        var deal = await Deals.RegisterAsync(sam, Deals.Body("Contact Privacy GmbH", customerDomain));
        var contact = "chris@" + customerDomain;
        var northwind = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        await Deals.DeliveredAsync(Api, deal.Str("id"), "deal.approved");
        var statsBefore = await (await admin.GetAsync($"partners/{northwind}/deal-stats")).Content.ReadAsStringAsync();

        var export = await ExportAsync(admin, contact);
        export.GetProperty("userId").ValueKind.Should().Be(JsonValueKind.Null, "a customer contact signs in nowhere");
        export.GetProperty("records").EnumerateArray().Should().Contain(r => r.Str("store") == "deals" && r.Str("rowKey").StartsWith("deal|"));

        var result = await (await admin.PostAsync($"people/{Uri.EscapeDataString(contact)}/erase", null)).JsonAsync();
        var pseudonym = result.Str("pseudonym");
        var after = await (await admin.GetAsync($"deals/{deal.Str("id")}")).JsonAsync();
        after.GetProperty("customer").Str("contactEmail").Should().Be(pseudonym + "@erased.invalid");
        after.GetProperty("customer").Str("contactName").Should().Be(pseudonym);
        after.GetProperty("customer").Str("companyName").Should().Be("Contact Privacy GmbH", "the company is not a person");
        after.GetProperty("estimatedValue").GetProperty("amount").GetDecimal().Should().Be(20_000m);
        (await (await admin.GetAsync($"partners/{northwind}/deal-stats")).Content.ReadAsStringAsync()).Should().Be(statsBefore);
        (await RowsHoldingAsync(contact)).Should().BeEmpty();
        // The deal can still be worked on: the registration reads and changes as before.
        (await sam.PostJsonAsync($"deals/{deal.Str("id")}/outcome", new { result = "lost", reason = "Went elsewhere." })).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Bad_emails_unknown_people_and_oneself_get_precise_problems()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        foreach (var bad in new[] { "not-an-email", "a@b", "x@@y.example" })
        {
            var problem = await ApiSteps.ProblemAsync(await admin.GetAsync($"people/{Uri.EscapeDataString(bad)}/export"), 400);
            problem.GetProperty("errors").TryGetProperty("email", out _).Should().BeTrue(problem.GetRawText());
            (await ApiSteps.ProblemAsync(await admin.PostAsync($"people/{Uri.EscapeDataString(bad)}/erase", null), 400)).GetProperty("errors").TryGetProperty("email", out _).Should().BeTrue();
        }
        var nobody = $"nobody-{Guid.NewGuid():N}@nowhere.example";
        (await ExportAsync(admin, nobody)).GetProperty("count").GetInt32().Should().Be(0);
        await ApiSteps.ProblemAsync(await admin.PostAsync($"people/{Uri.EscapeDataString(nobody)}/erase", null), 404);
        (await ApiSteps.ProblemAsync(await admin.PostAsync($"people/{Uri.EscapeDataString(Demo.Admin)}/erase", null), 409)).Str("field").Should().Be("email");
        (await ApiSteps.ProblemAsync(await admin.PostJsonAsync($"people/{Uri.EscapeDataString(nobody)}/erase", new { reason = new string('r', 501) }), 400))
            .GetProperty("errors").TryGetProperty("reason", out _).Should().BeTrue();
    }
}
