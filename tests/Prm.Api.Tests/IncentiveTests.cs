using System.Globalization;
using System.Net;
using System.Text.Json;
using Prm.Testing;

namespace Prm.Api.Tests;

internal static class Incentives
{
    public static DateOnly Today => DateOnly.FromDateTime(DateTime.UtcNow);

    /// <summary>The quarter before the current one (text and last day).</summary>
    public static (string Text, DateOnly Start, DateOnly End) PreviousQuarter()
    {
        var start = new DateOnly(Today.Year, (Today.Month - 1) / 3 * 3 + 1, 1).AddMonths(-3);
        return ($"{start.Year}-Q{(start.Month - 1) / 3 + 1}", start, start.AddMonths(3).AddDays(-1));
    }

    /// <summary>The month before the current one (text and last day).</summary>
    public static (string Text, DateOnly Start, DateOnly End) PreviousMonth()
    {
        var start = new DateOnly(Today.Year, Today.Month, 1).AddMonths(-1);
        return (start.ToString("yyyy-MM", CultureInfo.InvariantCulture), start, start.AddMonths(1).AddDays(-1));
    }

    public static string Day(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Sets the FX rates of a month unless they exist.</summary>
    public static async Task RatesAsync(HttpClient admin, DateOnly day, Dictionary<string, decimal> rates)
    {
        var month = day.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        if ((await admin.GetAsync($"fx-rates/{month}")).StatusCode == HttpStatusCode.OK) return;
        var put = await admin.PutAsync($"fx-rates/{month}", Responses.Json(new { rates }));
        put.StatusCode.Should().Be(HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
    }

    public static async Task<JsonElement> ProgramAsync(HttpClient admin, object body)
    {
        var created = await admin.PostJsonAsync("incentive-programs", body);
        created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return await created.JsonAsync();
    }

    /// <summary>Registers a deal (approved by the channel manager when it goes to review) and wins it on <paramref name="closeDate"/>.</summary>
    public static async Task<string> WonDealAsync(ApiHost api, HttpClient rep, HttpClient cm, decimal amount, string currency, DateOnly closeDate, string product)
    {
        var deal = await Deals.RegisterAsync(rep, Deals.Body("Incentive Customer " + Guid.NewGuid().ToString("N")[..8], $"inc-{Guid.NewGuid():N}.example", amount, currency, products: [product]));
        var id = deal.Str("id");
        if (deal.Str("status") == "UnderReview") (await cm.PostJsonAsync($"deals/{id}/decision", new { decision = "approve" })).StatusCode.Should().Be(HttpStatusCode.OK);
        var won = await rep.PostJsonAsync($"deals/{id}/outcome", new { result = "won", amount = new { amount, currency }, closeDate = Day(closeDate) });
        won.StatusCode.Should().Be(HttpStatusCode.OK, await won.Content.ReadAsStringAsync());
        return id;
    }

    public static async Task<JsonElement> LedgerAsync(HttpClient client, string partnerId, string programId, string period, Func<JsonElement, bool> done) =>
        await Responses.EventuallyAsync(async () =>
        {
            var response = await client.GetAsync($"partners/{partnerId}/incentives/{programId}/periods/{period}/ledger");
            return response.StatusCode == HttpStatusCode.OK ? await response.JsonAsync() : default;
        }, l => l.ValueKind == JsonValueKind.Object && done(l), TimeSpan.FromSeconds(120));

    public static int Entries(JsonElement ledger, string? kind = null) => ledger.GetProperty("entries").EnumerateArray().Count(e => kind is null || e.Str("kind") == kind);

    public static decimal Sum(JsonElement ledger) => ledger.GetProperty("entries").EnumerateArray().Sum(e => e.GetProperty("amount").GetProperty("amount").GetDecimal());

    public static async Task<JsonElement> PeriodAsync(HttpClient admin, string programId, string period, string status) =>
        await Responses.EventuallyAsync(async () => await (await admin.GetAsync($"incentive-programs/{programId}/periods/{period}")).JsonAsync(),
            p => p.Str("status") == status, TimeSpan.FromSeconds(120));

    /// <summary>The rows of a statement CSV (header first), RFC 4180 quoting.</summary>
    public static List<string[]> Csv(string text)
    {
        using var reader = new StringReader(text);
        using var csv = new CsvHelper.CsvParser(reader, CultureInfo.InvariantCulture);
        var rows = new List<string[]>();
        while (csv.Read()) rows.Add(csv.Record!);
        return rows;
    }
}

/// <summary>
/// Incentives end to end on the local host: deals won → accruals (a reversal among them) → the quarter's close (two concurrent requests,
/// one runs) → the statement CSV adds up to the ledger → the payout approved (a second admin above the threshold) and paid once → a later
/// loss becomes a negative entry of the next period, the paid money stays. And the bad input the issue names.
/// </summary>
public sealed class IncentiveTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task Deals_won_accrue_a_quarter_closes_once_the_statement_csv_adds_up_to_the_ledger_and_the_payout_is_approved_and_paid()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var cm = await Api.ClientAsync(Demo.CmEmea);
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        var frank = await Api.ClientAsync(Demo.FabrikamAdmin);
        var northwind = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var quarter = Incentives.PreviousQuarter();
        var closeDay = quarter.End.AddDays(-5);
        await Incentives.RatesAsync(admin, closeDay, new() { ["USD"] = 0.9m });

        // A retrospective quarterly rebate for EMEA's cloud backup deals: 2 % up to 50,000, 4 % above; 100 days of grace.
        var program = await Incentives.ProgramAsync(admin, new
        {
            name = "EMEA backup rebate", type = "rebate", period = "quarterly", currency = "EUR",
            eligibility = new { regions = new[] { "emea" }, productLines = new[] { "cloud-backup" } },
            rebate = new { slabs = new object[] { new { from = 0, to = 50_000, rate = 2 }, new { from = 50_000, rate = 4 } }, method = "retrospective" },
            cutoffGraceDays = 100, secondApprovalAbove = 1_000, startsOn = Incentives.Day(quarter.Start),
        });
        var programId = program.Str("id");
        program.GetProperty("version").GetInt32().Should().Be(1);

        // Four deals won in the quarter (one of them in USD), one of which the channel manager turns to lost: 3 accruals stand.
        var deals = new List<string>();
        foreach (var (amount, currency) in new[] { (20_000m, "EUR"), (30_000m, "EUR"), (25_000m, "USD"), (10_000m, "EUR") })
        {
            deals.Add(await Incentives.WonDealAsync(Api, sam, cm, amount, currency, closeDay, "cloud-backup"));
            await Incentives.LedgerAsync(anna, northwind, programId, quarter.Text, l => Incentives.Entries(l, "accrued") == deals.Count);
        }
        await Incentives.WonDealAsync(Api, sam, cm, 40_000m, "EUR", closeDay, "endpoint-security"); // not a product line of the program
        // A deal in GBP, which the month's FX rates lack: not counted, named on the statement — never guessed.
        var pounds = await Incentives.WonDealAsync(Api, sam, cm, 10_000m, "GBP", closeDay, "cloud-backup");
        var open = await Responses.EventuallyAsync(async () => await (await anna.GetAsync($"partners/{northwind}/incentives/{programId}/periods/{quarter.Text}/statement")).JsonAsync(),
            st => st.GetProperty("notCounted").GetArrayLength() == 1, TimeSpan.FromSeconds(120));
        open.Str("status").Should().Be("Open");
        open.GetProperty("notCounted")[0].Str("dealId").Should().Be(pounds);
        open.GetProperty("notCounted")[0].Str("reason").Should().StartWith("No FX rate for GBP in");
        var lost = await cm.PostJsonAsync($"deals/{deals[3]}/outcome", new { result = "lost", reason = "The customer withdrew the order." });
        lost.StatusCode.Should().Be(HttpStatusCode.OK, await lost.Content.ReadAsStringAsync());
        var ledger = await Incentives.LedgerAsync(anna, northwind, programId, quarter.Text, l => Incentives.Entries(l, "reversed") == 1);
        Incentives.Entries(ledger).Should().Be(5);
        ledger.GetProperty("balance").GetProperty("basis").GetDecimal().Should().Be(72_500m, "20,000 + 30,000 + 25,000 USD at 0.9");
        ledger.GetProperty("entries").EnumerateArray().Single(e => e.Str("kind") == "reversed").GetProperty("deal").Str("dealId").Should().Be(deals[3]);
        await Training.EventAsync(Api, "incentive.accrued", e => e.GetProperty("data").Str("dealId") == deals[2]);
        await Training.EventAsync(Api, "incentive.reversed", e => e.GetProperty("data").Str("dealId") == deals[3]);

        // Another partner's people get 404 on the ledger and the statement; a partner user may not adjust (403).
        await ApiSteps.ProblemAsync(await frank.GetAsync($"partners/{northwind}/incentives/{programId}/periods/{quarter.Text}/ledger"), 404);
        await ApiSteps.ProblemAsync(await frank.GetAsync($"partners/{northwind}/incentives/{programId}/periods/{quarter.Text}/statement.csv"), 404);
        await ApiSteps.ProblemAsync(await anna.PostJsonAsync($"partners/{northwind}/incentives/{programId}/adjustments", new { period = quarter.Text, amount = new { amount = 5, currency = "EUR" }, reason = "x" }), 403);

        // The GBP rate arrives before the close: the close prices the deal at its close month's rate (10,000 GBP at 1.2 = 12,000 EUR).
        var month = closeDay.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        var (_, ratesETag) = await ApiSteps.GetWithETagAsync(admin, $"fx-rates/{month}");
        var replace = new HttpRequestMessage(HttpMethod.Put, $"fx-rates/{month}") { Content = Responses.Json(new { rates = new Dictionary<string, decimal> { ["USD"] = 0.9m, ["GBP"] = 1.2m } }) };
        replace.Headers.TryAddWithoutValidation("If-Match", ratesETag);
        (await admin.SendAsync(replace)).StatusCode.Should().Be(HttpStatusCode.OK);

        // Two closes at once: one begins it (202), the other is refused (409); the workflow closes the quarter.
        var closes = await Task.WhenAll(
            admin.PostAsync($"incentive-programs/{programId}/periods/{quarter.Text}/close", null),
            admin.PostAsync($"incentive-programs/{programId}/periods/{quarter.Text}/close", null));
        closes.Select(c => (int)c.StatusCode).Order().Should().Equal(202, 409);
        var closed = await Incentives.PeriodAsync(admin, programId, quarter.Text, "Closed");
        closed.GetProperty("partners").GetInt32().Should().Be(1);
        closed.GetProperty("final").GetProperty("amount").GetDecimal().Should().Be(3_380m, "84,500 at 4 %");
        await Training.EventAsync(Api, "incentive.periodClosed", e => e.GetProperty("data").Str("programId") == programId && e.Str("partnerId") == northwind);
        await ApiSteps.ProblemAsync(await admin.PostAsync($"incentive-programs/{programId}/periods/{quarter.Text}/close", null), 409);

        // The statement: every line traces to its deal (the close's rerate to the period), and the CSV adds up to the ledger.
        ledger = await Incentives.LedgerAsync(anna, northwind, programId, quarter.Text, l => Incentives.Entries(l, "rerated") == 1);
        ledger.GetProperty("balance").Str("status").Should().Be("Closed");
        var statement = await (await anna.GetAsync($"partners/{northwind}/incentives/{programId}/periods/{quarter.Text}/statement")).JsonAsync();
        statement.GetProperty("final").GetDecimal().Should().Be(3_380m);
        statement.GetProperty("earned").GetDecimal().Should().Be(3_380m);
        statement.GetProperty("basis").GetDecimal().Should().Be(84_500m);
        statement.GetProperty("notCounted").GetArrayLength().Should().Be(0);
        statement.GetProperty("lines").GetArrayLength().Should().Be(7);
        deals.Add(pounds);
        statement.GetProperty("lines").EnumerateArray().Where(l => l.Str("kind") is "accrued" or "reversed").Should().OnlyContain(l => deals.Contains(l.Str("dealId")));
        statement.GetProperty("lines").EnumerateArray().Single(l => l.Str("dealId") == pounds).GetProperty("fxRate").GetDecimal().Should().Be(1.2m);
        var csvResponse = await anna.GetAsync($"partners/{northwind}/incentives/{programId}/periods/{quarter.Text}/statement.csv");
        csvResponse.StatusCode.Should().Be(HttpStatusCode.OK);
        csvResponse.Content.Headers.ContentType!.MediaType.Should().Be("text/csv");
        var rows = Incentives.Csv(await csvResponse.Content.ReadAsStringAsync());
        var header = rows[0].ToList();
        rows.Should().HaveCount(1 + Incentives.Entries(ledger));
        var amountColumn = header.IndexOf("amount");
        rows.Skip(1).Sum(r => decimal.Parse(r[amountColumn], CultureInfo.InvariantCulture)).Should().Be(Incentives.Sum(ledger)).And.Be(3_380m);
        rows.Skip(1).Where(r => r[header.IndexOf("kind")] is "accrued" or "reversed").Should().OnlyContain(r => deals.Contains(r[header.IndexOf("dealId")]));

        // Payout: above the balance is refused; the channel manager drafts and approves, above 1,000 a second admin approves; paid once.
        var above = await ApiSteps.ProblemAsync(await cm.PostJsonAsync($"partners/{northwind}/payouts", new { programId, period = quarter.Text, amount = new { amount = 3_380.01m, currency = "EUR" } }), 422);
        above.GetProperty("errors").TryGetProperty("amount", out _).Should().BeTrue();
        await ApiSteps.ProblemAsync(await anna.PostJsonAsync($"partners/{northwind}/payouts", new { programId, period = quarter.Text }), 403);
        var draft = await cm.PostJsonAsync($"partners/{northwind}/payouts", new { programId, period = quarter.Text });
        draft.StatusCode.Should().Be(HttpStatusCode.Created, await draft.Content.ReadAsStringAsync());
        var payout = await draft.JsonAsync();
        payout.GetProperty("amount").GetProperty("amount").GetDecimal().Should().Be(3_380m);
        payout.GetProperty("needsSecondApproval").GetBoolean().Should().BeTrue();
        var payoutUrl = $"partners/{northwind}/payouts/{payout.Str("id")}";
        await ApiSteps.ProblemAsync(await cm.PostJsonAsync($"partners/{northwind}/payouts", new { programId, period = quarter.Text }), 422);
        var first = await (await cm.PostAsync(payoutUrl + "/approve", null)).JsonAsync();
        first.Str("status").Should().Be("Draft", "above the threshold a second admin approves");
        await ApiSteps.ProblemAsync(await admin.PostJsonAsync(payoutUrl + "/pay", new { paymentReference = "BANK-1" }), 409);
        await ApiSteps.ProblemAsync(await cm.PostAsync(payoutUrl + "/approve", null), 409);
        var approved = await admin.PostAsync(payoutUrl + "/approve", null);
        approved.StatusCode.Should().Be(HttpStatusCode.OK, await approved.Content.ReadAsStringAsync());
        (await approved.JsonAsync()).Str("status").Should().Be("Approved");
        await Training.EventAsync(Api, "payout.approved", e => e.GetProperty("data").Str("payoutId") == payout.Str("id"));
        await ApiSteps.ProblemAsync(await anna.PostJsonAsync(payoutUrl + "/pay", new { paymentReference = "BANK-1" }), 403);
        await ApiSteps.ProblemAsync(await admin.PostJsonAsync(payoutUrl + "/pay", new { }), 400);
        var pays = await Task.WhenAll(admin.PostJsonAsync(payoutUrl + "/pay", new { paymentReference = "BANK-2026-0042" }), admin.PostJsonAsync(payoutUrl + "/pay", new { paymentReference = "BANK-2026-0042" }));
        pays.Select(p => (int)p.StatusCode).Order().Should().Equal(200, 409);
        (await (await anna.GetAsync(payoutUrl)).JsonAsync()).Str("status").Should().Be("Paid");
        await Training.EventAsync(Api, "payout.paid", e => e.GetProperty("data").Str("paymentReference") == "BANK-2026-0042");
        ledger = await Incentives.LedgerAsync(anna, northwind, programId, quarter.Text, l => Incentives.Entries(l, "paid") == 1);
        ledger.GetProperty("balance").GetProperty("payable").GetDecimal().Should().Be(0m);
        Incentives.Sum(ledger).Should().Be(0m, "the entries add up to the payable balance");

        // Paid money is never reduced: a won deal of the closed quarter lost now is a negative entry of the current quarter.
        (await cm.PostJsonAsync($"deals/{deals[1]}/outcome", new { result = "lost", reason = "Contract cancelled." })).StatusCode.Should().Be(HttpStatusCode.OK);
        var now = Incentives.PreviousQuarter().End.AddDays(1);
        var current = $"{now.Year}-Q{(now.Month - 1) / 3 + 1}";
        var next = await Incentives.LedgerAsync(anna, northwind, programId, current, l => Incentives.Entries(l, "reversed") == 1);
        var claw = next.GetProperty("entries")[0];
        claw.Str("originPeriod").Should().Be(quarter.Text);
        claw.GetProperty("amount").GetProperty("amount").GetDecimal().Should().Be(-1_200m, "54,500 at 4 % = 2,180 instead of 3,380");
        var after = await Incentives.LedgerAsync(anna, northwind, programId, quarter.Text, _ => true);
        after.GetProperty("balance").GetProperty("paid").GetDecimal().Should().Be(3_380m);
        after.GetProperty("balance").GetProperty("final").GetDecimal().Should().Be(3_380m);
        Incentives.Entries(after).Should().Be(Incentives.Entries(ledger), "nothing is written to a closed period");

        // The ledger is exactly what its source events make: recomputed from its inputs and the program versions, it matches.
        var recompute = await (await admin.GetAsync($"partners/{northwind}/incentives/{programId}/recompute")).JsonAsync();
        recompute.GetProperty("matches").GetBoolean().Should().BeTrue(recompute.GetRawText());
        recompute.GetProperty("inputs").GetInt32().Should().Be(4 + 1 + 1 + 1 + 1 + 1 + 1, "four wins, the GBP win awaiting its rate, a loss, its pricing at the close, the close, the payment, the late loss");
        await ApiSteps.ProblemAsync(await anna.GetAsync($"partners/{northwind}/incentives/{programId}/recompute"), 403);

        var balances = await (await anna.GetAsync($"partners/{northwind}/incentives")).JsonAsync();
        balances.GetProperty("items").EnumerateArray().Where(b => b.Str("programId") == programId).Select(b => b.Str("period")).Should().BeEquivalentTo(quarter.Text, current);
        await ApiSteps.ProblemAsync(await frank.GetAsync($"partners/{northwind}/incentives"), 404);
    }

    [Fact]
    public async Task A_us_payee_over_600_usd_a_year_needs_a_tax_form_before_approval_and_bad_programs_are_refused_naming_the_field()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var cm = await Api.ClientAsync(Demo.CmAmer);
        var rita = await Api.ClientAsync(Demo.FabrikamRep);
        var frank = await Api.ClientAsync(Demo.FabrikamAdmin);
        var fabrikam = await ApiSteps.PartnerIdAsync(Api, "Fabrikam Solutions");
        var month = Incentives.PreviousMonth();
        var today = Incentives.Today;

        // Bad programs: overlapping slabs, a rate above 100 %, a currency without FX rates — 422 naming the field; nothing is created.
        static object Rebate(object[] slabs, string currency = "EUR") => new
        {
            name = "Bad", type = "rebate", period = "monthly", currency, rebate = new { slabs, method = "prospective" }, startsOn = "2026-01-01",
        };
        var overlap = await ApiSteps.ProblemAsync(await admin.PostJsonAsync("incentive-programs", Rebate([new { from = 0, to = 10_000, rate = 2 }, new { from = 9_000, rate = 3 }])), 422);
        overlap.GetProperty("errors").GetProperty("rebate.slabs[1].from")[0].GetString().Should().Contain("overlaps");
        var unordered = await ApiSteps.ProblemAsync(await admin.PostJsonAsync("incentive-programs", Rebate([new { from = 10_000, to = 20_000, rate = 2 }, new { from = 0, rate = 3 }])), 422);
        unordered.GetProperty("errors").GetProperty("rebate.slabs[1].from")[0].GetString().Should().Contain("ascending");
        var rate = await ApiSteps.ProblemAsync(await admin.PostJsonAsync("incentive-programs", Rebate([new { from = 0, rate = 120 }])), 422);
        rate.GetProperty("errors").TryGetProperty("rebate.slabs[0].rate", out _).Should().BeTrue();
        var currency = await ApiSteps.ProblemAsync(await admin.PostJsonAsync("incentive-programs", Rebate([new { from = 0, rate = 2 }], "CHF")), 422);
        currency.GetProperty("errors").GetProperty("currency")[0].GetString().Should().Contain("no rate");
        await ApiSteps.ProblemAsync(await cm.PostJsonAsync("incentive-programs", Rebate([new { from = 0, rate = 2 }])), 403);
        (await (await admin.GetAsync("incentive-programs")).JsonAsync()).GetProperty("items").EnumerateArray().Should().NotContain(p => p.Str("name") == "Bad");

        // A SPIF in USD (it has a rate this month) for AMER's professional services: 700 USD to the registering person per deal of 5,000 or more.
        await Incentives.RatesAsync(admin, today, new() { ["USD"] = 0.9m });
        await Incentives.RatesAsync(admin, month.End, new() { ["USD"] = 0.9m });
        var spif = await Incentives.ProgramAsync(admin, new
        {
            name = "AMER services SPIF", type = "spif", period = "monthly", currency = "USD", eligibility = new { regions = new[] { "amer" } },
            spif = new { amount = 700, productLines = new[] { "professional-services" }, minValue = 5_000, from = Incentives.Day(month.Start), to = Incentives.Day(today), payee = "registeringPerson" },
            cutoffGraceDays = 40, startsOn = Incentives.Day(month.Start),
        });
        var programId = spif.Str("id");
        var dealId = await Incentives.WonDealAsync(Api, rita, cm, 8_000m, "USD", month.End, "professional-services");
        var ledger = await Incentives.LedgerAsync(frank, fabrikam, programId, month.Text, l => Incentives.Entries(l, "accrued") == 1);
        var accrued = ledger.GetProperty("entries")[0];
        accrued.GetProperty("amount").GetProperty("amount").GetDecimal().Should().Be(700m);
        accrued.Str("payeeName").Should().Be("Rita Fabrikam");
        accrued.GetProperty("deal").Str("dealId").Should().Be(dealId);

        // Programs change by version (If-Match); the ledger names the version each movement used.
        var (current, etag) = await ApiSteps.GetWithETagAsync(admin, $"incentive-programs/{programId}");
        var put = new HttpRequestMessage(HttpMethod.Put, $"incentive-programs/{programId}")
        {
            Content = Responses.Json(new
            {
                name = "AMER services SPIF", type = "spif", period = "monthly", currency = "USD", eligibility = new { regions = new[] { "amer" } },
                spif = new { amount = 750, productLines = new[] { "professional-services" }, minValue = 5_000, from = Incentives.Day(month.Start), to = Incentives.Day(today), payee = "registeringPerson" },
                cutoffGraceDays = 40, startsOn = Incentives.Day(month.Start),
            }),
        };
        put.Headers.TryAddWithoutValidation("If-Match", etag);
        var updated = await admin.SendAsync(put);
        updated.StatusCode.Should().Be(HttpStatusCode.OK, await updated.Content.ReadAsStringAsync());
        (await updated.JsonAsync()).GetProperty("version").GetInt32().Should().Be(current.GetProperty("version").GetInt32() + 1);
        (await (await admin.GetAsync($"incentive-programs/{programId}?version=1")).JsonAsync()).GetProperty("spif").GetProperty("amount").GetDecimal().Should().Be(700m);
        accrued.GetProperty("programVersion").GetInt32().Should().Be(1);

        // The month ended: an admin closes it now; the payout is drafted.
        (await admin.PostAsync($"incentive-programs/{programId}/periods/{month.Text}/close", null)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        await Incentives.PeriodAsync(admin, programId, month.Text, "Closed");
        var next = $"{today.Year}-{today.Month:00}";
        await ApiSteps.ProblemAsync(await admin.PostAsync($"incentive-programs/{programId}/periods/{next}/close", null), 409);
        var draft = await cm.PostJsonAsync($"partners/{fabrikam}/payouts", new { programId, period = month.Text });
        draft.StatusCode.Should().Be(HttpStatusCode.Created, await draft.Content.ReadAsStringAsync());
        var payoutUrl = $"partners/{fabrikam}/payouts/{(await draft.JsonAsync()).Str("id")}";

        // Fabrikam is a US payee without a tax form on file: 700 USD this year blocks the approval, naming the flag.
        var blocked = await ApiSteps.ProblemAsync(await cm.PostAsync(payoutUrl + "/approve", null), 422);
        blocked.GetProperty("errors").GetProperty("taxFormOnFile")[0].GetString().Should().Contain("600 USD");
        await ApiSteps.ProblemAsync(await cm.PutAsync($"partners/{fabrikam}/tax-form", Responses.Json(new { onFile = true, formType = "W-9" })), 403);
        await ApiSteps.ProblemAsync(await frank.PutAsync($"partners/{fabrikam}/tax-form", Responses.Json(new { onFile = true, formType = "W-9" })), 403);
        var form = await admin.PutAsync($"partners/{fabrikam}/tax-form", Responses.Json(new { onFile = true, formType = "W-9", reference = "DMS-7781" }));
        form.StatusCode.Should().Be(HttpStatusCode.OK, await form.Content.ReadAsStringAsync());
        (await (await frank.GetAsync($"partners/{fabrikam}/tax-form")).JsonAsync()).GetProperty("onFile").GetBoolean().Should().BeTrue();
        var approved = await cm.PostAsync(payoutUrl + "/approve", null);
        approved.StatusCode.Should().Be(HttpStatusCode.OK, await approved.Content.ReadAsStringAsync());
        (await approved.JsonAsync()).Str("status").Should().Be("Approved");
        var paid = await admin.PostJsonAsync(payoutUrl + "/pay", new { paymentReference = "ACH-55", paidOn = Incentives.Day(today) });
        paid.StatusCode.Should().Be(HttpStatusCode.OK, await paid.Content.ReadAsStringAsync());
        await ApiSteps.ProblemAsync(await admin.PostJsonAsync(payoutUrl + "/pay", new { paymentReference = "ACH-55" }), 409);
        var statement = await (await frank.GetAsync($"partners/{fabrikam}/incentives/{programId}/periods/{month.Text}/statement")).JsonAsync();
        statement.GetProperty("payees").EnumerateArray().Single().Str("payeeName").Should().Be("Rita Fabrikam");
        statement.GetProperty("payable").GetDecimal().Should().Be(0m);
        statement.GetProperty("paid").GetDecimal().Should().Be(700m);
    }
}
