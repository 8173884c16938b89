using Prm.Core.Common;
using Prm.Core.Identity;

namespace Prm.Core.Onboarding;

/// <summary>
/// The review workflow's steps when a deadline passes: the reminder to the assignee, the escalation to the admins (with their own decision
/// links), the expiry (the applicant is told). Each runs once per review cycle and does nothing once the application moved on.
/// </summary>
public sealed class ApplicationDeadlines(IApplicationStore store, ApplicationCommits commits, TimeProvider clock) : IApplicationReviewSteps
{
    public async Task<ApplicationWorkflowState?> StateAsync(string applicationId, CancellationToken ct) =>
        (await store.GetAsync(applicationId, ct))?.Value is { } a
            ? new ApplicationWorkflowState(a.Status.ToString(), a.Deadlines.RemindAt, a.Deadlines.EscalateAt, a.Deadlines.ExpiresAt, a.Status == ApplicationStatus.InfoRequested ? a.InfoDueAt : null)
            : null;

    /// <summary>A deadline of the workflow passed. Idempotent: a step runs once per review cycle; a decided application is left alone.</summary>
    public Task<StepOutcome> RunReviewStepAsync(string applicationId, ReviewStep step, DateTimeOffset cycle, CancellationToken ct) =>
        ReadDecideCommit.RunAsync(async _ =>
        {
            if (await store.GetAsync(applicationId, ct) is not { } found) return StepOutcome.Closed;
            var now = clock.GetUtcNow();
            var (result, change) = found.Value.RunStep(step, cycle, now);
            if (change is null) return result;
            await commits.CommitAsync(Caller.System, found, change, now, null, ct);
            return StepOutcome.Done;
        }, ct: ct);
}
