using System.Collections.Concurrent;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Common;
using Prm.Core.Plans;
using Prm.Workflows.Plans;

namespace Prm.Workflows.Tests;

public sealed class PlanWorkflowTests
{
    /// <summary>Steps that record what ran and keep a list of deadlines ahead the way the real port computes it: a run step leaves the list.</summary>
    private sealed class RecordingSteps : IPlanSteps
    {
        public ConcurrentQueue<(PlanStepKind Kind, int Quarter, DateTimeOffset At)> Runs { get; } = new();

        public List<PlanDeadline> Ahead { get; set; } = [];

        public Func<PlanStepKind, int, StepOutcome> Answer { get; set; } = (_, _) => StepOutcome.Done;

        public Task<IReadOnlyList<PlanDeadline>?> DeadlinesAsync(string planId, CancellationToken ct)
        {
            lock (Ahead) return Task.FromResult<IReadOnlyList<PlanDeadline>?>(Ahead.ToList());
        }

        public Task<StepOutcome> RunStepAsync(string planId, PlanStepKind kind, int quarter, CancellationToken ct)
        {
            Runs.Enqueue((kind, quarter, DateTimeOffset.UtcNow));
            lock (Ahead) Ahead.RemoveAll(d => d.Kind == kind && d.Quarter == quarter);
            return Task.FromResult(Answer(kind, quarter));
        }
    }

    private static Task<DurableTaskTestHost> StartAsync(RecordingSteps steps) =>
        Orchestrations.StartHostAsync(new DurableTaskTestHostOptions { ConfigureServices = s => s.AddSingleton<IPlanSteps>(steps) });

    [Fact]
    public async Task A_due_review_runs_at_once_the_reminder_at_its_time_then_the_close()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var reminder = now.AddSeconds(3);
        steps.Ahead = [new(now.AddDays(-1), PlanStepKind.ReviewDue, 4), new(reminder, PlanStepKind.ReviewReminder, 4), new(reminder.AddSeconds(1), PlanStepKind.Close, 0)];
        var id = PlanWorkflow.InstanceId("jbp_1");
        await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(PlanReviewOrchestrator), new PlanWorkflow("jbp_1", steps.Ahead.ToList()), new StartOrchestrationOptions(id));
        var done = await Orchestrations.CompletionAsync(host.Client, id);
        done.ReadOutputAs<string>().Should().Be("done");
        steps.Runs.Select(r => (r.Kind, r.Quarter)).Should().Equal((PlanStepKind.ReviewDue, 4), (PlanStepKind.ReviewReminder, 4), (PlanStepKind.Close, 0));
        steps.Runs.ElementAt(1).At.Should().BeOnOrAfter(reminder.AddMilliseconds(-50), "the reminder waits for its time");
    }

    [Fact]
    public async Task A_review_recorded_meanwhile_drops_its_reminder()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        steps.Ahead = [new(now, PlanStepKind.ReviewDue, 1), new(now.AddSeconds(2), PlanStepKind.ReviewReminder, 1), new(now.AddSeconds(3), PlanStepKind.Close, 0)];
        // The review is recorded as the agenda goes out: the deadlines read after the step no longer hold the reminder.
        steps.Answer = (kind, _) =>
        {
            if (kind == PlanStepKind.ReviewDue) lock (steps.Ahead) steps.Ahead.RemoveAll(d => d.Kind == PlanStepKind.ReviewReminder);
            return StepOutcome.Done;
        };
        var id = PlanWorkflow.InstanceId("jbp_2");
        await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(PlanReviewOrchestrator), new PlanWorkflow("jbp_2", steps.Ahead.ToList()), new StartOrchestrationOptions(id));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("done");
        steps.Runs.Select(r => r.Kind).Should().Equal(PlanStepKind.ReviewDue, PlanStepKind.Close);
    }

    [Fact]
    public async Task A_plan_closed_early_ends_the_workflow_at_its_next_step()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        steps.Ahead = [new(now, PlanStepKind.ReviewDue, 2), new(now.AddSeconds(1), PlanStepKind.ReviewDue, 3)];
        steps.Answer = (_, q) => q == 2 ? StepOutcome.Closed : StepOutcome.Done;
        var id = PlanWorkflow.InstanceId("jbp_3");
        await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(PlanReviewOrchestrator), new PlanWorkflow("jbp_3", steps.Ahead.ToList()), new StartOrchestrationOptions(id));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be(DeadlineRace.Closed);
        steps.Runs.Should().ContainSingle();
    }
}
