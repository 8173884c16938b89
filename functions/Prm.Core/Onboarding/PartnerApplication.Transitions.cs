using System.Globalization;
using Prm.Core.Approvals;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Onboarding;

/// <summary>Who an email of an application transition goes to.</summary>
public enum ApplicationAudience
{
    /// <summary>The person who applied.</summary>
    Applicant,

    /// <summary>The assignee, or the program admins while the application has none.</summary>
    Reviewers,

    /// <summary>The program admins.</summary>
    Admins,
}

/// <summary>
/// An email a transition causes: the template and its audience, the reason it speaks of, whether each recipient gets a decision link,
/// the reviewer who asks (a request for information) and whether an expiry is for want of an answer.
/// </summary>
public sealed record ApplicationNotice(string Template, ApplicationAudience To, string? Reason = null, bool DecisionLink = false, string? AskedBy = null, bool Unanswered = false);

/// <summary>An integration event a transition causes (type from <see cref="ApplicationEvents"/>), with the reason it carries.</summary>
public sealed record ApplicationRaised(string Type, string? Reason = null);

/// <summary>
/// What a transition did: the new state, the timeline action (and its note), and the events and emails it causes, in commit order.
/// The use cases commit it; nothing here touches storage.
/// </summary>
public sealed record ApplicationChange(PartnerApplication Application, string Action, IReadOnlyList<ApplicationRaised> Events, IReadOnlyList<ApplicationNotice> Notices, string? Note = null);

/// <summary>
/// The life of an application: submitted UnderReview → Approved | Rejected | InfoRequested | Expired; InfoRequested → UnderReview (the
/// answer starts a new review cycle with fresh deadlines) | Approved | Rejected | Expired. Each transition checks the status in one place
/// and returns an <see cref="ApplicationChange"/>.
/// </summary>
public sealed partial record PartnerApplication
{
    /// <summary>The decisions a reviewer's link offers.</summary>
    public static readonly IReadOnlyList<string> ReviewDecisions = ["approve", "reject", "requestInfo"];

    /// <summary>A new application from the public form: the applicant gets the receipt (with the status link), the reviewers the application with decision links.</summary>
    public ApplicationChange Submitted() =>
        new(this, "application.submitted", [new(ApplicationEvents.Submitted)],
            [new("application-received", ApplicationAudience.Applicant), new("application-assigned", ApplicationAudience.Reviewers, DecisionLink: true)],
            Screening.Flags.Count == 0 ? null : "Flags: " + string.Join(", ", Screening.Flags));

    /// <summary>
    /// A retry of the submission (same applicant email and Idempotency-Key) gets a status link of its own: the hash of its secret joins the
    /// application. No email and no event: the application did not change. More than <see cref="MaxReissuedStatusLinks"/> retries are refused.
    /// </summary>
    public ApplicationChange StatusLinkReissued(string secretHash)
    {
        if (ReissuedStatusTokenHashes.Count >= MaxReissuedStatusLinks)
            throw new ConflictException($"This application was already submitted and its status link given out {MaxReissuedStatusLinks + 1} times; use one of those links.", "Idempotency-Key");
        return new(this with { ReissuedStatusTokenHashes = [.. ReissuedStatusTokenHashes, secretHash] }, "application.statusLinkReissued", [], [], "A retry of the submission (same Idempotency-Key) got a status link.");
    }

    /// <summary>
    /// Approves an open application: it names the partner it becomes (<see cref="PartnerIdOf"/>) and the partner's tier. The partner is
    /// created from this committed state, never before the commit (see <see cref="PartnerFromApplication"/>).
    /// </summary>
    public ApplicationChange Approve(ApplicationDecision decision, PartnerTier tier)
    {
        RequireOpen();
        var updated = this with { Status = ApplicationStatus.Approved, PartnerId = PartnerIdOf(Id), Tier = tier, Decisions = [.. Decisions, decision], InfoTokenHash = null };
        return new ApplicationChange(updated, "application.approved", [new(ApplicationEvents.Approved)], [new("application-approved", ApplicationAudience.Applicant)], decision.Reason);
    }

    /// <summary>Rejects an open application: final, the applicant is told why.</summary>
    public ApplicationChange Reject(ApplicationDecision decision)
    {
        RequireOpen();
        var updated = this with { Status = ApplicationStatus.Rejected, Decisions = [.. Decisions, decision], InfoTokenHash = null };
        return new ApplicationChange(updated, "application.rejected", [new(ApplicationEvents.Rejected, decision.Reason)],
            [new("application-rejected", ApplicationAudience.Applicant, decision.Reason)], decision.Reason);
    }

    /// <summary>
    /// Asks the applicant a question (the decision's reason) to answer until <paramref name="dueAt"/> with the single-use secret whose
    /// hash is <paramref name="tokenHash"/>. One request at a time; the review deadlines wait until the answer sets new ones.
    /// </summary>
    public ApplicationChange RequestInfo(ApplicationDecision decision, string tokenHash, DateTimeOffset dueAt)
    {
        if (Status == ApplicationStatus.InfoRequested)
        {
            throw new ConflictException($"Information was requested already and is due at {InfoDueAt?.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}; wait for the answer.", "decision");
        }
        RequireOpen();
        var updated = this with
        {
            Status = ApplicationStatus.InfoRequested, InfoRequest = decision.Reason, InfoAnswer = null, InfoDueAt = dueAt, InfoTokenHash = tokenHash,
            Decisions = [.. Decisions, decision],
        };
        return new ApplicationChange(updated, "application.infoRequested", [new(ApplicationEvents.InfoRequested, decision.Reason)],
            [new("application-info-requested", ApplicationAudience.Applicant, decision.Reason, AskedBy: decision.DecidedByName)], decision.Reason);
    }

    /// <summary>
    /// The applicant answers the open request for information (the token was checked): the application is under review again with
    /// <paramref name="deadlines"/>, a new review cycle, and the reviewers get the answer with new decision links. Past the due time 410.
    /// </summary>
    public ApplicationChange AnswerInfo(string answer, DateTimeOffset now, ReviewDeadlines deadlines)
    {
        // Too late is 410 whatever happened since (the expiry that followed the due time included); otherwise a decided application is 409.
        if (InfoDueAt is { } due && due <= now) throw new LinkExpiredException(due);
        // An application that lapsed with any of its deadlines took the answer link with it (the one lifetime policy of links).
        if (Status == ApplicationStatus.Expired) throw new LinkExpiredException("The application expired; this link ended with it.");
        if (Status != ApplicationStatus.InfoRequested) throw new ConflictException($"The application is {Status}; it no longer waits for an answer.", "token");
        var updated = this with
        {
            Status = ApplicationStatus.UnderReview, InfoAnswer = answer, InfoTokenHash = null, Deadlines = deadlines,
            Decisions = [.. Decisions, new ApplicationDecision("infoAnswered", null, "applicant", Applicant.Name, now)],
        };
        return new ApplicationChange(updated, "application.infoAnswered", [new(ApplicationEvents.InfoAnswered)],
            [new("application-info-answered", ApplicationAudience.Reviewers, DecisionLink: true)]);
    }

    /// <summary>
    /// A workflow deadline of the review cycle <paramref name="cycle"/> passed: the review's expiry time for the reminder, the escalation
    /// and the expiry of an application under review; the answer's due time for the expiry of an application waiting for an answer.
    /// Closed when the application moved on (decided, or in another cycle); done already when the step ran in this cycle before.
    /// </summary>
    public (StepOutcome Result, ApplicationChange? Change) RunStep(ReviewStep step, DateTimeOffset cycle, DateTimeOffset now)
    {
        var underReview = Status == ApplicationStatus.UnderReview && Deadlines.ExpiresAt == cycle;
        var unanswered = Status == ApplicationStatus.InfoRequested && InfoDueAt == cycle;
        if (!(underReview || (step == ReviewStep.Expire && unanswered))) return (StepOutcome.Closed, null);
        var action = step switch
        {
            ReviewStep.Remind => "application.reminded",
            ReviewStep.Escalate => "application.escalated",
            _ => "application.expired",
        };
        // A retried step sends nothing twice; an answered request for information starts a new cycle with its own steps.
        var cycleStart = Decisions.ToList().FindLastIndex(d => d.Decision == "infoAnswered");
        if (Decisions.Skip(cycleStart + 1).Any(d => d.Decision == action)) return (StepOutcome.DoneAlready, null);
        var updated = this with { Decisions = [.. Decisions, new ApplicationDecision(action, null, Caller.System.UserId, Caller.System.DisplayName, now)] };
        ApplicationChange change = step switch
        {
            ReviewStep.Remind => new(updated, action, [], [new("application-reminder", ApplicationAudience.Reviewers)]),
            ReviewStep.Escalate => new(updated, action, [], [new("application-escalated", ApplicationAudience.Admins, DecisionLink: true)]),
            _ => new(updated with { Status = ApplicationStatus.Expired }, action, [new(ApplicationEvents.Expired)],
                [new("application-expired", ApplicationAudience.Applicant, Unanswered: unanswered)]),
        };
        return (StepOutcome.Done, change);
    }

    /// <summary>Refuses a decision once the application is decided or expired, naming who decided and when.</summary>
    private void RequireOpen()
    {
        if (IsOpen) return;
        var last = Decisions.LastOrDefault();
        throw new ConflictException(last is null
            ? $"The application is {Status} and can no longer be decided."
            : $"Already decided ({last.Decision}) by {last.DecidedByName} at {last.DecidedAt.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}.", "decision");
    }
}
