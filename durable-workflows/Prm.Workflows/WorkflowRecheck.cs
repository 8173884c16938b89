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
