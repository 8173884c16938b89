using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Prm.Storage;
using Prm.Testing;
using Prm.Workflows.Deals;
using static Prm.Benchmarks.Measure;

namespace Prm.Benchmarks;

/// <summary>
/// Trigger parity (--triggers): (a) a channel manager's API approval of a deal under review until its orchestration shows the
/// Protection phase — the path through the outbox queue and the OutboxDeliver function — next to a workflow started directly with a
/// client in the same run; (b) storage transactions of an idle app: the app's own (StorageCalls) and every Azure SDK request in the
/// process (Azure-Core event source), whose difference is the Durable backend's own polling.
/// </summary>
public static class TriggerBenchmark
{
    public static async Task<string> RunAsync(ApiHost api, bool quick, Func<PrmTables, Task> settle)
    {
        var runs = quick ? 5 : 30;
        var idleSeconds = quick ? 20 : 60;
        var client = api.Services.GetRequiredService<DurableTaskClient>();
        var tables = api.Services.GetRequiredService<PrmTables>();
        var sam = await api.ClientAsync(Demo.NorthwindRep);
        var cm = await api.ClientAsync(Demo.CmEmea);

        Console.WriteLine($"Decision to workflow effect, {runs} runs (+2 warm-up)...");
        var decision = new List<double>();
        var apiCall = new List<double>();
        // Where the time goes: the in-process delivery of deal.approved (its span, from the app's own trace source) splits the path into
        // answer → delivery start, the delivery (projections, the workflow's event raised), and delivery end → the workflow's new phase.
        var untilDelivery = new List<double>();
        var delivery = new List<double>();
        var afterDelivery = new List<double>();
        var spans = new System.Collections.Concurrent.ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Prm.Core.Common.PrmTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity => { if (activity.DisplayName == "outbox.deliver deal.approved") spans.Enqueue(activity); },
        };
        ActivitySource.AddActivityListener(listener);
        for (var i = -2; i < runs; i++)
        {
            var register = await sam.PostAsync("deals", Responses.Json(new
            {
                customer = new { companyName = $"Trigger Bench {Guid.NewGuid():N}"[..28], domain = $"{Guid.NewGuid():N}"[..16] + ".example", country = "DE" },
                products = new[] { "cloud-backup" },
                estimatedValue = new { amount = 60_000m, currency = "EUR" },
                expectedCloseDate = DateTime.UtcNow.AddDays(60).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            }));
            var deal = await register.JsonAsync();
            if (!register.IsSuccessStatusCode || deal.GetProperty("status").GetString() != "UnderReview")
                throw new InvalidOperationException($"Registration answered {(int)register.StatusCode}: {deal}");
            var dealId = deal.GetProperty("id").GetString()!;
            var instanceId = DealWorkflow.InstanceId(dealId);
            await PhaseAsync(client, instanceId, DealPhase.Review, TimeSpan.FromSeconds(60));
            await settle(tables);

            spans.Clear();
            var startedUtc = DateTime.UtcNow;
            var start = Stopwatch.GetTimestamp();
            var response = await cm.PostAsJsonAsync($"deals/{dealId}/decision", new { decision = "approve" });
            var answered = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"Decision answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            await PhaseAsync(client, instanceId, DealPhase.Protection, TimeSpan.FromSeconds(60));
            var effect = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (i >= 0)
            {
                decision.Add(effect);
                apiCall.Add(answered);
                if (spans.TryPeek(out var span))
                {
                    var began = (span.StartTimeUtc - startedUtc).TotalMilliseconds;
                    untilDelivery.Add(began - answered);
                    delivery.Add(span.Duration.TotalMilliseconds);
                    afterDelivery.Add(effect - began - span.Duration.TotalMilliseconds);
                }
            }
        }

        Console.WriteLine($"Floor: workflows started directly with the client, {runs} runs...");
        var floor = new List<double>();
        for (var i = -2; i < runs; i++)
        {
            var instanceId = "bench-floor-" + Guid.NewGuid().ToString("N");
            var input = new DealWorkflow("deal_bench" + Guid.NewGuid().ToString("N"), DealPhase.Protection, DateTimeOffset.UtcNow.AddDays(365), null, null,
                TimeSpan.FromDays(14), TimeSpan.FromDays(3));
            var start = Stopwatch.GetTimestamp();
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(DealOrchestrator), input, new StartOrchestrationOptions(instanceId));
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while ((await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false))?.RuntimeStatus is null or OrchestrationRuntimeStatus.Pending)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"{instanceId} did not start.");
                await Task.Delay(5);
            }
            if (i >= 0) floor.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            await client.TerminateInstanceAsync(instanceId);
        }

        // The backend's floor as #17 defines it: an orchestration that calls one no-op activity, from scheduling until it completed
        // (two episodes and an activity: the shape of the decision's own path, which reads the deal's state in an activity).
        Console.WriteLine($"Floor: an orchestration calling one no-op activity, {runs} runs...");
        var activityFloor = new List<double>();
        for (var i = -2; i < runs; i++)
        {
            var instanceId = "bench-noop-" + Guid.NewGuid().ToString("N");
            var start = Stopwatch.GetTimestamp();
            await client.ScheduleNewOrchestrationInstanceAsync(FloorOrchestrator, new StartOrchestrationOptions(instanceId));
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while ((await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false))?.RuntimeStatus is not OrchestrationRuntimeStatus.Completed)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"{instanceId} did not complete.");
                await Task.Delay(5);
            }
            if (i >= 0) activityFloor.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        Console.WriteLine($"Idle for {idleSeconds} s (after 15 s to settle)...");
        await settle(tables);
        await Task.Delay(TimeSpan.FromSeconds(15));
        using var sdk = new AzureSdkRequests();
        var appBefore = StorageCalls.Total;
        var sdkBefore = sdk.Count;
        await Task.Delay(TimeSpan.FromSeconds(idleSeconds));
        var app = StorageCalls.Total - appBefore;
        var all = sdk.Count - sdkBefore;
        double PerHour(long n) => n * 3600.0 / idleSeconds;

        var md = new StringBuilder();
        md.AppendLine().AppendLine("## Triggers: decision to workflow effect, idle storage transactions").AppendLine();
        md.AppendLine("| measure | n | median ms | p99 ms |").AppendLine("|---|---:|---:|---:|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| API approval (POST /api/deals/{{id}}/decision, cm.emea, 60,000 EUR deal by sam) until deal-{{id}} shows the Protection phase | {decision.Count} | {F(Percentile(decision, 50))} | {F(Percentile(decision, 99))} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| of which the API call itself | {apiCall.Count} | {F(Percentile(apiCall, 50))} | {F(Percentile(apiCall, 99))} |");
        if (delivery.Count > 0)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| of which the answer until the in-process delivery of deal.approved starts | {untilDelivery.Count} | {F(Percentile(untilDelivery, 50))} | {F(Percentile(untilDelivery, 99))} |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| of which that delivery (its projections; the workflow's event raised) | {delivery.Count} | {F(Percentile(delivery, 50))} | {F(Percentile(delivery, 99))} |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| of which the delivery's end until the workflow shows Protection | {afterDelivery.Count} | {F(Percentile(afterDelivery, 50))} | {F(Percentile(afterDelivery, 99))} |");
        }
        md.AppendLine(CultureInfo.InvariantCulture, $"| floor: DealOrchestrator started directly with the client until it runs | {floor.Count} | {F(Percentile(floor, 50))} | {F(Percentile(floor, 99))} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| floor (#17): an orchestration calling one no-op activity, scheduled until completed | {activityFloor.Count} | {F(Percentile(activityFloor, 50))} | {F(Percentile(activityFloor, 99))} |");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Decision to effect, median: {Percentile(decision, 50) / Percentile(activityFloor, 50):0.00}x the one-activity floor (#17's target: at most 2x); {Percentile(decision, 50) / Percentile(floor, 50):0.00}x the started-until-running floor.");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Idle, no traffic, {idleSeconds} s: the app's own storage calls {app} (≈ {PerHour(app):0} per hour); every Azure SDK request of the process {all} (≈ {PerHour(all):0} per hour), so the Durable backend's own polling ≈ {PerHour(all - app):0} per hour.");
        return md.ToString();
    }

    private const string FloorOrchestrator = nameof(BenchmarkFloorOrchestrator);

    /// <summary>Registers the floor's orchestration and no-op activity with the local host's Durable worker (its registry, default name).</summary>
    public static void RegisterFloor(Microsoft.AspNetCore.Builder.WebApplicationBuilder builder) =>
        builder.Services.Configure<DurableTaskRegistry>(Microsoft.Extensions.Options.Options.DefaultName, registry =>
        {
            registry.AddOrchestrator<BenchmarkFloorOrchestrator>();
            registry.AddActivity<BenchmarkNoOpActivity>();
        });

    /// <summary>The floor: one no-op activity, then done.</summary>
    public sealed class BenchmarkFloorOrchestrator : TaskOrchestrator<object?, object?>
    {
        public override async Task<object?> RunAsync(TaskOrchestrationContext context, object? input)
        {
            await context.CallActivityAsync<object?>(nameof(BenchmarkNoOpActivity));
            return null;
        }
    }

    /// <summary>Does nothing: the floor measures the backend's dispatch, not work.</summary>
    public sealed class BenchmarkNoOpActivity : TaskActivity<object?, object?>
    {
        public override Task<object?> RunAsync(TaskActivityContext context, object? input) => Task.FromResult<object?>(null);
    }

    private static async Task PhaseAsync(DurableTaskClient client, string instanceId, DealPhase phase, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var instance = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true);
            if (instance is { RuntimeStatus: OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Pending } && instance.ReadInputAs<DealWorkflow>()?.Phase == phase) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{instanceId} did not reach {phase} (status {instance?.RuntimeStatus}).");
            await Task.Delay(5);
        }
    }

    /// <summary>Counts every HTTP request the Azure SDK sends in this process (the app's clients and the Durable backend's alike).</summary>
    private sealed class AzureSdkRequests : EventListener
    {
        private long count;

        public long Count => Interlocked.Read(ref count);

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Azure-Core") EnableEvents(source, EventLevel.Informational);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName == "Request") Interlocked.Increment(ref count);
        }
    }
}
