using System.Collections.Concurrent;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Incentives;
using Prm.Workflows.Incentives;

namespace Prm.Workflows.Tests;

public sealed class IncentiveCloseWorkflowTests
{
    private sealed class RecordingSteps : IIncentiveCloseSteps
    {
        public ConcurrentQueue<(string Period, DateTimeOffset At)> Closes { get; } = new();

        /// <summary>The answer of the n-th close step (1-based; closed unless set).</summary>
        public Func<int, CloseResult?> Answer { get; set; } = _ => null;

        public Task<DateTimeOffset?> CutoffAsync(string programId, string period, CancellationToken ct) => Task.FromResult<DateTimeOffset?>(null);

        public Task<CloseResult> CloseAsync(string programId, string period, CancellationToken ct)
        {
            Closes.Enqueue((period, DateTimeOffset.UtcNow));
            return Task.FromResult(Answer(Closes.Count) ?? new CloseResult(true, null, 3, 240_000m, 240_000m));
        }
    }

    private static Task<DurableTaskTestHost> StartAsync(RecordingSteps steps) =>
        Orchestrations.StartHostAsync(new DurableTaskTestHostOptions { ConfigureServices = s => s.AddSingleton<IIncentiveCloseSteps>(steps) });

    [Fact]
    public async Task A_period_closes_at_its_cutoff()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var cutoff = DateTimeOffset.UtcNow.AddSeconds(4);
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(IncentiveCloseOrchestrator), new IncentiveClose("inp_1", "2026-Q4", cutoff),
            new StartOrchestrationOptions(IncentiveClose.InstanceId("inp_1", "2026-Q4")));
        var done = await Orchestrations.CompletionAsync(host.Client, id);
        done.ReadOutputAs<CloseResult>()!.Should().BeEquivalentTo(new { Closed = true, Partners = 3, Final = 240_000m });
        steps.Closes.Should().ContainSingle().Which.At.Should().BeOnOrAfter(cutoff.AddMilliseconds(-50), "not before the cutoff");
    }

    [Fact]
    public async Task An_admins_early_close_wakes_the_workflow_before_its_cutoff()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var id = IncentiveClose.InstanceId("inp_2", "2026-11");
        await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(IncentiveCloseOrchestrator), new IncentiveClose("inp_2", "2026-11", DateTimeOffset.UtcNow.AddDays(30)), new StartOrchestrationOptions(id));
        await Orchestrations.RunningAsync(host.Client, id);
        steps.Closes.Should().BeEmpty();
        await host.Client.RaiseEventAsync(id, IncentiveClose.CloseNowEvent, "closeNow");
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<CloseResult>()!.Closed.Should().BeTrue();
        steps.Closes.Should().ContainSingle();
    }

    [Fact]
    public async Task A_grace_that_grew_meanwhile_makes_the_workflow_wait_for_the_new_cutoff()
    {
        var steps = new RecordingSteps();
        steps.Answer = n => n == 1 ? new CloseResult(false, DateTimeOffset.UtcNow.AddSeconds(3), 0, 0, 0) : null;
        await using var host = await StartAsync(steps);
        var id = IncentiveClose.InstanceId("inp_3", "2026-Q3");
        await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(IncentiveCloseOrchestrator), new IncentiveClose("inp_3", "2026-Q3", DateTimeOffset.UtcNow.AddSeconds(1)), new StartOrchestrationOptions(id));
        await Orchestrations.UntilAsync(() => steps.Closes.Count == 2, "the second close step after the new cutoff");
        var times = steps.Closes.Select(c => c.At).ToList();
        (times[1] - times[0]).Should().BeGreaterThan(TimeSpan.FromSeconds(2.5));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<CloseResult>()!.Closed.Should().BeTrue();
    }
}
