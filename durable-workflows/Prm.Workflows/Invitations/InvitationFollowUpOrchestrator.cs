using Microsoft.DurableTask;
using Prm.Core.Partners;

namespace Prm.Workflows.Invitations;

/// <summary>Waits until the reminder is due (a durable timer), then reminds the person if they have still not signed in.</summary>
public sealed class InvitationFollowUpOrchestrator : TaskOrchestrator<InvitationFollowUp, string>
{
    private static readonly TaskOptions Retry = ActivityRetry.Default;

    public override async Task<string> RunAsync(TaskOrchestrationContext context, InvitationFollowUp input)
    {
        if (input.RemindAt > context.CurrentUtcDateTime)
        {
            await context.CreateTimer(input.RemindAt.UtcDateTime, CancellationToken.None);
        }
        var outcome = await context.CallActivityAsync<InvitationReminderOutcome>(nameof(SendInvitationReminderActivity), input, Retry);
        return outcome.ToString();
    }
}

/// <summary>Sends the invitation reminder through the partner team service (idempotent, at-least-once safe).</summary>
public sealed class SendInvitationReminderActivity(IInvitationReminders reminders) : TaskActivity<InvitationFollowUp, InvitationReminderOutcome>
{
    public override Task<InvitationReminderOutcome> RunAsync(TaskActivityContext context, InvitationFollowUp input) => ExecuteAsync(input, CancellationToken.None);

    /// <summary>The step itself; the Functions wrapper calls it directly.</summary>
    public Task<InvitationReminderOutcome> ExecuteAsync(InvitationFollowUp input, CancellationToken ct) => reminders.RemindAsync(input.PartnerId, input.UserId, ct);
}
