using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Outbox;
using Prm.Core.Partners;

namespace Prm.Core.Mdf;

/// <summary>A partner's budget for a fiscal period: fixed, or a co-op accrual of a percentage of the previous period's won deal value.</summary>
public sealed record MdfBudget(
    string Id, string PartnerId, string Period, DateOnly PeriodStart, DateOnly PeriodEnd, string Currency, Money InitialAllocation,
    decimal? CoopPercent, Money? CoopBasis, string CreatedById, DateTimeOffset CreatedAt);

/// <summary>A budget with its live balance and the ETag of its budget row.</summary>
public sealed record BudgetState(MdfBudget Budget, BudgetBalance Balance, string ETag);

/// <summary>Statuses of a fund request.</summary>
public enum FundRequestStatus { Submitted, InfoRequested, AwaitingSecondApproval, Approved, Rejected, Cancelled, Expired, Closed }

/// <summary>Statuses of a claim (DOMAIN: Draft, Submitted, Pending proof = InfoRequested, Approved, Rejected, Paid).</summary>
public enum MdfClaimStatus { Draft, Submitted, InfoRequested, Approved, Rejected, Paid, Expired }

/// <summary>Whether an uploaded proof was checked.</summary>
public enum ProofStatus { Pending, Verified }

/// <summary>A decision, answer or workflow step recorded on a request or claim.</summary>
public sealed record MdfDecisionRecord(string Decision, string? Reason, string ById, string ByName, DateTimeOffset At, Money? Amount = null);

/// <summary>A proof-of-performance file of a claim (blob "proofs/{requestId}/{claimId}/{proofId}").</summary>
public sealed record MdfProof(string Id, string BlobName, string? FileName, ProofStatus Status, string? Type, string? ContentType, long? Size, DateTimeOffset CreatedAt, DateTimeOffset? VerifiedAt);

/// <summary>The claim of an approved request (one per request; "request info" returns it for more proofs and a new submission).</summary>
public sealed record MdfClaim
{
    public required string Id { get; init; }
    public required MdfClaimStatus Status { get; init; }
    public required Money ClaimedAmount { get; init; }
    public int ActualLeads { get; init; }
    public int? Attendees { get; init; }
    public string? Notes { get; init; }
    public List<MdfProof> Proofs { get; init; } = [];

    /// <summary>How many times it was submitted (the ledger subject of submission n is "{claimId}/{n}").</summary>
    public int Submission { get; init; }
    public DateTimeOffset? SubmittedAt { get; init; }
    public Money? ApprovedAmount { get; init; }
    public string? PaymentReference { get; init; }
    public string? PaidOn { get; init; }
    public DateTimeOffset? ReviewRemindAt { get; init; }
    public DateTimeOffset? ReviewEscalateAt { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required string CreatedById { get; init; }

    public string SubmissionSubject => $"{Id}/{Submission}";
}

/// <summary>A fund (pre-approval) request; lives in its budget's partition together with its claim.</summary>
public sealed partial record FundRequest
{
    public required string Id { get; init; }
    public required string BudgetId { get; init; }
    public required string PartnerId { get; init; }
    public required string PartnerName { get; init; }
    public string? ChannelManagerId { get; init; }
    public required string Period { get; init; }
    public required FundRequestStatus Status { get; init; }
    public required MdfActivityType ActivityType { get; init; }
    public required string Title { get; init; }
    public required string Description { get; init; }
    public required DateOnly StartDate { get; init; }
    public required DateOnly EndDate { get; init; }
    public required Money RequestedAmount { get; init; }
    public decimal PartnerContributionPercent { get; init; }
    public string? TargetAudience { get; init; }
    public int? ExpectedLeads { get; init; }
    public Money? ExpectedPipeline { get; init; }
    public required string RequesterId { get; init; }
    public required string RequesterName { get; init; }
    public required string RequesterEmail { get; init; }
    public required DateTimeOffset SubmittedAt { get; init; }
    public DateTimeOffset RemindAt { get; init; }
    public DateTimeOffset EscalateAt { get; init; }

    /// <summary>The first of two approvals (above the threshold), waiting for an admin.</summary>
    public MdfDecisionRecord? FirstApproval { get; init; }
    public decimal? FirstApprovalPercent { get; init; }
    public string? FirstApprovalDeadline { get; init; }
    public string? InfoRequest { get; init; }
    public string? InfoAnswer { get; init; }
    public Money? ApprovedAmount { get; init; }
    public decimal? MaxReimbursementPercent { get; init; }
    public DateOnly? ClaimDeadline { get; init; }
    public List<MdfDecisionRecord> Decisions { get; init; } = [];

    /// <summary>Workflow steps done ("{step}:{cycle}"), so a retried step sends nothing twice.</summary>
    public List<string> StepsDone { get; init; } = [];
    public int Cycle { get; init; }
    public MdfClaim? Claim { get; init; }

    public bool IsPending => Status is FundRequestStatus.Submitted or FundRequestStatus.InfoRequested or FundRequestStatus.AwaitingSecondApproval;

    /// <summary>The most the claim may ask for: approved amount x max reimbursement percent, rounded half-even.</summary>
    public Money? MaxClaim => ApprovedAmount is { } a ? MdfMoney.Percentage(a, MaxReimbursementPercent ?? 100m) : null;

    public IReadOnlyDictionary<string, string?> Snapshot() => new Dictionary<string, string?>
    {
        ["status"] = Status.ToString(),
        ["requestedAmount"] = RequestedAmount.ToString(),
        ["approvedAmount"] = ApprovedAmount?.ToString(),
        ["maxReimbursementPercent"] = MaxReimbursementPercent?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["claimDeadline"] = ClaimDeadline?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
        ["claimStatus"] = Claim?.Status.ToString(),
        ["claimedAmount"] = Claim?.ClaimedAmount.ToString(),
        ["claimApprovedAmount"] = Claim?.ApprovedAmount?.ToString(),
        ["proofs"] = Claim is null ? null : Claim.Proofs.Count(p => p.Status == ProofStatus.Verified).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>A request with the ETag of its row.</summary>
public sealed record RequestState(FundRequest Request, string ETag);

/// <summary>
/// One commit to a budget partition, applied as one entity-group transaction: the budget row (If-Match, new balance) with ledger
/// and idempotency-key rows when <see cref="Entries"/> is not empty; the request row (added when <see cref="RequestETag"/> is null,
/// replaced If-Match otherwise); audit and outbox rows.
/// </summary>
public sealed record MdfCommit(string BudgetId, string? BudgetETag, BudgetBalance? Balance, IReadOnlyList<LedgerEntry> Entries, FundRequest? Request, string? RequestETag, ChangeSet Changes);

/// <summary>Storage port of MDF: a partition per budget holding the budget row, its ledger, key rows, its requests with their claims, audit and outbox.</summary>
public interface IMdfStore
{
    /// <summary>Creates the budget with its first entries; 409 when the partner already has a budget for the period in that currency.</summary>
    Task CreateBudgetAsync(MdfBudget budget, BudgetBalance balance, IReadOnlyList<LedgerEntry> entries, ChangeSet changes, CancellationToken ct);

    Task<BudgetState?> GetBudgetAsync(string budgetId, CancellationToken ct);

    /// <summary>Budgets of a partner (or all when null), optionally of one period, with live balances.</summary>
    Task<IReadOnlyList<BudgetState>> ListBudgetsAsync(string? partnerId, string? period, CancellationToken ct);

    /// <summary>The budget's ledger in sequence order.</summary>
    Task<IReadOnlyList<LedgerEntry>> LedgerAsync(string budgetId, CancellationToken ct);

    /// <summary>
    /// Commits the change (see <see cref="MdfCommit"/>). Throws <see cref="PreconditionFailedException"/> when the budget or request row
    /// changed meanwhile, <see cref="DuplicateLedgerEntryException"/> when an entry's key was applied before.
    /// Returns the new ETag of the request row (or of the budget row without a request).
    /// </summary>
    /// <param name="alongside">Writes that must succeed before the transaction; they run beside its outbox pointers.</param>
    Task<string> CommitAsync(MdfCommit commit, CancellationToken ct, Task? alongside = null);

    /// <summary>Registers where a request or claim id lives (before its first commit).</summary>
    Task RegisterIdAsync(string id, string budgetId, string requestId, CancellationToken ct);

    /// <summary>A request by its id or by the id of its claim.</summary>
    Task<RequestState?> GetRequestAsync(string requestOrClaimId, CancellationToken ct);

    /// <summary>Requests, newest first: scope "partner:{id}", "cm:{id}" or "all"; optionally one status.</summary>
    Task<Page<FundRequest>> ListRequestsAsync(string scope, FundRequestStatus? status, PageRequest page, CancellationToken ct);

    /// <summary>Every request of a budget (for ROI by period).</summary>
    Task<IReadOnlyList<FundRequest>> RequestsOfBudgetAsync(string budgetId, CancellationToken ct);

    Task<Page<AuditEntry>> TimelineAsync(string budgetId, string subjectId, PageRequest page, CancellationToken ct);
}

/// <summary>Proof files in Blob Storage.</summary>
public interface IMdfProofFiles
{
    /// <summary>A write-only URL for exactly that blob, valid for <paramref name="lifetime"/>.</summary>
    Task<Uri> UploadUrlAsync(string blobName, TimeSpan lifetime, CancellationToken ct);

    /// <summary>A read-only URL of the blob, valid for <paramref name="lifetime"/>.</summary>
    Task<Uri> ReadUrlAsync(string blobName, TimeSpan lifetime, CancellationToken ct);

    /// <summary>The uploaded blob's size and first <paramref name="headBytes"/> bytes; null when nothing was uploaded.</summary>
    Task<(long Size, byte[] Head)?> InspectAsync(string blobName, int headBytes, CancellationToken ct);

    Task SetContentTypeAsync(string blobName, string contentType, CancellationToken ct);

    Task DeleteAsync(string blobName, CancellationToken ct);
}

/// <summary>
/// Deals attributed to MDF (deals carry mdfRequestId). The deal capability replaces the default, which knows no deals.
/// </summary>
public interface IMdfAttribution
{
    Task<IReadOnlyList<AttributedDeal>> DealsForRequestAsync(string partnerId, string mdfRequestId, string currency, CancellationToken ct);

    /// <summary>Won deal value of the partner in the period, in <paramref name="currency"/> (the source of co-op accrual).</summary>
    Task<Money> WonValueAsync(string partnerId, FiscalPeriod period, string currency, CancellationToken ct);
}

/// <summary>No deal capability: no attributed deals, no won value (co-op budgets then start at zero and are adjusted by hand).</summary>
public sealed class NoMdfAttribution : IMdfAttribution
{
    public Task<IReadOnlyList<AttributedDeal>> DealsForRequestAsync(string partnerId, string mdfRequestId, string currency, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<AttributedDeal>>([]);

    public Task<Money> WonValueAsync(string partnerId, FiscalPeriod period, string currency, CancellationToken ct) => Task.FromResult(new Money(0m, currency));
}

/// <summary>The API's view of a budget: allocated + adjustments = available + pending + approved + claimed + paid.</summary>
public sealed record BudgetDto(
    string Id, string PartnerId, string Period, string PeriodStart, string PeriodEnd, string Currency, string Kind, decimal? CoopPercent, Money? CoopBasis,
    Money Allocated, Money Adjustments, Money Available, Money Pending, Money Approved, Money Claimed, Money Paid, long LedgerSequence, DateTimeOffset CreatedAt)
{
    public static BudgetDto From(BudgetState s)
    {
        var b = s.Budget;
        var z = s.Balance;
        return new BudgetDto(b.Id, b.PartnerId, b.Period, Iso(b.PeriodStart), Iso(b.PeriodEnd), b.Currency, b.CoopPercent is null ? "fixed" : "coop", b.CoopPercent, b.CoopBasis,
            b.InitialAllocation.Round(), MdfMoney.Subtract(z.Allocated, b.InitialAllocation).Round(), z.Available.Round(), z.Pending.Round(), z.Approved.Round(), z.Claimed.Round(), z.Paid.Round(), z.Sequence, b.CreatedAt);
    }

    internal static string Iso(DateOnly d) => d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A ledger entry as the API shows it.</summary>
public sealed record LedgerEntryDto(long Sequence, string Kind, Money Amount, Money? Basis, string Subject, string? Reason, DateTimeOffset At, string By)
{
    public static LedgerEntryDto From(LedgerEntry e) => new(e.Sequence, Text.Camel(e.Kind), e.Amount, e.Basis, e.Subject, e.Reason, e.At, e.By);
}

/// <summary>The API's view of a proof.</summary>
public sealed record ProofDto(string Id, string Status, string? FileName, string? Type, string? ContentType, long? Size, DateTimeOffset CreatedAt, DateTimeOffset? VerifiedAt);

/// <summary>The API's view of a claim.</summary>
public sealed record ClaimDto(string Id, string RequestId, string Status, Money ClaimedAmount, int ActualLeads, int? Attendees, string? Notes, Money? ApprovedAmount,
    string? PaymentReference, string? PaidOn, int Submission, DateTimeOffset? SubmittedAt, IReadOnlyList<ProofDto> Proofs, DateTimeOffset CreatedAt)
{
    public static ClaimDto From(FundRequest r, MdfClaim c) => new(c.Id, r.Id, c.Status.ToString(), c.ClaimedAmount, c.ActualLeads, c.Attendees, c.Notes, c.ApprovedAmount,
        c.PaymentReference, c.PaidOn, c.Submission, c.SubmittedAt,
        c.Proofs.Select(p => new ProofDto(p.Id, p.Status.ToString(), p.FileName, p.Type, p.ContentType, p.Size, p.CreatedAt, p.VerifiedAt)).ToList(), c.CreatedAt);
}

/// <summary>The API's view of a fund request.</summary>
public sealed record FundRequestDto(
    string Id, string BudgetId, string PartnerId, string PartnerName, string Period, string Status, string ActivityType, string Title, string Description,
    string StartDate, string EndDate, Money RequestedAmount, decimal PartnerContributionPercent, string? TargetAudience, int? ExpectedLeads, Money? ExpectedPipeline,
    string RequesterId, string RequesterName, DateTimeOffset SubmittedAt, Money? ApprovedAmount, decimal? MaxReimbursementPercent, string? ClaimDeadline, Money? MaxClaim,
    bool NeedsSecondApproval, MdfDecisionRecord? FirstApproval, string? InfoRequest, string? InfoAnswer, IReadOnlyList<MdfDecisionRecord> Decisions, ClaimDto? Claim)
{
    /// <summary>The view; with the rules, NeedsSecondApproval says whether the amount that counts (approved, or while pending the one that would be) is above the threshold.</summary>
    public static FundRequestDto From(FundRequest r, MdfSettings? rules = null) => new(
        r.Id, r.BudgetId, r.PartnerId, r.PartnerName, r.Period, r.Status.ToString(), Text.Camel(r.ActivityType), r.Title, r.Description,
        BudgetDto.Iso(r.StartDate), BudgetDto.Iso(r.EndDate), r.RequestedAmount, r.PartnerContributionPercent, r.TargetAudience, r.ExpectedLeads, r.ExpectedPipeline,
        r.RequesterId, r.RequesterName, r.SubmittedAt, r.ApprovedAmount, r.MaxReimbursementPercent, r.ClaimDeadline is { } d ? BudgetDto.Iso(d) : null, r.MaxClaim,
        r.Status == FundRequestStatus.AwaitingSecondApproval || rules?.NeedsSecondApproval(r.ApprovedAmount ?? r.FirstApproval?.Amount ?? r.RequestedAmount) == true, r.FirstApproval, r.InfoRequest, r.InfoAnswer, r.Decisions,
        r.Claim is null ? null : ClaimDto.From(r, r.Claim));
}

/// <summary>Answer to a request for information on a fund request.</summary>
public sealed record FundRequestInfoAnswer(string? Answer);

/// <summary>Body of POST /api/mdf/claims/{claimId}/proofs.</summary>
public sealed record ProofUploadInput(string? FileName);

/// <summary>A proof slot: the write-only upload URL (PUT the file with x-ms-blob-type: BlockBlob) until it expires.</summary>
public sealed record ProofUpload(string ProofId, string UploadUrl, DateTimeOffset ExpiresAt, long MaxSize, IReadOnlyCollection<string> AcceptedContentTypes);

/// <summary>A read-only link to a proof for reviewers.</summary>
public sealed record ProofLink(string ProofId, string Url, DateTimeOffset ExpiresAt);

/// <summary>ROI of one request or of a partner's period.</summary>
public sealed record MdfRoiDto(string? RequestId, string? PartnerId, string? Period, Money Paid, int Leads, int RegisteredDeals, Money PipelineValue, Money WonValue, Money? CostPerLead, decimal? ReturnOnSpend, int Requests);

/// <summary>Integration events of MDF (mdf.request.*, mdf.claim.*, mdf.budget.*).</summary>
public static class MdfEvents
{
    [EventPayload(typeof(BudgetData))]
    public const string BudgetCreated = "mdf.budget.created";
    [EventPayload(typeof(BudgetData))]
    public const string BudgetAdjusted = "mdf.budget.adjusted";
    [EventPayload(typeof(RequestData))]
    public const string RequestSubmitted = "mdf.request.submitted";
    [EventPayload(typeof(RequestData))]
    public const string RequestFirstApproved = "mdf.request.firstApproved";
    [EventPayload(typeof(RequestData))]
    public const string RequestApproved = "mdf.request.approved";
    [EventPayload(typeof(RequestData))]
    public const string RequestRejected = "mdf.request.rejected";
    [EventPayload(typeof(RequestData))]
    public const string RequestInfoRequested = "mdf.request.infoRequested";
    [EventPayload(typeof(RequestData))]
    public const string RequestInfoAnswered = "mdf.request.infoAnswered";
    [EventPayload(typeof(RequestData))]
    public const string RequestCancelled = "mdf.request.cancelled";
    [EventPayload(typeof(RequestData))]
    public const string RequestExpired = "mdf.request.expired";
    [EventPayload(typeof(RequestData))]
    public const string RequestClosed = "mdf.request.closed";
    [EventPayload(typeof(RequestData))]
    public const string ClaimSubmitted = "mdf.claim.submitted";
    [EventPayload(typeof(RequestData))]
    public const string ClaimApproved = "mdf.claim.approved";
    [EventPayload(typeof(RequestData))]
    public const string ClaimRejected = "mdf.claim.rejected";
    [EventPayload(typeof(RequestData))]
    public const string ClaimInfoRequested = "mdf.claim.infoRequested";
    [EventPayload(typeof(RequestData))]
    public const string ClaimPaid = "mdf.claim.paid";

    /// <summary>A step the claim-phase workflow runs at a moment.</summary>
    public sealed record ScheduledStep(DateTimeOffset At, MdfStepKind Step, int DaysBefore = 0);

    /// <summary>
    /// The request after the change. <see cref="ClaimSchedule"/> is set by the approval only; <see cref="EndDate"/> and <see cref="ClaimDeadline"/>
    /// let a reader derive the claim schedule of an approved request from any of its events (<see cref="FundRequest.ClaimScheduleOf"/>).
    /// </summary>
    public sealed record RequestData(
        string RequestId, string BudgetId, string PartnerId, string Status, Money RequestedAmount, Money? ApprovedAmount, DateTimeOffset RemindAt, DateTimeOffset EscalateAt,
        IReadOnlyList<ScheduledStep> ClaimSchedule, string? ClaimId, string? ClaimStatus, int Submission, DateTimeOffset? ClaimReviewRemindAt, DateTimeOffset? ClaimReviewEscalateAt,
        bool WasApproved, string? Reason, int Cycle, DateOnly? EndDate = null, DateOnly? ClaimDeadline = null);

    public static IntegrationEvent Create(string type, FundRequest r, DateTimeOffset at, IReadOnlyList<ScheduledStep>? schedule = null, string? reason = null, bool wasApproved = false) =>
        IntegrationEvent.Create(Ids.New("evt"), type, at, $"mdf/requests/{r.Id}", r.PartnerId, Correlation.Id,
            new RequestData(r.Id, r.BudgetId, r.PartnerId, r.Status.ToString(), r.RequestedAmount, r.ApprovedAmount, r.RemindAt, r.EscalateAt, schedule ?? [],
                r.Claim?.Id, r.Claim?.Status.ToString(), r.Claim?.Submission ?? 0, r.Claim?.ReviewRemindAt, r.Claim?.ReviewEscalateAt, wasApproved, reason, r.Cycle,
                r.EndDate, r.ClaimDeadline));

    public sealed record BudgetData(string BudgetId, string PartnerId, string Period, Money Allocated, Money Available, Money? Amount, string? Reason);

    public static IntegrationEvent Budget(string type, MdfBudget b, BudgetBalance balance, DateTimeOffset at, Money? amount = null, string? reason = null) =>
        IntegrationEvent.Create(Ids.New("evt"), type, at, $"mdf/budgets/{b.Id}", b.PartnerId, Correlation.Id,
            new BudgetData(b.Id, b.PartnerId, b.Period, balance.Allocated.Round(), balance.Available.Round(), amount, reason));
}

/// <summary>The steps the MDF workflows run at their deadlines.</summary>
public enum MdfStepKind { RequestRemind, RequestEscalate, ActivityEnded, ClaimDeadlineReminder, ClaimExpire, ClaimReviewRemind, ClaimReviewEscalate }

/// <summary>Input of an MDF workflow step.</summary>
public sealed record MdfStep(string RequestId, MdfStepKind Kind, int Cycle = 0, int DaysBefore = 0, int Submission = 0);

/// <summary>
/// What the request workflow needs to know of a fund request to pick its phase: the status, the review cycle with its reminder and
/// escalation, the claim (status, submission number, review deadlines) and, for an approved request, the claim schedule (what is still ahead
/// of it: the activity's end, the reminders before the claim deadline, the expiry).
/// </summary>
public sealed record MdfWorkflowState(
    string Status, int Cycle, DateTimeOffset RemindAt, DateTimeOffset EscalateAt, string? ClaimStatus, int ClaimSubmission,
    DateTimeOffset? ClaimReviewRemindAt, DateTimeOffset? ClaimReviewEscalateAt, IReadOnlyList<MdfEvents.ScheduledStep> ClaimSchedule);

/// <summary>The port the MDF workflows call.</summary>
public interface IMdfWorkflowSteps
{
    /// <summary>The request's current state (null when it does not exist): the workflow follows state, not the order events arrive in.</summary>
    Task<MdfWorkflowState?> StateAsync(string requestId, CancellationToken ct);

    /// <summary>Runs the step unless it no longer applies; Closed when the workflow has nothing left to do.</summary>
    Task<StepOutcome> RunStepAsync(MdfStep step, CancellationToken ct);
}
