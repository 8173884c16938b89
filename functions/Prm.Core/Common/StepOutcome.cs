namespace Prm.Core.Common;

/// <summary>What a workflow step found when its deadline passed (the result of every step activity).</summary>
public enum StepOutcome
{
    /// <summary>The step ran now (a reminder went out, an expiry was committed).</summary>
    Done,

    /// <summary>The step ran for this cycle before: a retried or repeated activity did nothing.</summary>
    DoneAlready,

    /// <summary>The step does not apply to the cycle it was scheduled for (e.g. a reminder of an earlier review cycle); the workflow goes on.</summary>
    Skipped,

    /// <summary>The record moved on (decided, cancelled, gone, nothing left to remind of): nothing is left for this workflow generation.</summary>
    Closed,
}
