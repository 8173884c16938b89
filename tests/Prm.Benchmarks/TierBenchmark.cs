using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Core.Tiers;
using Prm.Storage;
using Prm.Testing;
using Prm.Workflows.Tiers;

namespace Prm.Benchmarks;

/// <summary>
/// Tiers (#14): the nightly evaluation of N Active partners through the timer's workflow on the local Durable backend (wall time from
/// the start until the workflow completed, storage round trips per partner: the process's whole storage traffic in that interval divided
/// by N, so the tier writes, events and their outbox delivery are included), run three times — the first night writes every partner's
/// first evaluation (a third of them are upgraded), the second rewrites the upgraded third's (now checked against its new tier), the
/// third finds nothing new and writes nothing — then one event-driven re-evaluation
/// (the projection receiving deal.won) with an unchanged and with a changed outcome: round trips and median.
/// </summary>
public static class TierBenchmark
{
    public static async Task<string> RunAsync(ApiHost api, bool quick, int partners)
    {
        var md = new StringBuilder();
        var store = api.Services.GetRequiredService<IPartnerStore>();
        var tiers = api.Services.GetRequiredService<ITierStore>();
        var tables = api.Services.GetRequiredService<PrmTables>();
        var client = api.Services.GetRequiredService<DurableTaskClient>();
        var month = TierRules.Month(DateTime.UtcNow);
        var now = DateTimeOffset.UtcNow;

        Console.WriteLine($"Seeding {partners} Active partners with deal counters and certification counters...");
        var setup = Stopwatch.StartNew();
        var ids = new string[partners];
        await Parallel.ForEachAsync(Enumerable.Range(0, partners), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            var id = Ids.New("ptn");
            ids[i] = id;
            var partner = new Partner
            {
                Id = id,
                Name = $"Tier Bench {i:D5}",
                Domain = $"tierbench{i}-{id[4..12]}.example",
                Status = PartnerStatus.Active,
                Tier = PartnerTier.Registered,
                Type = PartnerType.Reseller,
                Country = "DE",
                Region = "emea",
                CreatedAt = now,
                UpdatedAt = now,
            };
            await store.CreateAsync(partner, [], new ChangeSet([], []), ct);
            var qualifies = i % 3 == 0;
            await tables.Deals.UpsertEntityAsync(new TableEntity(id, "stats")
            {
                ["Approved"] = 3,
                ["Won"] = 2,
                ["WonValue"] = JsonSerializer.Serialize(new Dictionary<string, decimal> { ["EUR"] = qualifies ? 60_000m : 10_000m }),
                ["WonByMonth"] = JsonSerializer.Serialize(new Dictionary<string, Dictionary<string, decimal>> { [month] = new() { ["EUR"] = qualifies ? 60_000m : 10_000m } }),
                ["ApprovedByMonth"] = JsonSerializer.Serialize(new Dictionary<string, int> { [month] = 3 }),
            }, TableUpdateMode.Replace, ct);
            var certs = new CertificationFacts();
            certs.Awards["crt_" + id] = new HeldAward("crt_" + id, "usr_" + id[4..], "sales", "associate", now.AddYears(1));
            await tiers.SaveCertificationsAsync(id, certs, null, ct);
        });
        setup.Stop();
        Console.WriteLine($"  seeded in {setup.Elapsed.TotalSeconds:0.0} s");

        md.AppendLine().AppendLine("## Nightly evaluation (timer workflow, local Durable backend on Azurite)").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"{partners} Active partners (plus the 2 demo partners) seeded directly in {setup.Elapsed.TotalSeconds:0} s: each with a deal counters row (won value and approved registrations in this month's buckets) and a certification counters row; a third meet silver. Batches of 100, 8 partners side by side in a batch, 4 batches in flight.").AppendLine();
        md.AppendLine("| night | partners evaluated | changed (upgraded) | failed | batches | wall s (workflow) | partners/s | s more until the outbox is drained | storage round trips per partner (evaluation + outbox delivery) |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var night in new[] { "first (every evaluation new: one write each)", "second (only the upgraded third's evaluation changes: it names its new tier)", "third (nothing new: reads only)" })
        {
            var calls = StorageCalls.Total;
            var watch = Stopwatch.StartNew();
            var id = await client.ScheduleNewOrchestrationInstanceAsync(nameof(TierNightlyOrchestrator), new TierNightly());
            OrchestrationMetadata? done;
            while (true)
            {
                done = await client.GetInstanceAsync(id, getInputsAndOutputs: true);
                if (done is { IsCompleted: true }) break;
                if (watch.Elapsed > TimeSpan.FromMinutes(quick ? 10 : 60)) throw new TimeoutException("The nightly evaluation did not finish in time.");
                await Task.Delay(200);
            }
            watch.Stop();
            if (done.RuntimeStatus != OrchestrationRuntimeStatus.Completed) throw new InvalidOperationException($"The nightly evaluation ended {done.RuntimeStatus}: {done.FailureDetails?.ErrorMessage}");
            // The outbox delivers what the evaluations committed (events, the partner index, emails): its round trips count for the night.
            var drained = await DrainedAsync(tables, TimeSpan.FromMinutes(quick ? 10 : 30));
            var summary = done.ReadOutputAs<TierNightlySummary>()!;
            var perPartner = (StorageCalls.Total - calls) / (double)summary.Partners;
            Console.WriteLine($"  {night}: {summary} in {watch.Elapsed.TotalSeconds:0.0} s, outbox drained {drained.TotalSeconds:0.0} s later, {perPartner:0.0} round trips per partner");
            md.AppendLine(CultureInfo.InvariantCulture, $"| {night} | {summary.Evaluated} | {summary.Changed} | {summary.Failed} | {summary.Batches} | {watch.Elapsed.TotalSeconds:0.0} | {summary.Evaluated / watch.Elapsed.TotalSeconds:0} | {drained.TotalSeconds:0.0} | {perPartner:0.0} |");
        }

        // One event-driven re-evaluation: the projection receives deal.won for a partner (as the outbox delivers it).
        var projection = api.Services.GetServices<IOutboxProjection>().OfType<TierProjection>().Single();
        var n = quick ? 20 : 100;
        md.AppendLine().AppendLine("## One event-driven re-evaluation (TierProjection on deal.won)").AppendLine();
        md.AppendLine("| outcome | n | median ms | p99 ms | storage round trips (median / max) |");
        md.AppendLine("|---|---:|---:|---:|---:|");
        foreach (var changed in new[] { false, true })
        {
            var i = 0;
            var samples = await Measure.RunAsync(2, n, async _ =>
            {
                var partnerId = ids[1 + 3 * (i++ % Math.Max(1, partners / 3 - 1))];
                if (changed)
                {
                    // Another won deal in this month's bucket (outside the measurement): the evaluation's outcome changes and is written.
                    await tables.Deals.UpsertEntityAsync(new TableEntity(partnerId, "stats")
                    {
                        ["WonByMonth"] = JsonSerializer.Serialize(new Dictionary<string, Dictionary<string, decimal>> { [month] = new() { ["EUR"] = 10_000m + i } }),
                        ["ApprovedByMonth"] = JsonSerializer.Serialize(new Dictionary<string, int> { [month] = 3 }),
                    }, TableUpdateMode.Merge);
                }
                var e = IntegrationEvent.Create(Ids.New("evt"), DealEvents.Won, DateTimeOffset.UtcNow, "deals/x", partnerId, null, new { });
                var scope = StorageCalls.BeginScope();
                await projection.ApplyAsync(e, CancellationToken.None);
                return scope.Value;
            });
            var result = new Result(changed ? "changed (record written with its events)" : "unchanged (reads only)", samples);
            md.AppendLine(CultureInfo.InvariantCulture, $"| {result.Operation} | {result.N} | {Measure.F(result.MedianMs, "0.0")} | {Measure.F(result.P99Ms, "0.0")} | {result.MedianCalls:0} / {result.MaxCalls} |");
        }
        return md.ToString();
    }

    /// <summary>Waits until no outbox pointer is left (every committed message delivered); returns how long that took.</summary>
    private static async Task<TimeSpan> DrainedAsync(PrmTables tables, TimeSpan limit)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < limit)
        {
            var pending = false;
            await foreach (var _ in tables.OutboxPending.QueryAsync<TableEntity>(maxPerPage: 1, select: ["PartitionKey"]))
            {
                pending = true;
                break;
            }
            if (!pending) return waited.Elapsed;
            await Task.Delay(250);
        }
        throw new TimeoutException($"The outbox was not drained within {limit.TotalMinutes:0} minutes.");
    }
}
