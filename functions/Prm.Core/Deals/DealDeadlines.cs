using Prm.Core.Common;
using Prm.Core.Identity;

namespace Prm.Core.Deals;

/// <summary>
/// The deal workflow's steps when a deadline passes: the review reminder and escalation, the expiry reminders and the expiry itself.
/// Each runs once per cycle (the submission, or the protection end) and does nothing once the registration moved on.
/// </summary>
public sealed class DealDeadlines(IDealStore store, DealCommits commits, TimeProvider clock) : IDealSteps
{
    public async Task<DealWorkflowState?> StateAsync(string dealId, CancellationToken ct) =>
        (await store.GetAsync(dealId, ct))?.Value is { } d ? new DealWorkflowState(d.Status.ToString(), d.SubmittedAt, d.ReviewRemindAt, d.ReviewEscalateAt, d.ProtectedUntil) : null;

    /// <summary>A deadline of the workflow passed. Idempotent: a step runs once per submission (review) or protection end (expiry).</summary>
    public Task<StepOutcome> RunDealStepAsync(string dealId, DealStep step, DateTimeOffset cycle, CancellationToken ct) =>
        ReadDecideCommit.RunAsync(async _ =>
        {
            if (await store.GetAsync(dealId, ct) is not { } found) return StepOutcome.Closed;
            var now = clock.GetUtcNow();
            var (result, change) = found.Value.RunStep(step, cycle, now);
            if (change is null) return result;
            await commits.CommitAsync(Caller.System, found, change, now, ct);
            return StepOutcome.Done;
        }, ct: ct);
}
