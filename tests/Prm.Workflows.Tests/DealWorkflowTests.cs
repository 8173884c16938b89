using Prm.Core.Common;
using System.Collections.Concurrent;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Deals;
using Prm.Workflows.Deals;

namespace Prm.Workflows.Tests;

public sealed class DealWorkflowTests
{
    private sealed class RecordingSteps : IDealSteps
    {
        public ConcurrentQueue<(DealStep Step, DateTimeOffset Cycle)> Steps { get; } = new();

        /// <summary>The registration's state the workflow reads when a change arrives (set before raising it).</summary>
        public DealWorkflowState? State { get; set; }

        private int stateReads;

        /// <summary>How often the workflow read the state (once per change it processed).</summary>
        public int StateReads => Volatile.Read(ref stateReads);

        public Task<DealWorkflowState?> StateAsync(string dealId, CancellationToken ct)
        {
            Interlocked.Increment(ref stateReads);
            return Task.FromResult(State);
        }

        public Task<StepOutcome> RunDealStepAsync(string dealId, DealStep step, DateTimeOffset cycle, CancellationToken ct)
        {
            Steps.Enqueue((step, cycle));
            return Task.FromResult(StepOutcome.Done);
        }
    }

    private static Task<DurableTaskTestHost> StartAsync(IDealSteps steps) =>
        Orchestrations.StartHostAsync(new DurableTaskTestHostOptions { ConfigureServices = s => s.AddSingleton(steps) });

    private static DealWorkflow Review(string id, DateTimeOffset now, double remind, double escalate) =>
        new(id, DealPhase.Review, now, now.AddSeconds(remind), now.AddSeconds(escalate), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(2));

    private static DealSignal Approved(DateTimeOffset until) => new("Approved", until, null, null, null);

    private static Task ChangeAsync(DurableTaskTestHost host, string id, RecordingSteps steps, DealWorkflowState state)
    {
        steps.State = state;
        return host.Client.RaiseEventAsync(id, DealWorkflow.ChangedEvent, new DealSignal(state.Status, state.ProtectedUntil, state.SubmittedAt, state.ReviewRemindAt, state.ReviewEscalateAt));
    }

    [Fact]
    public async Task Review_reminds_escalates_then_an_approval_starts_protection_with_reminders_and_expiry()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(DealOrchestrator), Review("deal_1", now, 1, 2));
        await Orchestrations.UntilAsync(() => steps.Steps.Count(s => s.Step is DealStep.ReviewRemind or DealStep.ReviewEscalate) == 2, "the review reminder and escalation ran");
        var until = DateTimeOffset.UtcNow.AddSeconds(6);
        await ChangeAsync(host, id, steps, new DealWorkflowState("Approved", now, null, null, until));
        var done = await Orchestrations.CompletionAsync(host.Client, id);
        done.ReadOutputAs<string>().Should().Be("expired");
        steps.Steps.Select(s => s.Step).Should().Equal(DealStep.ReviewRemind, DealStep.ReviewEscalate, DealStep.ExpiryFirstReminder, DealStep.ExpirySecondReminder, DealStep.Expire);
        steps.Steps.Where(s => s.Step is DealStep.ReviewRemind or DealStep.ReviewEscalate).Should().OnlyContain(s => s.Cycle == now);
        steps.Steps.Where(s => s.Step is not (DealStep.ReviewRemind or DealStep.ReviewEscalate)).Should().OnlyContain(s => s.Cycle == until);
    }

    [Fact]
    public async Task A_protection_workflow_that_starts_late_still_sends_the_reminders_it_missed_before_the_expiry()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        // Both reminder times lie before the start (a loaded host started the workflow late); the expiry is still ahead.
        var until = DateTimeOffset.UtcNow.AddSeconds(1);
        var input = new DealWorkflow("deal_late", DealPhase.Protection, until, null, null, TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(5));
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(DealOrchestrator), input);
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("expired");
        steps.Steps.Select(s => s.Step).Should().Equal(DealStep.ExpiryFirstReminder, DealStep.ExpirySecondReminder, DealStep.Expire);
    }

    [Fact]
    public async Task A_protection_workflow_that_starts_after_the_expiry_only_expires()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var input = new DealWorkflow("deal_later", DealPhase.Protection, DateTimeOffset.UtcNow.AddSeconds(-1), null, null, TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(5));
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(DealOrchestrator), input);
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("expired");
        steps.Steps.Select(s => s.Step).Should().Equal(DealStep.Expire);
    }

    [Fact]
    public async Task Rejection_ends_the_review_without_steps()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(DealOrchestrator), Review("deal_2", DateTimeOffset.UtcNow, 30, 60));
        await ChangeAsync(host, id, steps, new DealWorkflowState("Rejected", null, null, null, null));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("Rejected");
        steps.Steps.Should().BeEmpty();
    }

    [Fact]
    public async Task Return_waits_for_the_resubmission_which_starts_a_new_review_cycle()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(DealOrchestrator), Review("deal_3", DateTimeOffset.UtcNow, 30, 60));
        await ChangeAsync(host, id, steps, new DealWorkflowState("Returned", null, null, null, null));
        await Orchestrations.UntilAsync(() => steps.StateReads >= 1, "the workflow read the returned state");
        var resubmitted = DateTimeOffset.UtcNow;
        await ChangeAsync(host, id, steps, new DealWorkflowState("UnderReview", resubmitted, resubmitted.AddSeconds(1), resubmitted.AddSeconds(30), null));
        await Orchestrations.UntilAsync(() => steps.Steps.Any(s => s.Step == DealStep.ReviewRemind), "the new review cycle's reminder ran");
        await ChangeAsync(host, id, steps, new DealWorkflowState("Withdrawn", resubmitted, null, null, null));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("Withdrawn");
        steps.Steps.Should().Equal((DealStep.ReviewRemind, resubmitted));
    }

    [Fact]
    public async Task A_change_whose_event_was_lost_is_found_by_the_recheck_which_reads_the_state_anyway()
    {
        // The Durable Task libraries can lose a change raised in the moment of a continue-as-new (seen once in a double run): the
        // registration was resubmitted but its event never arrived. The returned phase reads the state after its recheck and goes on.
        var steps = new RecordingSteps();
        var resubmitted = DateTimeOffset.UtcNow;
        steps.State = new DealWorkflowState("UnderReview", resubmitted, resubmitted.AddSeconds(1), resubmitted.AddMinutes(30), null); // no event is raised
        await using var host = await StartAsync(steps);
        var returned = new DealWorkflow("deal_lost", DealPhase.Returned, DateTimeOffset.MinValue, null, null, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(2),
            Recheck: TimeSpan.FromSeconds(2));
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(DealOrchestrator), returned);

        await Orchestrations.UntilAsync(() => steps.Steps.Any(s => s.Step == DealStep.ReviewRemind), "the resubmission's reminder, found without its event");
        await ChangeAsync(host, id, steps, new DealWorkflowState("Withdrawn", resubmitted, null, null, null));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("Withdrawn");
        steps.Steps.Should().Equal((DealStep.ReviewRemind, resubmitted));
    }

    [Fact]
    public void A_generation_that_follows_a_state_rechecks_it_and_one_started_before_the_recheck_existed_does_not()
    {
        var state = new DealWorkflowState("Returned", null, null, null, null);
        DealWorkflow.For("deal_r", state, TimeSpan.FromDays(14), TimeSpan.FromDays(3))!.Recheck.Should().Be(WorkflowRecheck.Interval);
        var old = System.Text.Json.JsonSerializer.Deserialize<DealWorkflow>(
            """{"DealId":"deal_old","Phase":2,"Cycle":"0001-01-01T00:00:00+00:00","RemindAt":null,"EscalateAt":null,"FirstReminderBefore":"14.00:00:00","SecondReminderBefore":"3.00:00:00"}""")!;
        old.Recheck.Should().Be(TimeSpan.Zero, "an input written before the recheck existed waits for the change alone, as it ran");
    }

    [Fact]
    public async Task An_approved_extension_moves_the_running_expiry_timer()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var start = DateTimeOffset.UtcNow;
        var first = start.AddSeconds(3);
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(DealOrchestrator),
            new DealWorkflow("deal_4", DealPhase.Protection, first, null, null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(9)));
        var extended = start.AddSeconds(8);
        await ChangeAsync(host, id, steps, new DealWorkflowState("Approved", start, null, null, extended));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("expired");
        // Reminders whose time passed are sent late (of either end); the first end's expiry timer was cancelled by the extension.
        steps.Steps.Where(s => s.Step == DealStep.Expire).Should().Equal([(DealStep.Expire, extended)], "the first end's timer was cancelled by the extension");
        (await host.Client.GetInstanceAsync(id))!.RuntimeStatus.Should().Be(OrchestrationRuntimeStatus.Completed);
    }

    [Fact]
    public async Task A_won_outcome_ends_protection_before_expiry()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var until = DateTimeOffset.UtcNow.AddSeconds(30);
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(DealOrchestrator),
            new DealWorkflow("deal_5", DealPhase.Protection, until, null, null, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(10)));
        await ChangeAsync(host, id, steps, new DealWorkflowState("Won", null, null, null, until));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("Won");
        steps.Steps.Should().BeEmpty();
    }

    [Fact]
    public async Task A_lost_outcome_ends_protection_too()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var until = DateTimeOffset.UtcNow.AddSeconds(30);
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(DealOrchestrator),
            new DealWorkflow("deal_6", DealPhase.Protection, until, null, null, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(10)));
        await ChangeAsync(host, id, steps, new DealWorkflowState("Lost", null, null, null, until));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("Lost");
        steps.Steps.Should().BeEmpty();
    }

    [Fact]
    public async Task A_late_or_repeated_event_is_checked_against_the_state_and_the_expiry_still_happens()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var until = DateTimeOffset.UtcNow.AddSeconds(4);
        steps.State = new DealWorkflowState("Approved", null, null, null, until);
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(DealOrchestrator),
            new DealWorkflow("deal_7", DealPhase.Protection, until, null, null, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(10)));
        // A redelivered "submitted" event arrives after the approval: the state says Approved, so protection continues.
        await host.Client.RaiseEventAsync(id, DealWorkflow.ChangedEvent, new DealSignal("UnderReview", null, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("expired");
        steps.Steps.Where(s => s.Step == DealStep.Expire).Should().Equal([(DealStep.Expire, until)]);
        steps.Steps.Should().OnlyContain(s => s.Cycle == until, "the late event changed nothing: the same protection end");
        steps.Steps.Select(s => s.Step).Distinct().Should().BeEquivalentTo([DealStep.ExpiryFirstReminder, DealStep.ExpirySecondReminder, DealStep.Expire], "late reminders are sent before the expiry");
    }
}
