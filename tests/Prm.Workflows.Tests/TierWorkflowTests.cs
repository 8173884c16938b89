using System.Collections.Concurrent;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Common;
using Prm.Core.Tiers;
using Prm.Workflows.Tiers;

namespace Prm.Workflows.Tests;

public sealed class TierWorkflowTests
{
    private sealed class RecordingSteps : IDowngradeSteps, INightlyEvaluation
    {
        public ConcurrentQueue<(DowngradeStepKind Kind, int DaysBefore)> Steps { get; } = new();

        /// <summary>The outcome of a step of this kind and days before (Done unless set).</summary>
        public Func<DowngradeStepKind, int, StepOutcome> Outcome { get; set; } = (_, _) => StepOutcome.Done;

        public List<string> Partners { get; } = [];
        public ConcurrentQueue<IReadOnlyList<string>> Batches { get; } = new();

        public Task<DowngradeWorkflowState?> StateAsync(string partnerId, string downgradeId, CancellationToken ct) => Task.FromResult<DowngradeWorkflowState?>(null);

        public Task<StepOutcome> RunStepAsync(string partnerId, string downgradeId, DowngradeStepKind kind, int daysBefore, CancellationToken ct)
        {
            Steps.Enqueue((kind, daysBefore));
            return Task.FromResult(Outcome(kind, daysBefore));
        }

        public Task<Page<string>> PartnerPageAsync(string? cursor, int size, CancellationToken ct)
        {
            var from = cursor is null ? 0 : int.Parse(cursor, System.Globalization.CultureInfo.InvariantCulture);
            var items = Partners.Skip(from).Take(size).ToList();
            return Task.FromResult(new Page<string>(items, from + size < Partners.Count ? (from + size).ToString(System.Globalization.CultureInfo.InvariantCulture) : null));
        }

        public Task<NightlyBatchResult> EvaluateBatchAsync(IReadOnlyList<string> partnerIds, CancellationToken ct)
        {
            Batches.Enqueue(partnerIds);
            return Task.FromResult(new NightlyBatchResult(partnerIds.Count, partnerIds.Count(p => p.EndsWith('7')), 0));
        }
    }

    private static Task<DurableTaskTestHost> StartAsync(RecordingSteps steps) =>
        Orchestrations.StartHostAsync(new DurableTaskTestHostOptions
        {
            ConfigureServices = s => s.AddSingleton<IDowngradeSteps>(steps).AddSingleton<INightlyEvaluation>(steps),
        });

    /// <summary>A downgrade <paramref name="effective"/> seconds from now with warnings at the given seconds before it (days 60 and 30).</summary>
    private static TierDowngradeWorkflow Downgrade(string id, double effective, double warn60, double warn30)
    {
        var at = DateTimeOffset.UtcNow.AddSeconds(effective);
        return new TierDowngradeWorkflow("ptn_1", id, at, [new DowngradeWarning(at.AddSeconds(-warn60), 60), new DowngradeWarning(at.AddSeconds(-warn30), 30)]);
    }

    [Fact]
    public async Task A_downgrade_warns_sixty_and_thirty_days_before_and_then_happens()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var input = Downgrade("tdg_1", 12, 9, 3);
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(TierDowngradeOrchestrator), input, new Microsoft.DurableTask.StartOrchestrationOptions(TierDowngradeWorkflow.InstanceId("tdg_1")));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("downgraded");
        steps.Steps.Should().Equal((DowngradeStepKind.Warn, 60), (DowngradeStepKind.Warn, 30), (DowngradeStepKind.Apply, 0));
    }

    [Fact]
    public async Task A_partner_that_qualifies_again_has_the_downgrade_cancelled_at_the_next_step()
    {
        var steps = new RecordingSteps { Outcome = (kind, days) => days == 30 ? StepOutcome.Closed : StepOutcome.Done };
        await using var host = await StartAsync(steps);
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(TierDowngradeOrchestrator), Downgrade("tdg_2", 12, 9, 3));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be(DeadlineRace.Closed);
        steps.Steps.Should().Equal((DowngradeStepKind.Warn, 60), (DowngradeStepKind.Warn, 30));
    }

    [Fact]
    public async Task A_cancellation_event_ends_the_workflow_before_any_step()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(TierDowngradeOrchestrator), Downgrade("tdg_3", 60, 40, 20));
        await Orchestrations.RunningAsync(host.Client, id);
        await host.Client.RaiseEventAsync(id, TierDowngradeWorkflow.CancelledEvent, "cancelled");
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("cancelled");
        steps.Steps.Should().BeEmpty();
    }

    [Fact]
    public async Task A_warning_whose_time_passed_goes_out_once_at_the_start()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        // A grace shorter than the first warning: the 60-day warning is due at once, the 30-day one later.
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(TierDowngradeOrchestrator), Downgrade("tdg_4", 2, 10, 1));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("downgraded");
        steps.Steps.Should().Equal((DowngradeStepKind.Warn, 60), (DowngradeStepKind.Warn, 30), (DowngradeStepKind.Apply, 0));
    }

    [Fact]
    public async Task A_workflow_that_starts_after_both_warnings_were_due_sends_only_the_later_one()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        // Both warnings passed before the workflow starts (a late start): the 30-day one goes out, once; the 60-day one is not sent late.
        // However late the start, the steps are these: the downgrade's date only adds the apply after the warning.
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(TierDowngradeOrchestrator), Downgrade("tdg_5", 2, 10, 5));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("downgraded");
        steps.Steps.Should().Equal((DowngradeStepKind.Warn, 30), (DowngradeStepKind.Apply, 0));
    }

    [Fact]
    public async Task The_nightly_evaluation_fans_out_over_every_partner_in_batches()
    {
        var steps = new RecordingSteps();
        steps.Partners.AddRange(Enumerable.Range(1, 250).Select(i => $"ptn_{i:D4}"));
        await using var host = await StartAsync(steps);
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(TierNightlyOrchestrator), new TierNightly(BatchSize: 100, Parallel: 2));
        var summary = (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<TierNightlySummary>()!;
        summary.Should().Be(new TierNightlySummary(250, 250, 25, 0, 3));
        steps.Batches.Select(b => b.Count).Order().Should().Equal(50, 100, 100);
        steps.Batches.SelectMany(b => b).Should().BeEquivalentTo(steps.Partners, "every partner once");
    }
}
