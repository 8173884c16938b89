using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Prm.Storage.Outbox;
using Prm.Testing;

namespace Prm.Benchmarks;

/// <summary>
/// Commit-to-receipt latency of webhook deliveries: three subscriptions to <c>deal.*</c>, each a real Standard Webhooks receiver on
/// 127.0.0.1 (the only target: loopback, allowed in Development), deal registrations paced at a fixed rate (each commits deal.submitted and
/// deal.approved), latency = the receiver's arrival time − the CloudEvent's <c>time</c> (the commit), same machine clock. A second phase
/// repeats it with one receiver answering 503 to everything (its deliveries retry with backoff) to show the others keep their latency.
/// The outbox lag (age of the oldest pending message) is sampled every 250 ms during each phase. Bounded: N registrations per phase,
/// each phase waits at most 120 s for its deliveries.
/// </summary>
public static class WebhookBenchmark
{
    public static async Task<string> RunAsync(ApiHost api, bool quick, int? registrations = null)
    {
        var n = registrations ?? (quick ? 20 : 100);
        var slow = Math.Max(5, n / 3);
        var receivers = new List<WebhookReceiver>();
        for (var i = 0; i < 3; i++) receivers.Add(await WebhookReceiver.StartAsync());
        var admin = await api.ClientAsync(Demo.Admin);
        foreach (var receiver in receivers)
        {
            var created = await admin.PostAsJsonAsync("webhooks", new { url = receiver.Url, eventTypes = new[] { "deal.*" }, description = "benchmark receiver" });
            created.EnsureSuccessStatusCode();
            receiver.Secrets.Add((await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("secret").GetString()!);
        }
        var sam = await api.ClientAsync(Demo.NorthwindRep);
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"- Machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
        report.AppendLine("- Deal registrations of one partner (Northwind), auto-approved (one deal event each), paced; 3 subscriptions to deal.* on 127.0.0.1; latency = receipt − CloudEvent time (the commit); deliveries counted against the events published for those registrations");
        report.AppendLine();
        report.AppendLine("| phase | registrations | offered /s | receiver | deliveries | median ms | p95 ms | p99 ms | max ms | outbox lag max s |");
        report.AppendLine("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|");
        try
        {
            await PhaseAsync("all healthy, 5/s", api, sam, receivers, failing: null, n, 5, report);
            await PhaseAsync("all healthy, 1/s", api, sam, receivers, failing: null, slow, 1, report);
            receivers[2].Answer = _ => 503;
            await PhaseAsync("receiver 3 answers 503, 1/s", api, sam, receivers, failing: receivers[2], slow, 1, report);
        }
        finally
        {
            foreach (var receiver in receivers) await receiver.DisposeAsync();
        }
        return report.ToString();
    }

    private static async Task PhaseAsync(string phase, ApiHost api, HttpClient sam, List<WebhookReceiver> receivers, WebhookReceiver? failing, int n, double perSecond,
        StringBuilder report)
    {
        Console.WriteLine($"Phase: {phase}: {n} registrations at {perSecond}/s...");
        var operations = api.Services.GetRequiredService<OutboxOperations>();
        var subjects = new HashSet<string>(StringComparer.Ordinal);
        var maxLag = 0.0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    maxLag = Math.Max(maxLag, (await operations.LagAsync(stop.Token)).LagSeconds);
                    await Task.Delay(250, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });
        var interval = TimeSpan.FromSeconds(1 / perSecond);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            var due = interval * i;
            if (clock.Elapsed < due) await Task.Delay(due - clock.Elapsed);
            var domain = $"bench-wh-{Guid.NewGuid():N}"[..22] + ".example";
            var response = await sam.PostAsJsonAsync("deals", new
            {
                customer = new { companyName = $"Webhook Bench {i} GmbH", domain, country = "DE", contactName = "Chris Buyer", contactEmail = "chris@" + domain },
                products = new[] { "cloud-backup" },
                estimatedValue = new { amount = 20_000m, currency = "EUR" },
                expectedCloseDate = DateTime.UtcNow.AddDays(60).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            });
            response.EnsureSuccessStatusCode();
            subjects.Add("deals/" + (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetString());
        }
        // Expected: every deal event published for these registrations (the outbox drained first, so the sink has them all).
        var sink = api.Services.GetRequiredService<DevEventSink>();
        var deadline = Stopwatch.StartNew();
        var expected = 0;
        while (deadline.Elapsed < TimeSpan.FromSeconds(180))
        {
            var lag = await operations.LagAsync(CancellationToken.None);
            var published = (await sink.ListCloudEventsAsync(10_000, CancellationToken.None)).Count(e => subjects.Contains(e.GetProperty("subject").GetString()!));
            expected = published;
            if (lag.Pending == 0 && receivers.Where(r => r != failing).All(r => r.Verified.Count(v => subjects.Contains(v.Subject)) >= published)) break;
            await Task.Delay(500);
        }
        stop.Cancel();
        await sampler;
        for (var i = 0; i < receivers.Count; i++)
        {
            var receiver = receivers[i];
            var latencies = receiver.Verified.Where(v => subjects.Contains(v.Subject))
                .Select(v => (v.At - DateTimeOffset.Parse(v.CloudEvent.GetProperty("time").GetString()!, CultureInfo.InvariantCulture)).TotalMilliseconds).ToList();
            var name = $"{i + 1}{(receiver == failing ? " (503)" : "")}";
            var head = $"| {phase} | {n} | {perSecond:0.#} | {name}";
            if (latencies.Count == 0)
            {
                report.AppendLine(CultureInfo.InvariantCulture, $"{head} | 0 of {expected} ({(receiver == failing ? failing.Requests + " refused attempts so far" : "none")}) | – | – | – | – | {Measure.F(maxLag, "0.0")} |");
                continue;
            }
            report.AppendLine(CultureInfo.InvariantCulture,
                $"{head} | {latencies.Count} of {expected} | {Measure.F(Measure.Percentile(latencies, 50), "0")} | {Measure.F(Measure.Percentile(latencies, 95), "0")} | {Measure.F(Measure.Percentile(latencies, 99), "0")} | {Measure.F(latencies.Max(), "0")} | {Measure.F(maxLag, "0.0")} |");
        }
    }
}
