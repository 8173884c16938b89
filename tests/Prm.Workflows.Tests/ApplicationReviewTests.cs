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
        public ConcurrentQueue<ReviewStep> Steps { get; } = new();

        public Task<string> RunReviewStepAsync(string applicationId, ReviewStep step, CancellationToken ct)
        {
            Steps.Enqueue(step);
            return Task.FromResult("application." + step);
        }
    }

    private static Task<DurableTaskTestHost> StartAsync(IApplicationReviewSteps steps) =>
        Orchestrations.StartHostAsync(new DurableTaskTestHostOptions { ConfigureServices = s => s.AddSingleton(steps) });


    [Fact]
    public async Task Without_a_decision_it_reminds_then_escalates_then_expires()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ApplicationReviewOrchestrator), new ApplicationReview("app_1", now.AddSeconds(1), now.AddSeconds(2), now.AddSeconds(3)));
        var done = await Orchestrations.CompletionAsync(host.Client, id);
        done.ReadOutputAs<string>().Should().Be("expired");
        steps.Steps.Should().Equal(ReviewStep.Remind, ReviewStep.Escalate, ReviewStep.Expire);
    }

    [Fact]
    public async Task A_decision_ends_the_review_and_cancels_the_deadlines()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ApplicationReviewOrchestrator), new ApplicationReview("app_2", now.AddSeconds(1), now.AddSeconds(30), now.AddSeconds(60)));
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        await host.Client.RaiseEventAsync(id, ApplicationReview.DecidedEvent, new ReviewSignal("Approved"));
        var done = await Orchestrations.CompletionAsync(host.Client, id);
        done.ReadOutputAs<string>().Should().Be("Approved");
        steps.Steps.Should().Equal(ReviewStep.Remind);
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
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ApplicationReviewOrchestrator), new ApplicationReview("app_4", now.AddSeconds(30), now.AddSeconds(40), now.AddSeconds(50)));
        await host.Client.RaiseEventAsync(id, ApplicationReview.DecidedEvent, new ReviewSignal("InfoRequested", now.AddSeconds(30)));
        await Task.Delay(TimeSpan.FromSeconds(1));
        // The answer sets new, short deadlines: the new review reminds before the decision arrives.
        var answeredAt = DateTimeOffset.UtcNow;
        await host.Client.RaiseEventAsync(id, ApplicationReview.AnsweredEvent, new ApplicationReview("app_4", answeredAt.AddSeconds(1), answeredAt.AddSeconds(30), answeredAt.AddSeconds(40)));
        await Task.Delay(TimeSpan.FromSeconds(3));
        await host.Client.RaiseEventAsync(id, ApplicationReview.DecidedEvent, new ReviewSignal("Approved"));
        var done = await Orchestrations.CompletionAsync(host.Client, id);
        done.ReadOutputAs<string>().Should().Be("Approved");
        steps.Steps.Should().Equal(ReviewStep.Remind);
    }

    [Fact]
    public async Task Request_info_without_an_answer_expires_the_application_at_the_info_deadline()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ApplicationReviewOrchestrator), new ApplicationReview("app_5", now.AddSeconds(30), now.AddSeconds(40), now.AddSeconds(50)));
        await host.Client.RaiseEventAsync(id, ApplicationReview.DecidedEvent, new ReviewSignal("InfoRequested", now.AddSeconds(2)));
        var done = await Orchestrations.CompletionAsync(host.Client, id);
        done.ReadOutputAs<string>().Should().Be("expired");
        steps.Steps.Should().Equal(ReviewStep.Expire);
    }

    [Fact]
    public async Task A_decision_while_waiting_for_the_answer_ends_the_review()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ApplicationReviewOrchestrator), new ApplicationReview("app_6", now.AddSeconds(30), now.AddSeconds(40), now.AddSeconds(50)));
        await host.Client.RaiseEventAsync(id, ApplicationReview.DecidedEvent, new ReviewSignal("InfoRequested", now.AddSeconds(30)));
        await host.Client.RaiseEventAsync(id, ApplicationReview.DecidedEvent, new ReviewSignal("Rejected"));
        var done = await Orchestrations.CompletionAsync(host.Client, id);
        done.ReadOutputAs<string>().Should().Be("Rejected");
        steps.Steps.Should().BeEmpty();
    }

    private sealed class ClosedSteps : IApplicationReviewSteps
    {
        public int Calls;

        public Task<string> RunReviewStepAsync(string applicationId, ReviewStep step, CancellationToken ct)
        {
            Interlocked.Increment(ref Calls);
            return Task.FromResult("closed");
        }
    }
}
