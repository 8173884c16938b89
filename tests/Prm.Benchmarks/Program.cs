using System.Net.Http.Json;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Prm.Benchmarks;
using Prm.Storage;
using Prm.Testing;
using static Prm.Benchmarks.Measure;

// Latency and storage round trips of the main API operations on the in-process local host against Azurite,
// next to a raw Azurite point read measured in the same run. Usage: [--quick] [--explain] [--out PATH]; --explain prints each write's round trips with their timing; --deals runs the deal registration load benchmark instead;
// --triggers the decision-to-workflow latency through the outbox queue and the idle storage transactions; --drain the outbox backlog
// a crashed host leaves (1,000 messages) delivered by one sweep; --assets a partner's first page of 5,000 assets and co-branded rendering; --leads routing one lead with 50 and 5,000 Active partners; --training the exam submit and 10,000 awards expiring at once (--awards N); --tiers the nightly evaluation of 10,000 partners (--partners N) and one event-driven re-evaluation; --import the 10,000-row partner CSV import (--durable-in-memory: the Durable backend in memory, not on Azurite); --home the portal home of a partner admin with 1,000 registrations, 100 lead offers and 50 MDF requests; --webhooks commit-to-receipt latency of webhook deliveries to three loopback receivers (--registrations N), then with one receiver failing; --analytics the program KPI table for a quarter with 1,000 and 100,000 deals seeded; --pos a 100,000-line POS import (dry run and commit) next to raw batched inserts.
var quick = args.Contains("--quick");
var outIndex = Array.IndexOf(args, "--out");
var outPath = Path.GetFullPath(outIndex >= 0 && outIndex + 1 < args.Length ? args[outIndex + 1] : "benchmark-results.md");
int Scale(int n) => quick ? Math.Max(1, n / 10) : n;

var total = Stopwatch.StartNew();
Console.WriteLine("Starting Azurite and the local host...");
// --triggers runs with the in-process sweep of the Azure settings (off: 0), as its idle figure extrapolates to the app there.
var hostSettings = new Dictionary<string, string?> { ["Outbox:SweepSeconds"] = args.Contains("--triggers") ? "0" : "5" };
// Likewise the webhook deliverer's in-process sweep: off by default (the WebhookSweep timer runs each minute); the test hosts' 1 s would
// count as idle traffic the app does not make.
if (args.Contains("--triggers")) hostSettings["Webhooks:SweepSeconds"] = "0";
// --training: a certification day of one second (the award expiry figure; exam rules are unaffected).
if (args.Contains("--training")) hostSettings["Training:DayLength"] = "00:00:01";
// --durable-in-memory: the Durable Task backend in memory instead of on Azurite (the import's 10,000 invitation workflows on Azurite's
// tables and queues share the one Azurite process with the app's own storage calls; this isolates that cost).
if (args.Contains("--durable-in-memory")) hostSettings["LocalHost:DurableBackend"] = "InMemory";
// Plain clients: the tests check every response against the OpenAPI document; timing that check would count client CPU as the server's.
var api = await ApiHost.StartAsync(hostSettings, checkResponses: false, configure: args.Contains("--triggers") ? TriggerBenchmark.RegisterFloor : null);
var azurite = await TestAzurite.GetAsync();
try
{
    Console.WriteLine($"Host ready at {api.Host.BaseUrl} after {total.Elapsed.TotalSeconds:0.0} s (Azurite PID {azurite.ProcessId}).");
    if (args.Contains("--deals"))
    {
        var dealReport = "# PrmFunctions deal registration benchmark\n" + await DealBenchmark.RunAsync(api, azurite.ConnectionString, quick, SettleAsync);
        Console.WriteLine(dealReport);
        await File.WriteAllTextAsync(outPath, dealReport);
        Console.WriteLine($"Written to {outPath}");
        return;
    }
    if (args.Contains("--webhooks"))
    {
        var eventsIndex = Array.IndexOf(args, "--registrations");
        int? registrations = eventsIndex >= 0 && eventsIndex + 1 < args.Length ? int.Parse(args[eventsIndex + 1], CultureInfo.InvariantCulture) : null;
        var webhookReport = "# PrmFunctions webhook delivery latency\n" + await WebhookBenchmark.RunAsync(api, quick, registrations);
        Console.WriteLine(webhookReport);
        await File.WriteAllTextAsync(outPath, webhookReport);
        Console.WriteLine($"Written to {outPath}");
        return;
    }
    if (args.Contains("--assets"))
    {
        var assetReport = "# PrmFunctions content library benchmark\n" + await AssetBenchmark.RunAsync(api, azurite.ConnectionString, quick, GetAsync);
        Console.WriteLine(assetReport);
        await File.WriteAllTextAsync(outPath, assetReport);
        Console.WriteLine($"Written to {outPath}");
        return;
    }
    if (args.Contains("--leads"))
    {
        var leadReport = "# PrmFunctions lead routing benchmark\n" + await LeadBenchmark.RunAsync(api, quick, SettleAsync);
        Console.WriteLine(leadReport);
        await File.WriteAllTextAsync(outPath, leadReport);
        Console.WriteLine($"Written to {outPath}");
        return;
    }
    if (args.Contains("--training"))
    {
        var awardsIndex = Array.IndexOf(args, "--awards");
        var awards = awardsIndex >= 0 && awardsIndex + 1 < args.Length && int.TryParse(args[awardsIndex + 1], out var a) && a is > 0 and <= 100_000 ? a : quick ? 1000 : 10_000;
        var trainingReport = "# PrmFunctions training benchmark\n" + await TrainingBenchmark.RunAsync(api, quick, awards);
        Console.WriteLine(trainingReport);
        await File.WriteAllTextAsync(outPath, trainingReport);
        Console.WriteLine($"Written to {outPath}");
        return;
    }
    if (args.Contains("--tiers"))
    {
        var partnersIndex = Array.IndexOf(args, "--partners");
        var count = partnersIndex >= 0 && partnersIndex + 1 < args.Length && int.TryParse(args[partnersIndex + 1], out var p) && p is > 2 and <= 100_000 ? p : quick ? 1000 : 10_000;
        var tierReport = "# PrmFunctions tier benchmark\n" + await TierBenchmark.RunAsync(api, quick, count);
        Console.WriteLine(tierReport);
        await File.WriteAllTextAsync(outPath, tierReport);
        Console.WriteLine($"Written to {outPath}");
        return;
    }
    if (args.Contains("--home"))
    {
        var homeReport = "# PrmFunctions portal home benchmark\n" + await PortalHomeBenchmark.RunAsync(api, azurite.ConnectionString, quick, GetAsync, SettleAsync);
        Console.WriteLine(homeReport);
        await File.WriteAllTextAsync(outPath, homeReport);
        Console.WriteLine($"Written to {outPath}");
        return;
    }
    if (args.Contains("--analytics"))
    {
        var analyticsReport = "# PrmFunctions analytics benchmark\n" + await AnalyticsBenchmark.RunAsync(api, azurite.ConnectionString, quick, GetAsync, SettleAsync);
        Console.WriteLine(analyticsReport);
        await File.WriteAllTextAsync(outPath, analyticsReport);
        Console.WriteLine($"Written to {outPath}");
        return;
    }
    if (args.Contains("--pos"))
    {
        var posReport = "# PrmFunctions POS import benchmark\n" + await PosBenchmark.RunAsync(api, azurite.ConnectionString, quick, SettleAsync);
        Console.WriteLine(posReport);
        await File.WriteAllTextAsync(outPath, posReport);
        Console.WriteLine($"Written to {outPath}");
        return;
    }
    if (args.Contains("--import"))
    {
        var importReport = "# PrmFunctions partner import benchmark\n" + await ImportBenchmark.RunAsync(api, azurite.ConnectionString, quick, SettleAsync, args.Contains("--durable-in-memory") ? "in memory" : "on Azurite");
        Console.WriteLine(importReport);
        await File.WriteAllTextAsync(outPath, importReport);
        Console.WriteLine($"Written to {outPath}");
        return;
    }
    if (args.Contains("--drain"))
    {
        var drainReport = "# PrmFunctions outbox drain benchmark\n" + await DrainBenchmark.RunAsync(quick);
        Console.WriteLine(drainReport);
        await File.WriteAllTextAsync(outPath, drainReport);
        Console.WriteLine($"Written to {outPath}");
        return;
    }
    if (args.Contains("--triggers"))
    {
        var triggerReport = "# PrmFunctions trigger benchmark\n" + await TriggerBenchmark.RunAsync(api, quick, SettleAsync);
        Console.WriteLine(triggerReport);
        await File.WriteAllTextAsync(outPath, triggerReport);
        Console.WriteLine($"Written to {outPath}");
        return;
    }
    var anna = await api.ClientAsync(Demo.NorthwindAdmin);
    var admin = await api.ClientAsync(Demo.Admin);
    var cm = await api.ClientAsync(Demo.CmEmea);
    var rep = await api.ClientAsync(Demo.NorthwindRep);
    var partnerId = (await JsonAsync(anna, "me")).GetProperty("partnerId").GetString()
        ?? throw new InvalidOperationException("The partner admin has no partner.");

    Console.WriteLine("Seeding 200 partners by CSV import...");
    var csv = new StringBuilder(Prm.Core.Partners.PartnerImport.Columns + "\n");
    for (var i = 0; i < 200; i++)
    {
        var region = new[] { "emea", "amer", "apac" }[i % 3];
        var name = i % 10 == 0 ? $"North Star {i:000}" : $"Bench Partner {i:000}";
        csv.Append(CultureInfo.InvariantCulture, $"{name},seed{i:000}.example,DE,{region},,,,,,,Berlin,admin@seed{i:000}.example,Seed Admin {i},PartnerAdmin\n");
    }
    using (var import = new HttpRequestMessage(HttpMethod.Post, "partners/import") { Content = new StringContent(csv.ToString(), Encoding.UTF8, "text/csv") })
    {
        var (_, response) = await CallAsync(admin, import);
        var created = (await response.JsonAsync()).GetProperty("created").GetInt32();
        if (created != 200) throw new InvalidOperationException($"The seed import created {created} partners, not 200.");
    }

    var tables = api.Services.GetRequiredService<PrmTables>();
    await SettleAsync(tables);

    Console.WriteLine("Raw Azurite point read baseline...");
    var raw = new TableClient(azurite.ConnectionString, tables.Partners.Name);
    Task<IReadOnlyList<Sample>> RawAsync() => RunAsync(Scale(50), Scale(500), async _ =>
    {
        var found = await raw.GetEntityIfExistsAsync<TableEntity>(partnerId, "profile");
        return found.HasValue ? 1 : throw new InvalidOperationException("The partner profile row was not found.");
    });
    var rawResult = new Result("raw point read", await RawAsync());
    // Not a target baseline: the floor under a list page is one 50-row partition query, not a point read.
    var rawIndex = new TableClient(azurite.ConnectionString, tables.PartnerIndex.Name);
    var cmPartition = "cm:" + Prm.DevHost.DemoSeed.StaffId(Demo.CmEmea);
    var rawQuery = new Result("raw page query", await RunAsync(Scale(30), Scale(300), async _ =>
    {
        await foreach (var page in rawIndex.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {cmPartition}"), maxPerPage: 50).AsPages())
        {
            return page.Values.Count == 50 ? 1 : throw new InvalidOperationException($"The channel manager's index page holds {page.Values.Count} rows, not 50.");
        }
        throw new InvalidOperationException("The index query returned no page.");
    }));

    string? etag = null;
    // Writes leave background work (outbox delivery, workflow starts): every operation starts on a drained outbox.
    var submitted = new System.Collections.Concurrent.ConcurrentQueue<string>();
    Console.WriteLine("Preparing MDF: a budget and approved requests with a verified proof each...");
    var mdfBody = new
    {
        activityType = "webinar", title = "Bench webinar", description = "Benchmark activity.", startDate = "2026-11-01", endDate = "2026-11-02",
        requestedAmount = new { amount = 100m, currency = "EUR" }, partnerContributionPercent = 0, expectedLeads = 10,
    };
    using (var budget = new HttpRequestMessage(HttpMethod.Post, "mdf/budgets") { Content = Responses.Json(new { partnerId, period = "2026", amount = new { amount = 100_000_000m, currency = "EUR" } }) })
    {
        (await CallAsync(admin, budget)).Response.Dispose();
    }
    var readyClaims = new System.Collections.Concurrent.ConcurrentQueue<string>();
    var pdf = Encoding.ASCII.GetBytes("%PDF-1.7\n%%EOF\n");
    using (var blobs = new HttpClient())
    {
        for (var i = 0; i < Scale(100) + Scale(10); i++)
        {
            using var submit = new HttpRequestMessage(HttpMethod.Post, "mdf/requests") { Content = Responses.Json(mdfBody) };
            var requestId = (await (await CallAsync(rep, submit)).Response.JsonAsync()).GetProperty("id").GetString()!;
            await SendAsync(cm, HttpMethod.Post, $"mdf/requests/{requestId}/decision", new { decision = "approve", claimDeadline = "2030-01-31" });
            using var create = new HttpRequestMessage(HttpMethod.Post, $"mdf/requests/{requestId}/claims") { Content = Responses.Json(new { claimedAmount = new { amount = 80m, currency = "EUR" }, actualLeads = 5 }) };
            var claimId = (await (await CallAsync(rep, create)).Response.JsonAsync()).GetProperty("id").GetString()!;
            using var slot = new HttpRequestMessage(HttpMethod.Post, $"mdf/claims/{claimId}/proofs") { Content = Responses.Json(new { fileName = "invoice.pdf" }) };
            var upload = await (await CallAsync(rep, slot)).Response.JsonAsync();
            using var put = new HttpRequestMessage(HttpMethod.Put, upload.GetProperty("uploadUrl").GetString()) { Content = new ByteArrayContent(pdf) };
            put.Headers.Add("x-ms-blob-type", "BlockBlob");
            (await blobs.SendAsync(put)).EnsureSuccessStatusCode();
            using var complete = new HttpRequestMessage(HttpMethod.Post, $"mdf/claims/{claimId}/proofs/{upload.GetProperty("proofId").GetString()}/complete");
            (await CallAsync(rep, complete)).Response.Dispose();
            readyClaims.Enqueue(claimId);
        }
    }

    var pendingRequests = new System.Collections.Concurrent.ConcurrentQueue<string>();
    var dealsToReview = new System.Collections.Concurrent.ConcurrentQueue<string>();
    var dealIds = new System.Collections.Concurrent.ConcurrentQueue<string>();
    object Deal(string id, decimal amount) => new
    {
        customer = new { companyName = "Bench Customer " + id, domain = id + ".example", country = "DE", contactName = "Chris Buyer", contactEmail = $"chris@{id}.example" },
        products = new[] { "cloud-backup" }, estimatedValue = new { amount, currency = "EUR" }, expectedCloseDate = DateTime.UtcNow.AddDays(60).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
    };
    async Task<int> RegisterAsync(decimal amount, System.Collections.Concurrent.ConcurrentQueue<string> ids)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "deals") { Content = Responses.Json(Deal(Unique(), amount)) };
        var (calls, response) = await CallAsync(rep, request);
        using (response) ids.Enqueue((await response.JsonAsync()).GetProperty("id").GetString()!);
        return calls;
    }

    var operations = new List<(string Name, int N, Func<Task<int>> Run)>
    {
        ("POST /api/deals (sales rep, auto-approved)", 100, () => RegisterAsync(20_000m, dealIds)),
        ("POST /api/deals (sales rep, above the auto-approval limit: review)", 100, () => RegisterAsync(80_000m, dealsToReview)),
        ("POST /api/deals/{id}/decision (channel manager approves)", 100, () =>
            dealsToReview.TryDequeue(out var dealId)
                ? SendAsync(cm, HttpMethod.Post, $"deals/{dealId}/decision", new { decision = "approve" })
                : throw new InvalidOperationException("No deal under review left to decide.")),
        ("GET /api/deals/{id} (channel manager)", 300, () => GetAsync(cm, $"deals/{(dealIds.TryPeek(out var dealId) ? dealId : throw new InvalidOperationException("No deal registered."))}")),
        ("POST /api/mdf/requests (partner user requests funds)", 100, async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "mdf/requests") { Content = Responses.Json(mdfBody) };
            var (calls, response) = await CallAsync(rep, request);
            using (response) pendingRequests.Enqueue((await response.JsonAsync()).GetProperty("id").GetString()!);
            return calls;
        }),
        ("POST /api/mdf/requests/{id}/decision (channel manager approves)", 100, () =>
            pendingRequests.TryDequeue(out var requestId)
                ? SendAsync(cm, HttpMethod.Post, $"mdf/requests/{requestId}/decision", new { decision = "approve", claimDeadline = "2030-01-31" })
                : throw new InvalidOperationException("No submitted fund request left to decide.")),
        ("POST /api/mdf/claims/{id}/submit (partner user submits a claim)", 100, () =>
            readyClaims.TryDequeue(out var claimId)
                ? SendAsync(rep, HttpMethod.Post, $"mdf/claims/{claimId}/submit", new { claimedAmount = new { amount = 80m, currency = "EUR" }, actualLeads = 5 })
                : throw new InvalidOperationException("No prepared claim left to submit.")),
        ("GET /api/partners/{id} (partner admin, own)", 300, () => GetAsync(anna, $"partners/{partnerId}")),
        ("GET /api/partners/{id} (admin)", 300, () => GetAsync(admin, $"partners/{partnerId}")),
        ("GET /api/partners?limit=50 (channel manager)", 300, () => GetAsync(cm, "partners?limit=50")),
        ("GET /api/partners?scope=all&search=north (admin)", 300, () => GetAsync(admin, "partners?scope=all&search=north")),
        ("GET /api/me (sales rep)", 300, () => GetAsync(rep, "me")),
        ("PATCH /api/partners/{id} (partner admin, city)", 300, async () =>
        {
            if (etag is null)
            {
                using var read = await anna.GetAsync($"partners/{partnerId}");
                etag = ETagOf(read);
            }
            using var request = new HttpRequestMessage(HttpMethod.Patch, $"partners/{partnerId}") { Content = Responses.Json(new { city = "City " + Unique() }) };
            request.Headers.TryAddWithoutValidation("If-Match", etag);
            var (calls, response) = await CallAsync(anna, request);
            using (response) etag = ETagOf(response);
            return calls;
        }),
        ("POST /api/partners/{id}/users (partner admin invites)", 100, () => SendAsync(anna, HttpMethod.Post, $"partners/{partnerId}/users",
            new { email = $"bench.{Unique()}@northwind.example", displayName = "Bench User", role = "PartnerUser" })),
        ("POST /api/partners (admin creates)", 100, () =>
        {
            var id = Unique();
            return SendAsync(admin, HttpMethod.Post, "partners", new { name = "Created " + id, domain = id + ".example", country = "DE", region = "emea" });
        }),
        ("POST /api/partner-applications (anonymous applicant)", 100, async () =>
        {
            var id = Unique();
            using var request = new HttpRequestMessage(HttpMethod.Post, "partner-applications")
            {
                Content = Responses.Json(new
                {
                    company = new { legalName = "Applicant " + id, domain = $"app{id}.example", country = "DE", region = "emea", partnerType = "reseller" },
                    applicant = new { name = "Applicant " + id, email = $"ceo@app{id}.example" },
                    acceptedTermsVersion = "2026-01",
                    acceptedPrivacyVersion = "2026-01",
                }),
            };
            // One address per applicant: the per-IP limit (20 an hour) is for abuse, not for this run.
            request.Headers.Add("X-Forwarded-For", $"10.{Random.Shared.Next(256)}.{Random.Shared.Next(256)}.{Random.Shared.Next(256)}");
            var (calls, response) = await CallAsync(api.Anonymous, request);
            using (response) submitted.Enqueue((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("applicationId").GetString()!);
            return calls;
        }),
        ("POST /api/partner-applications/{id}/decision (admin approves)", 100, () =>
            submitted.TryDequeue(out var applicationId)
                ? SendAsync(admin, HttpMethod.Post, $"partner-applications/{applicationId}/decision", new { decision = "approve", tier = "silver" })
                : throw new InvalidOperationException("No submitted application left to decide.")),
        ("GET /api/health (anonymous)", 300, () => GetAsync(api.Anonymous, "health")),
    };

    var results = new List<Result>();
    foreach (var (name, n, run) in operations)
    {
        await SettleAsync(tables);
        Console.WriteLine($"Measuring {name}...");
        results.Add(new Result(name, await RunAsync(Scale(n / 10), Scale(n), _ => run())));
    }

    await SettleAsync(tables);
    Console.WriteLine("Raw Azurite point read again, at the end...");
    var rawAtEnd = new Result("raw point read at the end", await RawAsync());

    var report = Report(results, rawResult, rawAtEnd, rawQuery, quick, total.Elapsed);
    Console.WriteLine();
    Console.WriteLine(report);
    await File.WriteAllTextAsync(outPath, report);
    Console.WriteLine($"Written to {outPath}");
}
finally
{
    await api.DisposeAsync();
    var pid = azurite.ProcessId;
    await azurite.DisposeAsync();
    Console.WriteLine(pid is null
        ? "Azurite was not started by this run."
        : AzuriteRemains(azurite.TablePort)
            ? $"WARNING: an azurite.js process on table port {azurite.TablePort} still runs (PID {pid} was stopped)."
            : $"Host disposed; Azurite PID {pid} stopped, no azurite.js process on table port {azurite.TablePort} remains.");
    Console.WriteLine($"Total run time {total.Elapsed.TotalSeconds:0.0} s.");
}

// --explain: print every round trip of each write with its timing.
static bool Explain() => Environment.GetCommandLineArgs().Contains("--explain");

static string Unique() => "b" + Guid.NewGuid().ToString("N")[..12];

static async Task<(int Calls, HttpResponseMessage Response)> CallAsync(HttpClient client, HttpRequestMessage request)
{
    // The default completion option buffers the body, so the time includes reading the whole response.
    if (Explain()) request.Headers.Add(Prm.DevHost.LocalHost.StorageTraceHeader, "1");
    var response = await client.SendAsync(request);
    if (Explain() && request.Method != HttpMethod.Get && response.Headers.TryGetValues(Prm.DevHost.LocalHost.StorageTraceHeader, out var trace))
    {
        Console.WriteLine($"{request.Method} {request.RequestUri}:\n  " + string.Join("\n  ", trace.First().Split(" | ")));
    }
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"{request.Method} {request.RequestUri} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }
    var header = response.StorageCalls() ?? throw new InvalidOperationException($"{request.Method} {request.RequestUri} carried no storage calls header.");
    LastResponse.CriticalPath = response.Headers.TryGetValues(Prm.DevHost.LocalHost.StorageCriticalPathHeader, out var path) ? int.Parse(path.First(), CultureInfo.InvariantCulture) : 0;
    return (int.Parse(header, CultureInfo.InvariantCulture), response);
}

static async Task<int> GetAsync(HttpClient client, string path)
{
    using var request = new HttpRequestMessage(HttpMethod.Get, path);
    var (calls, response) = await CallAsync(client, request);
    response.Dispose();
    return calls;
}

static async Task<int> SendAsync(HttpClient client, HttpMethod method, string path, object body)
{
    using var request = new HttpRequestMessage(method, path) { Content = Responses.Json(body) };
    var (calls, response) = await CallAsync(client, request);
    response.Dispose();
    return calls;
}

static async Task<JsonElement> JsonAsync(HttpClient client, string path)
{
    using var request = new HttpRequestMessage(HttpMethod.Get, path);
    var (_, response) = await CallAsync(client, request);
    using (response) return await response.JsonAsync();
}

static string ETagOf(HttpResponseMessage response) =>
    response.Headers.NonValidated.TryGetValues("ETag", out var values) ? values.ToString() : throw new InvalidOperationException("The response carried no ETag.");

static bool AzuriteRemains(int tablePort)
{
    foreach (var dir in Directory.EnumerateDirectories("/proc"))
    {
        try
        {
            var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
            var port = Array.IndexOf(cmdline, "--tablePort");
            if (cmdline.Any(a => a.EndsWith("azurite.js", StringComparison.Ordinal)) && port >= 0 && port + 1 < cmdline.Length
                && cmdline[port + 1] == tablePort.ToString(CultureInfo.InvariantCulture)) return true;
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
    return false;
}

/// <summary>Waits until the outbox holds no undelivered message (at most 10 minutes: the 10,000-row import starts over 20,000 messages), then 2 s more for the work it started.</summary>
static async Task SettleAsync(PrmTables tables)
{
    var waited = Stopwatch.StartNew();
    while (waited.Elapsed < TimeSpan.FromMinutes(10))
    {
        var pending = false;
        await foreach (var _ in tables.OutboxPending.QueryAsync<TableEntity>(maxPerPage: 1, select: ["PartitionKey"]))
        {
            pending = true;
            break;
        }
        if (!pending) break;
        await Task.Delay(250);
    }
    Console.WriteLine($"Outbox drained after {waited.Elapsed.TotalSeconds:0.0} s; pausing 2 s.");
    await Task.Delay(2000);
}

static string Report(List<Result> results, Result raw, Result rawAtEnd, Result rawQuery, bool quick, TimeSpan elapsed)
{
    var baseline = raw.MedianMs;
    var md = new StringBuilder();
    md.AppendLine("# PrmFunctions API benchmark").AppendLine();
    md.AppendLine(CultureInfo.InvariantCulture, $"- Machine: {Environment.ProcessorCount} cores, {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture}");
#if DEBUG
    md.AppendLine("- Build: Debug (figures are not representative; run with -c Release)");
#else
    md.AppendLine("- Build: Release");
#endif
    md.AppendLine(CultureInfo.InvariantCulture, $"- Setup: in-process local host against in-memory Azurite, 200 partners seeded by CSV import, sequential requests over loopback, outbox drained before the baseline and before each operation{(quick ? ", --quick (N / 10)" : "")}");
    md.AppendLine(CultureInfo.InvariantCulture, $"- Raw Azurite point read baseline (TableClient.GetEntityIfExistsAsync, before the API runs): n={raw.N}, median {F(raw.MedianMs)} ms, p99 {F(raw.P99Ms)} ms");
    md.AppendLine(CultureInfo.InvariantCulture, $"- Same raw point read after the API runs (drift check, not used for ratios): median {F(rawAtEnd.MedianMs)} ms, p99 {F(rawAtEnd.P99Ms)} ms");
    md.AppendLine(CultureInfo.InvariantCulture, $"- For reference, raw 50-row page query of the channel manager's index partition: n={rawQuery.N}, median {F(rawQuery.MedianMs)} ms, p99 {F(rawQuery.P99Ms)} ms");
    md.AppendLine(CultureInfo.InvariantCulture, $"- Measured in {elapsed.TotalSeconds:0.0} s (start to report)").AppendLine();

    md.AppendLine("| operation | n | storage round trips (median / max) | critical path (median / max) | median ms | p99 ms | median / raw point read |");
    md.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
    foreach (var r in results)
    {
        md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Operation} | {r.N} | {F(r.MedianCalls, "0.#")} / {r.MaxCalls} | {F(r.MedianCriticalPath, "0.#")} / {r.MaxCriticalPath} | {F(r.MedianMs)} | {F(r.P99Ms)} | {F(r.MedianMs / baseline)}x |");
    }

    md.AppendLine().AppendLine("## Targets").AppendLine();
    void Target(string text, bool pass) => md.AppendLine(CultureInfo.InvariantCulture, $"- {(pass ? "PASS" : "FAIL")}: {text}");
    Result Op(string prefix) => results.First(r => r.Operation.StartsWith(prefix, StringComparison.Ordinal));
    var reads = new[] { Op("GET /api/partners/{id} (partner admin"), Op("GET /api/partners/{id} (admin") };
    var lists = new[] { Op("GET /api/partners?limit"), Op("GET /api/partners?scope") };
    foreach (var r in reads) Target($"partner read ≤ 2 round trips (1 + at most 1 membership; cached → 1) — {r.Operation}: median {F(r.MedianCalls, "0.#")}, max {r.MaxCalls}", r.MaxCalls <= 2);
    foreach (var r in lists) Target($"list page ≤ 2 round trips — {r.Operation}: median {F(r.MedianCalls, "0.#")}, max {r.MaxCalls}", r.MaxCalls <= 2);
    foreach (var r in reads.Concat(lists))
    {
        Target($"median ≤ 3x raw point read — {r.Operation}: {F(r.MedianMs)} ms = {F(r.MedianMs / baseline)}x of {F(baseline)} ms", r.MedianMs <= 3 * baseline);
    }
    // Issue #17: every write's critical path at most 5 round trips, and its median at most 15x a raw point read.
    foreach (var r in results.Where(r => !r.Operation.StartsWith("GET ", StringComparison.Ordinal)))
    {
        Target($"write critical path ≤ 5 — {r.Operation}: median {F(r.MedianCriticalPath, "0.#")}, max {r.MaxCriticalPath}", r.MaxCriticalPath <= 5);
        Target($"write median ≤ 15x raw point read — {r.Operation}: {F(r.MedianMs / baseline)}x", r.MedianMs <= 15 * baseline);
    }
    return md.ToString();
}
