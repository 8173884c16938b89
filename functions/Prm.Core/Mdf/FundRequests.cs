using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Mdf;

/// <summary>Body of POST /api/mdf/requests/{id}/cancel.</summary>
public sealed record CancelInput(string? Reason);

/// <summary>
/// Fund requests: a partner asks for funds for an activity (the amount is reserved as pending at once, never beyond the available balance);
/// the channel manager (or an admin) approves — above the threshold a second admin approves too — rejects or asks for information;
/// the partner answers or cancels. Lists, reads and the timeline.
/// </summary>
public sealed class FundRequests(IMdfStore store, IPartnerStore partners, IStaffStore staff, MdfCommits commits, ProgramSettings settings, TimeProvider clock)
{
    private static readonly FundRequestValidator RequestValidator = new();

    /// <summary>
    /// Files a fund request. With an Idempotency-Key, the request's id follows from the caller and the key: a retry (also one racing the
    /// first) returns the request the first created, and reserves nothing again.
    /// </summary>
    public async Task<Versioned<FundRequestDto>> SubmitAsync(Caller caller, FundRequestInput? body, string? idempotencyKey, CancellationToken ct)
    {
        if (caller.PartnerId is null) throw new ForbiddenException("Only partner users request funds.");
        if (idempotencyKey is not null && (idempotencyKey.Length is 0 or > 200)) throw new ValidationFailedException("Idempotency-Key", "The Idempotency-Key header takes 1 to 200 characters.");
        var idempotentId = idempotencyKey is null ? null
            : "mdr_" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(caller.PartnerId + "\n" + caller.UserId + "\n" + idempotencyKey)))[..32];
        if (idempotentId is not null && await ReplayAsync(caller, idempotentId, ct) is { } replayed) return replayed;
        var input = Validate.Body(body, RequestValidator);
        // The rules, the partner and its budgets are independent reads: side by side.
        var rulesRead = RulesAsync(ct);
        var partnerRead = partners.GetAsync(caller.PartnerId, ct);
        var budgetsRead = store.ListBudgetsAsync(caller.PartnerId, null, ct);
        // The reviewer (the partner's channel manager) as soon as the partner is known, beside the budget's second read.
        var managerRead = ManagerAsync(partnerRead, ct);
        await Task.WhenAll(rulesRead, partnerRead, budgetsRead);
        var rules = await rulesRead;
        var partner = (await partnerRead)?.Value ?? throw new NotFoundException("Partner");
        var type = Text.ParseEnum<MdfActivityType>(input.ActivityType)!.Value;
        if (!rules.Allows(partner.Tier, type))
            throw new ValidationFailedException("activityType", $"Partners of tier {Text.Camel(partner.Tier)} may not request funds for {Text.Camel(type)}.", unprocessable: true);
        var start = MdfRules.ParseDate(input.StartDate)!.Value;
        var end = MdfRules.ParseDate(input.EndDate)!.Value;
        var amount = input.RequestedAmount!.ToMoney();
        var covering = (await budgetsRead)
            .Where(b => b.Budget.PeriodStart <= start && end <= b.Budget.PeriodEnd)
            .OrderBy(b => b.Budget.PeriodEnd.DayNumber - b.Budget.PeriodStart.DayNumber).ToList();
        if (covering.Count == 0)
            throw new ValidationFailedException("endDate", $"No budget of {partner.Name} covers {input.StartDate} to {input.EndDate}; the activity must lie within one budget period.", unprocessable: true);
        var budget = covering.FirstOrDefault(b => b.Budget.Currency == amount.Currency)
            ?? throw new ValidationFailedException("requestedAmount.currency", $"requestedAmount.currency must be {covering[0].Budget.Currency}, the currency of the {covering[0].Budget.Period} budget.", unprocessable: true);
        var now = clock.GetUtcNow();
        var request = new FundRequest
        {
            Id = idempotentId ?? Ids.New("mdr"), BudgetId = budget.Budget.Id, PartnerId = partner.Id, PartnerName = partner.Name, ChannelManagerId = partner.ChannelManagerId, Period = budget.Budget.Period,
            Status = FundRequestStatus.Submitted, ActivityType = type, Title = input.Title!.Trim(), Description = input.Description!.Trim(), StartDate = start, EndDate = end,
            RequestedAmount = amount, PartnerContributionPercent = input.PartnerContributionPercent ?? 0, TargetAudience = input.TargetAudience?.Trim(),
            ExpectedLeads = input.ExpectedLeads, ExpectedPipeline = input.ExpectedPipeline?.ToMoney(), RequesterId = caller.UserId, RequesterName = caller.DisplayName,
            RequesterEmail = caller.Email, SubmittedAt = now, RemindAt = now + rules.RequestReminderAfter, EscalateAt = now + rules.RequestEscalateAfter,
        };
        var change = request.Submit(rules);
        // Fail fast (over the available balance: 422) before the id is registered and reviewers get links.
        MdfCommits.Book(budget.Balance, change, caller, now, "requestedAmount.amount");
        try
        {
            // The id's index row and the reviewers' links are independent writes: side by side, both before the commit.
            var etag = await commits.SubmitAsync(caller, budget, change, now, ct, alongside: store.RegisterIdAsync(request.Id, budget.Budget.Id, request.Id, ct), manager: managerRead);
            return new Versioned<FundRequestDto>(FundRequestDto.From(request, rules), etag);
        }
        catch (Exception ex) when (ex is ConflictException or DuplicateLedgerEntryException && idempotentId is not null)
        {
            // A retry with the same key committed first: its request is the answer (nothing was reserved twice: the loser's transaction failed whole).
            if (await ReplayAsync(caller, idempotentId, ct) is { } replay) return replay;
            throw;
        }
    }

    private async Task<StaffMember?> ManagerAsync(Task<Versioned<Partner>?> partnerRead, CancellationToken ct) =>
        (await partnerRead)?.Value.ChannelManagerId is { } managerId ? await staff.GetAsync(managerId, ct) : null;

    private async Task<Versioned<FundRequestDto>?> ReplayAsync(Caller caller, string requestId, CancellationToken ct)
    {
        if (await store.GetRequestAsync(requestId, ct) is not { } found) return null;
        if (found.Request.RequesterId != caller.UserId) throw new ConflictException("This Idempotency-Key was used by someone else.", "Idempotency-Key");
        return new Versioned<FundRequestDto>(FundRequestDto.From(found.Request, await RulesAsync(ct)), found.ETag);
    }

    /// <summary>approve (optionally lower, with a max reimbursement percent and a claim deadline), reject (final), requestInfo. Above the threshold an admin approves a second time.</summary>
    public async Task<Versioned<FundRequestDto>> DecideAsync(Caller caller, string requestId, FundRequestDecisionInput? body, CancellationToken ct)
    {
        // The budget is read beside the partner's owner: an approval books on it.
        var visible = await commits.LoadAsync(caller, requestId, "mdr", ct, withBudget: true);
        if (!MdfAccess.Allows(caller, MdfOperation.Manage, visible.Request.PartnerId, visible.PartnerOwnerId)) throw new NotFoundException("Fund request");
        Validate.Body(body, new FundRequestDecisionValidator(visible.Request.RequestedAmount));
        var decision = Text.ParseEnum<MdfDecision>(body!.Decision)!.Value;
        var rules = await RulesAsync(ct);
        var name = decision switch { MdfDecision.Approve => "approve", MdfDecision.Reject => "reject", _ => "requestInfo" };
        var result = await commits.ApplyAsync(caller, requestId, state => Task.FromResult<MdfChange?>(state.Request.Decide(decision,
            new MdfDecisionRecord(name, body.Reason?.Trim(), caller.UserId, caller.DisplayName, clock.GetUtcNow()),
            body.ApprovedAmount?.ToMoney(), body.MaxReimbursementPercent, MdfRules.ParseDate(body.ClaimDeadline), rules, caller.IsAdmin)), ct, loaded: visible.State, loadedBudget: visible.BudgetRead);
        return new Versioned<FundRequestDto>(FundRequestDto.From(result.Request, rules), result.ETag);
    }

    /// <summary>The partner answers a request for information; the review starts again with fresh deadlines.</summary>
    public async Task<Versioned<FundRequestDto>> AnswerInfoAsync(Caller caller, string requestId, FundRequestInfoAnswer? body, CancellationToken ct)
    {
        var visible = await commits.LoadAsync(caller, requestId, "mdr", ct);
        if (!MdfAccess.Allows(caller, MdfOperation.ActForPartner, visible.Request.PartnerId, visible.PartnerOwnerId)) throw new ForbiddenException("The partner answers a request for information.");
        if (string.IsNullOrWhiteSpace(body?.Answer)) throw new ValidationFailedException("answer", "answer is required.");
        if (body.Answer.Length > MdfRules.TextMax) throw new ValidationFailedException("answer", "answer takes at most 4000 characters.");
        var rules = await RulesAsync(ct);
        var result = await commits.ApplyAsync(caller, requestId, state => Task.FromResult<MdfChange?>(state.Request.AnswerInfo(body.Answer.Trim(),
            new MdfDecisionRecord("infoAnswered", null, caller.UserId, caller.DisplayName, clock.GetUtcNow()), rules)), ct);
        return new Versioned<FundRequestDto>(FundRequestDto.From(result.Request, rules), result.ETag);
    }

    /// <summary>Cancels a pending request (pending → available) or an approved one without a submitted claim (reservation → available).</summary>
    public async Task<Versioned<FundRequestDto>> CancelAsync(Caller caller, string requestId, CancelInput? body, CancellationToken ct)
    {
        var visible = await commits.LoadAsync(caller, requestId, "mdr", ct);
        var byPartner = MdfAccess.Allows(caller, MdfOperation.ActForPartner, visible.Request.PartnerId, visible.PartnerOwnerId);
        if (!byPartner && !MdfAccess.Allows(caller, MdfOperation.Manage, visible.Request.PartnerId, visible.PartnerOwnerId))
            throw new ForbiddenException("Only the partner, its channel manager and admins cancel a request.");
        if (body?.Reason?.Length > MdfRules.TextMax) throw new ValidationFailedException("reason", "reason takes at most 4000 characters.");
        var result = await commits.ApplyAsync(caller, requestId, state => Task.FromResult<MdfChange?>(state.Request.Cancel(
            new MdfDecisionRecord("cancel", body?.Reason?.Trim(), caller.UserId, caller.DisplayName, clock.GetUtcNow()), byPartner)), ct);
        return new Versioned<FundRequestDto>(FundRequestDto.From(result.Request, await RulesAsync(ct)), result.ETag);
    }

    public async Task<Page<FundRequestDto>> ListAsync(Caller caller, string? partnerId, string? status, PageRequest page, CancellationToken ct)
    {
        var statusValue = Text.ParseEnum<FundRequestStatus>(status);
        if (status is not null && statusValue is null) throw new ValidationFailedException("status", "status must be one of: " + string.Join(", ", Enum.GetNames<FundRequestStatus>()) + ".");
        partnerId ??= caller.PartnerId;
        string scope;
        if (partnerId is not null)
        {
            await commits.LoadPartnerAsync(caller, partnerId, "partnerId", ct, notFound: true);
            scope = "partner:" + partnerId;
        }
        else scope = MdfAccess.DefaultListScope(caller);
        var rules = await RulesAsync(ct);
        return (await store.ListRequestsAsync(scope, statusValue, page, ct)).Map(r => FundRequestDto.From(r, rules));
    }

    public async Task<Versioned<FundRequestDto>> GetAsync(Caller caller, string requestId, CancellationToken ct)
    {
        var visible = await commits.LoadAsync(caller, requestId, "mdr", ct);
        return new Versioned<FundRequestDto>(FundRequestDto.From(visible.Request, await RulesAsync(ct)), visible.State.ETag);
    }

    public async Task<Page<AuditEntry>> TimelineAsync(Caller caller, string requestId, PageRequest page, CancellationToken ct)
    {
        var visible = await commits.LoadAsync(caller, requestId, "mdr", ct);
        return await store.TimelineAsync(visible.Request.BudgetId, requestId, page, ct);
    }

    private Task<MdfSettings> RulesAsync(CancellationToken ct) => settings.GetAsync<MdfSettings>(MdfSettings.SectionName, ct);
}
