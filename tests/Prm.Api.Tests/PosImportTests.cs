using System.Net;
using System.Text;
using System.Text.Json;
using Prm.Testing;

namespace Prm.Api.Tests;

/// <summary>POS import end to end: dry run, commit, re-upload replacing the batch, the conflict flag to the channel manager, KPIs, bad input.</summary>
public sealed class PosImportTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private const string Header = "reporter,invoiceNo,line,date,productLine,quantity,unitPrice,currency,customerName,customerDomain,customerCountry,reseller";

    private ApiHost Api => fixture.Api;

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string csv, bool commit = false) =>
        await client.PostAsync("pos/batches" + (commit ? "?commit=true" : ""), new StringContent(csv, Encoding.UTF8, "text/csv"));

    private static async Task<JsonElement> ReportAsync(HttpClient client, string csv, bool commit = false)
    {
        var response = await PostAsync(client, csv, commit);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    private async Task<string> RegisteredAsync(HttpClient partner, string company, string domain)
    {
        var deal = await Deals.RegisterAsync(partner, Deals.Body(company, domain));
        if (deal.Str("status") != "Approved")
        {
            var decided = await (await Api.ClientAsync(Demo.Admin)).PostJsonAsync($"deals/{deal.Str("id")}/decision", new { decision = "approve" });
            decided.StatusCode.Should().Be(HttpStatusCode.OK, await decided.Content.ReadAsStringAsync());
        }
        await Deals.DeliveredAsync(Api, deal.Str("id"), "deal.approved");
        return deal.Str("id");
    }

    private static JsonElement Metrics(JsonElement table) => table.GetProperty("rows").EnumerateArray().Single().GetProperty("metrics");

    [Fact]
    public async Task A_dry_run_reports_each_line_a_commit_counts_it_once_and_a_re_upload_of_the_period_replaces_it()
    {
        var fabrikam = await ApiSteps.PartnerIdAsync(Api, "Fabrikam Solutions");
        var sourced = Leads.Unique("pos-own") + ".example";
        var foreign = Leads.Unique("pos-other") + ".example";
        var ownDeal = await RegisteredAsync(await Api.ClientAsync(Demo.FabrikamAdmin), "Pos Own Customer " + sourced[..14], sourced);
        var otherDeal = await RegisteredAsync(await Api.ClientAsync(Demo.NorthwindAdmin), "Pos Other Customer " + foreign[..14], foreign);
        var reporter = "Distri " + Guid.NewGuid().ToString("N")[..8];
        string Csv(decimal firstQuantity) => string.Join("\n",
            Header,
            $"{reporter},INV-1,1,2026-10-05,cloud-backup,{firstQuantity},100,EUR,Pos Own Customer,{sourced},US,fabrikam.example",
            $"{reporter},INV-1,2,2026-10-06,cloud-backup,1,250.50,EUR,Pos Other Customer,{foreign},DE,Fabrikam Solutins",
            $"{reporter},INV-2,1,2026-10-07,cloud-backup,3,10,EUR,Nobody Registered,{Leads.Unique("pos-none")}.example,DE,Totally Unknown Reseller",
            $"{reporter},INV-1,1,2026-10-05,cloud-backup,{firstQuantity},100,EUR,Pos Own Customer,{sourced},US,fabrikam.example");
        var admin = await Api.ClientAsync(Demo.Admin);
        var kpiUrl = $"analytics/partners/{fabrikam}?from=2026-10-01&to=2026-10-31";
        var before = Metrics(await (await admin.GetAsync(kpiUrl)).JsonAsync());

        var dry = await ReportAsync(admin, Csv(2));
        dry.GetProperty("committed").GetBoolean().Should().BeFalse();
        dry.Str("period").Should().Be("2026-10");
        var lines = dry.GetProperty("report").EnumerateArray().ToList();
        lines.Select(l => l.Str("status")).Should().Equal("accepted", "accepted", "accepted", "accepted");
        lines.Select(l => l.GetProperty("reseller").Str("kind")).Should().Equal("exact", "fuzzy", "unmatched", "exact");
        lines.Select(l => l.GetProperty("customer").Str("kind")).Should().Equal("reseller", "otherPartner", "none", "reseller");
        lines[0].GetProperty("customer").Str("dealId").Should().Be(ownDeal);
        lines[1].GetProperty("customer").Str("dealId").Should().Be(otherDeal);
        lines.Select(l => l.GetProperty("duplicate").GetBoolean()).Should().Equal(false, false, false, true);
        Metrics(await (await admin.GetAsync(kpiUrl)).JsonAsync()).GetRawText().Should().Be(before.GetRawText(), "a dry run writes nothing");

        var committed = await ReportAsync(admin, Csv(2), commit: true);
        committed.GetProperty("committed").GetBoolean().Should().BeTrue();
        var firstBatch = committed.Str("batchId");
        var kpis = Metrics(await (await admin.GetAsync(kpiUrl)).JsonAsync());
        kpis.GetProperty("posSourcedLines").GetInt64().Should().Be(before.GetProperty("posSourcedLines").GetInt64() + 1, "the duplicate line counts once");
        kpis.GetProperty("posSourcedRevenue").GetProperty("EUR").GetDecimal().Should().Be(200m);
        kpis.GetProperty("posInfluencedRevenue").GetProperty("EUR").GetDecimal().Should().Be(250.50m);
        await Mailbox.MessageAsync(Api, Demo.CmAmer, $"Fabrikam Solutions: 1 POS line(s) from {reporter}", TimeSpan.FromSeconds(90));

        var again = await ReportAsync(admin, Csv(5), commit: true);
        again.Str("supersededBatchId").Should().Be(firstBatch);
        again.GetProperty("report").EnumerateArray().Select(l => l.GetProperty("duplicate").GetBoolean()).Should().Equal(false, false, false, true);
        var replaced = Metrics(await (await admin.GetAsync(kpiUrl)).JsonAsync());
        replaced.GetProperty("posSourcedLines").GetInt64().Should().Be(before.GetProperty("posSourcedLines").GetInt64() + 1);
        replaced.GetProperty("posSourcedRevenue").GetProperty("EUR").GetDecimal().Should().Be(500m, "the first batch's counters were reversed and the second's applied");
        replaced.GetProperty("posInfluencedRevenue").GetProperty("EUR").GetDecimal().Should().Be(250.50m);
        var rows = await (await admin.GetAsync($"analytics/rows?metric=posSourced&partnerId={fabrikam}&from=2026-10-01&to=2026-10-31")).JsonAsync();
        rows.GetProperty("items").EnumerateArray().Select(r => r.Str("record")).Should().Equal($"pos/batches/{again.Str("batchId")}");

        // The batches as stored: the first superseded by the second, the second's lines with their matches and duplicate flag.
        var first = await (await admin.GetAsync($"pos/batches/{firstBatch}")).JsonAsync();
        first.GetProperty("batch").Str("status").Should().Be("Superseded");
        first.GetProperty("batch").Str("supersededBy").Should().Be(again.Str("batchId"));
        var second = await admin.GetAsync($"pos/batches/{again.Str("batchId")}?limit=3");
        second.StatusCode.Should().Be(HttpStatusCode.OK, await second.Content.ReadAsStringAsync());
        second.Headers.ETag.Should().NotBeNull();
        var page = await second.JsonAsync();
        page.GetProperty("batch").Str("status").Should().Be("Committed");
        page.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("line").GetInt32()).Should().HaveCount(3).And.BeInAscendingOrder();
        var rest = await (await admin.GetAsync($"pos/batches/{again.Str("batchId")}?limit=3&cursor={Uri.EscapeDataString(page.Str("nextCursor"))}")).JsonAsync();
        rest.GetProperty("lines").EnumerateArray().Single().GetProperty("duplicate").GetBoolean().Should().BeTrue("the fourth line repeats the first");
        (await (await Api.ClientAsync(Demo.CmAmer)).GetAsync($"pos/batches/{firstBatch}")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await admin.GetAsync($"pos/batches/{Prm.Core.Common.Ids.New("pos")}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Bad_files_get_a_problem_naming_the_field_or_line()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        (await ApiSteps.ProblemAsync(await PostAsync(admin, "reporter,invoiceNo,line\nD,1,1"), 400)).GetProperty("errors").TryGetProperty("header", out _).Should().BeTrue();
        var bad = string.Join("\n", Header,
            "D9,INV-9,1,2026-10-32,cloud-backup,1,1,EUR,A,a.example,DE,northwind.example",
            "D9,INV-9,2,2026-10-02,cloud-backup,-1,1,EUR,A,a.example,DE,northwind.example",
            "D9,INV-9,3,2026-10-02,cloud-backup,1,1,ZZZ,A,a.example,DE,northwind.example");
        var dry = await ReportAsync(admin, bad);
        dry.GetProperty("report").EnumerateArray().Select(l => string.Join(",", l.GetProperty("errors").EnumerateObject().Select(e => e.Name))).Should().Equal("date", "quantity", "currency");
        var problem = await ApiSteps.ProblemAsync(await PostAsync(admin, bad, commit: true), 400);
        problem.GetProperty("errors").EnumerateObject().Select(e => e.Name).Should().Equal("line 2.date", "line 3.quantity", "line 4.currency");
        (await PostAsync(await Api.ClientAsync(Demo.CmAmer), bad)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await PostAsync(await Api.ClientAsync(Demo.FabrikamAdmin), bad)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task An_integration_client_may_import_a_batch()
    {
        var token = await Api.Anonymous.PostJsonAsync("dev/token", new { app = "pos-feed" });
        token.StatusCode.Should().Be(HttpStatusCode.OK, await token.Content.ReadAsStringAsync());
        var machine = Api.WithToken((await token.JsonAsync()).Str("accessToken"));
        var report = await ReportAsync(machine, Header + "\nFeed,INV-1,1,2026-10-02,cloud-backup,1,9.99,USD,A,a.example,US,fabrikam.example");
        report.GetProperty("accepted").GetInt32().Should().Be(1);
    }

    private const string Xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    private static ByteArrayContent Workbook(params object?[][] rows)
    {
        var columns = Header.Split(',');
        var sheet = rows.Select(r => columns.Select((c, i) => (c, r.ElementAtOrDefault(i))).ToDictionary(x => x.c, x => x.Item2)).ToList();
        using var stream = new MemoryStream();
        MiniExcelLibs.MiniExcel.SaveAs(stream, sheet, excelType: MiniExcelLibs.ExcelType.XLSX);
        var content = new ByteArrayContent(stream.ToArray());
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(Xlsx);
        return content;
    }

    [Fact]
    public async Task An_xlsx_workbook_is_reported_line_by_line_and_committed_like_the_csv()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var fabrikam = await ApiSteps.PartnerIdAsync(Api, "Fabrikam Solutions");
        var reporter = "Xlsx Distri " + Guid.NewGuid().ToString("N")[..8];
        var customer = Leads.Unique("pos-xlsx") + ".example";
        object?[] Good(int line) => [reporter, "INV-X", line, new DateTime(2026, 9, 10), "cloud-backup", 2, 12.5, "EUR", "Xlsx Customer", customer, "DE", fabrikam];

        var dryResponse = await admin.PostAsync("pos/batches", Workbook(Good(1), [reporter, "INV-X", 2, "2026-09-31", "cloud-backup", -1, 1, "ZZZ", null, null, null, "fabrikam.example"]));
        dryResponse.StatusCode.Should().Be(HttpStatusCode.OK, await dryResponse.Content.ReadAsStringAsync());
        var dry = await dryResponse.JsonAsync();
        dry.GetProperty("committed").GetBoolean().Should().BeFalse();
        var report = dry.GetProperty("report").EnumerateArray().ToList();
        report.Select(l => l.GetProperty("line").GetInt32()).Should().Equal(2, 3);
        report.Select(l => l.Str("status")).Should().Equal("accepted", "rejected");
        report[0].GetProperty("reseller").Str("kind").Should().Be("exact");
        report[0].GetProperty("amount").GetDecimal().Should().Be(25m);
        report[1].GetProperty("errors").EnumerateObject().Select(e => e.Name).Should().BeEquivalentTo("date", "quantity", "currency");

        var problem = await ApiSteps.ProblemAsync(await admin.PostAsync("pos/batches?commit=true", Workbook(Good(1), [reporter, "INV-X", 2, "2026-09-31", "cloud-backup", 1, 1, "EUR", null, null, null, "fabrikam.example"])), 400);
        problem.GetProperty("errors").EnumerateObject().Select(e => e.Name).Should().Equal("line 3.date");
        var committed = await admin.PostAsync("pos/batches?commit=true", Workbook(Good(1), Good(2)));
        committed.StatusCode.Should().Be(HttpStatusCode.OK, await committed.Content.ReadAsStringAsync());
        var batch = await committed.JsonAsync();
        batch.GetProperty("committed").GetBoolean().Should().BeTrue();
        batch.Str("period").Should().Be("2026-09");
        var stored = await (await admin.GetAsync($"pos/batches/{batch.Str("batchId")}")).JsonAsync();
        stored.GetProperty("batch").GetProperty("counted").GetInt32().Should().Be(2);

        var notAWorkbook = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(Header + "\nD,1,1"));
        notAWorkbook.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(Xlsx);
        (await ApiSteps.ProblemAsync(await admin.PostAsync("pos/batches", notAWorkbook), 400)).GetProperty("errors").TryGetProperty("body", out _).Should().BeTrue();
        var pdf = new ByteArrayContent([0x25, 0x50, 0x44, 0x46]);
        pdf.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/pdf");
        await ApiSteps.ProblemAsync(await admin.PostAsync("pos/batches", pdf), 415);
    }
}
