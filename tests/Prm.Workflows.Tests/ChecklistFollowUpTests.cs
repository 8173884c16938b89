using Prm.Core.Common;
using System.Collections.Concurrent;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Partners;
using Prm.Workflows.Onboarding;

namespace Prm.Workflows.Tests;

public sealed class ChecklistFollowUpTests
{
    private sealed class Reminders(StepOutcome answer) : IChecklistReminders
    {
        public ConcurrentQueue<int> Numbers { get; } = new();

        public Task<StepOutcome> RemindChecklistAsync(string partnerId, int number, DateTimeOffset activatedAt, CancellationToken ct)
        {
            Numbers.Enqueue(number);
            return Task.FromResult(answer);
        }
    }

    private static Task<DurableTaskTestHost> StartAsync(IChecklistReminders reminders) =>
        Orchestrations.StartHostAsync(new DurableTaskTestHostOptions { ConfigureServices = s => s.AddSingleton(reminders) });

    [Fact]
    public async Task Unfinished_items_get_both_reminders_in_order()
    {
        var reminders = new Reminders(StepOutcome.Done);
        await using var host = await StartAsync(reminders);
        var now = DateTimeOffset.UtcNow;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(OnboardingChecklistOrchestrator), new ChecklistFollowUp("ptn_1", now, now.AddSeconds(1), now.AddSeconds(2)));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("reminded");
        reminders.Numbers.Should().Equal(1, 2);
    }

    [Fact]
    public async Task A_complete_checklist_ends_the_follow_up_without_the_second_reminder()
    {
        var reminders = new Reminders(StepOutcome.Closed);
        await using var host = await StartAsync(reminders);
        var now = DateTimeOffset.UtcNow;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(OnboardingChecklistOrchestrator), new ChecklistFollowUp("ptn_2", now, now.AddSeconds(1), now.AddSeconds(2)));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("complete");
        reminders.Numbers.Should().Equal(1);
    }
}
