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
        DurableTaskTestHost.StartAsync(WorkflowRegistry.Register, new DurableTaskTestHostOptions { ConfigureServices = s => s.AddSingleton(steps) });


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
        await host.Client.RaiseEventAsync(id, ApplicationReview.DecidedEvent, "Approved");
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
