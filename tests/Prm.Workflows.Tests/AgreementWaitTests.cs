using Prm.Core.Common;
using System.Collections.Concurrent;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Onboarding;
using Prm.Workflows.Onboarding;

namespace Prm.Workflows.Tests;

public sealed class AgreementWaitTests
{
    private sealed class RecordingSteps : IAgreementSteps
    {
        public ConcurrentQueue<AgreementStep> Steps { get; } = new();

        public ConcurrentQueue<DateTimeOffset> Deadlines { get; } = new();

        public Task<StepOutcome> RunAgreementStepAsync(string partnerId, AgreementStep step, DateTimeOffset expiresAt, CancellationToken ct)
        {
            Steps.Enqueue(step);
            Deadlines.Enqueue(expiresAt);
            return Task.FromResult(StepOutcome.Done);
        }
    }


    [Fact]
    public async Task Two_reminders_then_expiry_without_acceptance()
    {
        var steps = new RecordingSteps();
        await using var host = await Orchestrations.StartHostAsync(new DurableTaskTestHostOptions { ConfigureServices = s => s.AddSingleton<IAgreementSteps>(steps) });
        var now = DateTimeOffset.UtcNow;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(AgreementOrchestrator), new AgreementWait("ptn_1", now.AddSeconds(1), now.AddSeconds(2), now.AddSeconds(3)));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("expired");
        steps.Steps.Should().Equal(AgreementStep.Remind, AgreementStep.Remind, AgreementStep.Expire);
        steps.Deadlines.Should().AllSatisfy(d => d.Should().Be(now.AddSeconds(3)), "every reminder's fresh link expires with the offer");
    }

    [Fact]
    public async Task Acceptance_ends_the_wait()
    {
        var steps = new RecordingSteps();
        await using var host = await Orchestrations.StartHostAsync(new DurableTaskTestHostOptions { ConfigureServices = s => s.AddSingleton<IAgreementSteps>(steps) });
        var now = DateTimeOffset.UtcNow;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(AgreementOrchestrator), new AgreementWait("ptn_2", now.AddSeconds(30), now.AddSeconds(40), now.AddSeconds(50)));
        await Orchestrations.RunningAsync(host.Client, id);
        await host.Client.RaiseEventAsync(id, AgreementWait.AcceptedEvent, "accepted");
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("accepted");
        steps.Steps.Should().BeEmpty();
    }
}
