using System.Collections.Concurrent;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Common;
using Prm.Core.Training;
using Prm.Workflows.Training;

namespace Prm.Workflows.Tests;

public sealed class AwardWorkflowTests
{
    private sealed class RecordingSteps : IAwardSteps
    {
        public ConcurrentQueue<(AwardStepKind Kind, int DaysBefore, DateTimeOffset Cycle)> Steps { get; } = new();

        /// <summary>The award's state the workflow reads when a change arrives (set before raising it).</summary>
        public AwardWorkflowState? State { get; set; }

        public Task<AwardWorkflowState?> StateAsync(string awardId, CancellationToken ct) => Task.FromResult(State);

        /// <summary>A step of an expiry the award no longer has is skipped (as <c>Award.Step</c> does after a renewal).</summary>
        public bool SkipOtherCycles { get; set; }

        public Task<StepOutcome> RunStepAsync(string awardId, AwardStepKind kind, int daysBefore, DateTimeOffset cycle, CancellationToken ct)
        {
            Steps.Enqueue((kind, daysBefore, cycle));
            return Task.FromResult(SkipOtherCycles && State is { } s && s.ExpiresAt != cycle ? StepOutcome.Skipped : StepOutcome.Done);
        }
    }

    private static Task<DurableTaskTestHost> StartAsync(IAwardSteps steps) =>
        Orchestrations.StartHostAsync(new DurableTaskTestHostOptions { ConfigureServices = s => s.AddSingleton(steps) });

    /// <summary>An award state with the expiry <paramref name="expiry"/> seconds from <paramref name="start"/> and reminders at the given seconds before it.</summary>
    private static AwardWorkflowState State(DateTimeOffset start, double expiry, double grace, string status = "Active", params (int Days, double SecondsBefore)[] reminders)
    {
        var expires = start.AddSeconds(expiry);
        return new AwardWorkflowState(status, expires, expires.AddSeconds(grace), reminders.Select(r => new AwardReminder(expires.AddSeconds(-r.SecondsBefore), r.Days)).ToList());
    }

    [Fact]
    public async Task Reminders_go_out_at_each_offset_then_grace_then_expiry()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var state = State(DateTimeOffset.UtcNow, 4, 1, "Active", (90, 3), (60, 2.5), (30, 2), (7, 1));
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(AwardOrchestrator), AwardWorkflow.For("crt_1", state)!, new Microsoft.DurableTask.StartOrchestrationOptions(AwardWorkflow.InstanceId("crt_1")));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("expired");
        steps.Steps.Select(s => (s.Kind, s.DaysBefore)).Should().Equal(
            (AwardStepKind.Remind, 90), (AwardStepKind.Remind, 60), (AwardStepKind.Remind, 30), (AwardStepKind.Remind, 7), (AwardStepKind.Grace, 0), (AwardStepKind.Expire, 0));
        steps.Steps.Should().OnlyContain(s => s.Cycle == state.ExpiresAt);
    }

    [Fact]
    public async Task Renewal_moves_the_timers_in_the_one_running_workflow()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var start = DateTimeOffset.UtcNow;
        var first = State(start, 3, 1, "Active", (30, 2));
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(AwardOrchestrator), AwardWorkflow.For("crt_2", first)!, new Microsoft.DurableTask.StartOrchestrationOptions(AwardWorkflow.InstanceId("crt_2")));
        await Orchestrations.RunningAsync(host.Client, id);
        // Renewed before the first reminder: the new expiry is later; the workflow reads it and continues as new with its deadlines.
        var renewed = State(start, 7, 1, "Renewed", (30, 2));
        steps.State = renewed;
        await host.Client.RaiseEventAsync(id, AwardWorkflow.ChangedEvent, "Renewed");
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("expired");
        steps.Steps.Should().OnlyContain(s => s.Cycle == renewed.ExpiresAt, "the old expiry's timers were cancelled");
        steps.Steps.Select(s => s.Kind).Should().Equal(AwardStepKind.Remind, AwardStepKind.Grace, AwardStepKind.Expire);
        var instances = new List<OrchestrationMetadata>();
        await foreach (var instance in host.Client.GetAllInstancesAsync(new OrchestrationQuery())) instances.Add(instance);
        instances.Should().ContainSingle("renewal starts no second workflow").Which.InstanceId.Should().Be(id);
    }

    [Fact]
    public async Task A_renewal_whose_change_event_was_lost_gets_its_own_deadlines_after_the_old_ones_ran_out()
    {
        var steps = new RecordingSteps { SkipOtherCycles = true };
        await using var host = await StartAsync(steps);
        var start = DateTimeOffset.UtcNow;
        var first = State(start, 2, 1, "Active");
        var renewed = State(start, 5, 1, "Renewed");
        steps.State = renewed; // renewed once the generation of the first expiry began, and its change event never arrives
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(AwardOrchestrator), AwardWorkflow.For("crt_lost", first)!, new Microsoft.DurableTask.StartOrchestrationOptions(AwardWorkflow.InstanceId("crt_lost")));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("expired");
        steps.Steps.Select(s => (s.Kind, s.Cycle)).Should().Equal(
            (AwardStepKind.Grace, first.ExpiresAt), (AwardStepKind.Expire, first.ExpiresAt), (AwardStepKind.Grace, renewed.ExpiresAt), (AwardStepKind.Expire, renewed.ExpiresAt));
    }

    [Fact]
    public async Task An_invalidation_whose_change_event_was_lost_is_found_by_the_recheck_long_before_the_old_expiry()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var start = DateTimeOffset.UtcNow;
        var first = State(start, 600, 60, "Active", (30, 300));
        var earlier = State(start, 3, 1, "Active");
        steps.State = earlier; // a completion it rested on was voided: the expiry moved earlier; its change event never arrives
        var input = AwardWorkflow.For("crt_moved", first, TimeSpan.FromSeconds(2))!;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(AwardOrchestrator), input, new Microsoft.DurableTask.StartOrchestrationOptions(AwardWorkflow.InstanceId("crt_moved")));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("expired");
        // A recheck that lands between the new deadlines continues as new with the same ones: a step may run again (the service answers
        // DoneAlready for it); none of the old expiry's ran.
        steps.Steps.Select(s => (s.Kind, s.Cycle)).Distinct().Should().Equal((AwardStepKind.Grace, earlier.ExpiresAt), (AwardStepKind.Expire, earlier.ExpiresAt));
    }

    [Fact]
    public void An_award_generation_rechecks_its_state_and_one_started_before_the_recheck_existed_does_not()
    {
        AwardWorkflow.For("crt_r", State(DateTimeOffset.UnixEpoch, 1, 1))!.Recheck.Should().Be(WorkflowRecheck.Interval);
        var old = System.Text.Json.JsonSerializer.Deserialize<AwardWorkflow>(
            """{"AwardId":"crt_old","Cycle":"2027-01-01T00:00:00+00:00","Reminders":[],"GraceEndsAt":"2027-02-01T00:00:00+00:00"}""")!;
        old.Recheck.Should().Be(TimeSpan.Zero, "an input written before the recheck existed waits for the change or its deadlines alone, as it ran");
    }

    [Fact]
    public async Task Revocation_ends_the_workflow_without_steps()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var start = DateTimeOffset.UtcNow;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(AwardOrchestrator), AwardWorkflow.For("crt_3", State(start, 60, 30, "Active", (30, 20)))!);
        await Orchestrations.RunningAsync(host.Client, id);
        steps.State = State(start, 60, 30, "Revoked");
        await host.Client.RaiseEventAsync(id, AwardWorkflow.ChangedEvent, "Revoked");
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("Revoked");
        steps.Steps.Should().BeEmpty();
    }

    [Fact]
    public void No_workflow_for_a_revoked_expired_or_missing_award()
    {
        var start = DateTimeOffset.UtcNow;
        AwardWorkflow.For("crt_4", null).Should().BeNull();
        AwardWorkflow.For("crt_4", State(start, 1, 1, "Revoked")).Should().BeNull();
        AwardWorkflow.For("crt_4", State(start, 1, 1, "Expired")).Should().BeNull();
        AwardWorkflow.For("crt_4", State(start, 1, 1, "Grace"))!.Cycle.Should().Be(start.AddSeconds(1));
    }
}
