using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Partners;

namespace Prm.Core.Onboarding;

/// <summary>Storage port of partner applications (a partition per application, an index for the vetting queue).</summary>
public interface IApplicationStore
{
    /// <param name="alongside">Writes that must succeed before the transaction (the decision links' rows); they run beside its outbox pointers.</param>
    Task<string> CreateAsync(PartnerApplication application, ChangeSet changes, CancellationToken ct, Task? alongside = null);

    Task<Versioned<PartnerApplication>?> GetAsync(string applicationId, CancellationToken ct);

    /// <summary>Replaces the application if its ETag still matches (412 otherwise); returns the new ETag.</summary>
    /// <param name="alongside">Writes and checks that must succeed before the transaction (e.g. an approval's key row reservation); they run beside its outbox pointers.</param>
    /// <param name="committed">
    /// Completed as soon as the transaction committed (failed when it did not), before the queue index and the domain's key row follow:
    /// for work that must follow the commit and may run beside those.
    /// </param>
    Task<string> UpdateAsync(PartnerApplication application, string etag, ChangeSet changes, CancellationToken ct, Task? alongside = null, TaskCompletionSource? committed = null);

    /// <summary>The vetting queue, newest first: all, or one assignee's; optionally one status.</summary>
    Task<Page<PartnerApplication>> ListAsync(string? assigneeId, ApplicationStatus? status, PageRequest page, CancellationToken ct);

    Task<Page<AuditEntry>> TimelineAsync(string applicationId, PageRequest page, CancellationToken ct);

    /// <summary>Counts one more attempt for a rate-limit key in the current hour and returns that count with the previous hour's.</summary>
    Task<(int Current, int Previous)> CountAttemptAsync(string key, CancellationToken ct);

    /// <summary>
    /// Marks the submission of an application id (one that follows from an Idempotency-Key) as counted: true for the first send of that
    /// id, false for every retry, so that only the first counts against the limits.
    /// </summary>
    Task<bool> CountSubmissionOnceAsync(string applicationId, CancellationToken ct);

    /// <summary>Forgets that mark again, when the first send was refused before it created anything (over a limit).</summary>
    Task ForgetSubmissionAsync(string applicationId, CancellationToken ct);

    /// <summary>The open application holding this company domain, if any.</summary>
    Task<string?> FindOpenByDomainAsync(string domain, CancellationToken ct);
}

/// <summary>The steps the review workflow runs when a deadline passes.</summary>
public enum ReviewStep { Remind, Escalate, Expire }

/// <summary>
/// What the review workflow needs to know of an application to pick its phase: the status, the review deadlines of the current cycle,
/// and while information is requested, when the answer is due.
/// </summary>
public sealed record ApplicationWorkflowState(string Status, DateTimeOffset RemindAt, DateTimeOffset EscalateAt, DateTimeOffset ExpiresAt, DateTimeOffset? InfoDueAt);

/// <summary>The port the review workflow calls.</summary>
public interface IApplicationReviewSteps
{
    /// <summary>The application's current state (null when it does not exist): the workflow follows state, not the order events arrive in.</summary>
    Task<ApplicationWorkflowState?> StateAsync(string applicationId, CancellationToken ct);

    /// <summary>
    /// Runs the step unless the application moved on; <paramref name="cycle"/> is the review expiry (or, waiting for an answer, the answer's
    /// due time) the step belongs to. Closed when nothing is left to do for it.
    /// </summary>
    Task<StepOutcome> RunReviewStepAsync(string applicationId, ReviewStep step, DateTimeOffset cycle, CancellationToken ct);
}
