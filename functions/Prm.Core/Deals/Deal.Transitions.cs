using System.Globalization;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;

namespace Prm.Core.Deals;

/// <summary>Who an email of a deal transition goes to.</summary>
public enum DealAudience
{
    /// <summary>The partner user who registered the deal.</summary>
    RegisteringUser,

    /// <summary>The partner's channel manager, or the program admins while the partner has none.</summary>
    Reviewers,

    /// <summary>The partner's channel manager only (nobody while the partner has none).</summary>
    AssignedReviewer,

    /// <summary>The program admins.</summary>
    Admins,
}

/// <summary>A decision link each recipient of a notice gets: the subject it decides and the decisions it allows.</summary>
public sealed record DealLink(string Kind, string SubjectId, IReadOnlyList<string> Decisions)
{
    /// <summary>Decision-link kind of a registration under review.</summary>
    public const string ReviewKind = "dealReview";

    /// <summary>Decision-link kind of an extension request (subject "dealId|extensionId").</summary>
    public const string ExtensionKind = "dealExtension";
}

/// <summary>An email a transition causes: the template and its audience, with the reason and extension it speaks of, and a decision link.</summary>
public sealed record DealNotice(string Template, DealAudience To, string? Reason = null, DealExtension? Extension = null, DealLink? Link = null);

/// <summary>An integration event a transition causes (type from <see cref="DealEvents"/>), with the reason it carries.</summary>
public sealed record DealRaised(string Type, string? Reason = null);

/// <summary>
/// What a transition did: the new state, the timeline action (and its note), and the events and emails it causes, in commit order.
/// The use cases commit it; nothing here touches storage.
/// </summary>
public sealed record DealChange(Deal Deal, string Action, IReadOnlyList<DealRaised> Events, IReadOnlyList<DealNotice> Notices, string? Note = null);

/// <summary>
/// The life of a registration: Draft → UnderReview → Approved | Rejected | Returned; Returned → UnderReview; Approved → Won | Lost | Expired;
/// Draft, UnderReview, Approved and Returned → Withdrawn. Each transition checks the status in one place and returns a <see cref="DealChange"/>.
/// </summary>
public sealed partial record Deal
{
    /// <summary>Decisions that end a review (the "already decided" message names the last of them).</summary>
    private static readonly string[] ReviewDecisions = ["approve", "reject", "return", "auto-approve"];

    /// <summary>The key a registration claims: the customer's registrable domain, else its normalized name.</summary>
    public static string ClaimKeyOf(DealCustomer customer) => customer.Domain is { } domain ? "d:" + domain : "n:" + customer.NameKey;

    /// <summary>A registration that is being edited, drafted or returned can be (re)submitted.</summary>
    public bool CanBeSubmitted => Status is DealStatus.Draft or DealStatus.Returned;

    /// <summary>
    /// Submits a Draft or resubmits a Returned registration with the conflict assessment and the claim it got: approved at once when
    /// <paramref name="autoApprove"/> (see <see cref="AutoApproval"/>), otherwise under review with the reviewers' deadlines and links.
    /// </summary>
    public DealChange Submit(DealConflict conflict, string? claimKey, bool autoApprove, DealSettings rules, DateTimeOffset now)
    {
        if (!CanBeSubmitted) throw new ConflictException($"A {Status} registration cannot be submitted; only Draft and Returned ones can.", "status");
        var action = Status == DealStatus.Returned ? "deal.resubmitted" : "deal.submitted";
        var note = conflict.Evidence.Count == 0 ? null : "Conflict " + conflict.Level + ": " + string.Join(" ", conflict.Evidence);
        var submitted = this with { SubmittedAt = now, Conflict = conflict, ClaimKey = claimKey, UpdatedAt = now };
        if (autoApprove)
        {
            submitted = submitted with
            {
                Status = DealStatus.Approved, ApprovedAt = now, ProtectedUntil = now + rules.ProtectionPeriod, ReviewRemindAt = null, ReviewEscalateAt = null,
                Decisions = [.. Decisions, new DealDecision("auto-approve", "The program's auto-approval rules allow it.", Caller.System.UserId, Caller.System.DisplayName, now)],
            };
            return new DealChange(submitted, action, [new(DealEvents.Submitted), new(DealEvents.Approved)], [new("deal-approved", DealAudience.RegisteringUser)], note);
        }
        submitted = submitted with { Status = DealStatus.UnderReview, ReviewRemindAt = now + rules.ReviewReminderAfter, ReviewEscalateAt = now + rules.ReviewEscalateAfter };
        return new DealChange(submitted, action, [new(DealEvents.Submitted)],
            [new("deal-under-review", DealAudience.RegisteringUser), new("deal-review", DealAudience.Reviewers, Link: ReviewLink())], note);
    }

    /// <summary>Edits a Draft or Returned registration; null when nothing changes. A changed customer gives up the claim of the old one.</summary>
    public DealChange? Edit(DealCustomer customer, IReadOnlyList<string> products, Money estimatedValue, DateOnly expectedCloseDate, string? notes, string? mdfRequestId, DateTimeOffset now)
    {
        if (!CanBeSubmitted) throw new ConflictException($"A {Status} registration cannot be edited; only Draft and Returned ones can.", "status");
        var updated = this with
        {
            Customer = customer, Products = products, EstimatedValue = estimatedValue, ExpectedCloseDate = expectedCloseDate, Notes = notes, MdfRequestId = mdfRequestId, UpdatedAt = now,
        };
        if (Diff.Between(Snapshot(), updated.Snapshot()).Count == 0) return null;
        if (ClaimKey is not null && ClaimKey != ClaimKeyOf(updated.Customer)) updated = updated with { ClaimKey = null, Conflict = updated.Conflict with { ClaimHeld = false } };
        return new DealChange(updated, "deal.updated", [new(DealEvents.Updated)], []);
    }

    /// <summary>Approves a registration under review: protection starts now, the registration holds <paramref name="claimKey"/>.</summary>
    public DealChange Approve(DealDecision decision, TimeSpan protection, string claimKey)
    {
        RequireUnderReview();
        var now = decision.DecidedAt;
        var updated = this with
        {
            Status = DealStatus.Approved, ApprovedAt = now, ProtectedUntil = now + protection, ClaimKey = claimKey, Conflict = Conflict with { ClaimHeld = true },
            Decisions = [.. Decisions, decision], UpdatedAt = now,
        };
        return new DealChange(updated, DealEvents.Approved, [new(DealEvents.Approved, decision.Reason)], [new("deal-approved", DealAudience.RegisteringUser)], decision.Reason);
    }

    /// <summary>Rejects a registration under review: final, its claim is released.</summary>
    public DealChange Reject(DealDecision decision) => Close(decision, DealStatus.Rejected, DealEvents.Rejected, "deal-rejected");

    /// <summary>Returns a registration under review to the partner: it gives up its claim and claims again when resubmitted.</summary>
    public DealChange Return(DealDecision decision) => Close(decision, DealStatus.Returned, DealEvents.Returned, "deal-returned");

    /// <summary>The partner withdraws the registration: final, the claim is released.</summary>
    public DealChange Withdraw(DealDecision decision)
    {
        if (Status is not (DealStatus.Draft or DealStatus.UnderReview or DealStatus.Approved or DealStatus.Returned))
            throw new ConflictException($"A {Status} registration cannot be withdrawn.", "status");
        var updated = WithoutClaim() with { Status = DealStatus.Withdrawn, Decisions = [.. Decisions, decision], UpdatedAt = decision.DecidedAt };
        return new DealChange(updated, "deal.withdrawn", [new(DealEvents.Withdrawn, decision.Reason)], []);
    }

    /// <summary>The partner asks for a longer protection: only while approved, one pending request at a time, at most the program's extensions.</summary>
    public DealChange RequestExtension(DealExtension extension, DealSettings rules)
    {
        if (Status != DealStatus.Approved) throw new ConflictException($"Only an approved registration can be extended; this one is {Status}.", "status");
        if (PendingExtension is not null) throw new ConflictException("An extension request is waiting for a decision already.", "days");
        if (Extensions.Count >= 10) throw new ValidationFailedException("days", "This registration had 10 extension requests; the program takes no more.", unprocessable: true);
        if (Extensions.Count(e => e.Status == "Approved") >= rules.MaxExtensions)
            throw new ValidationFailedException("days", $"This registration had its {rules.MaxExtensions} extension(s) already; the program allows no more.", unprocessable: true);
        var updated = this with { Extensions = [.. Extensions, extension], UpdatedAt = extension.RequestedAt };
        return new DealChange(updated, "deal.extensionRequested", [new(DealEvents.ExtensionRequested, extension.Reason)],
            [new("deal-extension-requested", DealAudience.Reviewers, Extension: extension, Link: new DealLink(DealLink.ExtensionKind, Id + "|" + extension.Id, ["approve", "reject"]))]);
    }

    /// <summary>Decides a pending extension request: approve moves the protection end, reject tells the partner.</summary>
    public DealChange DecideExtension(string extensionId, DealDecision decision)
    {
        var extension = Extensions.FirstOrDefault(e => e.Id == extensionId) ?? throw new NotFoundException("Extension request");
        if (extension.Status != "Pending") throw new ConflictException($"Already decided ({extension.Status}) by {extension.DecidedByName} at {extension.DecidedAt?.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}.", "decision");
        if (Status != DealStatus.Approved) throw new ConflictException($"The registration is {Status}; its protection can no longer be extended.", "decision");
        var approve = decision.Decision == "approve";
        var decided = extension with { Status = approve ? "Approved" : "Rejected", DecidedByName = decision.DecidedByName, DecidedAt = decision.DecidedAt, DecisionReason = decision.Reason };
        var updated = this with
        {
            Extensions = Extensions.Select(e => e.Id == extensionId ? decided : e).ToList(),
            ProtectedUntil = approve ? ProtectedUntil!.Value.AddDays(extension.Days) : ProtectedUntil,
            Decisions = [.. Decisions, decision with { Decision = "extension." + decision.Decision }],
            UpdatedAt = decision.DecidedAt,
        };
        return new DealChange(updated, "deal.extension." + (approve ? "approved" : "rejected"), approve ? [new(DealEvents.Extended, extension.Reason)] : [],
            [new("deal-extension-decided", DealAudience.RegisteringUser, decision.Reason, decided)]);
    }

    /// <summary>Records how the opportunity ended: won (only when approved, in the registration's currency) or lost. Ends protection, releases the claim.</summary>
    public DealChange RecordOutcome(DealOutcome outcome)
    {
        var won = outcome.Result == "won";
        if (won && Status != DealStatus.Approved) throw new ConflictException($"Only an approved registration can be won; this one is {Status}.", "result");
        if (Status is not (DealStatus.Approved or DealStatus.UnderReview or DealStatus.Returned)) throw new ConflictException($"A {Status} registration has no open outcome.", "result");
        if (won && outcome.Amount?.Currency != EstimatedValue.Currency)
            throw new ValidationFailedException("amount.currency", $"amount.currency must be {EstimatedValue.Currency}, the currency of the registration.", unprocessable: true);
        var updated = WithoutClaim() with { Status = won ? DealStatus.Won : DealStatus.Lost, Outcome = outcome, UpdatedAt = outcome.RecordedAt };
        return new DealChange(updated, "deal." + outcome.Result, [new(won ? DealEvents.Won : DealEvents.Lost, outcome.Reason)], []);
    }

    /// <summary>
    /// Changes the outcome of a won registration (its channel manager or an admin, with a reason): lost (deal.lost) or won with a corrected
    /// amount or close date (deal.outcomeChanged). Incentives follow: the accrual is reversed, and accrued again for a corrected win.
    /// </summary>
    public DealChange ChangeOutcome(DealOutcome outcome, bool byVendor)
    {
        if (Status != DealStatus.Won) throw new ConflictException($"Only a won registration's outcome can be changed; this one is {Status}.", "result");
        if (!byVendor) throw new ConflictException("The registration is won; its outcome is changed by the partner's channel manager or an admin.", "result");
        if (string.IsNullOrWhiteSpace(outcome.Reason)) throw new ValidationFailedException("reason", "reason is required to change a won registration's outcome.");
        if (outcome.Result == "won")
        {
            if (outcome.Amount?.Currency != EstimatedValue.Currency)
                throw new ValidationFailedException("amount.currency", $"amount.currency must be {EstimatedValue.Currency}, the currency of the registration.", unprocessable: true);
            if (Outcome is { } before && before.Amount == outcome.Amount && before.CloseDate == outcome.CloseDate)
                throw new ConflictException("The registration is won with this amount and close date already.", "result");
            var corrected = this with { Outcome = outcome, UpdatedAt = outcome.RecordedAt };
            return new DealChange(corrected, "deal.outcomeChanged", [new(DealEvents.OutcomeChanged, outcome.Reason)], [], outcome.Reason);
        }
        var lost = this with { Status = DealStatus.Lost, Outcome = outcome, UpdatedAt = outcome.RecordedAt };
        return new DealChange(lost, "deal.lost", [new(DealEvents.Lost, outcome.Reason)], [], outcome.Reason);
    }

    /// <summary>
    /// A workflow deadline of <paramref name="cycle"/> (the submission for review steps, the protection end for expiry steps) passed.
    /// Closed when the registration moved on; done already when the step ran for this cycle before (each step runs once per cycle).
    /// </summary>
    public (StepOutcome Result, DealChange? Change) RunStep(DealStep step, DateTimeOffset cycle, DateTimeOffset now)
    {
        var review = step is DealStep.ReviewRemind or DealStep.ReviewEscalate;
        if (review && (Status != DealStatus.UnderReview || SubmittedAt != cycle)) return (StepOutcome.Closed, null);
        if (!review && (Status != DealStatus.Approved || ProtectedUntil != cycle)) return (StepOutcome.Closed, null);
        var action = "deal." + Text.Camel(step);
        var stamp = cycle.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        if (Decisions.Any(d => d.Decision == action && d.Reason == stamp)) return (StepOutcome.DoneAlready, null);
        var updated = this with { Decisions = [.. Decisions, new DealDecision(action, stamp, Caller.System.UserId, Caller.System.DisplayName, now)] };
        DealChange change = step switch
        {
            DealStep.ReviewRemind => new(updated, action, [], [new("deal-review-reminder", DealAudience.Reviewers)]),
            DealStep.ReviewEscalate => new(updated, action, [], [new("deal-review-escalated", DealAudience.Admins, Link: ReviewLink())]),
            DealStep.ExpiryFirstReminder or DealStep.ExpirySecondReminder => new(updated, action, [], [new("deal-expiring", DealAudience.RegisteringUser)]),
            _ => new(updated.WithoutClaim() with { Status = DealStatus.Expired, UpdatedAt = now }, action, [new(DealEvents.Expired)],
                [new("deal-expired", DealAudience.RegisteringUser), new("deal-expired", DealAudience.AssignedReviewer)]),
        };
        return (StepOutcome.Done, change);
    }

    private DealChange Close(DealDecision decision, DealStatus status, string eventType, string template)
    {
        RequireUnderReview();
        var updated = WithoutClaim() with { Status = status, Decisions = [.. Decisions, decision], UpdatedAt = decision.DecidedAt };
        return new DealChange(updated, eventType, [new(eventType, decision.Reason)], [new(template, DealAudience.RegisteringUser, decision.Reason)], decision.Reason);
    }

    /// <summary>Refuses a decision once the review is over, naming who decided and when.</summary>
    private void RequireUnderReview()
    {
        if (Status == DealStatus.UnderReview) return;
        var last = Decisions.LastOrDefault(d => ReviewDecisions.Contains(d.Decision));
        throw new ConflictException(last is null
            ? $"The registration is {Status} and can no longer be decided."
            : $"Already decided ({last.Decision}) by {last.DecidedByName} at {last.DecidedAt.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}.", "decision");
    }

    private Deal WithoutClaim() => this with { ClaimKey = null, Conflict = Conflict with { ClaimHeld = false } };

    private DealLink ReviewLink() => new(DealLink.ReviewKind, Id, ["approve", "reject", "return"]);
}
