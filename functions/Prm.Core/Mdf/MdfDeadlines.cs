using Prm.Core.Identity;
using Prm.Core.Settings;

namespace Prm.Core.Mdf;

/// <summary>
/// The MDF workflows' steps when a deadline passes: review reminders and escalation of a request, the claim window (activity ended,
/// reminders before the claim deadline, expiry releasing the reservation once), claim review reminders and escalation.
/// </summary>
public sealed class MdfDeadlines(IMdfStore store, MdfCommits commits, ProgramSettings settings, TimeProvider clock) : IMdfWorkflowSteps
{
    public async Task<string> RunStepAsync(MdfStep step, CancellationToken ct)
    {
        if (await store.GetRequestAsync(step.RequestId, ct) is null) return "closed";
        var rules = await settings.GetAsync<MdfSettings>(MdfSettings.SectionName, ct);
        var outcome = "done";
        await commits.ApplyAsync(Caller.System, step.RequestId, state =>
        {
            var (result, change) = state.Request.RunStep(step, rules, clock.GetUtcNow());
            outcome = result;
            return Task.FromResult(change);
        }, ct);
        return outcome;
    }
}
