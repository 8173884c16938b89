using System.Collections.Concurrent;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Partners;
using Prm.Workflows.Invitations;

namespace Prm.Workflows.Tests;

public sealed class InvitationFollowUpTests
{
    private sealed class RecordingReminders(InvitationReminderOutcome outcome) : IInvitationReminders
    {
        public ConcurrentQueue<(string PartnerId, string UserId, DateTimeOffset At)> Calls { get; } = new();

        public Task<InvitationReminderOutcome> RemindAsync(string partnerId, string userId, CancellationToken ct)
        {
            Calls.Enqueue((partnerId, userId, DateTimeOffset.UtcNow));
            return Task.FromResult(outcome);
        }
    }

    private static Task<DurableTaskTestHost> StartAsync(IInvitationReminders reminders) =>
        Orchestrations.StartHostAsync(new DurableTaskTestHostOptions
        {
            ConfigureServices = services => services.AddSingleton(reminders),
        });


    [Fact]
    public async Task The_reminder_waits_for_its_durable_timer_then_runs_once()
    {
        var reminders = new RecordingReminders(InvitationReminderOutcome.Sent);
        await using var host = await StartAsync(reminders);
        var remindAt = DateTimeOffset.UtcNow.AddSeconds(2);
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(InvitationFollowUpOrchestrator), new InvitationFollowUp("ptn_1", "usr_1", remindAt));

        var done = await Orchestrations.CompletionAsync(host.Client, id);

        done.RuntimeStatus.Should().Be(OrchestrationRuntimeStatus.Completed);
        done.ReadOutputAs<string>().Should().Be("Sent");
        reminders.Calls.Should().ContainSingle().Which.Should().Match<(string PartnerId, string UserId, DateTimeOffset At)>(c => c.PartnerId == "ptn_1" && c.UserId == "usr_1" && c.At >= remindAt.AddMilliseconds(-50), "the reminder ran when its timer fired, not before");
    }

    [Fact]
    public async Task A_due_reminder_runs_at_once_and_reports_what_the_service_decided()
    {
        var reminders = new RecordingReminders(InvitationReminderOutcome.AlreadyJoined);
        await using var host = await StartAsync(reminders);
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(InvitationFollowUpOrchestrator), new InvitationFollowUp("ptn_2", "usr_2", DateTimeOffset.UtcNow.AddMinutes(-1)));
        var done = await Orchestrations.CompletionAsync(host.Client, id);
        done.ReadOutputAs<string>().Should().Be("AlreadyJoined");
        reminders.Calls.Should().ContainSingle();
    }

    [Fact]
    public async Task Starting_the_follow_up_twice_for_a_user_keeps_one_instance()
    {
        var reminders = new RecordingReminders(InvitationReminderOutcome.Sent);
        await using var host = await StartAsync(reminders);
        var accessor = new DurableClientAccessor();
        var workflows = new InvitationWorkflows(accessor, TimeProvider.System, new WorkflowOptions { InvitationReminderAfter = TimeSpan.FromSeconds(1) });
        using (accessor.Use(host.Client))
        {
            await workflows.StartAsync("ptn_3", "usr_3", CancellationToken.None);
        }
        var first = await host.Client.GetInstanceAsync(InvitationFollowUp.InstanceId("usr_3"), getInputsAndOutputs: true);
        using (accessor.Use(host.Client))
        {
            await workflows.StartAsync("ptn_3", "usr_3", CancellationToken.None);
        }
        var done = await Orchestrations.CompletionAsync(host.Client, InvitationFollowUp.InstanceId("usr_3"));
        done.RuntimeStatus.Should().Be(OrchestrationRuntimeStatus.Completed);
        // The input carries the reminder time of its start: a replacing second start would have left a later one.
        done.SerializedInput.Should().Be(first!.SerializedInput, "the second start found the instance and left it alone instead of replacing it");
        reminders.Calls.Should().ContainSingle("one follow-up per invited user");
    }

    [Fact]
    public async Task The_client_is_scoped_to_the_invocation_that_lends_it()
    {
        await using var host = await StartAsync(new RecordingReminders(InvitationReminderOutcome.Sent));
        var accessor = new DurableClientAccessor();
        async Task<bool> Invocation()
        {
            using (accessor.Use(host.Client))
            {
                await Task.Yield();
                return accessor.Available;
            }
        }
        (await Invocation()).Should().BeTrue();
        accessor.Available.Should().BeFalse("nothing outside an invocation sees its client");
        var other = Task.Run(() => accessor.Available);
        (await other).Should().BeFalse();
    }

    [Fact]
    public async Task Without_a_client_the_start_is_a_transient_failure_the_outbox_retries()
    {
        var workflows = new InvitationWorkflows(new DurableClientAccessor(), TimeProvider.System, new WorkflowOptions());
        var act = () => workflows.StartAsync("ptn", "usr", CancellationToken.None);
        await act.Should().ThrowAsync<Prm.Core.Outbox.TransientDeliveryException>();
    }
}
