using Prm.Core.Common;

namespace Prm.Workflows;

/// <summary>Counts every workflow step an activity runs (metric <c>prm.workflow.steps</c>: workflow, step, outcome) — in the activity, never in an orchestrator, whose code replays.</summary>
public static class StepMetrics
{
    public static async Task<StepOutcome> Counted(string workflow, string step, Task<StepOutcome> run)
    {
        var outcome = await run;
        PrmTelemetry.CountWorkflowStep(workflow, step, outcome);
        return outcome;
    }
}
