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

        /// <summary>What <see cref="CutoffAsync"/> answers (null: closed already).</summary>
        public DateTimeOffset? Cutoff { get; set; }

        public Task<DateTimeOffset?> CutoffAsync(string programId, string period, CancellationToken ct) => Task.FromResult(Cutoff);

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
        var later = DateTimeOffset.UtcNow.AddSeconds(3);
        // As the service does: not yet while the new cutoff is ahead (the first step, at the old cutoff, always is).
        steps.Answer = n => n == 1 || DateTimeOffset.UtcNow < later ? new CloseResult(false, later, 0, 0, 0) : null;
        await using var host = await StartAsync(steps);
        var id = IncentiveClose.InstanceId("inp_3", "2026-Q3");
        await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(IncentiveCloseOrchestrator), new IncentiveClose("inp_3", "2026-Q3", DateTimeOffset.UtcNow.AddSeconds(1)), new StartOrchestrationOptions(id));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<CloseResult>()!.Closed.Should().BeTrue();
        steps.Closes.Should().HaveCountGreaterThan(1, "the step at the old cutoff answered not yet");
        steps.Closes.Last().At.Should().BeOnOrAfter(later.AddMilliseconds(-50), "the period closed at the new cutoff, not before");
        var input = (await host.Client.GetInstanceAsync(id, getInputsAndOutputs: true))!.ReadInputAs<IncentiveClose>()!;
        input.Recheck.Should().Be(WorkflowRecheck.Interval, "a generation started before the recheck existed continues as new with one");
    }

    /// <summary>
    /// The close step as the service answers it: the first step finds the period open (not yet, with the cutoff); a later one closes it
    /// once its close began (<paramref name="closing"/>), and otherwise answers not yet again.
    /// </summary>
    private static Func<int, CloseResult?> OpenUntil(Func<bool> closing, DateTimeOffset cutoff) =>
        n => n > 1 && closing() ? null : new CloseResult(false, cutoff, 0, 0, 0);

    [Fact]
    public async Task A_generation_that_asks_the_period_first_closes_it_at_its_cutoff()
    {
        var steps = new RecordingSteps();
        var cutoff = DateTimeOffset.UtcNow.AddSeconds(3);
        // As the service does: not yet while the cutoff is ahead.
        steps.Answer = _ => DateTimeOffset.UtcNow < cutoff ? new CloseResult(false, cutoff, 0, 0, 0) : null;
        await using var host = await StartAsync(steps);
        var id = IncentiveClose.InstanceId("inp_8", "2026-Q4");
        await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(IncentiveCloseOrchestrator),
            new IncentiveClose("inp_8", "2026-Q4", cutoff, WorkflowRecheck.Interval), new StartOrchestrationOptions(id));
        var done = await Orchestrations.CompletionAsync(host.Client, id);
        done.ReadOutputAs<CloseResult>()!.Should().BeEquivalentTo(new { Closed = true, Partners = 3, Final = 240_000m });
        steps.Closes.Last().At.Should().BeOnOrAfter(cutoff.AddMilliseconds(-50), "the closing step ran at the cutoff, not before");
    }

    [Fact]
    public async Task A_generation_asks_the_period_first_so_an_input_built_before_the_admins_close_still_closes_at_once()
    {
        // Two deliveries (the period opened, the admin's close) can start the instance side by side, and the one that read the open period
        // can win: its input says the cutoff is weeks away. The period's close began, and the step says so.
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var id = IncentiveClose.InstanceId("inp_4", "2026-11");
        await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(IncentiveCloseOrchestrator),
            new IncentiveClose("inp_4", "2026-11", DateTimeOffset.UtcNow.AddDays(40), WorkflowRecheck.Interval), new StartOrchestrationOptions(id));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<CloseResult>()!.Closed.Should().BeTrue();
        steps.Closes.Should().ContainSingle();
    }

    [Fact]
    public async Task An_early_close_whose_event_was_lost_is_found_by_the_recheck()
    {
        var closing = false;
        var steps = new RecordingSteps();
        steps.Answer = OpenUntil(() => Volatile.Read(ref closing), DateTimeOffset.UtcNow.AddDays(30));
        await using var host = await StartAsync(steps);
        var id = IncentiveClose.InstanceId("inp_5", "2026-11");
        await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(IncentiveCloseOrchestrator),
            new IncentiveClose("inp_5", "2026-11", DateTimeOffset.UtcNow.AddDays(30), TimeSpan.FromSeconds(2)), new StartOrchestrationOptions(id));
        await Orchestrations.UntilAsync(() => !steps.Closes.IsEmpty, "the first generation asked the period");
        Volatile.Write(ref closing, true); // the admin's close committed; its event never arrives
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<CloseResult>()!.Closed.Should().BeTrue();
        steps.Closes.Should().HaveCountGreaterThan(1, "the first step found the period open");
    }

    [Fact]
    public async Task An_early_close_event_wakes_a_generation_that_asked_the_period_first()
    {
        var closing = false;
        var steps = new RecordingSteps();
        steps.Answer = OpenUntil(() => Volatile.Read(ref closing), DateTimeOffset.UtcNow.AddDays(30));
        await using var host = await StartAsync(steps);
        var id = IncentiveClose.InstanceId("inp_6", "2026-11");
        await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(IncentiveCloseOrchestrator),
            new IncentiveClose("inp_6", "2026-11", DateTimeOffset.UtcNow.AddDays(30), WorkflowRecheck.Interval), new StartOrchestrationOptions(id));
        await Orchestrations.UntilAsync(() => !steps.Closes.IsEmpty, "the first generation asked the period");
        Volatile.Write(ref closing, true);
        await host.Client.RaiseEventAsync(id, IncentiveClose.CloseNowEvent, "closeNow");
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<CloseResult>()!.Closed.Should().BeTrue("the recheck is hours away: the event woke it");
        steps.Closes.Should().HaveCount(2);
    }

    [Fact]
    public async Task The_projection_starts_a_periods_close_with_the_recheck_and_an_input_without_one_deserializes_as_before()
    {
        var steps = new RecordingSteps { Cutoff = DateTimeOffset.UtcNow.AddDays(30) };
        steps.Answer = OpenUntil(() => false, steps.Cutoff.Value);
        await using var host = await StartAsync(steps);
        var accessor = new DurableClientAccessor();
        using (accessor.Use(host.Client))
        {
            var projection = new IncentiveWorkflowProjection(accessor, steps);
            await projection.ApplyAsync(IncentiveEvents.Opened(new PeriodRecord("inp_7", "2026-11", "Open", steps.Cutoff.Value, "EUR"), DateTimeOffset.UtcNow), CancellationToken.None);
        }
        var id = IncentiveClose.InstanceId("inp_7", "2026-11");
        var started = await host.Client.GetInstanceAsync(id, getInputsAndOutputs: true);
        started!.ReadInputAs<IncentiveClose>()!.Should().Be(new IncentiveClose("inp_7", "2026-11", steps.Cutoff.Value, WorkflowRecheck.Interval));
        await host.Client.TerminateInstanceAsync(id);
        System.Text.Json.JsonSerializer.Deserialize<IncentiveClose>("""{"ProgramId":"inp_old","Period":"2026-10","CutoffAt":"2026-12-10T00:00:00+00:00"}""")!
            .Recheck.Should().Be(TimeSpan.Zero, "an input written before the recheck existed waits for its cutoff or the event alone, as it ran");
    }
}
