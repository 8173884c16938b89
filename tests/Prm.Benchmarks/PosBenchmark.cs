using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Common;
using Prm.Core.Partners;
using Prm.Core.Pos;
using Prm.Storage;
using Prm.Testing;

namespace Prm.Benchmarks;

/// <summary>
/// POS import (#15): one distributor's CSV of 100,000 lines (--quick: 10,000) through POST /api/pos/batches as the admin, first as a dry
/// run, then committed: wall time and lines per second, next to raw batched Azurite inserts of as many rows (100 rows a transaction in one
/// partition, 8 transactions in flight, as the POS store writes its lines) into a scratch table in the same run. The resellers are named by
/// partner id, domain or name (one line in 50 by a misspelt name: a fuzzy match), the end customers come from a pool of 2,000 companies
/// (none registered, so each distinct customer costs one conflict-index lookup), one line in 100 repeats the invoice line before it
/// (a duplicate).
/// </summary>
public static class PosBenchmark
{
    public static async Task<string> RunAsync(ApiHost api, string connectionString, bool quick, Func<PrmTables, Task> settle)
    {
        var tables = api.Services.GetRequiredService<PrmTables>();
        var admin = await api.ClientAsync(Demo.Admin);
        admin.Timeout = TimeSpan.FromMinutes(60);
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

        var wanted = quick ? 10_000 : PosImport.MaxLines;
        var reporter = "Bench Dist " + Guid.NewGuid().ToString("N")[..6];
        var lines = wanted;
        byte[] csv;
        while ((csv = Csv(reporter, partners, lines)).LongLength > PosImport.MaxBytes) lines = (int)(lines * 0.95);
        var limited = lines < wanted;
        Console.WriteLine($"POS file: {lines:N0} lines, {csv.Length / 1024.0 / 1024.0:0.0} MiB{(limited ? $" (the 16 MiB limit binds: {wanted:N0} lines do not fit)" : "")}");

        // Warm-up (JIT, the partner directory): a small dry run of another reporter.
        await PostAsync(admin, "pos/batches", Csv("Warmup " + reporter, partners, 200));

        Console.WriteLine("Raw batched Azurite inserts...");
        var scratch = new TableClient(connectionString, "benchpos" + Guid.NewGuid().ToString("N")[..8]);
        await scratch.CreateAsync();
        var rawRows = Enumerable.Range(1, lines).Select(i => new TableEntity("lines|bench", i.ToString("D7", CultureInfo.InvariantCulture))
        {
            ["Body"] = JsonSerializer.Serialize(new { line = i, invoiceNo = "INV-" + (i / 5).ToString("D7", CultureInfo.InvariantCulture), invoiceLine = i % 5 + 1, date = "2026-10-01", productLine = "cloud-backup", quantity = 3, unitPrice = 99.5m, currency = "EUR", customerName = "Customer 00042 GmbH", customerDomain = "c00042.example", customerCountry = "DE", partnerId = partners[0].Id, resellerMatch = "exact", customerMatch = "none", duplicate = false }),
        }).Chunk(100).ToList();
        var raw = Stopwatch.StartNew();
        await AnalyticsBenchmark.ParallelAsync(rawRows, 8, chunk => scratch.SubmitTransactionAsync(chunk.Select(e => new TableTransactionAction(TableTransactionActionType.Add, e))));
        raw.Stop();
        await scratch.DeleteAsync();
        Console.WriteLine($"  {lines:N0} rows in {raw.Elapsed.TotalSeconds:0.00} s ({lines / raw.Elapsed.TotalSeconds:N0} rows/s)");

        Console.WriteLine("Dry run...");
        var dry = await PostAsync(admin, "pos/batches", csv);
        Console.WriteLine($"  {dry.Seconds:0.00} s, {dry.Calls} storage calls; {dry.Summary}");
        Console.WriteLine("Commit...");
        var commit = await PostAsync(admin, "pos/batches?commit=true", csv);
        Console.WriteLine($"  {commit.Seconds:0.00} s, {commit.Calls} storage calls; {commit.Summary}");
        await settle(tables);

        var rawRate = lines / raw.Elapsed.TotalSeconds;
        var md = new StringBuilder();
        md.AppendLine().AppendLine("## POS import").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"One reporter's CSV of {lines:N0} lines ({csv.Length / 1024.0 / 1024.0:0.0} MiB{(limited ? $"; {wanted:N0} lines exceed the 16 MiB limit, so this is the largest file the API accepts" : "")}) through POST /api/pos/batches as the admin over the demo program's {partners.Count} partners: resellers by partner id, domain or name (1 line in 50 misspelt: fuzzy), end customers from a pool of 2,000 companies (none registered), 1 line in 100 a repeated invoice line (duplicate). One request each, after a 200-line warm-up; the time includes sending the file and reading the per-line report. Raw: {lines:N0} rows of a similar size inserted into a scratch table through a bare TableClient, 100 rows a transaction, 8 in flight (as the POS store writes its lines).").AppendLine();
        md.AppendLine("| operation | lines | wall s | lines/s | share of raw rows/s | storage round trips | result |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| raw batched Azurite inserts | {lines:N0} | {raw.Elapsed.TotalSeconds:0.00} | {rawRate:N0} | 100% | {rawRows.Count} | |");
        foreach (var (name, r) in new[] { ("POST /api/pos/batches (dry run)", dry), ("POST /api/pos/batches?commit=true", commit) })
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {lines:N0} | {r.Seconds:0.00} | {lines / r.Seconds:N0} | {lines / r.Seconds / rawRate * 100:0}% | {r.Calls} | {r.Summary} |");
        }
        md.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Target (#15): at least 25% of the raw insert rate — dry run {(lines / dry.Seconds >= rawRate / 4 ? "met" : "NOT met")}, commit {(lines / commit.Seconds >= rawRate / 4 ? "met" : "NOT met")}. The commit writes two rows a line (the line and its (reporter, invoiceNo, line) key) where the raw baseline writes one.");
        return md.ToString();
    }

    private static byte[] Csv(string reporter, IReadOnlyList<Partner> partners, int lines)
    {
        var text = new StringBuilder("reporter,invoiceNo,line,date,productLine,quantity,unitPrice,currency,customerName,customerDomain,customerCountry,reseller\n");
        string[] products = ["cloud-backup", "endpoint-security", "storage-appliance"];
        string[] countries = ["DE", "FR", "GB", "US", "NL"];
        var (invoice, line) = (0, 0);
        for (var i = 0; i < lines; i++)
        {
            if (i % 100 != 99)
            {
                line++;
                if (line > 5 || i == 0) (invoice, line) = (invoice + 1, 1);
            }
            var partner = partners[i % partners.Count];
            var reseller = (i % 50) switch
            {
                49 => partner.Name.Length > 4 ? partner.Name[..^1] + "x" : partner.Name,
                _ when i % 3 == 0 => partner.Id,
                _ when i % 3 == 1 && !string.IsNullOrEmpty(partner.Domain) => partner.Domain,
                _ => partner.Name,
            };
            if (reseller.Contains(',', StringComparison.Ordinal) || reseller.Contains('"', StringComparison.Ordinal)) reseller = "\"" + reseller.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
            var customer = i * 7919 % 2000;
            text.Append(CultureInfo.InvariantCulture, $"{reporter},INV-{invoice:D6},{line},2026-10-{1 + i % 30:D2},{products[i % 3]},{1 + i % 9},{49 + i % 50}.50,EUR,Customer {customer:D4} GmbH,c{customer:D4}.example,{countries[customer % 5]},{reseller}\n");
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static async Task<(double Seconds, int Calls, string Summary)> PostAsync(HttpClient client, string path, byte[] csv)
    {
        var content = new ByteArrayContent(csv);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/csv");
        var start = Stopwatch.StartNew();
        using var response = await client.PostAsync(path, content);
        var body = await response.Content.ReadAsStringAsync();
        var seconds = start.Elapsed.TotalSeconds;
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST {path} answered {(int)response.StatusCode}: {body[..Math.Min(body.Length, 2000)]}");
        var calls = int.Parse(response.StorageCalls() ?? "0", CultureInfo.InvariantCulture);
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        var kinds = root.GetProperty("report").EnumerateArray()
            .Where(r => r.TryGetProperty("reseller", out var s) && s.ValueKind == JsonValueKind.Object)
            .GroupBy(r => r.GetProperty("reseller").GetProperty("kind").GetString()).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count():N0}");
        var summary = $"{root.GetProperty("accepted").GetInt32():N0} accepted, {root.GetProperty("rejected").GetInt32():N0} rejected, {root.GetProperty("duplicates").GetInt32():N0} duplicates; resellers {string.Join(", ", kinds)}";
        return (seconds, calls, summary);
    }
}
