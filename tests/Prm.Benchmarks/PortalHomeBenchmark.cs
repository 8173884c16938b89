using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Storage;
using Prm.Testing;

namespace Prm.Benchmarks;

/// <summary>
/// The portal home (#19): GET /api/portal/home for a partner admin whose company holds 1,000 registrations, 100 lead offers and 50 MDF
/// requests (Northwind of the demo program), for its sales rep and for its channel manager: storage round trips, critical path and the
/// median next to a raw Azurite point read measured in the same run. One real record of each kind is made through the API, then cloned
/// with fresh ids straight into the rows its module keeps (deal partition, lead index, MDF request index), so the home reads exactly what
/// the modules would have written.
/// </summary>
public static class PortalHomeBenchmark
{
    public static async Task<string> RunAsync(ApiHost api, string connectionString, bool quick, Func<HttpClient, string, Task<int>> get, Func<PrmTables, Task> settle)
    {
        var tables = api.Services.GetRequiredService<PrmTables>();
        var anna = await api.ClientAsync(Demo.NorthwindAdmin);
        var sam = await api.ClientAsync(Demo.NorthwindRep);
        var cm = await api.ClientAsync(Demo.CmEmea);
        var admin = await api.ClientAsync(Demo.Admin);
        var partnerId = (await anna.GetFromJsonAsync<JsonElement>("me")).GetProperty("partnerId").GetString()!;
        var setup = Stopwatch.StartNew();

        Console.WriteLine("Seeding 1,000 registrations, 100 lead offers and 50 MDF requests for Northwind...");
        // Deals: one registration through the API, approved by the channel manager; 1,000 clones in mixed statuses.
        var template = await PostAsync(anna, "deals", new
        {
            customer = new { companyName = "Bench Template AG", domain = "bench-template.example", country = "DE", contactName = "Chris Buyer", contactEmail = "chris@bench-template.example" },
            products = new[] { "cloud-backup" }, estimatedValue = new { amount = 900_000m, currency = "EUR" },
            expectedCloseDate = DateTime.UtcNow.AddDays(60).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        });
        await PostAsync(cm, $"deals/{template.GetProperty("id").GetString()}/decision", new { decision = "approve", reason = "Bench.", protectionDays = 30 });
        var templateRow = (await tables.Deals.GetEntityAsync<TableEntity>(partnerId, TableDealStoreRow(template.GetProperty("id").GetString()!))).Value;
        var now = DateTimeOffset.UtcNow;
        string[] statuses = ["Approved", "Approved", "Approved", "Approved", "Returned", "Won", "Won", "Lost", "UnderReview", "UnderReview"];
        var batch = new List<TableTransactionAction>();
        for (var i = 0; i < 1000; i++)
        {
            var id = DealIds.New(partnerId, now.AddSeconds(-i - 1));
            var status = statuses[i % statuses.Length];
            var body = JsonNode.Parse(templateRow.GetString("Body"))!;
            body["id"] = id;
            body["status"] = status;
            body["estimatedValue"]!["amount"] = 1_000m + i;
            DateTimeOffset? protectedUntil = status == "Approved" ? now.AddDays(1 + i % 60) : null;
            body["protectedUntil"] = protectedUntil;
            var row = new TableEntity(templateRow) { RowKey = TableDealStoreRow(id), ETag = default };
            row["DealId"] = id;
            row["Status"] = status;
            row["ProtectedUntil"] = protectedUntil;
            row["Body"] = body.ToJsonString();
            batch.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, row));
            if (batch.Count == 100) { await tables.Deals.SubmitTransactionAsync(batch); batch.Clear(); }
        }

        // Leads: one EMEA lead through the API (the demo rules offer it to Northwind), 100 clones of its index row.
        var domain = "bench-lead-" + Guid.NewGuid().ToString("N")[..6] + ".example";
        var lead = await PostAsync(admin, "leads", new
        {
            company = new { name = "Bench Lead GmbH", domain, country = "DE", industry = "Manufacturing", sizeBand = "200-999", postalCode = "10115" },
            contact = new { name = "Chris Contact", email = "chris@" + domain, phone = "+49 30 1234567", jobTitle = "CIO" },
            productLines = new[] { "cloud-backup" }, grade = "A", estimatedValue = new { amount = 25_000m, currency = "EUR" }, consentToShare = true,
        });
        var leadId = lead.GetProperty("lead").GetProperty("id").GetString()!;
        var leadPartition = "p:" + partnerId;
        TableEntity? leadRow = null;
        for (var wait = Stopwatch.StartNew(); leadRow is null && wait.Elapsed < TimeSpan.FromMinutes(2); await Task.Delay(200))
        {
            await foreach (var e in tables.LeadIndex.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {leadPartition} and LeadId eq {leadId}"))) leadRow = e;
        }
        if (leadRow is null) throw new InvalidOperationException("The lead offer did not reach Northwind's lead index.");
        for (var i = 0; i < 100; i++)
        {
            var id = leadId[..^8] + i.ToString("x8", CultureInfo.InvariantCulture);
            var row = new TableEntity(leadRow) { RowKey = leadRow.RowKey + "-" + i.ToString("D3", CultureInfo.InvariantCulture), ETag = default };
            foreach (var key in leadRow.Keys.Where(k => k.StartsWith("Body", StringComparison.Ordinal)).ToList()) row[key] = leadRow.GetString(key).Replace(leadId, id, StringComparison.Ordinal);
            row["LeadId"] = id;
            batch.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, row));
            if (batch.Count == 100) { await tables.LeadIndex.SubmitTransactionAsync(batch); batch.Clear(); }
        }

        // MDF: a budget and one request through the API, 50 clones of its index row in the partner's list (mixed statuses).
        await admin.PostAsJsonAsync("mdf/budgets", new { partnerId, period = "2026", amount = new { amount = 1_000_000m, currency = "EUR" } });
        var request = await PostAsync(anna, "mdf/requests", new
        {
            activityType = "event", title = "Bench summit", description = "A half-day event for customers.", startDate = "2026-12-20", endDate = "2026-12-21",
            requestedAmount = new { amount = 2_000m, currency = "EUR" }, partnerContributionPercent = 25, targetAudience = "IT leads", expectedLeads = 40,
            expectedPipeline = new { amount = 150000m, currency = "EUR" },
        });
        var requestId = request.GetProperty("id").GetString()!;
        var mdfPartition = "requests:partner:" + partnerId;
        TableEntity? requestRow = null;
        await foreach (var e in tables.MdfIndex.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {mdfPartition} and RequestId eq {requestId}"))) requestRow = e;
        if (requestRow is null) throw new InvalidOperationException("The MDF request is not in Northwind's request list.");
        string[] mdfStatuses = ["Submitted", "InfoRequested", "Approved", "Rejected", "Closed"];
        for (var i = 0; i < 49; i++)
        {
            var id = requestId[..^8] + i.ToString("x8", CultureInfo.InvariantCulture);
            var row = new TableEntity(requestRow) { RowKey = requestRow.RowKey + "-" + i.ToString("D3", CultureInfo.InvariantCulture), ETag = default };
            var body = JsonNode.Parse(requestRow.GetString("Body").Replace(requestId, id, StringComparison.Ordinal))!;
            body["status"] = mdfStatuses[i % mdfStatuses.Length];
            row["Body"] = body.ToJsonString();
            row["RequestId"] = id;
            row["Status"] = mdfStatuses[i % mdfStatuses.Length];
            batch.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, row));
        }
        await tables.MdfIndex.SubmitTransactionAsync(batch);
        batch.Clear();
        await settle(tables);
        setup.Stop();

        var home = await anna.GetFromJsonAsync<JsonElement>("portal/home");
        var inbox = home.GetProperty("inbox").GetArrayLength();
        var deals = home.GetProperty("tiles").GetProperty("pipelineDeals").GetInt32();
        var offers = home.GetProperty("tiles").GetProperty("leadsAwaitingAcceptance").GetInt32();
        Console.WriteLine($"  seeded in {setup.Elapsed.TotalSeconds:0.0} s; the admin's home: {inbox} inbox items, {deals} registrations in protection, {offers} lead offers");

        var n = quick ? 20 : 100;
        var raw = new TableClient(connectionString, tables.Partners.Name);
        var baseline = new Result("raw point read", await Measure.RunAsync(quick ? 10 : 50, quick ? 100 : 500, async _ =>
        {
            var found = await raw.GetEntityIfExistsAsync<TableEntity>(partnerId, "profile");
            return found.HasValue ? 1 : throw new InvalidOperationException("The partner profile row was not found.");
        }));
        var results = new List<Result>
        {
            new("GET /api/portal/home — partner admin (1,000 registrations, 100 lead offers, 50 MDF requests)", await Measure.RunAsync(3, n, _ => get(anna, "portal/home"))),
            new("GET /api/portal/home — sales rep of the same partner", await Measure.RunAsync(3, n, _ => get(sam, "portal/home"))),
            new("GET /api/portal/home — its channel manager (review inbox)", await Measure.RunAsync(3, n, _ => get(cm, "portal/home"))),
        };

        var md = new StringBuilder();
        md.AppendLine().AppendLine("## Portal home").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Northwind (demo) with 1,000 registrations (400 approved, 100 returned, 200 won, 100 lost, 200 under review), 100 pending lead offers and 50 MDF requests, seeded in {setup.Elapsed.TotalSeconds:0} s; the admin's home held {inbox} inbox items, {deals} registrations in protection and {offers} lead offers. Sequential requests on the in-process local host; the raw point read is the partner's profile row through a bare TableClient.").AppendLine();
        md.AppendLine("| operation | n | storage round trips (median / max) | critical path (median / max) | median ms | p99 ms | median / raw point read |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| {baseline.Operation} | {baseline.N} | 1 / 1 | 1 / 1 | {Measure.F(baseline.MedianMs)} | {Measure.F(baseline.P99Ms)} | 1.0x |");
        foreach (var r in results)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Operation} | {r.N} | {r.MedianCalls:0} / {r.MaxCalls} | {r.MedianCriticalPath:0} / {r.MaxCriticalPath} | {Measure.F(r.MedianMs)} | {Measure.F(r.P99Ms)} | {Measure.F(r.MedianMs / baseline.MedianMs, "0.0")}x |");
            Console.WriteLine($"  {r.Operation}: {r.MedianCalls:0} round trips (max {r.MaxCalls}), critical path {r.MedianCriticalPath:0} (max {r.MaxCriticalPath}), median {Measure.F(r.MedianMs)} ms, p99 {Measure.F(r.P99Ms)} ms");
        }
        md.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Targets (#19): at most 12 round trips — {(results.All(r => r.MaxCalls <= 12) ? "met" : "NOT met")}; critical path at most 3 — {(results.All(r => r.MaxCriticalPath <= 3) ? "met" : "NOT met")}.");
        return md.ToString();
    }

    private static string TableDealStoreRow(string dealId) => Prm.Storage.Deals.TableDealStore.DealPrefix + dealId[37..];

    private static async Task<JsonElement> PostAsync(HttpClient client, string path, object body)
    {
        var response = await client.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
