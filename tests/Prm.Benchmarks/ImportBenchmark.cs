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
    public static async Task<string> RunAsync(ApiHost api, string connectionString, bool quick, Func<PrmTables, Task> settle, string durableBackend)
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

        async Task<Run> ImportAsync(bool dryRun)
        {
            await settle(tables);
            using var request = new HttpRequestMessage(HttpMethod.Post, "partners/import" + (dryRun ? "?dryRun=true" : "")) { Content = new StringContent(body, Encoding.UTF8, "text/csv") };
            var before = StorageCalls.Total;
            if (!dryRun) StorageCalls.StartTally();
            var clock = Stopwatch.StartNew();
            using var response = await admin.SendAsync(request);
            var seconds = clock.Elapsed.TotalSeconds;
            var text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"The import answered {(int)response.StatusCode}: {text[..Math.Min(500, text.Length)]}");
            var calls = int.Parse(response.StorageCalls() ?? "0", CultureInfo.InvariantCulture);
            var path = response.Headers.TryGetValues(Prm.DevHost.LocalHost.StorageCriticalPathHeader, out var values) ? int.Parse(values.First(), CultureInfo.InvariantCulture) : 0;
            // The work the import started after it answered: the outbox delivery and its projections, until the outbox is empty.
            var drainClock = Stopwatch.StartNew();
            await settle(tables);
            var drain = Math.Max(0, drainClock.Elapsed.TotalSeconds - 2); // settle pauses 2 s after the drain
            var background = StorageCalls.Total - before - calls;
            return new Run(seconds, JsonDocument.Parse(text).RootElement.Clone(), calls, path, background, drain, StorageCalls.StopTally());
        }

        Console.WriteLine($"Raw Azurite batched inserts of {rows} rows (after an unrecorded warm-up)...");
        await RawBatchedAsync(connectionString, 1_000);
        var raw = await RawBatchedAsync(connectionString, rows);
        Console.WriteLine($"Raw Azurite writes of the import's pattern for {partners} partners...");
        var pattern = await RawPatternAsync(connectionString, partners, UsersPer);
        Console.WriteLine($"Import of {partners} partners × {UsersPer} users: dry run...");
        var dry = await ImportAsync(dryRun: true);
        Console.WriteLine("Real run...");
        var real = await ImportAsync(dryRun: false);
        Console.WriteLine("The same file again...");
        var again = await ImportAsync(dryRun: false);

        int N(JsonElement r, string name) => r.GetProperty(name).GetInt32();
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"- Date: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC; {Environment.ProcessorCount} cores; {partners} partners × {UsersPer} users = {rows} rows ({body.Length / 1024} KiB); the Durable Task backend (each invited user starts an invitation workflow) {durableBackend}.");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Raw Azurite batched inserts (100-entity transactions, 16 in parallel, 1.5 KB rows): {F(raw.Seconds, "0.0")} s for {rows} rows ({F(rows / raw.Seconds, "0")} rows/s).").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- Raw Azurite writes of the import's own pattern, no application code ({Prm.Core.Partners.PartnerImport.ImportParallelism} partners at a time; per partner {UsersPer + 1} key-row inserts and one {2 * UsersPer + 1}-row pointer transaction side by side, then one {3 * UsersPer + 13}-row transaction of the partner's partition, then one index upsert): {F(pattern, "0.0")} s for {partners} partners ({F(rows / pattern, "0")} rows/s). This is Azurite's floor for the import's synchronous writes on this machine.").AppendLine();
        md.AppendLine("| run | s | rows/s | created | updated | unchanged | rejected | / raw batched inserts | request round trips (per partner) | critical path | background round trips (per partner) | background drained in s |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, r) in new[] { ("dry run", dry), ("real run", real), ("same file again", again) })
        {
            var report = r.Report;
            md.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {F(r.Seconds, "0.0")} | {F(rows / r.Seconds, "0")} | {N(report, "created")} | {N(report, "updated")} | {N(report, "unchanged")} | {N(report, "rejected")} | {F(r.Seconds / raw.Seconds, "0.0")}× the time | {r.Calls:N0} ({F(r.Calls / (double)partners, "0.0")}) | {r.CriticalPath:N0} | {r.Background:N0} ({F(r.Background / (double)partners, "0.0")}) | {F(r.Drain, "0.0")} |");
        }
        md.AppendLine().AppendLine("- Background round trips: every storage call of the process from the request until the outbox was empty, less the request's own (invitation emails, partner events, their projections, the Durable backend excluded).");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Round trips of the real run and its background work per partner, by method and table (a transaction is `POST $batch`): {string.Join(", ", real.Tally.OrderByDescending(t => t.Value).Select(t => $"{t.Key} {F(t.Value / (double)partners, "0.0")}"))}.");
        var target = quick ? 1.5 : 15;
        md.AppendLine(CultureInfo.InvariantCulture, $"- Target: the real run in at most {target} s: {(real.Seconds <= target ? "met" : "missed")} ({F(real.Seconds, "0.0")} s).");
        if (N(real.Report, "created") != partners || N(real.Report, "rejected") != 0) md.AppendLine(CultureInfo.InvariantCulture, $"- WRONG RESULT: created {N(real.Report, "created")} of {partners}, rejected {N(real.Report, "rejected")}.");
        if (N(again.Report, "created") != 0 || N(again.Report, "updated") != 0) md.AppendLine("- WRONG RESULT: the second run created or updated partners (not idempotent).");
        return md.ToString();
    }

    private sealed record Run(double Seconds, JsonElement Report, int Calls, int CriticalPath, long Background, double Drain, IReadOnlyDictionary<string, int> Tally);

    /// <summary>
    /// The storage writes a new partner of the import makes, with the same shapes and parallelism but no application code: its domain
    /// and user email key rows (one partition each) claimed side by side with its outbox pointers (one transaction), then one transaction
    /// of its partition (partner, users, audit and outbox rows), then its list index row. Returns the seconds for all partners.
    /// </summary>
    private static async Task<double> RawPatternAsync(string connectionString, int partners, int usersPer)
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var keys = new TableClient(connectionString, "rawkeys" + suffix);
        var pending = new TableClient(connectionString, "rawpending" + suffix);
        var data = new TableClient(connectionString, "rawpartners" + suffix);
        var index = new TableClient(connectionString, "rawindex" + suffix);
        foreach (var t in new[] { keys, pending, data, index }) await t.CreateIfNotExistsAsync();
        var body = new string('x', 600);
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, partners), new ParallelOptions { MaxDegreeOfParallelism = Prm.Core.Partners.PartnerImport.ImportParallelism }, async (p, ct) =>
        {
            var partition = $"ptn{p:D6}";
            var claims = Enumerable.Range(0, usersPer + 1).Select(k => keys.AddEntityAsync(new TableEntity($"key:{partition}:{k}", "") { ["PartnerId"] = partition }, ct)).ToList();
            var pointers = pending.SubmitTransactionAsync(Enumerable.Range(0, 2 * usersPer + 1).Select(m => new TableTransactionAction(TableTransactionActionType.UpsertReplace,
                new TableEntity("p" + (p % 4).ToString(CultureInfo.InvariantCulture), $"{partition}|{m:D3}") { ["Table"] = "partners" })), ct);
            await Task.WhenAll([.. claims, pointers]);
            var rows = Enumerable.Range(0, 3 * usersPer + 13).Select(r => new TableTransactionAction(TableTransactionActionType.Add,
                new TableEntity(partition, $"r{r:D3}") { ["Body"] = body }));
            await data.SubmitTransactionAsync(rows, ct);
            await index.UpsertEntityAsync(new TableEntity("all", partition) { ["Body"] = body }, TableUpdateMode.Replace, ct);
        });
        var seconds = clock.Elapsed.TotalSeconds;
        foreach (var t in new[] { keys, pending, data, index }) await t.DeleteAsync();
        return seconds;
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
