using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Leads;
using Prm.Storage;
using Prm.Storage.Leads;
using Prm.Testing;
using static Prm.Benchmarks.Measure;

namespace Prm.Benchmarks;

/// <summary>
/// Routing one lead with 50 and with 5,000 Active partners in the routing index (seeded straight into its bucket rows, as the
/// projection writes them): the storage round trips and latency of the routing decision alone (the router: index partitions, named
/// partners, deal holder) and of the whole intake through the API (POST /api/leads: key rows, routing, commit), for a rule scoped to
/// the lead's region and for a weighted pick over all partners (the demo's fallback).
/// </summary>
public static class LeadBenchmark
{
    public static async Task<string> RunAsync(ApiHost api, bool quick, Func<PrmTables, Task> settle)
    {
        var tables = api.Services.GetRequiredService<PrmTables>();
        var index = api.Services.GetRequiredService<TableLeadRoutingIndex>();
        var router = api.Services.GetRequiredService<LeadRouter>();
        var admin = await api.ClientAsync(Demo.Admin);
        var n = quick ? 20 : 200;
        var rows = new List<string>();
        var seeded = new List<RoutingEntry>();
        var medians = new Dictionary<(int, string), double>();
        foreach (var partners in new[] { 50, 5_000 })
        {
            Console.WriteLine($"Seeding the routing index up to {partners:N0} Active partners (APAC, half in JP)...");
            while (seeded.Count < partners)
            {
                var i = seeded.Count;
                seeded.Add(new RoutingEntry
                {
                    PartnerId = "ptn_" + (0xbe00000 + i).ToString("x32", CultureInfo.InvariantCulture), Name = $"Lead Bench {i:0000}", Tier = new[] { "registered", "silver", "gold", "platinum" }[i % 4],
                    Country = i % 2 == 0 ? "JP" : "AU", Region = "apac", Weight = 1 + i % 3, RateOffers = 10, RateAccepted = i % 11,
                });
            }
            await index.SeedAsync("all", seeded, CancellationToken.None);
            await index.SeedAsync("r:apac", seeded, CancellationToken.None);
            await index.SeedAsync("c:JP", seeded.Where(e => e.Country == "JP"), CancellationToken.None);
            await settle(tables);
            foreach (var (scope, rule) in new[] { ("region", "Weighted in the lead's region"), ("all", "Weighted over all Active partners") })
            {
                var settings = new LeadSettings { Rules = [new LeadRule { Name = rule, Action = "weighted", Scope = scope }] };
                var samples = await Measure.RunAsync(quick ? 3 : 20, n, async i =>
                {
                    var lead = Lead(i);
                    var calls = StorageCalls.BeginScope();
                    var decision = await router.DecideAsync(lead, settings, DateTimeOffset.UtcNow, CancellationToken.None);
                    if (decision.Partner is null) throw new InvalidOperationException("The benchmark lead found no partner.");
                    return calls.Value;
                });
                var result = new Result($"routing decision, {rule.ToLowerInvariant()}", samples);
                medians[(partners, scope)] = result.MedianMs;
                rows.Add($"| {partners:N0} | {result.Operation} | {F(result.MedianCalls, "0")} (max {result.MaxCalls}) | {F(result.MedianMs)} | {F(result.P99Ms)} |");
            }
            var intake = await Measure.RunAsync(quick ? 3 : 10, n, async i =>
            {
                var domain = $"leadbench-{partners}-{i + 100}-{Guid.NewGuid():N}"[..30] + ".example";
                using var response = await admin.PostAsync("leads", Responses.Json(new
                {
                    company = new { name = "Bench Customer", domain, country = "JP", industry = "Retail" },
                    contact = new { name = "Bench Contact", email = "buyer@" + domain },
                    productLines = new[] { "cloud-backup" }, grade = "B", consentToShare = true,
                }));
                if ((int)response.StatusCode != 201) throw new InvalidOperationException($"POST /api/leads answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                return int.Parse(response.StorageCalls()!, CultureInfo.InvariantCulture);
            });
            var whole = new Result("POST /api/leads (demo rules: an APAC lead takes the weighted fallback over all)", intake);
            medians[(partners, "api")] = whole.MedianMs;
            rows.Add($"| {partners:N0} | {whole.Operation} | {F(whole.MedianCalls, "0")} (max {whole.MaxCalls}) | {F(whole.MedianMs)} | {F(whole.P99Ms)} |");
            await settle(tables);
        }
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"\nRouting one lead ({n} sequential leads per row after a warm-up; Azurite in memory, {Environment.ProcessorCount} cores).\n");
        report.AppendLine("| Active partners | operation | storage round trips | median ms | p99 ms |");
        report.AppendLine("| ---: | --- | ---: | ---: | ---: |");
        foreach (var row in rows) report.AppendLine(row);
        report.AppendLine();
        foreach (var (key, label) in new[] { ("region", "decision, region scope"), ("all", "decision, all partners"), ("api", "whole intake") })
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"- median 5,000 / 50, {label}: {F(medians[(5_000, key)] / medians[(50, key)])}x (target 1.3x)");
        }
        return report.ToString();
    }

    private static Lead Lead(int i) => new()
    {
        Id = LeadIds.New(), Status = LeadStatus.New, Company = new LeadCompany("Bench", $"bench{i}.example", "JP", "apac", null, "Retail", null),
        Contact = new LeadContact("Bench", $"b{i}@bench.example", null, null), ProductLines = ["cloud-backup"], ConsentToShare = true,
        CreatedBy = "usr_bench", CreatedByName = "Bench", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
    };
}
