using System.Globalization;
using Prm.Core.Approvals;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Notifications;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Mdf;

/// <summary>Body of POST /api/mdf/requests/{id}/cancel.</summary>
public sealed record CancelInput(string? Reason);

/// <summary>
/// MDF and co-op funds: budgets with an append-only ledger, fund requests with (second) approval, claims with proof of performance,
/// payouts, ROI, and the steps the MDF workflows run at their deadlines.
/// Every money movement is committed in one transaction with the state change it belongs to (request and budget live in one
/// partition); a stale budget or request row is re-read and the change re-decided (bounded retries).
/// </summary>
public sealed class MdfService(
    IMdfStore store, IMdfProofFiles files, IMdfAttribution attribution, IPartnerStore partners, IStaffStore staff, EmailComposer emails,
    TimeProvider clock, ProgramOptions program, ProgramSettings settings, DecisionLinks links) : IMdfWorkflowSteps
{
    /// <summary>The kind of decision link of a fund request.</summary>
    public const string DecisionKind = "mdfRequest";

    /// <summary>Lifetime of a proof upload URL.</summary>
    public static readonly TimeSpan UploadLifetime = TimeSpan.FromMinutes(15);

    /// <summary>Lifetime of a reviewer's proof read URL.</summary>
    public static readonly TimeSpan ReadLifetime = TimeSpan.FromMinutes(5);

    /// <summary>Most proofs a claim holds.</summary>
    public const int MaxProofs = 20;

    private const int MaxAttempts = 100;
    private static readonly CreateBudgetValidator BudgetValidator = new();
    private static readonly BudgetAdjustmentValidator AdjustmentValidator = new();
    private static readonly FundRequestValidator RequestValidator = new();
    private static readonly PayoutValidator PayoutRules = new();

    private sealed record Move(LedgerEntryKind Kind, Money Amount, string Subject, Money? Basis = null);

    private sealed record Change(FundRequest Updated, string Action, string? Note, IReadOnlyList<Move> Moves, IReadOnlyList<OutboxMessage> Outbox, string SubjectType = "request");

    // ---------------------------------------------------------------- budgets

    public async Task<Versioned<BudgetDto>> CreateBudgetAsync(Caller caller, CreateBudgetRequest? body, CancellationToken ct)
    {
        if (!caller.IsVendor) throw new ForbiddenException("Only program admins and channel managers create budgets.");
        var input = Validate.Body(body, BudgetValidator);
        var partner = (await LoadPartnerAsync(caller, input.PartnerId!, "partnerId", ct));
        if (!PartnerAccess.CanManageProgram(caller, partner)) throw new ValidationFailedException("partnerId", "partnerId must be a partner you manage.");
        var rules = await RulesAsync(ct);
        var calendar = rules.Calendar();
        var period = calendar.Parse(input.Period);
        var now = clock.GetUtcNow();
        Money allocation;
        Money? basis = null;
        if (input.Amount is not null) allocation = input.Amount.ToMoney();
        else
        {
            var previous = calendar.Previous(period);
            basis = await attribution.WonValueAsync(partner.Id, previous, input.Currency!, ct);
            allocation = MdfMoney.Percentage(basis.Value, input.CoopPercent!.Value);
        }
        var existing = await store.ListBudgetsAsync(partner.Id, period.Text, ct);
        if (existing.Any(b => b.Budget.Currency == allocation.Currency))
            throw new ConflictException($"{partner.Name} already has a {period.Text} budget in {allocation.Currency}; adjust it instead.", "period");
        var budget = new MdfBudget(Ids.New("mdb"), partner.Id, period.Text, period.Start, period.End, allocation.Currency, allocation, input.CoopPercent, basis, caller.UserId, now);
        var ledger = new BudgetLedger(allocation.Currency);
        if (allocation.Amount > 0) ledger.Append(new LedgerEntry(Ids.New("led"), 1, LedgerEntryKind.Allocation, allocation, budget.Id, input.CoopPercent is { } p ? $"Co-op accrual: {p.ToString(CultureInfo.InvariantCulture)} % of {basis}" : null, now, caller.UserId));
        var audit = new AuditEntry(Ids.New("aud"), now, caller.UserId, caller.DisplayName, "mdf.budget.created", "budget", budget.Id,
            Diff.Between(null, new Dictionary<string, string?> { ["partnerId"] = partner.Id, ["period"] = period.Text, ["allocated"] = allocation.ToString() }));
        await store.CreateBudgetAsync(budget, ledger.Balance, ledger.Entries, new ChangeSet([audit], [OutboxMessage.ForEvent(MdfEvents.Budget(MdfEvents.BudgetCreated, budget, ledger.Balance, now, allocation))]), ct);
        var created = await store.GetBudgetAsync(budget.Id, ct) ?? throw new InvalidOperationException("The budget vanished after creation.");
        return new Versioned<BudgetDto>(BudgetDto.From(created), created.ETag);
    }

    /// <summary>A signed change of the allocation: an entry, never an overwrite; may not take available below zero.</summary>
    public async Task<Versioned<BudgetDto>> AdjustBudgetAsync(Caller caller, string budgetId, BudgetAdjustmentRequest? body, CancellationToken ct)
    {
        var state = await LoadBudgetAsync(caller, budgetId, ct);
        if (!caller.IsVendor) throw new NotFoundException("Budget");
        var input = Validate.Body(body, AdjustmentValidator);
        var amount = input.Amount!.ToMoney();
        if (amount.Currency != state.Budget.Currency) throw new CurrencyMismatchException(state.Budget.Currency, amount.Currency);
        var subject = Ids.New("adj");
        return await ReadDecideCommit.RunAsync(async attempt =>
        {
            if (attempt > 1) state = await store.GetBudgetAsync(budgetId, ct) ?? throw new NotFoundException("Budget");
            var now = clock.GetUtcNow();
            var entry = new LedgerEntry(Ids.New("led"), state.Balance.Sequence + 1, LedgerEntryKind.Adjustment, amount, subject, input.Reason!.Trim(), now, caller.UserId);
            BudgetBalance next;
            try
            {
                next = state.Balance.Apply(entry);
            }
            catch (InsufficientFundsException ex)
            {
                ex.Data["field"] = "amount.amount";
                throw;
            }
            var audit = new AuditEntry(Ids.New("aud"), now, caller.UserId, caller.DisplayName, "mdf.budget.adjusted", "budget", state.Budget.Id,
                [new FieldChange("allocated", state.Balance.Allocated.ToString(), next.Allocated.ToString())], input.Reason);
            var etag = await store.CommitAsync(new MdfCommit(state.Budget.Id, state.ETag, next, [entry], null, null,
                new ChangeSet([audit], [OutboxMessage.ForEvent(MdfEvents.Budget(MdfEvents.BudgetAdjusted, state.Budget, next, now, amount, input.Reason))])), ct);
            return new Versioned<BudgetDto>(BudgetDto.From(new BudgetState(state.Budget, next, etag)), etag);
        }, MaxAttempts, ReadDecideCommit.Jitter(5), ct: ct);
    }

    public async Task<Page<BudgetDto>> ListBudgetsAsync(Caller caller, string? partnerId, string? period, CancellationToken ct)
    {
        if (period is not null && !FiscalCalendar.IsPeriodText(period)) throw new ValidationFailedException("period", "period " + FiscalCalendar.FormatMessage);
        var canonical = period is null ? null : (await RulesAsync(ct)).Calendar().Parse(period).Text;
        partnerId ??= caller.PartnerId;
        if (partnerId is null)
        {
            if (!caller.IsAdmin) throw new ValidationFailedException("partnerId", "partnerId is required (channel managers list the budgets of one of their partners).");
        }
        else
        {
            await LoadPartnerAsync(caller, partnerId, "partnerId", ct, notFound: true);
        }
        var budgets = await store.ListBudgetsAsync(partnerId, canonical, ct);
        return new Page<BudgetDto>(budgets.Select(BudgetDto.From).ToList(), null);
    }

    public async Task<Versioned<BudgetDto>> GetBudgetAsync(Caller caller, string budgetId, CancellationToken ct)
    {
        var state = await LoadBudgetAsync(caller, budgetId, ct);
        return new Versioned<BudgetDto>(BudgetDto.From(state), state.ETag);
    }

    /// <summary>The budget's append-only ledger, and whether replaying it gives the budget row's balance.</summary>
    public async Task<Page<LedgerEntryDto>> LedgerAsync(Caller caller, string budgetId, CancellationToken ct)
    {
        await LoadBudgetAsync(caller, budgetId, ct);
        var entries = await store.LedgerAsync(budgetId, ct);
        return new Page<LedgerEntryDto>(entries.Select(LedgerEntryDto.From).ToList(), null);
    }

    // ---------------------------------------------------------------- requests

    public async Task<Versioned<FundRequestDto>> SubmitRequestAsync(Caller caller, FundRequestInput? body, CancellationToken ct)
    {
        if (caller.PartnerId is null) throw new ForbiddenException("Only partner users request funds.");
        var input = Validate.Body(body, RequestValidator);
        var rules = await RulesAsync(ct);
        var partner = (await partners.GetAsync(caller.PartnerId, ct))?.Value ?? throw new NotFoundException("Partner");
        var type = Text.ParseEnum<MdfActivityType>(input.ActivityType)!.Value;
        if (!rules.Allows(partner.Tier, type))
            throw new ValidationFailedException("activityType", $"Partners of tier {Text.Camel(partner.Tier)} may not request funds for {Text.Camel(type)}.", unprocessable: true);
        var start = MdfRules.ParseDate(input.StartDate)!.Value;
        var end = MdfRules.ParseDate(input.EndDate)!.Value;
        var amount = input.RequestedAmount!.ToMoney();
        var covering = (await store.ListBudgetsAsync(partner.Id, null, ct))
            .Where(b => b.Budget.PeriodStart <= start && end <= b.Budget.PeriodEnd)
            .OrderBy(b => b.Budget.PeriodEnd.DayNumber - b.Budget.PeriodStart.DayNumber).ToList();
        if (covering.Count == 0)
            throw new ValidationFailedException("endDate", $"No budget of {partner.Name} covers {input.StartDate} to {input.EndDate}; the activity must lie within one budget period.", unprocessable: true);
        var budget = covering.FirstOrDefault(b => b.Budget.Currency == amount.Currency)
            ?? throw new ValidationFailedException("requestedAmount.currency", $"requestedAmount.currency must be {covering[0].Budget.Currency}, the currency of the {covering[0].Budget.Period} budget.", unprocessable: true);
        var now = clock.GetUtcNow();
        var id = Ids.New("mdr");
        var request = new FundRequest
        {
            Id = id, BudgetId = budget.Budget.Id, PartnerId = partner.Id, PartnerName = partner.Name, ChannelManagerId = partner.ChannelManagerId, Period = budget.Budget.Period,
            Status = FundRequestStatus.Submitted, ActivityType = type, Title = input.Title!.Trim(), Description = input.Description!.Trim(), StartDate = start, EndDate = end,
            RequestedAmount = amount, PartnerContributionPercent = input.PartnerContributionPercent ?? 0, TargetAudience = input.TargetAudience?.Trim(),
            ExpectedLeads = input.ExpectedLeads, ExpectedPipeline = input.ExpectedPipeline?.ToMoney(), RequesterId = caller.UserId, RequesterName = caller.DisplayName,
            RequesterEmail = caller.Email, SubmittedAt = now, RemindAt = now + rules.RequestReminderAfter, EscalateAt = now + rules.RequestEscalateAfter,
        };
        // Fail fast before the id is registered and reviewers get links.
        Reserve(budget.Balance, request, now, caller);
        await store.RegisterIdAsync(id, budget.Budget.Id, id, ct);
        var outbox = new List<OutboxMessage> { OutboxMessage.ForEvent(MdfEvents.Create(MdfEvents.RequestSubmitted, request, now)) };
        foreach (var reviewer in await ReviewersAsync(request, ct))
        {
            outbox.Add(Email("mdf-review", reviewer, request, "A fund request waits for your decision",
                $"{partner.Name} requests {amount} for \"{request.Title}\" ({Text.Camel(type)}, {BudgetDto.Iso(start)} to {BudgetDto.Iso(end)}). Reminder on {Format(request.RemindAt)}, escalation on {Format(request.EscalateAt)}.",
                await LinkAsync(request, reviewer, now + rules.RequestEscalateAfter * 2, ct), now));
        }
        return await ReadDecideCommit.RunAsync(async attempt =>
        {
            if (attempt > 1) budget = await store.GetBudgetAsync(budget.Budget.Id, ct) ?? throw new NotFoundException("Budget");
            var (entry, next) = Reserve(budget.Balance, request, now, caller);
            var audit = new AuditEntry(Ids.New("aud"), now, caller.UserId, caller.DisplayName, MdfEvents.RequestSubmitted, "request", id, Diff.Between(null, request.Snapshot()));
            var etag = await store.CommitAsync(new MdfCommit(budget.Budget.Id, budget.ETag, next, [entry], request, null, new ChangeSet([audit], outbox)), ct);
            return new Versioned<FundRequestDto>(FundRequestDto.From(request, rules), etag);
        }, MaxAttempts, ReadDecideCommit.Jitter(5), ct: ct);
    }

    private static (LedgerEntry Entry, BudgetBalance Next) Reserve(BudgetBalance balance, FundRequest request, DateTimeOffset now, Caller caller)
    {
        var entry = new LedgerEntry(Ids.New("led"), balance.Sequence + 1, LedgerEntryKind.RequestSubmitted, request.RequestedAmount, request.Id, null, now, caller.UserId);
        try
        {
            return (entry, balance.Apply(entry));
        }
        catch (InsufficientFundsException ex)
        {
            ex.Data["field"] = "requestedAmount.amount";
            throw;
        }
    }

    public async Task<Page<FundRequestDto>> ListRequestsAsync(Caller caller, string? partnerId, string? status, PageRequest page, CancellationToken ct)
    {
        var statusValue = Text.ParseEnum<FundRequestStatus>(status);
        if (status is not null && statusValue is null) throw new ValidationFailedException("status", "status must be one of: " + string.Join(", ", Enum.GetNames<FundRequestStatus>()) + ".");
        partnerId ??= caller.PartnerId;
        string scope;
        if (partnerId is not null)
        {
            await LoadPartnerAsync(caller, partnerId, "partnerId", ct, notFound: true);
            scope = "partner:" + partnerId;
        }
        else scope = caller.IsAdmin ? "all" : "cm:" + caller.UserId;
        var rules = await RulesAsync(ct);
        return (await store.ListRequestsAsync(scope, statusValue, page, ct)).Map(r => FundRequestDto.From(r, rules));
    }

    public async Task<Versioned<FundRequestDto>> GetRequestAsync(Caller caller, string requestId, CancellationToken ct)
    {
        var state = await LoadVisibleAsync(caller, requestId, "mdr", ct);
        return new Versioned<FundRequestDto>(FundRequestDto.From(state.Request, await RulesAsync(ct)), state.ETag);
    }

    public async Task<Page<AuditEntry>> TimelineAsync(Caller caller, string requestId, PageRequest page, CancellationToken ct)
    {
        var state = await LoadVisibleAsync(caller, requestId, "mdr", ct);
        return await store.TimelineAsync(state.Request.BudgetId, requestId, page, ct);
    }

    /// <summary>Cancels a pending request (pending → available) or an approved one without a submitted claim (reservation → available).</summary>
    public async Task<Versioned<FundRequestDto>> CancelRequestAsync(Caller caller, string requestId, CancelInput? body, CancellationToken ct)
    {
        var visible = await LoadVisibleAsync(caller, requestId, "mdr", ct);
        if (caller.PartnerId is null && !await CanManageAsync(caller, visible.Request, ct)) throw new ForbiddenException("Only the partner, its channel manager and admins cancel a request.");
        if (body?.Reason?.Length > MdfRules.TextMax) throw new ValidationFailedException("reason", "reason takes at most 4000 characters.");
        var byPartner = caller.PartnerId is not null;
        var result = await ApplyAsync(caller, requestId, async state =>
        {
            var r = state.Request;
            var now = clock.GetUtcNow();
            List<Move> moves;
            var wasApproved = r.Status == FundRequestStatus.Approved;
            if (r.IsPending) moves = [new Move(byPartner ? LedgerEntryKind.RequestWithdrawn : LedgerEntryKind.RequestCancelled, r.RequestedAmount, r.Id)];
            else if (wasApproved && r.Claim?.Status is null or MdfClaimStatus.Draft or MdfClaimStatus.InfoRequested)
                moves = [new Move(LedgerEntryKind.Released, r.ApprovedAmount!.Value, r.Id)];
            else throw new ConflictException(r.Claim is null ? $"The request is {r.Status}; it can no longer be cancelled." : $"The claim is {r.Claim.Status}; the request can no longer be cancelled.", "status");
            var updated = r with
            {
                Status = FundRequestStatus.Cancelled,
                Claim = r.Claim is null ? null : r.Claim with { Status = MdfClaimStatus.Expired },
                Decisions = [.. r.Decisions, new MdfDecisionRecord("cancel", body?.Reason?.Trim(), caller.UserId, caller.DisplayName, now)],
            };
            var outbox = new List<OutboxMessage> { OutboxMessage.ForEvent(MdfEvents.Create(MdfEvents.RequestCancelled, updated, now, reason: body?.Reason, wasApproved: wasApproved)) };
            if (!byPartner) outbox.Add(PartnerEmail(updated, "Your fund request was cancelled", $"{caller.DisplayName} cancelled \"{r.Title}\"{(body?.Reason is { } reason ? ": " + reason : ".")} The reserved funds return to your budget.", now));
            await Task.CompletedTask;
            return new Change(updated, MdfEvents.RequestCancelled, body?.Reason, moves, outbox);
        }, ct);
        return await ResultAsync(result, ct);
    }

    /// <summary>approve (optionally lower, with a max reimbursement percent and a claim deadline), reject (final), requestInfo. Above the threshold an admin approves a second time.</summary>
    public async Task<Versioned<FundRequestDto>> DecideRequestAsync(Caller caller, string requestId, FundRequestDecisionInput? body, CancellationToken ct)
    {
        var visible = await LoadVisibleAsync(caller, requestId, "mdr", ct);
        if (!caller.IsVendor || !await CanManageAsync(caller, visible.Request, ct)) throw new NotFoundException("Fund request");
        Validate.Body(body, new FundRequestDecisionValidator(visible.Request.RequestedAmount));
        var decision = Text.ParseEnum<MdfDecision>(body!.Decision)!.Value;
        var rules = await RulesAsync(ct);
        var result = await ApplyAsync(caller, requestId, async state =>
        {
            var r = state.Request;
            var now = clock.GetUtcNow();
            if (!r.IsPending || (r.Status == FundRequestStatus.InfoRequested && decision == MdfDecision.RequestInfo))
            {
                var last = r.Decisions.LastOrDefault(d => d.Decision is "approve" or "reject" or "requestInfo" or "firstApproval" or "cancel");
                throw new ConflictException(last is null ? $"The request is {r.Status} and can no longer be decided."
                    : $"The request is {r.Status}: {last.Decision} by {last.ByName} at {Format(last.At)}.", "decision");
            }
            var record = new MdfDecisionRecord(decision switch { MdfDecision.Approve => "approve", MdfDecision.Reject => "reject", _ => "requestInfo" }, body.Reason?.Trim(), caller.UserId, caller.DisplayName, now);
            if (r.Status == FundRequestStatus.AwaitingSecondApproval && decision == MdfDecision.Approve)
            {
                if (!caller.IsAdmin) throw new ForbiddenException("The second approval is an admin's.");
                if (r.FirstApproval?.ById == caller.UserId) throw new ConflictException($"{caller.DisplayName} gave the first approval; a second admin approves.", "decision");
            }
            switch (decision)
            {
                case MdfDecision.Reject:
                {
                    var updated = r with { Status = FundRequestStatus.Rejected, FirstApproval = null, Decisions = [.. r.Decisions, record] };
                    return new Change(updated, MdfEvents.RequestRejected, record.Reason, [new Move(LedgerEntryKind.RequestRejected, r.RequestedAmount, r.Id)],
                        [OutboxMessage.ForEvent(MdfEvents.Create(MdfEvents.RequestRejected, updated, now, reason: record.Reason)),
                         PartnerEmail(updated, "Your fund request was rejected", $"{caller.DisplayName} rejected \"{r.Title}\": {record.Reason}", now)]);
                }
                case MdfDecision.RequestInfo:
                {
                    var updated = r with { Status = FundRequestStatus.InfoRequested, FirstApproval = null, InfoRequest = record.Reason, InfoAnswer = null, Decisions = [.. r.Decisions, record] };
                    return new Change(updated, MdfEvents.RequestInfoRequested, record.Reason, [],
                        [OutboxMessage.ForEvent(MdfEvents.Create(MdfEvents.RequestInfoRequested, updated, now, reason: record.Reason)),
                         PartnerEmail(updated, "More information needed for your fund request", $"{caller.DisplayName} asks about \"{r.Title}\": {record.Reason} Answer in the portal; the request keeps its place.", now)]);
                }
                default:
                {
                    var approved = body.ApprovedAmount?.ToMoney() ?? (r.Status == FundRequestStatus.AwaitingSecondApproval ? r.FirstApproval?.Amount : null) ?? r.RequestedAmount;
                    var percent = body.MaxReimbursementPercent ?? r.FirstApprovalPercent ?? 100m;
                    var deadlineText = body.ClaimDeadline ?? r.FirstApprovalDeadline;
                    var deadline = MdfRules.ParseDate(deadlineText) ?? r.EndDate.AddDays(rules.DefaultClaimDeadlineDays);
                    if (deadline < r.EndDate) throw new ValidationFailedException("claimDeadline", $"claimDeadline must not be before the activity ends ({BudgetDto.Iso(r.EndDate)}).");
                    record = record with { Amount = approved };
                    if (r.Status != FundRequestStatus.AwaitingSecondApproval && rules.NeedsSecondApproval(approved))
                    {
                        var waiting = r with
                        {
                            Status = FundRequestStatus.AwaitingSecondApproval, FirstApproval = record with { Decision = "firstApproval" }, FirstApprovalPercent = percent,
                            FirstApprovalDeadline = BudgetDto.Iso(deadline), Cycle = r.Cycle + 1, RemindAt = now + rules.RequestReminderAfter, EscalateAt = now + rules.RequestEscalateAfter,
                            Decisions = [.. r.Decisions, record with { Decision = "firstApproval" }],
                        };
                        var outbox = new List<OutboxMessage> { OutboxMessage.ForEvent(MdfEvents.Create(MdfEvents.RequestFirstApproved, waiting, now)) };
                        foreach (var admin in (await AdminsAsync(ct)).Where(a => a.Id != caller.UserId))
                        {
                            outbox.Add(Email("mdf-review", admin, waiting, "A fund request needs your second approval",
                                $"{caller.DisplayName} approved {approved} for \"{r.Title}\" of {r.PartnerName}; above {new Money(rules.SecondApprovalAbove, approved.Currency)} a second admin approves.",
                                await LinkAsync(waiting, admin, now + rules.RequestEscalateAfter * 2, ct), now));
                        }
                        return new Change(waiting, MdfEvents.RequestFirstApproved, record.Reason, [], outbox);
                    }
                    var updated = r with
                    {
                        Status = FundRequestStatus.Approved, ApprovedAmount = approved, MaxReimbursementPercent = percent, ClaimDeadline = deadline,
                        Decisions = [.. r.Decisions, record],
                    };
                    var schedule = ClaimSchedule(updated, rules, now);
                    return new Change(updated, MdfEvents.RequestApproved, record.Reason, [new Move(LedgerEntryKind.RequestApproved, approved, r.Id, r.RequestedAmount)],
                        [OutboxMessage.ForEvent(MdfEvents.Create(MdfEvents.RequestApproved, updated, now, schedule)),
                         PartnerEmail(updated, "Your fund request was approved",
                            $"\"{r.Title}\" is approved for {approved}, reimbursed up to {percent.ToString("0.##", CultureInfo.InvariantCulture)} % (at most {updated.MaxClaim}). Claim with proof of performance after the activity, by {BudgetDto.Iso(deadline)}.", now)]);
                }
            }
        }, ct);
        return await ResultAsync(result, ct);
    }

    /// <summary>The partner answers a request for information; the review starts again with fresh deadlines.</summary>
    public async Task<Versioned<FundRequestDto>> AnswerInfoAsync(Caller caller, string requestId, FundRequestInfoAnswer? body, CancellationToken ct)
    {
        await LoadVisibleAsync(caller, requestId, "mdr", ct);
        if (caller.PartnerId is null) throw new ForbiddenException("The partner answers a request for information.");
        if (string.IsNullOrWhiteSpace(body?.Answer)) throw new ValidationFailedException("answer", "answer is required.");
        if (body.Answer.Length > MdfRules.TextMax) throw new ValidationFailedException("answer", "answer takes at most 4000 characters.");
        var rules = await RulesAsync(ct);
        var result = await ApplyAsync(caller, requestId, async state =>
        {
            var r = state.Request;
            if (r.Status != FundRequestStatus.InfoRequested) throw new ConflictException($"The request is {r.Status}; no information was asked for.", "answer");
            var now = clock.GetUtcNow();
            var updated = r with
            {
                Status = FundRequestStatus.Submitted, InfoAnswer = body.Answer.Trim(), Cycle = r.Cycle + 1, RemindAt = now + rules.RequestReminderAfter, EscalateAt = now + rules.RequestEscalateAfter,
                Decisions = [.. r.Decisions, new MdfDecisionRecord("infoAnswered", null, caller.UserId, caller.DisplayName, now)],
            };
            var outbox = new List<OutboxMessage> { OutboxMessage.ForEvent(MdfEvents.Create(MdfEvents.RequestInfoAnswered, updated, now)) };
            foreach (var reviewer in await ReviewersAsync(updated, ct))
            {
                outbox.Add(Email("mdf-review", reviewer, updated, "A fund request was answered", $"{r.PartnerName} answered your question on \"{r.Title}\": {updated.InfoAnswer}",
                    await LinkAsync(updated, reviewer, now + rules.RequestEscalateAfter * 2, ct), now));
            }
            return new Change(updated, MdfEvents.RequestInfoAnswered, null, [], outbox);
        }, ct);
        return await ResultAsync(result, ct);
    }

    // ---------------------------------------------------------------- claims

    public async Task<Versioned<ClaimDto>> CreateClaimAsync(Caller caller, string requestId, ClaimInput? body, CancellationToken ct)
    {
        var visible = await LoadVisibleAsync(caller, requestId, "mdr", ct);
        if (caller.PartnerId is null) throw new ForbiddenException("The partner files the claim.");
        Validate.Body(body, new ClaimValidator(visible.Request.MaxClaim));
        var claimId = Ids.New("mdc");
        await store.RegisterIdAsync(claimId, visible.Request.BudgetId, requestId, ct);
        var result = await ApplyAsync(caller, requestId, state =>
        {
            var r = state.Request;
            if (r.Status != FundRequestStatus.Approved) throw new ConflictException($"The request is {r.Status}; only an approved request is claimed.", "status");
            if (r.Claim is not null) throw new ConflictException($"The request has a claim already ({r.Claim.Id}, {r.Claim.Status}).", "claim");
            var now = clock.GetUtcNow();
            var claim = new MdfClaim
            {
                Id = claimId, Status = MdfClaimStatus.Draft, ClaimedAmount = body!.ClaimedAmount!.ToMoney(), ActualLeads = body.ActualLeads ?? 0, Attendees = body.Attendees,
                Notes = body.Notes?.Trim(), CreatedAt = now, CreatedById = caller.UserId,
            };
            return Task.FromResult<Change?>(new Change(r with { Claim = claim }, "mdf.claim.created", null, [], [], "claim"));
        }, ct);
        return ClaimResult(result);
    }

    public async Task<Versioned<ClaimDto>> GetClaimAsync(Caller caller, string claimId, CancellationToken ct) => ClaimResult(await LoadVisibleAsync(caller, claimId, "mdc", ct));

    /// <summary>A slot for one proof file: a write-only SAS URL for one blob, valid 15 minutes.</summary>
    public async Task<ProofUpload> AddProofAsync(Caller caller, string claimId, ProofUploadInput? body, CancellationToken ct)
    {
        var visible = await LoadVisibleAsync(caller, claimId, "mdc", ct);
        if (caller.PartnerId is null) throw new ForbiddenException("The partner uploads proofs.");
        if (body?.FileName is { Length: > 200 }) throw new ValidationFailedException("fileName", "fileName takes at most 200 characters.");
        var proofId = Ids.New("mdp");
        var blob = $"{visible.Request.Id}/{claimId}/{proofId}";
        await ApplyAsync(caller, visible.Request.Id, state =>
        {
            var c = EditableClaim(state.Request);
            if (c.Proofs.Count >= MaxProofs) throw new ConflictException($"A claim holds at most {MaxProofs} proofs.", "proofs");
            var proof = new MdfProof(proofId, blob, body?.FileName?.Trim(), ProofStatus.Pending, null, null, null, clock.GetUtcNow(), null);
            return Task.FromResult<Change?>(new Change(state.Request with { Claim = c with { Proofs = [.. c.Proofs, proof] } }, "mdf.proof.added", body?.FileName, [], [], "claim"));
        }, ct);
        var url = await files.UploadUrlAsync(blob, UploadLifetime, ct);
        return new ProofUpload(proofId, url.ToString(), clock.GetUtcNow() + UploadLifetime, ProofSniffer.MaxSize, ProofSniffer.AllowedContentTypes);
    }

    /// <summary>Checks the uploaded blob: at most 25 MiB and a PDF, PNG, JPEG, XLSX or CSV by its first bytes; anything else is deleted and refused.</summary>
    public async Task<Versioned<ClaimDto>> CompleteProofAsync(Caller caller, string claimId, string proofId, CancellationToken ct)
    {
        var visible = await LoadVisibleAsync(caller, claimId, "mdc", ct);
        if (caller.PartnerId is null) throw new ForbiddenException("The partner uploads proofs.");
        var proof = visible.Request.Claim!.Proofs.FirstOrDefault(p => p.Id == proofId) ?? throw new NotFoundException("Proof");
        if (proof.Status == ProofStatus.Verified) return ClaimResult(visible);
        var inspected = await files.InspectAsync(proof.BlobName, ProofSniffer.HeadBytes, ct)
            ?? throw new ValidationFailedException("proofId", "Nothing was uploaded for this proof yet; PUT the file to the upload URL first.", unprocessable: true);
        var type = ProofSniffer.Detect(inspected.Head, inspected.Size);
        if (ProofSniffer.IsTooLarge(inspected.Size) || type == ProofType.Unknown)
        {
            await files.DeleteAsync(proof.BlobName, ct);
            await ApplyAsync(caller, visible.Request.Id, state =>
            {
                var c = state.Request.Claim!;
                return Task.FromResult<Change?>(c.Proofs.All(p => p.Id != proofId) ? null
                    : new Change(state.Request with { Claim = c with { Proofs = c.Proofs.Where(p => p.Id != proofId).ToList() } }, "mdf.proof.rejected", $"{proofId}: size {inspected.Size}, type {type}", [], [], "claim"));
            }, ct);
            throw ProofSniffer.IsTooLarge(inspected.Size)
                ? new ValidationFailedException("file", $"The file has {inspected.Size} bytes; a proof takes at most {ProofSniffer.MaxSize} bytes (25 MiB). It was deleted.", unprocessable: true)
                : new ValidationFailedException("file", "The file is not a PDF, PNG, JPEG, XLSX or CSV document (judged by its content, not its name). It was deleted.", unprocessable: true);
        }
        var contentType = ProofSniffer.ContentTypes[type];
        await files.SetContentTypeAsync(proof.BlobName, contentType, ct);
        var result = await ApplyAsync(caller, visible.Request.Id, state =>
        {
            var c = state.Request.Claim!;
            var current = c.Proofs.FirstOrDefault(p => p.Id == proofId) ?? throw new NotFoundException("Proof");
            if (current.Status == ProofStatus.Verified) return Task.FromResult<Change?>(null);
            var verified = current with { Status = ProofStatus.Verified, Type = Text.Camel(type), ContentType = contentType, Size = inspected.Size, VerifiedAt = clock.GetUtcNow() };
            return Task.FromResult<Change?>(new Change(state.Request with { Claim = c with { Proofs = c.Proofs.Select(p => p.Id == proofId ? verified : p).ToList() } }, "mdf.proof.verified", $"{proofId}: {contentType}, {inspected.Size} bytes", [], [], "claim"));
        }, ct);
        return ClaimResult(result);
    }

    /// <summary>A read-only link (5 minutes) to a verified proof, for the reviewers (channel manager of the partner, admins).</summary>
    public async Task<ProofLink> ProofLinkAsync(Caller caller, string claimId, string proofId, CancellationToken ct)
    {
        var visible = await LoadVisibleAsync(caller, claimId, "mdc", ct);
        if (!caller.IsVendor) throw new ForbiddenException("Reviewers read proofs through links; partners see the list.");
        var proof = visible.Request.Claim!.Proofs.FirstOrDefault(p => p.Id == proofId && p.Status == ProofStatus.Verified) ?? throw new NotFoundException("Proof");
        var url = await files.ReadUrlAsync(proof.BlobName, ReadLifetime, ct);
        return new ProofLink(proof.Id, url.ToString(), clock.GetUtcNow() + ReadLifetime);
    }

    /// <summary>Submits (or, after "request info", resubmits) the claim: at least one verified proof; approved → claimed in the ledger.</summary>
    public async Task<Versioned<ClaimDto>> SubmitClaimAsync(Caller caller, string claimId, ClaimInput? body, CancellationToken ct)
    {
        var visible = await LoadVisibleAsync(caller, claimId, "mdc", ct);
        if (caller.PartnerId is null) throw new ForbiddenException("The partner submits the claim.");
        if (body is not null) Validate.Body(body, new ClaimValidator(visible.Request.MaxClaim));
        var rules = await RulesAsync(ct);
        var result = await ApplyAsync(caller, visible.Request.Id, async state =>
        {
            var r = state.Request;
            var c = EditableClaim(r);
            var now = clock.GetUtcNow();
            if (r.ClaimDeadline is { } deadline && DateOnly.FromDateTime(now.UtcDateTime) > deadline)
                throw new ValidationFailedException("claimDeadline", $"The claim deadline {BudgetDto.Iso(deadline)} has passed.", unprocessable: true);
            if (!c.Proofs.Any(p => p.Status == ProofStatus.Verified))
                throw new ValidationFailedException("proofs", "Upload at least one proof of performance (and complete it) before submitting.", unprocessable: true);
            if (body is not null)
                c = c with { ClaimedAmount = body.ClaimedAmount!.ToMoney(), ActualLeads = body.ActualLeads ?? c.ActualLeads, Attendees = body.Attendees ?? c.Attendees, Notes = body.Notes?.Trim() ?? c.Notes };
            if (r.MaxClaim is { } max && (c.ClaimedAmount.Currency != max.Currency || c.ClaimedAmount.Amount > max.Amount))
                throw new ValidationFailedException("claimedAmount.amount", $"claimedAmount must not exceed {max} (approved amount x max reimbursement percent).", unprocessable: true);
            var submitted = c with { Status = MdfClaimStatus.Submitted, Submission = c.Submission + 1, SubmittedAt = now, ReviewRemindAt = now + rules.ClaimReviewReminderAfter, ReviewEscalateAt = now + rules.ClaimReviewEscalateAfter };
            var updated = r with { Claim = submitted };
            var outbox = new List<OutboxMessage> { OutboxMessage.ForEvent(MdfEvents.Create(MdfEvents.ClaimSubmitted, updated, now)) };
            foreach (var reviewer in await ReviewersAsync(r, ct))
            {
                outbox.Add(Email("mdf-review", reviewer, updated, "A claim waits for your review",
                    $"{r.PartnerName} claims {submitted.ClaimedAmount} for \"{r.Title}\" with {submitted.Proofs.Count(p => p.Status == ProofStatus.Verified)} proof(s), {submitted.ActualLeads} leads. Reminder on {Format(submitted.ReviewRemindAt!.Value)}.",
                    $"{program.PortalBaseUrl.TrimEnd('/')}/vendor/mdf/claims/{c.Id}", now));
            }
            return new Change(updated, MdfEvents.ClaimSubmitted, null, [new Move(LedgerEntryKind.ClaimSubmitted, submitted.ClaimedAmount, submitted.SubmissionSubject)], outbox, "claim");
        }, ct);
        return ClaimResult(result);
    }

    /// <summary>approve (amount, default the claimed amount; the rest of the reservation returns to available), reject (final; the reservation returns), requestInfo (back to the partner).</summary>
    public async Task<Versioned<ClaimDto>> DecideClaimAsync(Caller caller, string claimId, ClaimDecisionInput? body, CancellationToken ct)
    {
        var visible = await LoadVisibleAsync(caller, claimId, "mdc", ct);
        if (!caller.IsVendor || !await CanManageAsync(caller, visible.Request, ct)) throw new NotFoundException("Claim");
        Validate.Body(body, new ClaimDecisionValidator(visible.Request.Claim!.ClaimedAmount));
        var decision = Text.ParseEnum<MdfDecision>(body!.Decision)!.Value;
        var result = await ApplyAsync(caller, visible.Request.Id, state =>
        {
            var r = state.Request;
            var c = r.Claim!;
            if (c.Status != MdfClaimStatus.Submitted)
            {
                var last = r.Decisions.LastOrDefault(d => d.Decision.StartsWith("claim", StringComparison.Ordinal));
                throw new ConflictException(last is null ? $"The claim is {c.Status}; only a submitted claim is decided." : $"The claim is {c.Status}: {last.Decision} by {last.ByName} at {Format(last.At)}.", "decision");
            }
            var now = clock.GetUtcNow();
            var reason = body.Reason?.Trim();
            switch (decision)
            {
                case MdfDecision.Approve:
                {
                    var amount = body.Amount?.ToMoney() ?? c.ClaimedAmount;
                    var release = MdfMoney.Subtract(r.ApprovedAmount!.Value, amount);
                    var moves = new List<Move> { new(LedgerEntryKind.ClaimApproved, amount, c.SubmissionSubject, c.ClaimedAmount) };
                    if (release.Amount > 0) moves.Add(new Move(LedgerEntryKind.Released, release, r.Id));
                    var updated = r with { Claim = c with { Status = MdfClaimStatus.Approved, ApprovedAmount = amount }, Decisions = [.. r.Decisions, new MdfDecisionRecord("claimApprove", reason, caller.UserId, caller.DisplayName, now, amount)] };
                    return Task.FromResult<Change?>(new Change(updated, MdfEvents.ClaimApproved, reason, moves,
                        [OutboxMessage.ForEvent(MdfEvents.Create(MdfEvents.ClaimApproved, updated, now, reason: reason)),
                         PartnerEmail(updated, "Your claim was approved", $"{caller.DisplayName} approved {amount} of your claim for \"{r.Title}\"; finance pays it out.", now)], "claim"));
                }
                case MdfDecision.Reject:
                {
                    var updated = r with
                    {
                        Status = FundRequestStatus.Closed, Claim = c with { Status = MdfClaimStatus.Rejected },
                        Decisions = [.. r.Decisions, new MdfDecisionRecord("claimReject", reason, caller.UserId, caller.DisplayName, now)],
                    };
                    return Task.FromResult<Change?>(new Change(updated, MdfEvents.ClaimRejected, reason,
                        [new Move(LedgerEntryKind.ClaimRejected, c.ClaimedAmount, c.SubmissionSubject), new Move(LedgerEntryKind.Released, r.ApprovedAmount!.Value, r.Id)],
                        [OutboxMessage.ForEvent(MdfEvents.Create(MdfEvents.ClaimRejected, updated, now, reason: reason)),
                         PartnerEmail(updated, "Your claim was rejected", $"{caller.DisplayName} rejected your claim for \"{r.Title}\": {reason}", now)], "claim"));
                }
                default:
                {
                    var updated = r with { Claim = c with { Status = MdfClaimStatus.InfoRequested }, Decisions = [.. r.Decisions, new MdfDecisionRecord("claimRequestInfo", reason, caller.UserId, caller.DisplayName, now)] };
                    return Task.FromResult<Change?>(new Change(updated, MdfEvents.ClaimInfoRequested, reason, [new Move(LedgerEntryKind.ClaimReturned, c.ClaimedAmount, c.SubmissionSubject)],
                        [OutboxMessage.ForEvent(MdfEvents.Create(MdfEvents.ClaimInfoRequested, updated, now, reason: reason)),
                         PartnerEmail(updated, "More information needed for your claim", $"{caller.DisplayName} asks about your claim for \"{r.Title}\": {reason} Add proofs and submit it again.", now)], "claim"));
                }
            }
        }, ct);
        return ClaimResult(result);
    }

    /// <summary>Finance records the payout of an approved claim: Paid, final; the request is closed.</summary>
    public async Task<Versioned<ClaimDto>> PayoutAsync(Caller caller, string claimId, PayoutInput? body, CancellationToken ct)
    {
        var visible = await LoadVisibleAsync(caller, claimId, "mdc", ct);
        if (!caller.IsAdmin) throw new ForbiddenException("Finance (program admins) records payouts.");
        var input = Validate.Body(body, PayoutRules);
        var result = await ApplyAsync(caller, visible.Request.Id, state =>
        {
            var r = state.Request;
            var c = r.Claim!;
            if (c.Status == MdfClaimStatus.Paid) throw new ConflictException($"The claim was paid already (reference {c.PaymentReference}, {c.PaidOn}); paid claims are final.", "paymentReference");
            if (c.Status != MdfClaimStatus.Approved) throw new ConflictException($"The claim is {c.Status}; only an approved claim is paid.", "status");
            var now = clock.GetUtcNow();
            var updated = r with
            {
                Status = FundRequestStatus.Closed, Claim = c with { Status = MdfClaimStatus.Paid, PaymentReference = input.PaymentReference!.Trim(), PaidOn = input.PaidOn!.Trim() },
                Decisions = [.. r.Decisions, new MdfDecisionRecord("claimPaid", input.PaymentReference, caller.UserId, caller.DisplayName, now, c.ApprovedAmount)],
            };
            return Task.FromResult<Change?>(new Change(updated, MdfEvents.ClaimPaid, input.PaymentReference, [new Move(LedgerEntryKind.Paid, c.ApprovedAmount!.Value, c.Id)],
                [OutboxMessage.ForEvent(MdfEvents.Create(MdfEvents.ClaimPaid, updated, now)),
                 PartnerEmail(updated, "Your claim was paid", $"{c.ApprovedAmount} for \"{r.Title}\" was paid on {input.PaidOn} (reference {input.PaymentReference}).", now)], "claim"));
        }, ct);
        return ClaimResult(result);
    }

    // ---------------------------------------------------------------- ROI

    public async Task<MdfRoiDto> RequestRoiAsync(Caller caller, string requestId, CancellationToken ct)
    {
        var r = (await LoadVisibleAsync(caller, requestId, "mdr", ct)).Request;
        var paid = r.Claim?.Status == MdfClaimStatus.Paid ? r.Claim.ApprovedAmount!.Value : new Money(0m, r.RequestedAmount.Currency);
        var deals = await attribution.DealsForRequestAsync(r.PartnerId, r.Id, paid.Currency, ct);
        var roi = MdfRoi.Compute(paid, r.Claim?.ActualLeads ?? 0, deals);
        return new MdfRoiDto(r.Id, r.PartnerId, r.Period, roi.Paid, roi.Leads, roi.RegisteredDeals, roi.PipelineValue, roi.WonValue, roi.CostPerLead, roi.ReturnOnSpend, 1);
    }

    /// <summary>ROI of a partner's budget in a period (one currency: the budget's; with several currencies, pass the currency's budget period).</summary>
    public async Task<MdfRoiDto> PeriodRoiAsync(Caller caller, string? partnerId, string? period, CancellationToken ct)
    {
        partnerId ??= caller.PartnerId ?? throw new ValidationFailedException("partnerId", "partnerId is required.");
        if (string.IsNullOrEmpty(period)) throw new ValidationFailedException("period", "period is required.");
        var text = (await RulesAsync(ct)).Calendar().Parse(period).Text;
        await LoadPartnerAsync(caller, partnerId, "partnerId", ct, notFound: true);
        var budgets = await store.ListBudgetsAsync(partnerId, text, ct);
        var currency = budgets.FirstOrDefault()?.Budget.Currency ?? program.ProgramCurrency;
        var paid = new Money(0m, currency);
        var leads = 0;
        var deals = new List<AttributedDeal>();
        var count = 0;
        foreach (var b in budgets.Where(b => b.Budget.Currency == currency))
        {
            foreach (var r in await store.RequestsOfBudgetAsync(b.Budget.Id, ct))
            {
                if (r.Status is not (FundRequestStatus.Approved or FundRequestStatus.Closed or FundRequestStatus.Expired)) continue;
                count++;
                if (r.Claim?.Status == MdfClaimStatus.Paid) paid = MdfMoney.Add(paid, r.Claim.ApprovedAmount!.Value);
                leads += r.Claim?.ActualLeads ?? 0;
                deals.AddRange(await attribution.DealsForRequestAsync(r.PartnerId, r.Id, currency, ct));
            }
        }
        var roi = MdfRoi.Compute(paid, leads, deals);
        return new MdfRoiDto(null, partnerId, text, roi.Paid, roi.Leads, roi.RegisteredDeals, roi.PipelineValue, roi.WonValue, roi.CostPerLead, roi.ReturnOnSpend, count);
    }

    // ---------------------------------------------------------------- workflow steps

    public async Task<string> RunStepAsync(MdfStep step, CancellationToken ct)
    {
        var found = await store.GetRequestAsync(step.RequestId, ct);
        if (found is null) return "closed";
        var rules = await RulesAsync(ct);
        var outcome = "done";
        var key = $"{step.Kind}:{step.Cycle}:{step.DaysBefore}:{step.Submission}";
        await ApplyAsync(Caller.System, step.RequestId, async state =>
        {
            var r = state.Request;
            var now = clock.GetUtcNow();
            if (r.StepsDone.Contains(key)) { outcome = "done already"; return null; }
            var marked = r with { StepsDone = [.. r.StepsDone, key] };
            switch (step.Kind)
            {
                case MdfStepKind.RequestRemind or MdfStepKind.RequestEscalate:
                {
                    if (r.Status is FundRequestStatus.Rejected or FundRequestStatus.Cancelled or FundRequestStatus.Expired or FundRequestStatus.Closed) { outcome = "closed"; return null; }
                    if (!(r.Status is FundRequestStatus.Submitted or FundRequestStatus.AwaitingSecondApproval) || step.Cycle != r.Cycle) { outcome = "not waiting"; return null; }
                    var escalate = step.Kind == MdfStepKind.RequestEscalate;
                    var recipients = escalate || r.Status == FundRequestStatus.AwaitingSecondApproval ? (await AdminsAsync(ct)).Where(a => a.Id != r.FirstApproval?.ById).ToList() : await ReviewersAsync(r, ct);
                    var outbox = new List<OutboxMessage>();
                    foreach (var reviewer in recipients)
                    {
                        outbox.Add(Email("mdf-review", reviewer, r, escalate ? "Escalated: a fund request waits for a decision" : "Reminder: a fund request waits for your decision",
                            escalate ? $"\"{r.Title}\" of {r.PartnerName} ({r.RequestedAmount}) was submitted on {Format(r.SubmittedAt)} and is still undecided."
                                     : $"\"{r.Title}\" of {r.PartnerName} ({r.RequestedAmount}) still waits; it is escalated to the program admins on {Format(r.EscalateAt)}.",
                            await LinkAsync(r, reviewer, now + rules.RequestEscalateAfter, ct), now));
                    }
                    outcome = escalate ? "escalated" : "reminded";
                    return new Change(marked, escalate ? "mdf.request.escalated" : "mdf.request.reminded", null, [], outbox);
                }
                case MdfStepKind.ActivityEnded or MdfStepKind.ClaimDeadlineReminder:
                {
                    if (r.Status != FundRequestStatus.Approved || r.Claim?.Status is MdfClaimStatus.Submitted or MdfClaimStatus.Approved or MdfClaimStatus.Paid or MdfClaimStatus.Rejected) { outcome = "closed"; return null; }
                    var message = step.Kind == MdfStepKind.ActivityEnded
                        ? $"\"{r.Title}\" ended on {BudgetDto.Iso(r.EndDate)}. Claim up to {r.MaxClaim} with proof of performance by {BudgetDto.Iso(r.ClaimDeadline!.Value)}."
                        : $"{step.DaysBefore} day(s) left: claim \"{r.Title}\" (up to {r.MaxClaim}) by {BudgetDto.Iso(r.ClaimDeadline!.Value)}, or the reserved funds return to the budget.";
                    outcome = step.Kind == MdfStepKind.ActivityEnded ? "claim reminded" : $"claim reminded {step.DaysBefore} days before";
                    return new Change(marked, "mdf.claim.reminded", null, [], [PartnerEmail(r, step.Kind == MdfStepKind.ActivityEnded ? "Time to claim your MDF" : "Your claim deadline is near", message, now)]);
                }
                case MdfStepKind.ClaimExpire:
                {
                    if (r.Status != FundRequestStatus.Approved || r.Claim?.Status is MdfClaimStatus.Submitted or MdfClaimStatus.Approved or MdfClaimStatus.Paid or MdfClaimStatus.Rejected) { outcome = "closed"; return null; }
                    var updated = marked with
                    {
                        Status = FundRequestStatus.Expired, Claim = r.Claim is null ? null : r.Claim with { Status = MdfClaimStatus.Expired },
                        Decisions = [.. r.Decisions, new MdfDecisionRecord("expired", "The claim deadline passed.", Caller.System.UserId, Caller.System.DisplayName, now)],
                    };
                    outcome = "expired";
                    return new Change(updated, MdfEvents.RequestExpired, "The claim deadline passed.", [new Move(LedgerEntryKind.Released, r.ApprovedAmount!.Value, r.Id)],
                        [OutboxMessage.ForEvent(MdfEvents.Create(MdfEvents.RequestExpired, updated, now)),
                         PartnerEmail(updated, "Your MDF reservation expired", $"No claim for \"{r.Title}\" was submitted by {BudgetDto.Iso(r.ClaimDeadline!.Value)}; the {r.ApprovedAmount} reserved returned to the budget.", now)]);
                }
                default:
                {
                    if (r.Claim is not { Status: MdfClaimStatus.Submitted } c || c.Submission != step.Submission) { outcome = "closed"; return null; }
                    var escalate = step.Kind == MdfStepKind.ClaimReviewEscalate;
                    var outbox = new List<OutboxMessage>();
                    foreach (var reviewer in escalate ? await AdminsAsync(ct) : await ReviewersAsync(r, ct))
                    {
                        outbox.Add(Email("mdf-review", reviewer, r, escalate ? "Escalated: a claim waits for review" : "Reminder: a claim waits for your review",
                            $"{r.PartnerName} claimed {c.ClaimedAmount} for \"{r.Title}\" on {Format(c.SubmittedAt!.Value)}.", $"{program.PortalBaseUrl.TrimEnd('/')}/vendor/mdf/claims/{c.Id}", now));
                    }
                    outcome = escalate ? "claim escalated" : "claim reminded";
                    return new Change(marked, escalate ? "mdf.claim.escalated" : "mdf.claim.reviewReminded", null, [], outbox, "claim");
                }
            }
        }, ct);
        return outcome;
    }

    // ---------------------------------------------------------------- plumbing

    /// <summary>Reads the request, decides the change, commits it with its money movements in one transaction; re-decides on a stale row.</summary>
    private async Task<RequestState> ApplyAsync(Caller actor, string requestId, Func<RequestState, Task<Change?>> decide, CancellationToken ct)
    {
        return await ReadDecideCommit.RunAsync(async _ =>
        {
            var state = await store.GetRequestAsync(requestId, ct) ?? throw new NotFoundException("Fund request");
            var change = await decide(state);
            if (change is null) return state;
            var now = clock.GetUtcNow();
            BudgetState? budget = null;
            BudgetBalance? balance = null;
            var entries = new List<LedgerEntry>();
            if (change.Moves.Count > 0)
            {
                budget = await store.GetBudgetAsync(state.Request.BudgetId, ct) ?? throw new InvalidOperationException($"Budget {state.Request.BudgetId} is missing.");
                balance = budget.Balance;
                foreach (var move in change.Moves)
                {
                    var entry = new LedgerEntry(Ids.New("led"), balance.Sequence + 1, move.Kind, move.Amount, move.Subject, change.Note, now, actor.UserId, move.Basis);
                    balance = balance.Apply(entry);
                    entries.Add(entry);
                }
            }
            // The timeline of a request holds its claim's entries too (SubjectType "claim", SubjectId the request).
            var audit = new AuditEntry(Ids.New("aud"), now, actor.UserId, actor.DisplayName, change.Action, change.SubjectType, change.Updated.Id,
                Diff.Between(state.Request.Snapshot(), change.Updated.Snapshot()), change.Note);
            var etag = await store.CommitAsync(new MdfCommit(state.Request.BudgetId, budget?.ETag, balance, entries, change.Updated, state.ETag, new ChangeSet([audit], change.Outbox)), ct);
            return new RequestState(change.Updated, etag);
        }, MaxAttempts, ReadDecideCommit.Jitter(5), ct: ct);
    }

    private async Task<Versioned<FundRequestDto>> ResultAsync(RequestState state, CancellationToken ct) =>
        new(FundRequestDto.From(state.Request, await RulesAsync(ct)), state.ETag);

    private static Versioned<ClaimDto> ClaimResult(RequestState state) =>
        new(ClaimDto.From(state.Request, state.Request.Claim ?? throw new NotFoundException("Claim")), state.ETag);

    private static MdfClaim EditableClaim(FundRequest r)
    {
        var c = r.Claim ?? throw new NotFoundException("Claim");
        if (r.Status != FundRequestStatus.Approved || c.Status is not (MdfClaimStatus.Draft or MdfClaimStatus.InfoRequested))
            throw new ConflictException($"The claim is {c.Status}; proofs are added and claims submitted while it is a Draft or returned for information.", "status");
        return c;
    }

    /// <summary>
    /// The request (or the request of the claim) if the caller may see it: its partner's users, the partner's channel manager, admins.
    /// Anyone else gets 404, without a storage read of the partner for partner users of another company.
    /// </summary>
    private async Task<RequestState> LoadVisibleAsync(Caller caller, string id, string prefix, CancellationToken ct)
    {
        var what = prefix == "mdc" ? "Claim" : "Fund request";
        if (!Ids.LooksLike(id, prefix)) throw new NotFoundException(what);
        var state = await store.GetRequestAsync(id, ct);
        if (state is null || (prefix == "mdc" && state.Request.Claim?.Id != id)) throw new NotFoundException(what);
        if (caller.PartnerId is not null)
        {
            if (caller.PartnerId != state.Request.PartnerId) throw new NotFoundException(what);
            return state;
        }
        if (caller.IsAdmin) return state;
        if (!await CanManageAsync(caller, state.Request, ct)) throw new NotFoundException(what);
        return state;
    }

    private async Task<bool> CanManageAsync(Caller caller, FundRequest r, CancellationToken ct)
    {
        if (caller.IsAdmin) return true;
        if (!caller.IsChannelManager) return false;
        var partner = (await partners.GetAsync(r.PartnerId, ct))?.Value;
        return partner is not null && PartnerAccess.CanManageProgram(caller, partner);
    }

    private async Task<BudgetState> LoadBudgetAsync(Caller caller, string budgetId, CancellationToken ct)
    {
        if (!Ids.LooksLike(budgetId, "mdb")) throw new NotFoundException("Budget");
        var state = await store.GetBudgetAsync(budgetId, ct) ?? throw new NotFoundException("Budget");
        if (caller.PartnerId is not null && caller.PartnerId != state.Budget.PartnerId) throw new NotFoundException("Budget");
        if (caller.PartnerId is null && !caller.IsAdmin)
        {
            var partner = (await partners.GetAsync(state.Budget.PartnerId, ct))?.Value;
            if (partner is null || !PartnerAccess.CanManageProgram(caller, partner)) throw new NotFoundException("Budget");
        }
        return state;
    }

    private async Task<Partner> LoadPartnerAsync(Caller caller, string partnerId, string field, CancellationToken ct, bool notFound = false)
    {
        try
        {
            return (await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct)).Value;
        }
        catch (NotFoundException) when (!notFound)
        {
            throw new ValidationFailedException(field, $"{field} must be the id of a partner you can see.", unprocessable: true);
        }
    }

    private Task<MdfSettings> RulesAsync(CancellationToken ct) => settings.GetAsync<MdfSettings>(MdfSettings.SectionName, ct);

    private static List<MdfEvents.ScheduledStep> ClaimSchedule(FundRequest r, MdfSettings rules, DateTimeOffset now)
    {
        var endsAt = new DateTimeOffset(r.EndDate.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var deadlineAt = new DateTimeOffset(r.ClaimDeadline!.Value.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var steps = new List<MdfEvents.ScheduledStep> { new(endsAt, MdfStepKind.ActivityEnded) };
        foreach (var days in rules.ClaimReminderDaysBefore.Distinct().OrderDescending())
        {
            var at = deadlineAt.AddDays(-days);
            if (at > now && at > endsAt) steps.Add(new MdfEvents.ScheduledStep(at, MdfStepKind.ClaimDeadlineReminder, days));
        }
        steps.Add(new MdfEvents.ScheduledStep(deadlineAt, MdfStepKind.ClaimExpire));
        return [.. steps.OrderBy(s => s.At)];
    }

    private async Task<IReadOnlyList<StaffMember>> ReviewersAsync(FundRequest r, CancellationToken ct)
    {
        var manager = r.ChannelManagerId is null ? null : await staff.GetAsync(r.ChannelManagerId, ct);
        return manager is not null && manager.Roles.Contains(AppRoles.ChannelManager) ? [manager] : await AdminsAsync(ct);
    }

    private async Task<IReadOnlyList<StaffMember>> AdminsAsync(CancellationToken ct) => (await staff.ListAsync(ct)).Where(s => s.Roles.Contains(AppRoles.Admin)).ToList();

    private Task<string> LinkAsync(FundRequest r, StaffMember reviewer, DateTimeOffset expiresAt, CancellationToken ct) =>
        links.IssueAsync(DecisionKind, r.Id, new Caller(reviewer.Id, reviewer.Email, reviewer.DisplayName, reviewer.Roles, null, null), ["approve", "reject", "requestInfo"], expiresAt, ct);

    private OutboxMessage Email(string template, StaffMember to, FundRequest r, string headline, string message, string actionUrl, DateTimeOffset now) =>
        Compose(template, to.Email, to.DisplayName, r, headline, message, actionUrl, now);

    private OutboxMessage PartnerEmail(FundRequest r, string headline, string message, DateTimeOffset now) =>
        Compose("mdf-update", r.RequesterEmail, r.RequesterName, r, headline, message, $"{program.PortalBaseUrl.TrimEnd('/')}/mdf/requests/{r.Id}", now);

    private OutboxMessage Compose(string template, string to, string? toName, FundRequest r, string headline, string message, string actionUrl, DateTimeOffset now)
    {
        var email = emails.Compose(template, to, toName, new
        {
            recipientName = toName ?? to,
            headline,
            message,
            title = r.Title,
            partnerName = r.PartnerName,
            amount = (r.ApprovedAmount ?? r.RequestedAmount).ToString(),
            dates = $"{BudgetDto.Iso(r.StartDate)} to {BudgetDto.Iso(r.EndDate)}",
            actionUrl,
        });
        return OutboxMessage.ForEmail(Ids.New("msg"), email, now, r.PartnerId, Correlation.Id);
    }

    private static string Format(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}
