using System.Globalization;
using Prm.Core.Common;

namespace Prm.Core.Mdf;

/// <summary>A money movement a transition causes, appended to the budget's ledger in the same transaction.</summary>
public sealed record MdfMove(LedgerEntryKind Kind, Money Amount, string Subject, Money? Basis = null);

/// <summary>An integration event a transition causes (type from <see cref="MdfEvents"/>).</summary>
public sealed record MdfRaised(string Type, string? Reason = null, IReadOnlyList<MdfEvents.ScheduledStep>? Schedule = null, bool WasApproved = false);

/// <summary>Who an MDF email goes to.</summary>
public enum MdfAudience
{
    /// <summary>The partner user who filed the request.</summary>
    Requester,

    /// <summary>The partner's channel manager, or the program admins while there is none.</summary>
    Reviewers,

    /// <summary>The program admins.</summary>
    Admins,

    /// <summary>The program admins except the one who gave the first approval (the second approval is another admin's).</summary>
    AdminsButFirstApprover,
}

/// <summary>What a reviewer's email links to.</summary>
public enum MdfLinkKind { None, RequestDecision, ClaimReview }

/// <summary>An email a transition causes; a request-decision link is valid for <see cref="LinkValidFor"/>.</summary>
public sealed record MdfNotice(MdfAudience To, string Headline, string Message, MdfLinkKind Link = MdfLinkKind.None, TimeSpan LinkValidFor = default);

/// <summary>
/// What a transition of a fund request (or its claim) did: the new state, the timeline action and note, the ledger moves, the events and
/// the emails. <see cref="SubjectType"/> is "claim" for claim changes (the request's timeline holds both).
/// </summary>
public sealed record MdfChange(FundRequest Updated, string Action, string? Note, IReadOnlyList<MdfMove> Moves, IReadOnlyList<MdfRaised> Events, IReadOnlyList<MdfNotice> Notices, string SubjectType = "request");

/// <summary>
/// The life of a fund request and its claim: Submitted ⇄ InfoRequested → (AwaitingSecondApproval →) Approved | Rejected | Cancelled;
/// Approved → claim Draft → Submitted → Approved → Paid (request Closed) | Rejected (Closed) | InfoRequested → Submitted; Approved without
/// a claim past the deadline → Expired. Each transition checks the status in one place and returns an <see cref="MdfChange"/>.
/// </summary>
public sealed partial record FundRequest
{
    /// <summary>Most proofs a claim holds.</summary>
    public const int MaxProofs = 20;

    /// <summary>The claim deadline lies at most this many days (ten years) after the activity ends: a domain range checked before any date arithmetic.</summary>
    public const int MaxClaimWindowDays = 3650;

    private static readonly string[] RequestDecisions = ["approve", "reject", "requestInfo", "firstApproval", "cancel"];

    /// <summary>A new request reserves its amount (pending) and asks the reviewers, with decision links.</summary>
    public MdfChange Submit(MdfSettings rules) => new(this, MdfEvents.RequestSubmitted, null, [new MdfMove(LedgerEntryKind.RequestSubmitted, RequestedAmount, Id)],
        [new MdfRaised(MdfEvents.RequestSubmitted)],
        [new MdfNotice(MdfAudience.Reviewers, "A fund request waits for your decision",
            $"{PartnerName} requests {RequestedAmount} for \"{Title}\" ({Text.Camel(ActivityType)}, {BudgetDto.Iso(StartDate)} to {BudgetDto.Iso(EndDate)}). Reminder on {Format(RemindAt)}, escalation on {Format(EscalateAt)}.",
            MdfLinkKind.RequestDecision, rules.RequestEscalateAfter * 2)]);

    /// <summary>Cancels a pending request (pending → available) or an approved one without a submitted claim (reservation → available).</summary>
    public MdfChange Cancel(MdfDecisionRecord record, bool byPartner)
    {
        List<MdfMove> moves;
        var wasApproved = Status == FundRequestStatus.Approved;
        if (IsPending) moves = [new MdfMove(byPartner ? LedgerEntryKind.RequestWithdrawn : LedgerEntryKind.RequestCancelled, RequestedAmount, Id)];
        else if (wasApproved && Claim?.Status is null or MdfClaimStatus.Draft or MdfClaimStatus.InfoRequested) moves = [new MdfMove(LedgerEntryKind.Released, ApprovedAmount!.Value, Id)];
        else throw new ConflictException(Claim is null ? $"The request is {Status}; it can no longer be cancelled." : $"The claim is {Claim.Status}; the request can no longer be cancelled.", "status");
        var updated = this with { Status = FundRequestStatus.Cancelled, Claim = Claim is null ? null : Claim with { Status = MdfClaimStatus.Expired }, Decisions = [.. Decisions, record] };
        List<MdfNotice> notices = byPartner ? [] :
            [new MdfNotice(MdfAudience.Requester, "Your fund request was cancelled", $"{record.ByName} cancelled \"{Title}\"{(record.Reason is { } reason ? ": " + reason : ".")} The reserved funds return to your budget.")];
        return new MdfChange(updated, MdfEvents.RequestCancelled, record.Reason, moves, [new MdfRaised(MdfEvents.RequestCancelled, record.Reason, WasApproved: wasApproved)], notices);
    }

    /// <summary>
    /// The reviewer's decision: reject (final; the pending amount returns), request info (back to the partner), or approve — with the
    /// amount, reimbursement percent and claim deadline (each defaulting to the first approval's, then the request's, then the rules').
    /// Above the threshold the first approval waits for a second, different admin (<see cref="MdfSettings.NeedsSecondApproval"/>).
    /// </summary>
    public MdfChange Decide(MdfDecision decision, MdfDecisionRecord record, Money? approvedAmount, decimal? maxReimbursementPercent, DateOnly? claimDeadline, MdfSettings rules, bool byAdmin)
    {
        if (!IsPending || (Status == FundRequestStatus.InfoRequested && decision == MdfDecision.RequestInfo))
        {
            var last = Decisions.LastOrDefault(d => RequestDecisions.Contains(d.Decision));
            throw new ConflictException(last is null ? $"The request is {Status} and can no longer be decided." : $"The request is {Status}: {last.Decision} by {last.ByName} at {Format(last.At)}.", "decision");
        }
        if (Status == FundRequestStatus.AwaitingSecondApproval && decision == MdfDecision.Approve)
        {
            if (!byAdmin) throw new ForbiddenException("The second approval is an admin's.");
            if (FirstApproval?.ById == record.ById) throw new ConflictException($"{record.ByName} gave the first approval; a second admin approves.", "decision");
        }
        var now = record.At;
        switch (decision)
        {
            case MdfDecision.Reject:
            {
                var updated = this with { Status = FundRequestStatus.Rejected, FirstApproval = null, Decisions = [.. Decisions, record] };
                return new MdfChange(updated, MdfEvents.RequestRejected, record.Reason, [new MdfMove(LedgerEntryKind.RequestRejected, RequestedAmount, Id)],
                    [new MdfRaised(MdfEvents.RequestRejected, record.Reason)],
                    [new MdfNotice(MdfAudience.Requester, "Your fund request was rejected", $"{record.ByName} rejected \"{Title}\": {record.Reason}")]);
            }
            case MdfDecision.RequestInfo:
            {
                var updated = this with { Status = FundRequestStatus.InfoRequested, FirstApproval = null, InfoRequest = record.Reason, InfoAnswer = null, Decisions = [.. Decisions, record] };
                return new MdfChange(updated, MdfEvents.RequestInfoRequested, record.Reason, [], [new MdfRaised(MdfEvents.RequestInfoRequested, record.Reason)],
                    [new MdfNotice(MdfAudience.Requester, "More information needed for your fund request", $"{record.ByName} asks about \"{Title}\": {record.Reason} Answer in the portal; the request keeps its place.")]);
            }
        }
        var second = Status == FundRequestStatus.AwaitingSecondApproval;
        var approved = approvedAmount ?? (second ? FirstApproval?.Amount : null) ?? RequestedAmount;
        var percent = maxReimbursementPercent ?? FirstApprovalPercent ?? 100m;
        var deadline = claimDeadline ?? MdfRules.ParseDate(FirstApprovalDeadline) ?? EndDate.AddDays(rules.DefaultClaimDeadlineDays);
        if (deadline < EndDate) throw new ValidationFailedException("claimDeadline", $"claimDeadline must not be before the activity ends ({BudgetDto.Iso(EndDate)}).");
        if (deadline > EndDate.AddDays(MaxClaimWindowDays))
            throw new ValidationFailedException("claimDeadline", $"claimDeadline must be at most {MaxClaimWindowDays} days after the activity ends ({BudgetDto.Iso(EndDate.AddDays(MaxClaimWindowDays))}).", unprocessable: true);
        record = record with { Amount = approved };
        if (!second && rules.NeedsSecondApproval(approved))
        {
            var first = record with { Decision = "firstApproval" };
            var waiting = this with
            {
                Status = FundRequestStatus.AwaitingSecondApproval, FirstApproval = first, FirstApprovalPercent = percent, FirstApprovalDeadline = BudgetDto.Iso(deadline),
                Cycle = Cycle + 1, RemindAt = now + rules.RequestReminderAfter, EscalateAt = now + rules.RequestEscalateAfter, Decisions = [.. Decisions, first],
            };
            return new MdfChange(waiting, MdfEvents.RequestFirstApproved, record.Reason, [], [new MdfRaised(MdfEvents.RequestFirstApproved)],
                [new MdfNotice(MdfAudience.AdminsButFirstApprover, "A fund request needs your second approval",
                    $"{record.ByName} approved {approved} for \"{Title}\" of {PartnerName}; above {new Money(rules.SecondApprovalAbove, approved.Currency)} a second admin approves.",
                    MdfLinkKind.RequestDecision, rules.RequestEscalateAfter * 2)]);
        }
        var approvedRequest = this with { Status = FundRequestStatus.Approved, ApprovedAmount = approved, MaxReimbursementPercent = percent, ClaimDeadline = deadline, Decisions = [.. Decisions, record] };
        return new MdfChange(approvedRequest, MdfEvents.RequestApproved, record.Reason, [new MdfMove(LedgerEntryKind.RequestApproved, approved, Id, RequestedAmount)],
            [new MdfRaised(MdfEvents.RequestApproved, Schedule: approvedRequest.ClaimSchedule(rules, now))],
            [new MdfNotice(MdfAudience.Requester, "Your fund request was approved",
                $"\"{Title}\" is approved for {approved}, reimbursed up to {percent.ToString("0.##", CultureInfo.InvariantCulture)} % (at most {approvedRequest.MaxClaim}). Claim with proof of performance after the activity, by {BudgetDto.Iso(deadline)}.")]);
    }

    /// <summary>The partner answers a request for information; the review starts again with fresh deadlines.</summary>
    public MdfChange AnswerInfo(string answer, MdfDecisionRecord record, MdfSettings rules)
    {
        if (Status != FundRequestStatus.InfoRequested) throw new ConflictException($"The request is {Status}; no information was asked for.", "answer");
        var updated = this with
        {
            Status = FundRequestStatus.Submitted, InfoAnswer = answer, Cycle = Cycle + 1, RemindAt = record.At + rules.RequestReminderAfter, EscalateAt = record.At + rules.RequestEscalateAfter,
            Decisions = [.. Decisions, record],
        };
        return new MdfChange(updated, MdfEvents.RequestInfoAnswered, null, [], [new MdfRaised(MdfEvents.RequestInfoAnswered)],
            [new MdfNotice(MdfAudience.Reviewers, "A fund request was answered", $"{PartnerName} answered your question on \"{Title}\": {answer}", MdfLinkKind.RequestDecision, rules.RequestEscalateAfter * 2)]);
    }

    /// <summary>Opens the claim of an approved request (one per request).</summary>
    public MdfChange OpenClaim(MdfClaim claim)
    {
        if (Status != FundRequestStatus.Approved) throw new ConflictException($"The request is {Status}; only an approved request is claimed.", "status");
        if (Claim is not null) throw new ConflictException($"The request has a claim already ({Claim.Id}, {Claim.Status}).", "claim");
        return ClaimChange(this with { Claim = claim }, "mdf.claim.created", null);
    }

    /// <summary>The claim while proofs may be added and it may be submitted: a Draft, or returned for information, of an approved request.</summary>
    public MdfClaim EditableClaim()
    {
        var c = Claim ?? throw new NotFoundException("Claim");
        if (Status != FundRequestStatus.Approved || c.Status is not (MdfClaimStatus.Draft or MdfClaimStatus.InfoRequested))
            throw new ConflictException($"The claim is {c.Status}; proofs are added and claims submitted while it is a Draft or returned for information.", "status");
        return c;
    }

    /// <summary>Adds a pending proof slot to the editable claim (at most <see cref="MaxProofs"/>).</summary>
    public MdfChange AddProof(MdfProof proof)
    {
        var c = EditableClaim();
        if (c.Proofs.Count >= MaxProofs) throw new ConflictException($"A claim holds at most {MaxProofs} proofs.", "proofs");
        return ClaimChange(this with { Claim = c with { Proofs = [.. c.Proofs, proof] } }, "mdf.proof.added", proof.FileName);
    }

    /// <summary>Drops a proof whose upload was refused; null when it is gone already.</summary>
    public MdfChange? DropProof(string proofId, string note)
    {
        var c = Claim!;
        return c.Proofs.All(p => p.Id != proofId) ? null : ClaimChange(this with { Claim = c with { Proofs = c.Proofs.Where(p => p.Id != proofId).ToList() } }, "mdf.proof.rejected", note);
    }

    /// <summary>Marks a proof verified (its content was sniffed); null when it was verified already.</summary>
    public MdfChange? VerifyProof(string proofId, string type, string contentType, long size, DateTimeOffset at)
    {
        var c = Claim!;
        var current = c.Proofs.FirstOrDefault(p => p.Id == proofId) ?? throw new NotFoundException("Proof");
        if (current.Status == ProofStatus.Verified) return null;
        var verified = current with { Status = ProofStatus.Verified, Type = type, ContentType = contentType, Size = size, VerifiedAt = at };
        return ClaimChange(this with { Claim = c with { Proofs = c.Proofs.Select(p => p.Id == proofId ? verified : p).ToList() } }, "mdf.proof.verified", $"{proofId}: {contentType}, {size} bytes");
    }

    /// <summary>
    /// Submits (or, after "request info", resubmits) the claim: before the claim deadline, with at least one verified proof, at most the
    /// approved amount × the reimbursement percent. The claimed amount moves from reserved to claimed in the ledger.
    /// </summary>
    public MdfChange SubmitClaim(ClaimInput? changes, MdfSettings rules, DateTimeOffset now)
    {
        var c = EditableClaim();
        if (ClaimDeadline is { } deadline && DateOnly.FromDateTime(now.UtcDateTime) > deadline)
            throw new ValidationFailedException("claimDeadline", $"The claim deadline {BudgetDto.Iso(deadline)} has passed.", unprocessable: true);
        if (!c.Proofs.Any(p => p.Status == ProofStatus.Verified))
            throw new ValidationFailedException("proofs", "Upload at least one proof of performance (and complete it) before submitting.", unprocessable: true);
        if (changes is not null)
            c = c with { ClaimedAmount = changes.ClaimedAmount!.ToMoney(), ActualLeads = changes.ActualLeads ?? c.ActualLeads, Attendees = changes.Attendees ?? c.Attendees, Notes = changes.Notes?.Trim() ?? c.Notes };
        if (MaxClaim is { } max && (c.ClaimedAmount.Currency != max.Currency || c.ClaimedAmount.Amount > max.Amount))
            throw new ValidationFailedException("claimedAmount.amount", $"claimedAmount must not exceed {max} (approved amount x max reimbursement percent).", unprocessable: true);
        var submitted = c with { Status = MdfClaimStatus.Submitted, Submission = c.Submission + 1, SubmittedAt = now, ReviewRemindAt = now + rules.ClaimReviewReminderAfter, ReviewEscalateAt = now + rules.ClaimReviewEscalateAfter };
        return new MdfChange(this with { Claim = submitted }, MdfEvents.ClaimSubmitted, null, [new MdfMove(LedgerEntryKind.ClaimSubmitted, submitted.ClaimedAmount, submitted.SubmissionSubject)],
            [new MdfRaised(MdfEvents.ClaimSubmitted)],
            [new MdfNotice(MdfAudience.Reviewers, "A claim waits for your review",
                $"{PartnerName} claims {submitted.ClaimedAmount} for \"{Title}\" with {submitted.Proofs.Count(p => p.Status == ProofStatus.Verified)} proof(s), {submitted.ActualLeads} leads. Reminder on {Format(submitted.ReviewRemindAt!.Value)}.",
                MdfLinkKind.ClaimReview)], "claim");
    }

    /// <summary>
    /// Decides a submitted claim: approve (amount, default the claimed one; the rest of the reservation returns to available), reject (final;
    /// the reservation returns, the request closes) or request info (back to the partner for more proofs).
    /// </summary>
    public MdfChange DecideClaim(MdfDecision decision, Money? amount, MdfDecisionRecord by)
    {
        var c = Claim ?? throw new NotFoundException("Claim");
        if (c.Status != MdfClaimStatus.Submitted)
        {
            var last = Decisions.LastOrDefault(d => d.Decision.StartsWith("claim", StringComparison.Ordinal));
            throw new ConflictException(last is null ? $"The claim is {c.Status}; only a submitted claim is decided." : $"The claim is {c.Status}: {last.Decision} by {last.ByName} at {Format(last.At)}.", "decision");
        }
        var reason = by.Reason;
        switch (decision)
        {
            case MdfDecision.Approve:
            {
                var granted = amount ?? c.ClaimedAmount;
                var release = MdfMoney.Subtract(ApprovedAmount!.Value, granted);
                var moves = new List<MdfMove> { new(LedgerEntryKind.ClaimApproved, granted, c.SubmissionSubject, c.ClaimedAmount) };
                if (release.Amount > 0) moves.Add(new MdfMove(LedgerEntryKind.Released, release, Id));
                var updated = this with { Claim = c with { Status = MdfClaimStatus.Approved, ApprovedAmount = granted }, Decisions = [.. Decisions, by with { Decision = "claimApprove", Amount = granted }] };
                return new MdfChange(updated, MdfEvents.ClaimApproved, reason, moves, [new MdfRaised(MdfEvents.ClaimApproved, reason)],
                    [new MdfNotice(MdfAudience.Requester, "Your claim was approved", $"{by.ByName} approved {granted} of your claim for \"{Title}\"; finance pays it out.")], "claim");
            }
            case MdfDecision.Reject:
            {
                var updated = this with { Status = FundRequestStatus.Closed, Claim = c with { Status = MdfClaimStatus.Rejected }, Decisions = [.. Decisions, by with { Decision = "claimReject" }] };
                return new MdfChange(updated, MdfEvents.ClaimRejected, reason,
                    [new MdfMove(LedgerEntryKind.ClaimRejected, c.ClaimedAmount, c.SubmissionSubject), new MdfMove(LedgerEntryKind.Released, ApprovedAmount!.Value, Id)],
                    [new MdfRaised(MdfEvents.ClaimRejected, reason)],
                    [new MdfNotice(MdfAudience.Requester, "Your claim was rejected", $"{by.ByName} rejected your claim for \"{Title}\": {reason}")], "claim");
            }
            default:
            {
                var updated = this with { Claim = c with { Status = MdfClaimStatus.InfoRequested }, Decisions = [.. Decisions, by with { Decision = "claimRequestInfo" }] };
                return new MdfChange(updated, MdfEvents.ClaimInfoRequested, reason, [new MdfMove(LedgerEntryKind.ClaimReturned, c.ClaimedAmount, c.SubmissionSubject)],
                    [new MdfRaised(MdfEvents.ClaimInfoRequested, reason)],
                    [new MdfNotice(MdfAudience.Requester, "More information needed for your claim", $"{by.ByName} asks about your claim for \"{Title}\": {reason} Add proofs and submit it again.")], "claim");
            }
        }
    }

    /// <summary>Finance records the payout of an approved claim: Paid, final; the request is closed.</summary>
    public MdfChange Pay(string paymentReference, string paidOn, MdfDecisionRecord by)
    {
        var c = Claim ?? throw new NotFoundException("Claim");
        if (c.Status == MdfClaimStatus.Paid) throw new ConflictException($"The claim was paid already (reference {c.PaymentReference}, {c.PaidOn}); paid claims are final.", "paymentReference");
        if (c.Status != MdfClaimStatus.Approved) throw new ConflictException($"The claim is {c.Status}; only an approved claim is paid.", "status");
        var updated = this with
        {
            Status = FundRequestStatus.Closed, Claim = c with { Status = MdfClaimStatus.Paid, PaymentReference = paymentReference, PaidOn = paidOn },
            Decisions = [.. Decisions, by with { Decision = "claimPaid", Reason = paymentReference, Amount = c.ApprovedAmount }],
        };
        return new MdfChange(updated, MdfEvents.ClaimPaid, paymentReference, [new MdfMove(LedgerEntryKind.Paid, c.ApprovedAmount!.Value, c.Id)], [new MdfRaised(MdfEvents.ClaimPaid)],
            [new MdfNotice(MdfAudience.Requester, "Your claim was paid", $"{c.ApprovedAmount} for \"{Title}\" was paid on {paidOn} (reference {paymentReference}).")], "claim");
    }

    /// <summary>
    /// A workflow deadline passed. Returns what the step found (Closed when the workflow has nothing left, DoneAlready for a retried step,
    /// Skipped for a step of an earlier review cycle) and the change to commit, if any. Each step runs once per cycle, claim submission and reminder (recorded in StepsDone).
    /// </summary>
    public (StepOutcome Outcome, MdfChange? Change) RunStep(MdfStep step, MdfSettings rules, DateTimeOffset now)
    {
        var key = $"{step.Kind}:{step.Cycle}:{step.DaysBefore}:{step.Submission}";
        if (StepsDone.Contains(key)) return (StepOutcome.DoneAlready, null);
        var marked = this with { StepsDone = [.. StepsDone, key] };
        var claimOpen = Status == FundRequestStatus.Approved && Claim?.Status is not (MdfClaimStatus.Submitted or MdfClaimStatus.Approved or MdfClaimStatus.Paid or MdfClaimStatus.Rejected);
        switch (step.Kind)
        {
            case MdfStepKind.RequestRemind or MdfStepKind.RequestEscalate:
            {
                if (Status is FundRequestStatus.Rejected or FundRequestStatus.Cancelled or FundRequestStatus.Expired or FundRequestStatus.Closed) return (StepOutcome.Closed, null);
                if (!(Status is FundRequestStatus.Submitted or FundRequestStatus.AwaitingSecondApproval) || step.Cycle != Cycle) return (StepOutcome.Skipped, null);
                var escalate = step.Kind == MdfStepKind.RequestEscalate;
                var notice = new MdfNotice(escalate || Status == FundRequestStatus.AwaitingSecondApproval ? MdfAudience.AdminsButFirstApprover : MdfAudience.Reviewers,
                    escalate ? "Escalated: a fund request waits for a decision" : "Reminder: a fund request waits for your decision",
                    escalate ? $"\"{Title}\" of {PartnerName} ({RequestedAmount}) was submitted on {Format(SubmittedAt)} and is still undecided."
                             : $"\"{Title}\" of {PartnerName} ({RequestedAmount}) still waits; it is escalated to the program admins on {Format(EscalateAt)}.",
                    MdfLinkKind.RequestDecision, rules.RequestEscalateAfter);
                return (StepOutcome.Done, new MdfChange(marked, escalate ? "mdf.request.escalated" : "mdf.request.reminded", null, [], [], [notice]));
            }
            case MdfStepKind.ActivityEnded or MdfStepKind.ClaimDeadlineReminder:
            {
                if (!claimOpen) return (StepOutcome.Closed, null);
                var ended = step.Kind == MdfStepKind.ActivityEnded;
                var message = ended
                    ? $"\"{Title}\" ended on {BudgetDto.Iso(EndDate)}. Claim up to {MaxClaim} with proof of performance by {BudgetDto.Iso(ClaimDeadline!.Value)}."
                    : $"{step.DaysBefore} day(s) left: claim \"{Title}\" (up to {MaxClaim}) by {BudgetDto.Iso(ClaimDeadline!.Value)}, or the reserved funds return to the budget.";
                return (StepOutcome.Done,
                    new MdfChange(marked, "mdf.claim.reminded", null, [], [], [new MdfNotice(MdfAudience.Requester, ended ? "Time to claim your MDF" : "Your claim deadline is near", message)]));
            }
            case MdfStepKind.ClaimExpire:
            {
                if (!claimOpen) return (StepOutcome.Closed, null);
                const string note = "The claim deadline passed.";
                var updated = marked with
                {
                    Status = FundRequestStatus.Expired, Claim = Claim is null ? null : Claim with { Status = MdfClaimStatus.Expired },
                    Decisions = [.. Decisions, new MdfDecisionRecord("expired", note, Identity.Caller.System.UserId, Identity.Caller.System.DisplayName, now)],
                };
                return (StepOutcome.Done, new MdfChange(updated, MdfEvents.RequestExpired, note, [new MdfMove(LedgerEntryKind.Released, ApprovedAmount!.Value, Id)], [new MdfRaised(MdfEvents.RequestExpired)],
                    [new MdfNotice(MdfAudience.Requester, "Your MDF reservation expired", $"No claim for \"{Title}\" was submitted by {BudgetDto.Iso(ClaimDeadline!.Value)}; the {ApprovedAmount} reserved returned to the budget.")]));
            }
            default:
            {
                if (Claim is not { Status: MdfClaimStatus.Submitted } c || c.Submission != step.Submission) return (StepOutcome.Closed, null);
                var escalate = step.Kind == MdfStepKind.ClaimReviewEscalate;
                var notice = new MdfNotice(escalate ? MdfAudience.Admins : MdfAudience.Reviewers, escalate ? "Escalated: a claim waits for review" : "Reminder: a claim waits for your review",
                    $"{PartnerName} claimed {c.ClaimedAmount} for \"{Title}\" on {Format(c.SubmittedAt!.Value)}.", MdfLinkKind.ClaimReview);
                return (StepOutcome.Done, new MdfChange(marked, escalate ? "mdf.claim.escalated" : "mdf.claim.reviewReminded", null, [], [], [notice], "claim"));
            }
        }
    }

    /// <summary>The claim phase's schedule: the activity's end, the reminders before the claim deadline still ahead, the deadline (expiry).</summary>
    public List<MdfEvents.ScheduledStep> ClaimSchedule(MdfSettings rules, DateTimeOffset now) => ClaimScheduleOf(EndDate, ClaimDeadline!.Value, rules, now);

    /// <summary>The instant a claim deadline day ends: the day after, 00:00 UTC (the expiry; the portal home's deadline of a claim due).</summary>
    public static DateTimeOffset ClaimDeadlineAt(DateOnly claimDeadline) => new(claimDeadline.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    /// <summary>
    /// The claim schedule of an approved request whose activity ends on <paramref name="endDate"/> and whose claim deadline is
    /// <paramref name="claimDeadline"/> (the one rule; also read from an event's data): the activity's end (the day after, 00:00 UTC),
    /// the reminders <see cref="MdfSettings.ClaimReminderDaysBefore"/> still ahead of <paramref name="now"/> and after the end, and the
    /// deadline (the day after, 00:00 UTC) with the expiry.
    /// </summary>
    public static List<MdfEvents.ScheduledStep> ClaimScheduleOf(DateOnly endDate, DateOnly claimDeadline, MdfSettings rules, DateTimeOffset now)
    {
        var endsAt = new DateTimeOffset(endDate.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var deadlineAt = ClaimDeadlineAt(claimDeadline);
        var steps = new List<MdfEvents.ScheduledStep> { new(endsAt, MdfStepKind.ActivityEnded) };
        foreach (var days in rules.ClaimReminderDaysBefore.Distinct().OrderDescending())
        {
            var at = deadlineAt.AddDays(-days);
            if (at > now && at > endsAt) steps.Add(new MdfEvents.ScheduledStep(at, MdfStepKind.ClaimDeadlineReminder, days));
        }
        steps.Add(new MdfEvents.ScheduledStep(deadlineAt, MdfStepKind.ClaimExpire));
        return [.. steps.OrderBy(s => s.At)];
    }

    private static MdfChange ClaimChange(FundRequest updated, string action, string? note) => new(updated, action, note, [], [], [], "claim");

    private static string Format(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}
