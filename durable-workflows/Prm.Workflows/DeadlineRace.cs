using Microsoft.DurableTask;
using Prm.Core.Common;

namespace Prm.Workflows;

/// <summary>The shape every human-decision workflow shares: a decision event raced against a series of durable timers.</summary>
public static class DeadlineRace
{
    /// <summary>What the race returns when a step found the record moved on.</summary>
    public const string Closed = "closed";

    /// <summary>
    /// Waits for <paramref name="decided"/> or each deadline in turn; at each deadline that wins, runs its step (an activity).
    /// Returns the decision, <see cref="Closed"/> when a step finds nothing left to do (<see cref="StepOutcome.Closed"/>), or
    /// <paramref name="ranOut"/> after the last step.
    /// The timer that lost to the decision is cancelled.
    /// </summary>
    public static async Task<string> RunAsync<TStep>(TaskOrchestrationContext context, Task<string> decided, IEnumerable<(DateTimeOffset At, TStep Step)> deadlines, Func<TStep, Task<StepOutcome>> runStep, string ranOut)
    {
        foreach (var (at, step) in deadlines)
        {
            using var cancel = new CancellationTokenSource();
            var timer = context.CreateTimer(at.UtcDateTime, cancel.Token);
            if (await Task.WhenAny(decided, timer) == decided)
            {
                cancel.Cancel();
                return decided.Result;
            }
            if (await runStep(step) == StepOutcome.Closed) return Closed;
        }
        return ranOut;
    }
}
