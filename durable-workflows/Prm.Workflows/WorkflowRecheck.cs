using Microsoft.DurableTask;

namespace Prm.Workflows;

/// <summary>
/// The one rule for workflows that wait for a change event: they read their record's state anyway after <see cref="Interval"/>.
/// A change event is only a hint, and it can be lost: the Durable Task libraries can drop an event raised in the moment of a
/// continue-as-new (microsoft/durabletask-dotnet#387, Azure/durabletask#1399), and two deliveries that start the same instance side by
/// side can leave the instance running on the input of the one that read the older state (the Azure Storage provider replaces an
/// instance when a start names no dedupe statuses). A workflow that only waited would then wait for good: an approved registration
/// that never expires, a period whose early close never runs. Every step is idempotent per cycle, so a generation that finds nothing
/// changed repeats no email.
/// </summary>
public static class WorkflowRecheck
{
    /// <summary>How long a generation waits for a change before it reads the state anyway.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromHours(6);

    /// <summary>The recheck a following generation carries: the current one's when set (a test's short one stays), else <see cref="Interval"/>.</summary>
    public static TimeSpan Next(TimeSpan current) => current > TimeSpan.Zero ? current : Interval;

    /// <summary>
    /// Waits for <paramref name="changed"/>, or at most <paramref name="recheck"/>; true when the change came. The timer that lost to the
    /// change is cancelled. Zero: the change alone (inputs written before the recheck existed carry none and replay exactly as they ran).
    /// </summary>
    public static async Task<bool> ChangeOrRecheckAsync(TaskOrchestrationContext context, Task changed, TimeSpan recheck)
    {
        if (recheck <= TimeSpan.Zero)
        {
            await changed;
            return true;
        }
        return await UntilAsync(context, changed, context.CurrentUtcDateTime + recheck);
    }

    /// <summary>What <see cref="ChangedOrDueAsync"/> answers when the recheck came before the change.</summary>
    public const string Due = "recheck";

    /// <summary>
    /// The change raced against the recheck, for a workflow that races the change against deadlines of its own (months apart): the
    /// change's value, or <see cref="Due"/> when the recheck came first. The timer is created now, before any deadline's; cancel it with
    /// <paramref name="cancel"/> when the race is over. Zero: the change alone.
    /// </summary>
    public static async Task<string> ChangedOrDueAsync(TaskOrchestrationContext context, Task<string> changed, TimeSpan recheck, CancellationToken cancel)
    {
        if (recheck <= TimeSpan.Zero) return await changed;
        var timer = context.CreateTimer(context.CurrentUtcDateTime + recheck, cancel);
        return await Task.WhenAny(changed, timer) == changed ? await changed : Due;
    }

    /// <summary>Waits for <paramref name="changed"/> or until <paramref name="until"/>; true when the change came (the timer is then cancelled).</summary>
    public static async Task<bool> UntilAsync(TaskOrchestrationContext context, Task changed, DateTimeOffset until)
    {
        using var cancel = new CancellationTokenSource();
        var timer = context.CreateTimer(until.UtcDateTime, cancel.Token);
        if (await Task.WhenAny(changed, timer) != changed) return false;
        cancel.Cancel();
        return true;
    }
}
