using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Prm.Storage;
using Prm.Testing;
using static Prm.Benchmarks.Measure;

namespace Prm.Benchmarks;

/// <summary>
/// The partner CSV import (#17 item 4): 1,000 partners × 10 users (10,000 rows) through POST /api/partners/import on the local host —
/// a dry run, the real run, and the same file again (idempotent: nothing created) — next to raw Azurite batched inserts of the same
/// number of rows in the same run. --quick: 100 partners × 10 users.
/// </summary>
public static class ImportBenchmark
{
    public static async Task<string> RunAsync(ApiHost api, string connectionString, bool quick, Func<PrmTables, Task> settle)
    {
        var partners = quick ? 100 : 1_000;
        const int UsersPer = 10;
        var run = Guid.NewGuid().ToString("N")[..6];
        var csv = new StringBuilder(Prm.Core.Partners.PartnerImport.Columns + "\n");
        for (var p = 0; p < partners; p++)
        {
            var domain = $"imp{run}-{p}.example";
            for (var u = 0; u < UsersPer; u++)
            {
                csv.Append(CultureInfo.InvariantCulture, $"Import Partner {run} {p},{domain},DE,emea,registered,reseller,Active,,https://{domain},+49 30 1234,Berlin,user{u}@{domain},User {u},{(u == 0 ? "partnerAdmin" : "partnerUser")}\n");
            }
        }
        var body = csv.ToString();
        var rows = partners * UsersPer;
        var admin = await api.ClientAsync(Demo.Admin);
        admin.Timeout = TimeSpan.FromMinutes(20);
        var tables = (PrmTables)api.Services.GetService(typeof(PrmTables))!;

        async Task<(double Seconds, JsonElement Report)> ImportAsync(bool dryRun)
        {
            await settle(tables);
            using var request = new HttpRequestMessage(HttpMethod.Post, "partners/import" + (dryRun ? "?dryRun=true" : "")) { Content = new StringContent(body, Encoding.UTF8, "text/csv") };
            var clock = Stopwatch.StartNew();
            using var response = await admin.SendAsync(request);
            var seconds = clock.Elapsed.TotalSeconds;
            var text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"The import answered {(int)response.StatusCode}: {text[..Math.Min(500, text.Length)]}");
            return (seconds, JsonDocument.Parse(text).RootElement.Clone());
        }

        Console.WriteLine($"Raw Azurite batched inserts of {rows} rows (after an unrecorded warm-up)...");
        await RawBatchedAsync(connectionString, 1_000);
        var raw = await RawBatchedAsync(connectionString, rows);
        Console.WriteLine($"Import of {partners} partners × {UsersPer} users: dry run...");
        var (drySeconds, dry) = await ImportAsync(dryRun: true);
        Console.WriteLine("Real run...");
        var (realSeconds, real) = await ImportAsync(dryRun: false);
        var drainClock = Stopwatch.StartNew();
        await settle(tables);
        var drain = drainClock.Elapsed.TotalSeconds - 2; // settle pauses 2 s after the drain
        Console.WriteLine("The same file again...");
        var (againSeconds, again) = await ImportAsync(dryRun: false);

        int N(JsonElement r, string name) => r.GetProperty(name).GetInt32();
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"- Date: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC; {Environment.ProcessorCount} cores; {partners} partners × {UsersPer} users = {rows} rows ({body.Length / 1024} KiB).");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Raw Azurite batched inserts (100-entity transactions, 16 in parallel, 1.5 KB rows): {F(raw.Seconds, "0.0")} s for {rows} rows ({F(rows / raw.Seconds, "0")} rows/s).").AppendLine();
        md.AppendLine("| run | s | rows/s | created | updated | unchanged | rejected | / raw batched inserts |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, s, r) in new[] { ("dry run", drySeconds, dry), ("real run", realSeconds, real), ("same file again", againSeconds, again) })
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {F(s, "0.0")} | {F(rows / s, "0")} | {N(r, "created")} | {N(r, "updated")} | {N(r, "unchanged")} | {N(r, "rejected")} | {F(s / raw.Seconds, "0.0")}× the time |");
        }
        md.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"- Background work after the real run (invitation emails, partner events, projections) drained in {F(Math.Max(0, drain), "0.0")} s.");
        var target = quick ? 1.5 : 15;
        md.AppendLine(CultureInfo.InvariantCulture, $"- Target: the real run in at most {target} s: {(realSeconds <= target ? "met" : "missed")} ({F(realSeconds, "0.0")} s).");
        if (N(real, "created") != partners || N(real, "rejected") != 0) md.AppendLine(CultureInfo.InvariantCulture, $"- WRONG RESULT: created {N(real, "created")} of {partners}, rejected {N(real, "rejected")}.");
        if (N(again, "created") != 0) md.AppendLine("- WRONG RESULT: the second run created partners (not idempotent).");
        return md.ToString();
    }

    private static async Task<(double Seconds, int Rows)> RawBatchedAsync(string connectionString, int rows)
    {
        var table = new TableClient(connectionString, "rawbatch" + Guid.NewGuid().ToString("N")[..8]);
        await table.CreateIfNotExistsAsync();
        var partitions = Enumerable.Range(0, (rows + 99) / 100).ToList();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(partitions, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (p, ct) =>
        {
            var key = "p" + p.ToString(CultureInfo.InvariantCulture);
            var actions = Enumerable.Range(0, Math.Min(100, rows - p * 100))
                .Select(i => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(key, i.ToString("D4", CultureInfo.InvariantCulture)) { ["Body"] = new string('x', 1500) }))
                .ToList();
            await table.SubmitTransactionAsync(actions, ct);
        });
        var seconds = clock.Elapsed.TotalSeconds;
        await table.DeleteAsync();
        return (seconds, rows);
    }
}
