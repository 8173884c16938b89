using Prm.Core.Analytics;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Mdf;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Plans;

/// <summary>
/// Joint business plans: vendor staff (the partner's channel manager, admins) create, edit, propose, version and close them and record
/// reviews and custom values; the partner's people read them once proposed and comment; a partner admin accepts them. A plan the caller
/// may not see is 404 (a Draft for the partner's people, another partner's plan, a channel manager's plan of a partner not theirs).
/// </summary>
public sealed class BusinessPlans(IPlanStore store, IPartnerStore partners, IMdfStore mdf, ProgramSettings settings, PlanActuals actuals, PlanNotices notices,
    AnalyticsCalendar calendar, ProgramOptions program, TimeProvider clock)
{
    /// <summary>How many fiscal years ahead a plan may be made.</summary>
    public const int MaxYearsAhead = 5;

    public async Task<Versioned<BusinessPlan>> CreateAsync(Caller caller, CreatePlanRequest? body, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (!caller.IsVendor) throw new ForbiddenException("Only the partner's channel manager and admins make plans.");
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        if (string.IsNullOrWhiteSpace(body.PartnerId)) throw new ValidationFailedException("partnerId", "partnerId is required: the partner the plan is for.");
        Partner partner;
        try
        {
            partner = (await PartnerAccess.LoadVisibleAsync(partners, caller, body.PartnerId, ct)).Value;
        }
        catch (NotFoundException)
        {
            throw new ValidationFailedException("partnerId", "partnerId names no partner you manage.", unprocessable: true);
        }
        if (!PartnerAccess.CanManageProgram(caller, partner)) throw new ForbiddenException("Only the partner's channel manager and admins make plans.");
        var fiscal = await FiscalAsync(ct);
        var today = calendar.DayOf(clock.GetUtcNow());
        var current = fiscal.Containing(today, FiscalPeriodKind.Year).Year;
        if (body.FiscalYear is not { } year) throw new ValidationFailedException("fiscalYear", "fiscalYear is required: the fiscal year the plan is for, e.g. " + current + ".");
        if (year < current || year > current + MaxYearsAhead)
        {
            throw new ValidationFailedException("fiscalYear", $"fiscalYear is the current fiscal year ({current}) or one of the next {MaxYearsAhead}: a plan is made before its year ends.", unprocessable: true);
        }
        var (objectives, initiatives) = PlanRules.Build(body.Objectives, body.Initiatives, program.ProgramCurrency, [], []);
        await CheckMdfAsync(partner.Id, initiatives, ct);
        var now = clock.GetUtcNow();
        var id = PlanIds.New(partner.Id);
        var plan = new BusinessPlan
        {
            Id = id,
            PartnerId = partner.Id,
            PartnerName = partner.Name,
            FiscalYear = year,
            Status = nameof(PlanStatus.Draft),
            Version = 1,
            Title = PlanRules.Title(body.Title, $"{partner.Name} FY{year} joint business plan"),
            Objectives = objectives,
            Initiatives = initiatives,
            CreatedBy = caller.DisplayName,
            CreatedAt = now,
            UpdatedAt = now,
        };
        var first = new PlanVersion(id, 1, plan.Title, objectives, initiatives, [], null, caller.DisplayName, now);
        var changes = new ChangeSet([Audit(caller, now, "plan.created", plan, [new FieldChange("status", null, plan.Status)])], [Outbox.OutboxMessage.ForEvent(PlanEvents.Of(PlanEvents.Created, plan, now))]);
        try
        {
            return new Versioned<BusinessPlan>(plan, await store.CreateAsync(plan, first, changes, ct));
        }
        catch (ConflictException)
        {
            throw new ConflictException($"{partner.Name} has a plan for fiscal year {year} already: change it, or give it a new version.", "fiscalYear");
        }
    }

    /// <summary>The plan with its actuals and the on-track verdict of every objective per quarter, as of today (program time zone).</summary>
    public async Task<Versioned<PlanView>> GetAsync(Caller caller, string planId, CancellationToken ct)
    {
        var (found, _) = await LoadAsync(caller, planId, ct);
        var fiscal = await FiscalAsync(ct);
        var today = calendar.DayOf(clock.GetUtcNow());
        var progress = await actuals.ProgressAsync(found.Value, fiscal, today, ct);
        return new Versioned<PlanView>(new PlanView(found.Value, today, progress), found.ETag);
    }

    public async Task<Page<PlanSummary>> ListAsync(Caller caller, string? partnerId, string? fiscalYear, PageRequest page, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        int? year = null;
        if (fiscalYear is not null)
        {
            if (!int.TryParse(fiscalYear, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var y) || y is < FiscalCalendar.MinYear or > FiscalCalendar.MaxYear)
            {
                throw new ValidationFailedException("fiscalYear", $"fiscalYear is a year from {FiscalCalendar.MinYear} to {FiscalCalendar.MaxYear}.");
            }
            year = y;
        }
        if (caller.PartnerId is not null) partnerId ??= caller.PartnerId;
        if (partnerId is not null)
        {
            await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct);
            var plans = await store.ListAsync(partnerId, year, page, ct);
            return new Page<PlanSummary>(plans.Items.Where(p => caller.IsVendor || p.StatusValue != PlanStatus.Draft).OrderBy(p => p.FiscalYear).Select(PlanSummary.From).ToList(), plans.NextCursor);
        }
        if (caller.IsAdmin) return (await store.ListAsync(null, year, page, ct)).Map(PlanSummary.From);
        if (!caller.IsChannelManager) throw new ForbiddenException("Only vendor staff list plans of several partners.");
        // A channel manager: the plans of the partners they own (a partition read per partner).
        var mine = new List<PlanSummary>();
        string? cursor = null;
        do
        {
            var owned = await partners.ListAsync(new PartnerQuery(caller.UserId, null, null, null, null), new PageRequest(PageRequest.MaxLimit, cursor), ct);
            foreach (var partner in owned.Items) mine.AddRange((await store.ListAsync(partner.Id, year, new PageRequest(PageRequest.MaxLimit, null), ct)).Items.Select(PlanSummary.From));
            cursor = owned.NextCursor;
        }
        while (cursor is not null);
        return new Page<PlanSummary>(mine.OrderBy(p => p.PartnerName, StringComparer.OrdinalIgnoreCase).ThenBy(p => p.FiscalYear).ToList(), null);
    }

    /// <summary>
    /// PATCH: changes a Draft or Proposed plan in place; an Accepted or Active plan only takes initiatives' status moves, anything else is
    /// 409 naming the field (a new version is the way). If-Match required.
    /// </summary>
    public async Task<Versioned<BusinessPlan>> EditAsync(Caller caller, string planId, string? ifMatch, PlanChangeRequest? body, CancellationToken ct)
    {
        RequireIfMatch(ifMatch, "PATCH");
        var (found, partner) = await LoadManagedAsync(caller, planId, ct);
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        if (body.Reason is not null) throw new ValidationFailedException("reason", "reason belongs to a new version (POST /api/plans/{planId}/versions), not to PATCH.");
        if (found.ETag != ifMatch) throw new PreconditionFailedException("The plan was changed since you read it; read it again and retry with the new ETag.");
        var (title, objectives, initiatives) = await ContentAsync(found.Value, body, ct);
        var change = found.Value.Edit(title, objectives, initiatives, clock.GetUtcNow());
        return await CommitAsync(caller, found, partner, change, ct);
    }

    /// <summary>POST /versions: a new version of a locked plan with its diff; the plan is Proposed until a partner admin accepts it again. If-Match required.</summary>
    public async Task<Versioned<BusinessPlan>> NewVersionAsync(Caller caller, string planId, string? ifMatch, PlanChangeRequest? body, CancellationToken ct)
    {
        RequireIfMatch(ifMatch, "POST /versions");
        var (found, partner) = await LoadManagedAsync(caller, planId, ct);
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        if (found.ETag != ifMatch) throw new PreconditionFailedException("The plan was changed since you read it; read it again and retry with the new ETag.");
        var (title, objectives, initiatives) = await ContentAsync(found.Value, body, ct);
        var change = found.Value.NewVersion(title, objectives, initiatives, body.Reason, caller, clock.GetUtcNow());
        return await CommitAsync(caller, found, partner, change, ct);
    }

    public async Task<IReadOnlyList<PlanVersion>> VersionsAsync(Caller caller, string planId, CancellationToken ct)
    {
        var (found, _) = await LoadAsync(caller, planId, ct);
        return await store.VersionsAsync(found.Value.Id, ct);
    }

    public Task<Versioned<BusinessPlan>> ProposeAsync(Caller caller, string planId, string? ifMatch, CancellationToken ct) =>
        ManagedStepAsync(caller, planId, ifMatch, (p, now) => p.Propose(now), ct);

    public Task<Versioned<BusinessPlan>> CloseAsync(Caller caller, string planId, string? ifMatch, CancellationToken ct) =>
        ManagedStepAsync(caller, planId, ifMatch, (p, now) => p.Close(now, byWorkflow: false), ct);

    /// <summary>A partner admin of the plan's partner accepts the version they read (If-Match required): the plan is locked.</summary>
    public async Task<Versioned<BusinessPlan>> AcceptAsync(Caller caller, string planId, string? ifMatch, CancellationToken ct)
    {
        RequireIfMatch(ifMatch, "accept");
        var (found, partner) = await LoadAsync(caller, planId, ct);
        if (!caller.IsPartnerAdminOf(found.Value.PartnerId)) throw new ForbiddenException("A partner admin of the plan's partner accepts the plan.");
        if (found.ETag != ifMatch) throw new PreconditionFailedException("The plan was changed since you read it: read the current version and accept that one.");
        var fiscal = await FiscalAsync(ct);
        var now = clock.GetUtcNow();
        var begun = calendar.DayOf(now) >= fiscal.FiscalYear(found.Value.FiscalYear).Start;
        return await CommitAsync(caller, found, partner, found.Value.Accept(caller, begun, now), ct);
    }

    public async Task<Versioned<BusinessPlan>> CommentAsync(Caller caller, string planId, PlanCommentRequest? body, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return await RetryAsync(caller, planId, requireManager: false, (p, now, _) => Task.FromResult(p.Comment(caller, body?.Text, now)), ct);
    }

    public async Task<Versioned<BusinessPlan>> ReviewAsync(Caller caller, string planId, PlanReviewRequest? body, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var begun = await QuarterBegunAsync(ct);
        return await RetryAsync(caller, planId, requireManager: true, (p, now, _) => Task.FromResult(p.RecordReview(caller, body?.Quarter, body?.Notes, body?.Decisions, q => begun(p.FiscalYear, q), now)), ct);
    }

    public async Task<Versioned<BusinessPlan>> RecordValueAsync(Caller caller, string planId, CustomValueRequest? body, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var begun = await QuarterBegunAsync(ct);
        return await RetryAsync(caller, planId, requireManager: true, (p, now, _) => Task.FromResult(p.RecordValue(caller, body, q => begun(p.FiscalYear, q), now)), ct);
    }

    /// <summary>The fiscal calendar of the program (mdf settings).</summary>
    public async Task<FiscalCalendar> FiscalAsync(CancellationToken ct) => (await settings.GetAsync<MdfSettings>(MdfSettings.SectionName, ct)).Calendar();

    /// <summary>Commits a transition of the plan (If-Match the ETag it was read with) with its timeline entry, events and emails.</summary>
    public async Task<Versioned<BusinessPlan>> CommitAsync(Caller caller, Versioned<BusinessPlan> found, Partner partner, PlanChange change, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(found);
        ArgumentNullException.ThrowIfNull(change);
        if (change.None) return found;
        var now = clock.GetUtcNow();
        var outbox = await notices.OutboxAsync(change, partner, now, ct);
        var changes = new ChangeSet([Audit(caller, now, change.Action, change.Updated, change.Changes)], outbox);
        var etag = await store.SaveAsync(change.Updated, found.ETag, change.NewVersion, changes, ct);
        return new Versioned<BusinessPlan>(change.Updated, etag);
    }

    private async Task<Func<int, int, bool>> QuarterBegunAsync(CancellationToken ct)
    {
        var fiscal = await FiscalAsync(ct);
        var today = calendar.DayOf(clock.GetUtcNow());
        return (year, q) => q is >= 1 and <= 4 && today >= fiscal.FiscalQuarter(year, q).Start;
    }

    private async Task<Versioned<BusinessPlan>> ManagedStepAsync(Caller caller, string planId, string? ifMatch, Func<BusinessPlan, DateTimeOffset, PlanChange> step, CancellationToken ct)
    {
        if (ifMatch is not null)
        {
            var (found, partner) = await LoadManagedAsync(caller, planId, ct);
            if (found.ETag != ifMatch) throw new PreconditionFailedException("The plan was changed since you read it; read it again and retry with the new ETag.");
            return await CommitAsync(caller, found, partner, step(found.Value, clock.GetUtcNow()), ct);
        }
        return await RetryAsync(caller, planId, requireManager: true, (p, now, _) => Task.FromResult(step(p, now)), ct);
    }

    /// <summary>Read, decide, commit; read again when someone else committed in between.</summary>
    private Task<Versioned<BusinessPlan>> RetryAsync(Caller caller, string planId, bool requireManager, Func<BusinessPlan, DateTimeOffset, Partner, Task<PlanChange>> decide, CancellationToken ct) =>
        ReadDecideCommit.RunAsync(async _ =>
        {
            var (found, partner) = requireManager ? await LoadManagedAsync(caller, planId, ct) : await LoadAsync(caller, planId, ct);
            var change = await decide(found.Value, clock.GetUtcNow(), partner);
            return await CommitAsync(caller, found, partner, change, ct);
        }, pause: ReadDecideCommit.Jitter(20), ct: ct);

    private async Task<(string Title, IReadOnlyList<PlanObjective> Objectives, IReadOnlyList<PlanInitiative> Initiatives)> ContentAsync(BusinessPlan current, PlanChangeRequest body, CancellationToken ct)
    {
        var title = PlanRules.Title(body.Title, current.Title);
        var (objectives, initiatives) = PlanRules.Build(
            body.Objectives ?? current.Objectives.Select(o => (ObjectiveInput?)new ObjectiveInput(o.Id, o.Kind, o.Name, o.Targets.Select(t => (decimal?)t).ToList(), o.Weight, o.Currency)).ToList(),
            body.Initiatives ?? current.Initiatives.Select(i => (InitiativeInput?)new InitiativeInput(i.Id, i.Title, i.Owner, i.DueDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), i.Status, i.MdfRequestId)).ToList(),
            program.ProgramCurrency, current.Objectives.Select(o => o.Id).ToList(), current.Initiatives.Select(i => i.Id).ToList());
        if (body.Initiatives is not null) await CheckMdfAsync(current.PartnerId, initiatives, ct, current.Initiatives);
        return (title, objectives, initiatives);
    }

    /// <summary>An initiative's MDF request must be a request of the same partner (422 naming the initiative's mdfRequestId otherwise); unchanged links are not read again.</summary>
    private async Task CheckMdfAsync(string partnerId, IReadOnlyList<PlanInitiative> initiatives, CancellationToken ct, IReadOnlyList<PlanInitiative>? before = null)
    {
        for (var i = 0; i < initiatives.Count; i++)
        {
            var link = initiatives[i].MdfRequestId;
            if (link is null || before?.Any(b => b.Id == initiatives[i].Id && b.MdfRequestId == link) == true) continue;
            // Build keeps the order of the request: initiative i is the request's initiatives[i].
            var index = i;
            var request = Ids.LooksLike(link, "mdr") ? await mdf.GetRequestAsync(link, ct) : null;
            if (request is null || request.Request.PartnerId != partnerId || request.Request.Id != link)
            {
                throw new ValidationFailedException($"initiatives[{index}].mdfRequestId", $"initiatives[{index}].mdfRequestId names no MDF request of this partner.", unprocessable: true);
            }
        }
    }

    private static void RequireIfMatch(string? ifMatch, string what)
    {
        if (string.IsNullOrEmpty(ifMatch)) throw new PreconditionFailedException($"{what} requires an If-Match header with the plan's ETag.", required: true);
    }

    /// <summary>A plan the caller may see (404 otherwise, the same answer for a guessed id and another partner's plan) and its partner.</summary>
    private async Task<(Versioned<BusinessPlan> Plan, Partner Partner)> LoadAsync(Caller caller, string planId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var partnerId = PlanIds.PartnerOf(planId);
        if (partnerId is null || (caller.PartnerId is not null && caller.PartnerId != partnerId)) throw new NotFoundException("Plan");
        Partner partner;
        try
        {
            partner = (await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct)).Value;
        }
        catch (NotFoundException)
        {
            throw new NotFoundException("Plan");
        }
        var found = await store.GetAsync(planId, ct);
        if (found is null || (!caller.IsVendor && found.Value.StatusValue == PlanStatus.Draft)) throw new NotFoundException("Plan");
        return (found, partner);
    }

    /// <summary>A plan the caller manages: its partner's channel manager or an admin (the partner's people get 403 once they may see it).</summary>
    private async Task<(Versioned<BusinessPlan> Plan, Partner Partner)> LoadManagedAsync(Caller caller, string planId, CancellationToken ct)
    {
        var (found, partner) = await LoadAsync(caller, planId, ct);
        if (!PartnerAccess.CanManageProgram(caller, partner)) throw new ForbiddenException("Only the partner's channel manager and admins change the plan.");
        return (found, partner);
    }

    private static AuditEntry Audit(Caller caller, DateTimeOffset now, string action, BusinessPlan plan, IReadOnlyList<FieldChange> changes) =>
        new(Ids.New("aud"), now, caller.UserId, caller.DisplayName, action, "plan", plan.Id, changes);
}
