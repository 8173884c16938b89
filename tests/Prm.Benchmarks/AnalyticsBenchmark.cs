using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Analytics;
using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Core.Partners;
using Prm.Storage;
using Prm.Testing;

namespace Prm.Benchmarks;

/// <summary>
/// The program KPI table (#15): GET /api/analytics/program for one quarter (2026-07-01..2026-09-30) as the admin, with 1,000 and then with
/// 100,000 deal registrations seeded (--quick: 100 and 10,000) across the demo program's partners: storage round trips, critical path,
/// median and p99 next to a raw Azurite point read measured in the same run, and the ratio of the large case to the small one.
/// The seed writes what the KPI projection (TableKpiStore.ApplyAsync) would have written for each registration, as raw batched
/// transactions into the analytics table: its contribution row ("c|{dealId}"), its fact rows (KpiFactRules.FactRow) and the partner's
/// day/month/year/all-time buckets (KpiFactRules.Delta summed onto the rows already there). The facts follow KpiFactRules.OfDeal:
/// submitted; approved (value into the pipeline, decision hours) or rejected; some won or lost (leaving the pipeline). The deal records
/// themselves are not written: the table reads buckets only.
/// </summary>
public static class AnalyticsBenchmark
{
    private const string From = "2026-07-01";
    private const string To = "2026-09-30";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly DateOnly FirstDay = new(2025, 1, 1);
    private static readonly DateOnly LastDay = new(2026, 11, 30);
    private static readonly string[] Lines = ["cloud-backup", "endpoint-security", "storage-appliance"];

    public static async Task<string> RunAsync(ApiHost api, string connectionString, bool quick, Func<HttpClient, string, Task<int>> get, Func<PrmTables, Task> settle)
    {
        var tables = api.Services.GetRequiredService<PrmTables>();
        var admin = await api.ClientAsync(Demo.Admin);
        admin.Timeout = TimeSpan.FromMinutes(5);
        await settle(tables);

        var partners = new List<Partner>();
        var store = api.Services.GetRequiredService<IPartnerStore>();
        string? cursor = null;
        do
        {
            var page = await store.ListAsync(new PartnerQuery(null, null, null, null, null), new PageRequest(PageRequest.MaxLimit, cursor), CancellationToken.None);
            partners.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        if (partners.Count == 0) throw new InvalidOperationException("The demo program has no partners.");

        var small = quick ? 100 : 1000;
        var large = quick ? 10_000 : 100_000;
        var table = new TableClient(connectionString, tables.Analytics.Name);
        var path = $"analytics/program?from={From}&to={To}&groupBy=partner";
        var regionPath = $"analytics/program?from={From}&to={To}&groupBy=region";
        var n = quick ? 30 : 100;
        var submittedBefore = await SubmittedAsync(admin, path);

        var cases = new List<(int Deals, TimeSpan Seed, Result Raw, Result Partner, Result Region, long Submitted, long Expected, int BucketRows)>();
        var seeded = 0;
        var expected = submittedBefore;
        foreach (var target in new[] { small, large })
        {
            Console.WriteLine($"Seeding KPI rows for {target - seeded:N0} more deal registrations ({target:N0} in all) across {partners.Count} partners...");
            var seed = Stopwatch.StartNew();
            var (inQuarter, bucketRows) = await SeedAsync(table, partners, seeded, target - seeded);
            seed.Stop();
            seeded = target;
            expected += inQuarter;
            Console.WriteLine($"  seeded in {seed.Elapsed.TotalSeconds:0.0} s ({bucketRows:N0} bucket rows written)");
            var partnerId = partners[0].Id;
            var raw = new Result("raw point read", await Measure.RunAsync(quick ? 10 : 50, quick ? 100 : 300, async _ =>
            {
                var found = await table.GetEntityIfExistsAsync<TableEntity>(partnerId, KpiRows.Total);
                return found.HasValue ? 1 : throw new InvalidOperationException("The partner's all-time KPI row was not found.");
            }));
            var byPartner = new Result($"GET /api/analytics/program (quarter, groupBy=partner), {target:N0} deals", await Measure.RunAsync(10, n, _ => get(admin, path)));
            var byRegion = new Result($"GET /api/analytics/program (quarter, groupBy=region), {target:N0} deals", await Measure.RunAsync(10, n, _ => get(admin, regionPath)));
            var submitted = await SubmittedAsync(admin, path);
            Console.WriteLine($"  raw point read median {Measure.F(raw.MedianMs)} ms; groupBy=partner median {Measure.F(byPartner.MedianMs)} ms ({byPartner.MedianCalls:0} round trips); groupBy=region median {Measure.F(byRegion.MedianMs)} ms; registrations submitted in the quarter {submitted} (expected {expected})");
            cases.Add((target, seed.Elapsed, raw, byPartner, byRegion, submitted, expected, bucketRows));
        }

        var md = new StringBuilder();
        md.AppendLine().AppendLine("## Program KPI table").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"GET /api/analytics/program?from={From}&to={To} as the admin over the demo program's {partners.Count} partners, with {small:N0} and then {large:N0} deal registrations seeded (submission days spread over {FirstDay:yyyy-MM-dd}..{LastDay:yyyy-MM-dd}, no fact after {LastDay:yyyy-MM-dd} and each partner's first seeded registration on that day, 70% approved (of all, 10% then won and 10% lost), 10% rejected, 20% under review), written as the KPI projection writes them (contribution, fact rows, buckets) by raw batched transactions. Sequential requests on the in-process local host; the raw point read is a partner's all-time bucket row through a bare TableClient, measured just before each case.").AppendLine();
        md.AppendLine("| operation | n | storage round trips (median / max) | critical path (median / max) | median ms | p99 ms | median / raw point read |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var c in cases)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| raw point read ({c.Deals:N0} deals seeded) | {c.Raw.N} | 1 / 1 | 1 / 1 | {Measure.F(c.Raw.MedianMs)} | {Measure.F(c.Raw.P99Ms)} | 1.0x |");
            foreach (var r in new[] { c.Partner, c.Region })
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Operation} | {r.N} | {r.MedianCalls:0} / {r.MaxCalls} | {r.MedianCriticalPath:0} / {r.MaxCriticalPath} | {Measure.F(r.MedianMs)} | {Measure.F(r.P99Ms)} | {Measure.F(r.MedianMs / c.Raw.MedianMs, "0.0")}x |");
            }
        }
        var (a, b) = (cases[0], cases[1]);
        var ratio = b.Partner.MedianMs / a.Partner.MedianMs;
        var regionRatio = b.Region.MedianMs / a.Region.MedianMs;
        var rawRatio = b.Raw.MedianMs / a.Raw.MedianMs;
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Seeding: {a.Deals:N0} deals in {a.Seed.TotalSeconds:0.0} s, {b.Deals - a.Deals:N0} more in {b.Seed.TotalSeconds:0.0} s. Check: registrations submitted in the quarter read by the API {a.Submitted} and {b.Submitted}, expected {a.Expected} and {b.Expected} — {(a.Submitted == a.Expected && b.Submitted == b.Expected ? "equal" : "DIFFERENT")}.").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Ratio {b.Deals:N0} / {a.Deals:N0} deals: groupBy=partner median {Measure.F(ratio)}x, groupBy=region {Measure.F(regionRatio)}x (the raw point read moved {Measure.F(rawRatio)}x between the two cases); round trips {a.Partner.MedianCalls:0} and {b.Partner.MedianCalls:0}.").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Target (#15): the {b.Deals:N0} case within 1.3x of the {a.Deals:N0} case — {(ratio <= 1.3 && regionRatio <= 1.3 ? "met" : "NOT met")}; round trips independent of the deal count — {(a.Partner.MaxCalls == b.Partner.MaxCalls ? "met" : "NOT met (they differ)")}.");
        return md.ToString();
    }

    private static async Task<long> SubmittedAsync(HttpClient client, string path)
    {
        var table = await client.GetFromJsonAsync<JsonElement>(path);
        return table.GetProperty("rows").EnumerateArray().Sum(r => r.GetProperty("metrics").GetProperty("registrationsSubmitted").GetInt64());
    }

    /// <summary>Writes the KPI rows of <paramref name="count"/> registrations numbered from <paramref name="start"/>; returns how many were submitted in the quarter and the bucket rows written.</summary>
    private static async Task<(long InQuarter, int BucketRows)> SeedAsync(TableClient table, IReadOnlyList<Partner> partners, int start, int count)
    {
        var rng = new Random(15 + start);
        var span = LastDay.DayNumber - FirstDay.DayNumber + 1;
        var (qFrom, qTo) = (DateOnly.ParseExact(From, "yyyy-MM-dd", CultureInfo.InvariantCulture), DateOnly.ParseExact(To, "yyyy-MM-dd", CultureInfo.InvariantCulture));
        var byPartner = partners.ToDictionary(p => p.Id, _ => new List<(string Id, List<KpiFact> Facts)>(), StringComparer.Ordinal);
        long inQuarter = 0;
        for (var i = start; i < start + count; i++)
        {
            var partner = partners[i % partners.Count].Id;
            // Each partner's first registration of a seeding falls on the last day, so the all-time row's last day (which sets how many rows
            // the pipeline at the quarter's end reads) is the same in both cases; no fact lies after it (KPI facts do not lie in the future).
            var day = i - start < partners.Count ? LastDay : FirstDay.AddDays(rng.Next(span));
            var at = new DateTimeOffset(day.ToDateTime(new TimeOnly(9, 0)), TimeSpan.Zero).AddSeconds(i % 3600);
            var id = DealIds.New(partner, at);
            var line = Lines[i % Lines.Length];
            var facts = new List<KpiFact> { new(KpiMetrics.Submitted, day, line, id, "") };
            if (day >= qFrom && day <= qTo) inQuarter++;
            var kind = i % 10;
            if (kind < 7)
            {
                var amount = 1_000m + rng.Next(100_000);
                var approved = Min(day.AddDays(rng.Next(3)));
                facts.Add(new(KpiMetrics.Approved, approved, line, id, "", amount, "EUR", Math.Round(1 + rng.NextDouble() * 70, 2)));
                if (kind == 1)
                {
                    var won = Min(approved.AddDays(10 + rng.Next(60)));
                    facts.Add(new(KpiMetrics.Won, won, line, id, "", amount, "EUR"));
                    facts.Add(new(KpiMetrics.ProtectionEnded, won, line, id, "", amount, "EUR"));
                }
                else if (kind == 2)
                {
                    var lost = Min(approved.AddDays(10 + rng.Next(60)));
                    facts.Add(new(KpiMetrics.Lost, lost, line, id, ""));
                    facts.Add(new(KpiMetrics.ProtectionEnded, lost, line, id, "", amount, "EUR"));
                }
            }
            else if (kind == 7)
            {
                facts.Add(new(KpiMetrics.Rejected, Min(day.AddDays(1)), line, id, "", Hours: Math.Round(2 + rng.NextDouble() * 48, 2)));
            }
            byPartner[partner].Add((id, facts));
        }

        // Contributions and fact rows: batches of 100 in each partner's partition, 16 transactions in flight.
        var batches = new List<List<TableTransactionAction>>();
        foreach (var (partnerId, deals) in byPartner)
        {
            var rows = deals.SelectMany(d => d.Facts.Select(f => new TableEntity(partnerId, KpiFactRules.FactRow(f)) { ["Body"] = JsonSerializer.Serialize(f, Json) })
                .Prepend(new TableEntity(partnerId, "c|" + d.Id) { ["Body"] = JsonSerializer.Serialize(d.Facts, Json), ["Version"] = DateTimeOffset.UtcNow.UtcTicks }));
            batches.AddRange(rows.Chunk(100).Select(chunk => chunk.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e)).ToList()));
        }
        await ParallelAsync(batches, 16, batch => table.SubmitTransactionAsync(batch));

        // Buckets: the summed delta of the new facts added onto each partner's stored rows (the demo's own KPI rows are kept).
        var bucketRows = 0;
        var bucketBatches = new ConcurrentBag<List<TableTransactionAction>>();
        await ParallelAsync(byPartner.Where(p => p.Value.Count > 0).ToList(), 16, async pair =>
        {
            var (partnerId, deals) = (pair.Key, pair.Value);
            var delta = KpiFactRules.Delta([], deals.SelectMany(d => d.Facts));
            var stored = new Dictionary<string, TableEntity>(StringComparer.Ordinal);
            foreach (var prefix in new[] { "d|", "m|", "y|" })
            {
                await foreach (var e in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partnerId} and RowKey ge {prefix} and RowKey lt {prefix[..^1] + (char)(prefix[^1] + 1)}"))) stored[e.RowKey] = e;
            }
            var total = await table.GetEntityIfExistsAsync<TableEntity>(partnerId, KpiRows.Total);
            if (total.HasValue) stored[KpiRows.Total] = total.Value!;
            var lastDay = deals.SelectMany(d => d.Facts).Max(f => f.Day);
            var entities = new List<TableEntity>();
            foreach (var (row, change) in delta)
            {
                var have = stored.GetValueOrDefault(row);
                var counters = KpiFactRules.Add(have is null ? null : JsonSerializer.Deserialize<Dictionary<string, decimal>>(have.GetString("Body") ?? "{}", Json), change);
                var entity = new TableEntity(partnerId, row) { ["Body"] = JsonSerializer.Serialize(counters, Json) };
                if (row == KpiRows.Total)
                {
                    var haveLast = have?.GetString("LastDay") is { } text ? DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture) : (DateOnly?)null;
                    var last = haveLast is { } h && h > lastDay ? h : lastDay;
                    entity["LastDay"] = last.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                }
                entities.Add(entity);
            }
            Interlocked.Add(ref bucketRows, entities.Count);
            foreach (var chunk in entities.Chunk(100)) bucketBatches.Add(chunk.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e)).ToList());
        });
        await ParallelAsync(bucketBatches.ToList(), 16, batch => table.SubmitTransactionAsync(batch));
        return (inQuarter, bucketRows);
    }

    private static DateOnly Min(DateOnly day) => day > LastDay ? LastDay : day;

    internal static async Task ParallelAsync<T>(IReadOnlyList<T> items, int degree, Func<T, Task> work)
    {
        using var gate = new SemaphoreSlim(degree);
        await Task.WhenAll(items.Select(async item =>
        {
            await gate.WaitAsync();
            try
            {
                await work(item);
            }
            finally
            {
                gate.Release();
            }
        }));
    }
}
