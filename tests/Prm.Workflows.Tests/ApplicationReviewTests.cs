using Prm.Core.Common;
using System.Collections.Concurrent;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Onboarding;
using Prm.Workflows.Onboarding;

namespace Prm.Workflows.Tests;

public sealed class ApplicationReviewTests
{
    private sealed class RecordingSteps : IApplicationReviewSteps
    {
        public ConcurrentQueue<(ReviewStep Step, DateTimeOffset Cycle)> Steps { get; } = new();

        /// <summary>The application's state the workflow reads when a change arrives (set before raising it).</summary>
        public ApplicationWorkflowState? State { get; set; }

        /// <summary>What a step answers (by default that it ran).</summary>
        public Func<ReviewStep, StepOutcome> Result { get; set; } = _ => StepOutcome.Done;

        /// <summary>When set, the state of the n-th read (1-based) instead of <see cref="State"/>.</summary>
        public Func<int, ApplicationWorkflowState?>? StateOfRead { get; set; }

        private int reads;

        public Task<ApplicationWorkflowState?> StateAsync(string applicationId, CancellationToken ct) =>
            Task.FromResult(StateOfRead is { } of ? of(Interlocked.Increment(ref reads)) : State);

        public Task<StepOutcome> RunReviewStepAsync(string applicationId, ReviewStep step, DateTimeOffset cycle, CancellationToken ct)
        {
            Steps.Enqueue((step, cycle));
            return Task.FromResult(Result(step));
        }
    }

    private static Task<DurableTaskTestHost> StartAsync(IApplicationReviewSteps steps) =>
        Orchestrations.StartHostAsync(new DurableTaskTestHostOptions { ConfigureServices = s => s.AddSingleton(steps) });

    private static Task ChangeAsync(DurableTaskTestHost host, string id, RecordingSteps steps, ApplicationWorkflowState state)
    {
        steps.State = state;
        return host.Client.RaiseEventAsync(id, ApplicationReview.ChangedEvent, new ApplicationSignal(state.Status));
    }

    private static ApplicationWorkflowState UnderReview(DateTimeOffset remind, DateTimeOffset escalate, DateTimeOffset expires) => new("UnderReview", remind, escalate, expires, null);

    private static ApplicationWorkflowState InfoRequested(ApplicationReview review, DateTimeOffset due) => new("InfoRequested", review.RemindAt, review.EscalateAt, review.ExpiresAt, due);

    private static ApplicationWorkflowState Decided(string status) => new(status, DateTimeOffset.MinValue, DateTimeOffset.MinValue, DateTimeOffset.MinValue, null);

    [Fact]
    public async Task Without_a_decision_it_reminds_then_escalates_then_expires()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ApplicationReviewOrchestrator), new ApplicationReview("app_1", now.AddSeconds(1), now.AddSeconds(2), now.AddSeconds(3)));
        var done = await Orchestrations.CompletionAsync(host.Client, id);
        done.ReadOutputAs<string>().Should().Be("expired");
        steps.Steps.Select(s => s.Step).Should().Equal(ReviewStep.Remind, ReviewStep.Escalate, ReviewStep.Expire);
        steps.Steps.Should().OnlyContain(s => s.Cycle == now.AddSeconds(3), "every step belongs to the review cycle that expires then");
    }

    [Fact]
    public async Task A_decision_ends_the_review_and_cancels_the_deadlines()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ApplicationReviewOrchestrator), new ApplicationReview("app_2", now.AddSeconds(1), now.AddSeconds(30), now.AddSeconds(60)));
        await Orchestrations.UntilAsync(() => !steps.Steps.IsEmpty, "the reminder ran");
        await ChangeAsync(host, id, steps, Decided("Approved"));
        var done = await Orchestrations.CompletionAsync(host.Client, id);
        done.ReadOutputAs<string>().Should().Be("Approved");
        steps.Steps.Select(s => s.Step).Should().Equal(ReviewStep.Remind);
    }

    [Fact]
    public async Task A_step_that_finds_the_application_closed_ends_the_review()
    {
        var closed = new ClosedSteps();
        await using var host = await StartAsync(closed);
        var now = DateTimeOffset.UtcNow;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ApplicationReviewOrchestrator), new ApplicationReview("app_3", now, now.AddSeconds(30), now.AddSeconds(60)));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("closed");
        closed.Calls.Should().Be(1);
    }

    [Fact]
    public async Task Request_info_then_answer_starts_a_new_review_that_a_decision_ends()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var first = new ApplicationReview("app_4", now.AddSeconds(30), now.AddSeconds(40), now.AddSeconds(50));
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ApplicationReviewOrchestrator), first);
        await ChangeAsync(host, id, steps, InfoRequested(first, now.AddSeconds(30)));
        // The answer sets new, short deadlines: the new review reminds before the decision arrives.
        var answeredAt = DateTimeOffset.UtcNow;
        await ChangeAsync(host, id, steps, UnderReview(answeredAt.AddSeconds(1), answeredAt.AddSeconds(30), answeredAt.AddSeconds(40)));
        await Orchestrations.UntilAsync(() => !steps.Steps.IsEmpty, "the new review's reminder ran");
        await ChangeAsync(host, id, steps, Decided("Approved"));
        var done = await Orchestrations.CompletionAsync(host.Client, id);
        done.ReadOutputAs<string>().Should().Be("Approved");
        steps.Steps.Distinct().Should().Equal([(ReviewStep.Remind, answeredAt.AddSeconds(40))], "only the new cycle's reminder ran (a hint processed late may repeat it; the service sends it once)");
    }

    [Fact]
    public async Task Request_info_without_an_answer_expires_the_application_at_the_info_deadline()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var review = new ApplicationReview("app_5", now.AddSeconds(30), now.AddSeconds(40), now.AddSeconds(50));
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ApplicationReviewOrchestrator), review);
        await ChangeAsync(host, id, steps, InfoRequested(review, now.AddSeconds(2)));
        var done = await Orchestrations.CompletionAsync(host.Client, id);
        done.ReadOutputAs<string>().Should().Be("expired");
        steps.Steps.Should().Equal((ReviewStep.Expire, now.AddSeconds(2)));
    }

    [Fact]
    public async Task A_decision_while_waiting_for_the_answer_ends_the_review()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var review = new ApplicationReview("app_6", now.AddSeconds(30), now.AddSeconds(40), now.AddSeconds(50));
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ApplicationReviewOrchestrator), review);
        await ChangeAsync(host, id, steps, InfoRequested(review, now.AddSeconds(30)));
        await ChangeAsync(host, id, steps, Decided("Rejected"));
        var done = await Orchestrations.CompletionAsync(host.Client, id);
        done.ReadOutputAs<string>().Should().Be("Rejected");
        steps.Steps.Should().BeEmpty();
    }

    [Fact]
    public async Task A_late_or_repeated_event_is_checked_against_the_state_and_the_review_goes_on()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var review = new ApplicationReview("app_7", now.AddSeconds(2), now.AddSeconds(3), now.AddSeconds(4));
        steps.State = UnderReview(review.RemindAt, review.EscalateAt, review.ExpiresAt);
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ApplicationReviewOrchestrator), review);
        // A stale "information requested" hint (its answer was committed before it arrived): the state says under review, so the review goes on.
        await host.Client.RaiseEventAsync(id, ApplicationReview.ChangedEvent, new ApplicationSignal("InfoRequested"));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("expired");
        steps.Steps.Select(s => s.Step).Distinct().Should().Equal([ReviewStep.Remind, ReviewStep.Escalate, ReviewStep.Expire], "the hint did not park the review");
        steps.Steps.Should().OnlyContain(s => s.Cycle == review.ExpiresAt);
    }

    [Fact]
    public async Task A_decision_whose_change_event_was_lost_is_found_by_the_recheck_which_reads_the_state_anyway()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var state = UnderReview(now.AddSeconds(1), now.AddSeconds(60), now.AddSeconds(70));
        steps.State = state;
        // The reminder finds the application decided, but the state read still says under review (the decision's commit and its event
        // are both on their way); then the event is lost.
        steps.Result = step => step == ReviewStep.Remind ? StepOutcome.Closed : StepOutcome.Done;
        // The first read (right after the reminder) still says under review; the decision's event never arrives.
        steps.StateOfRead = n => n == 1 ? state : Decided("Approved");
        var review = ApplicationReview.For("app_lost", state, TimeSpan.FromSeconds(2))!;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ApplicationReviewOrchestrator), review);
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("Approved");
        steps.Steps.Select(s => s.Step).Should().Equal(ReviewStep.Remind);
    }

    [Fact]
    public void A_review_generation_rechecks_its_state_and_one_started_before_the_recheck_existed_does_not()
    {
        var now = DateTimeOffset.UnixEpoch;
        ApplicationReview.For("app_r", UnderReview(now, now, now))!.Recheck.Should().Be(WorkflowRecheck.Interval);
        var old = System.Text.Json.JsonSerializer.Deserialize<ApplicationReview>(
            """{"ApplicationId":"app_old","RemindAt":"2026-12-01T00:00:00+00:00","EscalateAt":"2026-12-02T00:00:00+00:00","ExpiresAt":"2026-12-03T00:00:00+00:00","InfoDueAt":null}""")!;
        old.Recheck.Should().Be(TimeSpan.Zero, "an input written before the recheck existed waits for the change alone, as it ran");
    }

    [Fact]
    public async Task An_info_deadline_step_that_finds_the_answer_follows_the_state_into_the_new_review()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var answered = UnderReview(now.AddSeconds(2), now.AddSeconds(30), now.AddSeconds(40));
        // The answer committed just before the info deadline, and its event has not arrived: the expiry step finds nothing to expire.
        steps.Result = step => step == ReviewStep.Expire ? StepOutcome.Closed : StepOutcome.Done;
        steps.State = answered;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ApplicationReviewOrchestrator),
            new ApplicationReview("app_8", now.AddSeconds(-60), now.AddSeconds(-50), now.AddSeconds(-40), now.AddSeconds(1)));
        await Orchestrations.UntilAsync(() => steps.Steps.Any(s => s.Step == ReviewStep.Remind), "the new review's reminder ran");
        await ChangeAsync(host, id, steps, Decided("Rejected"));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("Rejected");
        steps.Steps.Should().Equal((ReviewStep.Expire, now.AddSeconds(1)), (ReviewStep.Remind, now.AddSeconds(40)));
    }

    private sealed class ClosedSteps : IApplicationReviewSteps
    {
        public int Calls;

        public Task<ApplicationWorkflowState?> StateAsync(string applicationId, CancellationToken ct) => Task.FromResult<ApplicationWorkflowState?>(null);

        public Task<StepOutcome> RunReviewStepAsync(string applicationId, ReviewStep step, DateTimeOffset cycle, CancellationToken ct)
        {
            Interlocked.Increment(ref Calls);
            return Task.FromResult(StepOutcome.Closed);
        }
    }
}
