using Microsoft.DurableTask;
using Prm.Core.Common;
using Prm.Core.Partners;

namespace Prm.Workflows.Onboarding;

/// <summary>Input of the checklist follow-up of a newly active partner.</summary>
public sealed record ChecklistFollowUp(string PartnerId, DateTimeOffset ActivatedAt, DateTimeOffset FirstReminderAt, DateTimeOffset SecondReminderAt)
{
    public static string InstanceId(string partnerId) => "checklist-" + partnerId;
}

/// <summary>Input of one checklist reminder.</summary>
public sealed record ChecklistReminder(string PartnerId, int Number, DateTimeOffset ActivatedAt);

/// <summary>After activation: reminders of the unfinished onboarding checklist items (defaults 7 and 21 days); nothing is sent once all are done.</summary>
public sealed class OnboardingChecklistOrchestrator : TaskOrchestrator<ChecklistFollowUp, string>
{
    private static readonly TaskOptions Retry = ActivityRetry.Default;

    public override async Task<string> RunAsync(TaskOrchestrationContext context, ChecklistFollowUp input)
    {
        var number = 0;
        foreach (var at in new[] { input.FirstReminderAt, input.SecondReminderAt })
        {
            number++;
            await context.CreateTimer(at.UtcDateTime, CancellationToken.None);
            var outcome = await context.CallActivityAsync<StepOutcome>(nameof(ChecklistReminderActivity), new ChecklistReminder(input.PartnerId, number, input.ActivatedAt), Retry);
            if (outcome == StepOutcome.Closed) return "complete";
        }
        return "reminded";
    }
}

/// <summary>Sends one checklist reminder (idempotent at the service).</summary>
public sealed class ChecklistReminderActivity(IChecklistReminders directory) : TaskActivity<ChecklistReminder, StepOutcome>
{
    public override Task<StepOutcome> RunAsync(TaskActivityContext context, ChecklistReminder input) => ExecuteAsync(input, CancellationToken.None);

    public Task<StepOutcome> ExecuteAsync(ChecklistReminder input, CancellationToken ct) =>
        StepMetrics.Counted("checklist", "Reminder" + input.Number, directory.RemindChecklistAsync(input.PartnerId, input.Number, input.ActivatedAt, ct));
}
