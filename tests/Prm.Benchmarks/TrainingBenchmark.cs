using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Partners;
using Prm.Core.Training;
using Prm.Storage;
using Prm.Testing;
using Prm.Workflows.Training;

namespace Prm.Benchmarks;

/// <summary>
/// Training (#13): an exam submit through the API (storage round trips reported by the host, median and p99 wall time), then N awards
/// expiring at the same instant on the local Durable backend: each has its workflow (a reminder, grace and expiry at the same instant,
/// as with graceDays 0), and the figure is the time from that instant until every workflow finished, with the storage round trips per
/// award (the process's whole storage traffic in that interval divided by N, so the outbox deliveries of the reminder and expiry
/// emails and events are included). The host runs with a certification day of one second (Training:DayLength).
/// </summary>
public static class TrainingBenchmark
{
    public static async Task<string> RunAsync(ApiHost api, bool quick, int awards)
    {
        var md = new StringBuilder();
        var admin = await api.ClientAsync(Demo.Admin);
        var anna = await api.ClientAsync(Demo.NorthwindAdmin);

        // 1. Exam submit: a course of 20 questions, 10 per attempt, 100 attempts allowed, no cooldown; every submit passes.
        var course = new
        {
            title = "Benchmark course", productLines = new[] { "cloud-backup" }, track = "sales",
            modules = new[] { new { title = "Intro", kind = "text", body = "Benchmark." } },
            exam = new
            {
                questions = Enumerable.Range(1, 20).Select(i => new { id = $"q{i}", text = $"Question {i}?", kind = "single", options = new[] { new { id = "a", text = "A" }, new { id = "b", text = "B" } }, correct = new[] { "a" }, points = 1 }),
                questionsPerAttempt = 10, maxAttempts = 100, cooldownHours = 0,
            },
            publish = true,
        };
        var created = await admin.PostAsync("courses", Responses.Json(course));
        created.EnsureSuccessStatusCode();
        var courseId = (await created.JsonAsync()).Str("id");
        var n = quick ? 10 : 50;
        Console.WriteLine($"Exam submit: {n} attempts...");
        var samples = await Measure.RunAsync(2, n, async _ =>
        {
            var attempt = await (await anna.PostAsync($"courses/{courseId}/attempts", null)).JsonAsync();
            var answers = attempt.GetProperty("questions").EnumerateArray().Select(q => new { questionId = q.Str("id"), selected = new[] { "a" } }).ToList();
            var response = await anna.PostAsync($"attempts/{attempt.Str("id")}/submit", Responses.Json(new { answers }));
            response.EnsureSuccessStatusCode();
            if (response.Headers.TryGetValues("x-prm-storage-critical-path", out var path)) LastResponse.CriticalPath = int.Parse(path.First(), CultureInfo.InvariantCulture);
            return int.Parse(response.StorageCalls()!, CultureInfo.InvariantCulture);
        });
        var submit = new Result("POST /api/attempts/{id}/submit (pass, 10 answers)", samples);
        md.AppendLine().AppendLine("## Exam submit").AppendLine();
        md.AppendLine("| operation | n | median ms | p99 ms | storage round trips (median / max) | critical path (median / max) |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| {submit.Operation} | {submit.N} | {Measure.F(submit.MedianMs, "0.0")} | {Measure.F(submit.P99Ms, "0.0")} | {submit.MedianCalls:0} / {submit.MaxCalls} | {submit.MedianCriticalPath:0} / {submit.MaxCriticalPath} |");

        // 2. N awards expiring at the same instant.
        var definition = await admin.PostAsync("certifications", Responses.Json(new { name = "Benchmark certification", track = "sales", level = "associate", requiredCourses = new[] { courseId }, validityMonths = 1, reminderDaysBefore = new[] { 5 }, graceDays = 0 }));
        definition.EnsureSuccessStatusCode();
        var definitionId = (await definition.JsonAsync()).Str("id");
        var store = api.Services.GetRequiredService<ITrainingStore>();
        var client = api.Services.GetRequiredService<DurableTaskClient>();
        var setup = Stopwatch.StartNew();
        // Writing N awards and scheduling N workflows takes about 10 ms each on this machine; the shared expiry lies beyond that.
        var expiry = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(20 + awards * 0.012);
        var ids = new string[awards];
        Console.WriteLine($"Writing {awards} awards expiring at {expiry:HH:mm:ss} and scheduling their workflows...");
        await Parallel.ForEachAsync(Enumerable.Range(0, awards), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            var userId = "usr_" + i.ToString("x32", CultureInfo.InvariantCulture);
            var award = new Award
            {
                Id = TrainingIds.NewAward(userId), Number = TrainingIds.Number(expiry), VerificationCode = TrainingIds.NewVerificationCode(), UserId = userId,
                PersonName = $"Person {i}", PersonEmail = $"person{i}@bench.example", DefinitionId = definitionId, CertificationName = "Benchmark certification",
                Track = CourseTrack.Sales, Level = CertificationLevel.Associate, EarnedAt = expiry.AddDays(-30), ExpiresAt = expiry, GraceEndsAt = expiry, BasedOn = [courseId + "@1"],
            };
            ids[i] = award.Id;
            await store.CommitPersonAsync(userId, new PersonCommit([], [], [(award, null)], [], new ChangeSet([], [])), ct);
            var state = new AwardWorkflowState("Active", expiry, expiry, [new AwardReminder(expiry.AddSeconds(-5), 5)]);
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(AwardOrchestrator), AwardWorkflow.For(award.Id, state), new StartOrchestrationOptions(AwardWorkflow.InstanceId(award.Id)), ct);
        });
        setup.Stop();
        var lateSetup = DateTimeOffset.UtcNow > expiry;
        var waitForExpiry = expiry - DateTimeOffset.UtcNow;
        if (waitForExpiry > TimeSpan.Zero) await Task.Delay(waitForExpiry); // the benchmark waits for the instant it measures from
        var callsAtExpiry = StorageCalls.Total;
        var watch = Stopwatch.StartNew();
        var finished = 0;
        var deadline = TimeSpan.FromMinutes(quick ? 10 : 60);
        while (watch.Elapsed < deadline)
        {
            finished = 0;
            var byStatus = new Dictionary<string, int>();
            foreach (var chunk in ids.Chunk(200))
            {
                var states = await Task.WhenAll(chunk.Select(id => client.GetInstanceAsync(AwardWorkflow.InstanceId(id), getInputsAndOutputs: true)));
                finished += states.Count(s => s is { RuntimeStatus: OrchestrationRuntimeStatus.Completed });
                foreach (var s in states) byStatus[s?.RuntimeStatus.ToString() ?? "missing"] = byStatus.GetValueOrDefault(s?.RuntimeStatus.ToString() ?? "missing") + 1;
                if (states.FirstOrDefault(s => s?.RuntimeStatus == OrchestrationRuntimeStatus.Failed) is { } failed) throw new InvalidOperationException($"Award workflow {failed.InstanceId} failed: {failed.FailureDetails?.ErrorMessage}");
            }
            if (finished == awards) break;
            Console.WriteLine($"  {finished}/{awards} processed after {watch.Elapsed.TotalSeconds:0} s ({string.Join(", ", byStatus.Select(kv => kv.Key + " " + kv.Value))})");
            await Task.Delay(TimeSpan.FromSeconds(2));
        }
        watch.Stop();
        var calls = StorageCalls.Total - callsAtExpiry;
        var expiredCount = 0;
        foreach (var chunk in ids.Chunk(64))
        {
            var awardsNow = await Task.WhenAll(chunk.Select(id => store.GetAwardAsync(id, CancellationToken.None)));
            expiredCount += awardsNow.Count(a => a?.Value.Status == AwardStatus.Expired);
        }
        md.AppendLine().AppendLine("## Awards expiring on the same day (local Durable backend)").AppendLine();
        md.AppendLine("| awards | setup s (write + schedule) | expired (status Expired) | workflows completed | seconds from the expiry until all processed | awards/s | storage round trips per award (from the expiry on) |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| {awards} | {setup.Elapsed.TotalSeconds:0.0}{(lateSetup ? " (overran the expiry)" : "")} | {expiredCount} | {finished} | {watch.Elapsed.TotalSeconds:0.0} | {awards / watch.Elapsed.TotalSeconds:0} | {calls / (double)awards:0.0} |");
        if (finished != awards || expiredCount != awards) md.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Not every award was processed within {deadline.TotalMinutes:0} minutes.");
        return md.ToString();
    }
}
