using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Settings;

namespace Prm.Core.Mdf;

/// <summary>
/// What the MDF workflows read and run: the request's state (which picks the request workflow's phase), and the steps when a deadline
/// passes: review reminders and escalation of a request, the claim window (activity ended, reminders before the claim deadline, expiry
/// releasing the reservation once), claim review reminders and escalation.
/// </summary>
public sealed class MdfDeadlines(IMdfStore store, MdfCommits commits, ProgramSettings settings, TimeProvider clock) : IMdfWorkflowSteps
{
    /// <summary>The request's state for the workflow; an approved request's claim schedule is derived now, with the current rules.</summary>
    public async Task<MdfWorkflowState?> StateAsync(string requestId, CancellationToken ct)
    {
        if (await store.GetRequestAsync(requestId, ct) is not { } found) return null;
        var r = found.Request;
        IReadOnlyList<MdfEvents.ScheduledStep> schedule = [];
        if (r is { Status: FundRequestStatus.Approved, ClaimDeadline: not null })
            schedule = r.ClaimSchedule(await settings.GetAsync<MdfSettings>(MdfSettings.SectionName, ct), clock.GetUtcNow());
        var claim = r.Claim;
        return new MdfWorkflowState(r.Status.ToString(), r.Cycle, r.RemindAt, r.EscalateAt, claim?.Status.ToString(), claim?.Submission ?? 0,
            claim?.ReviewRemindAt, claim?.ReviewEscalateAt, schedule);
    }

    public async Task<StepOutcome> RunStepAsync(MdfStep step, CancellationToken ct)
    {
        if (await store.GetRequestAsync(step.RequestId, ct) is null) return StepOutcome.Closed;
        var rules = await settings.GetAsync<MdfSettings>(MdfSettings.SectionName, ct);
        var outcome = StepOutcome.Done;
        await commits.ApplyAsync(Caller.System, step.RequestId, state =>
        {
            var (result, change) = state.Request.RunStep(step, rules, clock.GetUtcNow());
            outcome = result;
            return Task.FromResult(change);
        }, ct);
        return outcome;
    }
}
