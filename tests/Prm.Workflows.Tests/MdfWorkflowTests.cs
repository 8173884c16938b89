using System.Collections.Concurrent;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Mdf;
using Prm.Workflows.Mdf;

namespace Prm.Workflows.Tests;

public sealed class MdfWorkflowTests
{
    private sealed class RecordingSteps(Func<MdfStep, string>? outcome = null) : IMdfWorkflowSteps
    {
        public ConcurrentQueue<MdfStep> Steps { get; } = new();

        public Task<string> RunStepAsync(MdfStep step, CancellationToken ct)
        {
            Steps.Enqueue(step);
            return Task.FromResult(outcome?.Invoke(step) ?? step.Kind.ToString());
        }

        public IReadOnlyList<MdfStepKind> Kinds => Steps.Select(s => s.Kind).ToList();
    }

    private static Task<DurableTaskTestHost> StartAsync(IMdfWorkflowSteps steps) =>
        Orchestrations.StartHostAsync(new DurableTaskTestHostOptions { ConfigureServices = s => s.AddSingleton(steps) });

    private static MdfSignal Approved(DateTimeOffset now, params MdfEvents.ScheduledStep[] schedule) => new("Approved", 0, now, now, schedule);

    private static async Task<string> OutputAsync(DurableTaskClient client, string id) => (await Orchestrations.CompletionAsync(client, id)).ReadOutputAs<string>()!;

    [Fact]
    public async Task Without_a_decision_it_reminds_then_escalates_and_then_waits_for_the_decision()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(MdfRequestOrchestrator), new MdfRequestWorkflow("mdr_1", 0, now.AddSeconds(1), now.AddSeconds(2)));
        await Task.Delay(TimeSpan.FromSeconds(4));
        steps.Kinds.Should().Equal(MdfStepKind.RequestRemind, MdfStepKind.RequestEscalate);
        await host.Client.RaiseEventAsync(id, MdfRequestWorkflow.DecidedEvent, new MdfSignal("Rejected", 0, now, now, []));
        (await OutputAsync(host.Client, id)).Should().Be("Rejected");
    }

    [Fact]
    public async Task Approval_opens_the_claim_window_activity_end_reminders_and_expiry_release_the_reservation()
    {
        var steps = new RecordingSteps(s => s.Kind == MdfStepKind.ClaimExpire ? "expired" : "ok");
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(MdfRequestOrchestrator), new MdfRequestWorkflow("mdr_2", 0, now.AddSeconds(30), now.AddSeconds(60)));
        await host.Client.RaiseEventAsync(id, MdfRequestWorkflow.DecidedEvent, Approved(now,
            new(now.AddSeconds(1), MdfStepKind.ActivityEnded), new(now.AddSeconds(2), MdfStepKind.ClaimDeadlineReminder, 14),
            new(now.AddSeconds(3), MdfStepKind.ClaimDeadlineReminder, 3), new(now.AddSeconds(4), MdfStepKind.ClaimExpire)));
        (await OutputAsync(host.Client, id)).Should().Be("expired");
        steps.Kinds.Should().Equal(MdfStepKind.ActivityEnded, MdfStepKind.ClaimDeadlineReminder, MdfStepKind.ClaimDeadlineReminder, MdfStepKind.ClaimExpire);
        steps.Steps.Where(s => s.Kind == MdfStepKind.ClaimDeadlineReminder).Select(s => s.DaysBefore).Should().Equal(14, 3);
    }

    [Fact]
    public async Task A_submitted_claim_ends_the_claim_window_before_the_deadline()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(MdfRequestOrchestrator), new MdfRequestWorkflow("mdr_3", 0, now.AddSeconds(30), now.AddSeconds(60)));
        await host.Client.RaiseEventAsync(id, MdfRequestWorkflow.DecidedEvent, Approved(now, new(now.AddSeconds(1), MdfStepKind.ActivityEnded), new(now.AddSeconds(60), MdfStepKind.ClaimExpire)));
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        await host.Client.RaiseEventAsync(id, MdfRequestWorkflow.ClaimEvent, "submitted");
        (await OutputAsync(host.Client, id)).Should().Be("submitted");
        steps.Kinds.Should().Equal(MdfStepKind.ActivityEnded);
    }

    [Fact]
    public async Task Second_approval_starts_a_new_review_cycle_with_its_own_deadlines()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(MdfRequestOrchestrator), new MdfRequestWorkflow("mdr_4", 0, now.AddSeconds(30), now.AddSeconds(60)));
        var later = DateTimeOffset.UtcNow;
        await host.Client.RaiseEventAsync(id, MdfRequestWorkflow.DecidedEvent, new MdfSignal("AwaitingSecondApproval", 1, later.AddSeconds(1), later.AddSeconds(40), []));
        await Task.Delay(TimeSpan.FromSeconds(3));
        steps.Steps.Should().ContainSingle().Which.Should().Be(new MdfStep("mdr_4", MdfStepKind.RequestRemind, 1));
        await host.Client.RaiseEventAsync(id, MdfRequestWorkflow.DecidedEvent, Approved(now, new MdfEvents.ScheduledStep(now.AddSeconds(1), MdfStepKind.ClaimExpire)));
        (await OutputAsync(host.Client, id)).Should().Be("expired");
        steps.Kinds.Should().Equal(MdfStepKind.RequestRemind, MdfStepKind.ClaimExpire);
    }

    [Fact]
    public async Task Request_info_waits_for_the_answer_which_starts_a_new_cycle_that_a_rejection_ends()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(MdfRequestOrchestrator), new MdfRequestWorkflow("mdr_5", 0, now.AddSeconds(30), now.AddSeconds(60)));
        await host.Client.RaiseEventAsync(id, MdfRequestWorkflow.DecidedEvent, new MdfSignal("InfoRequested", 0, now, now, []));
        await Task.Delay(TimeSpan.FromSeconds(1));
        var answered = DateTimeOffset.UtcNow;
        await host.Client.RaiseEventAsync(id, MdfRequestWorkflow.DecidedEvent, new MdfSignal("Submitted", 1, answered.AddSeconds(1), answered.AddSeconds(40), []));
        await Task.Delay(TimeSpan.FromSeconds(3));
        await host.Client.RaiseEventAsync(id, MdfRequestWorkflow.DecidedEvent, new MdfSignal("Rejected", 1, answered, answered, []));
        (await OutputAsync(host.Client, id)).Should().Be("Rejected");
        steps.Steps.Should().Equal(new MdfStep("mdr_5", MdfStepKind.RequestRemind, 1));
    }

    [Fact]
    public async Task A_step_that_finds_the_request_closed_ends_the_workflow()
    {
        var steps = new RecordingSteps(_ => "closed");
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(MdfRequestOrchestrator), new MdfRequestWorkflow("mdr_6", 0, now, now.AddSeconds(60)));
        (await OutputAsync(host.Client, id)).Should().Be("closed");
        steps.Kinds.Should().Equal(MdfStepKind.RequestRemind);
    }

    [Fact]
    public async Task Claim_review_reminds_then_escalates_unless_decided()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var slow = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(MdfClaimReviewOrchestrator), new MdfClaimReview("mdr_7", "mdc_7", 1, now.AddSeconds(1), now.AddSeconds(2)));
        (await OutputAsync(host.Client, slow)).Should().Be("escalated");
        steps.Steps.Should().Equal(new MdfStep("mdr_7", MdfStepKind.ClaimReviewRemind, 0, 0, 1), new MdfStep("mdr_7", MdfStepKind.ClaimReviewEscalate, 0, 0, 1));

        var fast = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(MdfClaimReviewOrchestrator), new MdfClaimReview("mdr_8", "mdc_8", 2, now.AddSeconds(30), now.AddSeconds(60)));
        await host.Client.RaiseEventAsync(fast, MdfClaimReview.DecidedEvent, "Approved");
        (await OutputAsync(host.Client, fast)).Should().Be("Approved");
        steps.Steps.Should().HaveCount(2);
    }
}
