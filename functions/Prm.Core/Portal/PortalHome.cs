using Prm.Core.Common;
using Prm.Core.Content;
using Prm.Core.Deals;
using Prm.Core.Identity;
using Prm.Core.Incentives;
using Prm.Core.Leads;
using Prm.Core.Mdf;
using Prm.Core.Onboarding;
using Prm.Core.Partners;
using Prm.Core.Settings;
using Prm.Core.Tiers;
using Prm.Core.Training;

namespace Prm.Core.Portal;

/// <summary>
/// GET /api/portal/home: what the signed-in person should do next, in one call. Every section is read at once from the partitions and
/// indexes its module keeps, with the module's own access rule (deals: <see cref="DealAccess.ListScope"/>, leads:
/// <see cref="LeadAccess"/>, MDF: <see cref="MdfAccess"/>), so a sales rep sees their own registrations and leads, never a colleague's,
/// and nothing of another partner can appear: every read names the caller's own partition. A section whose reads fail reports
/// "unavailable" and the page still answers. The inbox order is <see cref="HomeInbox.Order"/>.
/// <para>Storage round trips for a partner admin: the partner partition (profile, tier record, certification index, users, last
/// visit), the deal partition (open registrations and counters), the lead index, the MDF request index, the MDF budget index, the
/// caller's training partition, the incentive balances and one asset page at once; then the channel manager, the visit record and the
/// current budgets' rows (one each, side by side); for a partner admin also the partner's plans. Ten round trips (eleven for a partner
/// admin) plus one per current budget, a critical path of two.</para>
/// </summary>
public sealed class PortalHome(
    IPortalHomeStore home, ILeadStore leads, IMdfStore mdf, ITrainingStore training, TrainingCommits trainingCalendar, IIncentiveStore incentives,
    IAssetStore assets, IStaffStore staff, IApplicationStore applications, Prm.Core.Plans.IPlanStore plans, ProgramSettings settings, TimeProvider clock)
{
    /// <summary>Protection periods ending within this many days are in the inbox.</summary>
    public const int ProtectionEndingWithinDays = 14;

    /// <summary>Certifications expiring within this many (certification) days are in the inbox.</summary>
    public const int CertificationExpiringWithinDays = 60;

    /// <summary>The most rows one section reads (one storage page); beyond it the section says truncated.</summary>
    public const int MaxRows = 1000;

    /// <summary>How many new assets the home lists.</summary>
    public const int NewAssetsShown = 20;

    public Task<PortalHomeDto> GetAsync(Caller caller, CancellationToken ct)
    {
        if (caller.PartnerId is not null) return PartnerAsync(caller, caller.PartnerId, ct);
        if (caller.IsVendor) return VendorAsync(caller, ct);
        throw new ForbiddenException("The home is for partner users and vendor staff.");
    }

    private async Task<PortalHomeDto> PartnerAsync(Caller caller, string partnerId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var admin = caller.PartnerRole == PartnerRole.PartnerAdmin;
        var dealScope = DealAccess.ListScope(caller, null, null)!;
        var leadScope = LeadAccess.ListScope(caller, LeadStatus.Offered)!;

        var rows = Section("partner", () => home.PartnerRowsAsync(partnerId, caller.UserId, withUsers: admin, ct), ct);
        // Partner admins read the company's counters (won this quarter); a rep's own won registrations come with the query instead.
        var deals = Section("deals", () => home.PartnerDealsAsync(partnerId, dealScope.SubmittedBy,
            admin ? [DealStatus.Approved, DealStatus.Returned] : [DealStatus.Approved, DealStatus.Returned, DealStatus.Won], withStats: admin, MaxRows, ct), ct);
        var offers = Section("leads", () => leads.ListAsync(leadScope, new PageRequest(MaxRows, null), ct), ct);
        var requests = Section("mdf", () => mdf.ListRequestsAsync(MdfAccess.DefaultListScope(caller), null, new PageRequest(MaxRows, null), ct), ct);
        var budgets = Section("mdf", async () =>
        {
            // Only the budgets whose fiscal year or quarter includes today: one index query, then their rows side by side.
            var fiscal = (await settings.GetAsync<MdfSettings>(MdfSettings.SectionName, ct)).Calendar();
            var today = DateOnly.FromDateTime(now.UtcDateTime);
            var ids = await home.BudgetIdsAsync(partnerId, [fiscal.Containing(today, FiscalPeriodKind.Year).Text, fiscal.Containing(today, FiscalPeriodKind.Quarter).Text], ct);
            return (await Task.WhenAll(ids.Select(id => mdf.GetBudgetAsync(id, ct)))).OfType<BudgetState>().ToList();
        }, ct);
        var person = Section("training", async () => Ids.LooksLike(caller.UserId, "usr") ? await training.ReadPersonAsync(caller.UserId, ct) : null, ct);
        var calendar = Section("training", () => trainingCalendar.CalendarAsync(ct), ct);
        var balances = Section("incentives", () => incentives.BalancesAsync(partnerId, null, ct), ct);
        // Plans a partner admin accepts (the partner's plans partition; only partner admins accept, so only they read it).
        var proposed = admin ? Section("plans", () => plans.ListAsync(partnerId, null, new PageRequest(PageRequest.MaxLimit, null), ct), ct) : null;
        var newAssets = Section("content", async () =>
        {
            // The asset page is read while the partner partition is: the filter (visibility for the company as it is now, newer than
            // the last visit) is awaited by the store after its read.
            async Task<Func<Asset, bool>> Keep()
            {
                var r = await rows.ConfigureAwait(false);
                if (r.Value?.Partner is not { } p) throw new InvalidOperationException("The partner could not be read.");
                var facts = PartnerFacts.Of(p);
                var since = r.Value.LastVisitAt;
                return a => ContentAccess.MayRead(caller, a, facts, now) && (since is null || a.PublishedAt > since);
            }
            var page = await assets.ListAsync(new AssetScan(true, null, null), Keep(), new PageRequest(NewAssetsShown, null), 1, ct);
            return page.Items.Select(a => new NewAsset(a.Id, a.Title, Text.Camel(a.Type), a.PublishedAt, "/api/assets/" + a.Id)).ToList();
        }, ct);
        var manager = Section("channelManager", async () =>
        {
            var r = await rows;
            if (r.Value?.Partner is not { } p) throw new InvalidOperationException("The partner could not be read.");
            return p.ChannelManagerId is { } id && await staff.GetAsync(id, ct) is { } m ? new ChannelManagerContact(m.Id, m.DisplayName, m.Email) : null;
        }, ct);
        var visit = RecordVisitAsync(rows, partnerId, caller.UserId, now, ct);
        await Task.WhenAll(rows, deals, offers, requests, budgets, person, calendar, balances, newAssets, manager, visit, proposed ?? Task.CompletedTask);

        var inbox = new List<InboxItem>();
        var partnerRows = rows.Result.Value;

        // Partner partition: onboarding and invitations (partner admins act on them), tier.
        if (partnerRows?.Partner is { } partner && admin)
        {
            inbox.AddRange(PartnerDirectory.Checklist(partner).Where(i => !i.Done)
                .Select(i => new InboxItem(InboxKinds.OnboardingItem, i.Title, null, null, $"/api/partners/{partnerId}/onboarding")));
            inbox.AddRange(partnerRows.Users.Where(u => u.Status == PartnerUserStatus.Invited)
                .Select(u => new InboxItem(InboxKinds.InvitationPending, $"Invitation of {u.DisplayName} ({u.Email}) not accepted yet", null, null, $"/api/partners/{partnerId}/users/{u.Id}")));
        }
        var tier = partnerRows?.Partner is { } tiered ? TierOf(tiered, partnerRows.Tier) : null;
        if (proposed?.Result.Value is { } planPage)
        {
            inbox.AddRange(planPage.Items.Where(p => p.Status == nameof(Prm.Core.Plans.PlanStatus.Proposed))
                .Select(p => new InboxItem(InboxKinds.PlanAwaitingAcceptance, $"Business plan FY{p.FiscalYear} (version {p.Version}) awaits your acceptance: {p.Title}", null, null, "/api/plans/" + p.Id)));
        }

        // Deals.
        HomeTiles tiles = new(null, null, null, null, null, null);
        if (deals.Result.Value is { } d)
        {
            var soon = now.AddDays(ProtectionEndingWithinDays);
            foreach (var deal in d.Deals)
            {
                if (deal.Status == DealStatus.Returned)
                    inbox.Add(new InboxItem(InboxKinds.DealReturned, $"Returned registration {deal.RegistrationNumber}: {deal.Customer.CompanyName}", null, deal.EstimatedValue, "/api/deals/" + deal.Id));
                else if (deal.Status == DealStatus.Approved && deal.ProtectedUntil is { } end && end > now && end <= soon)
                    inbox.Add(new InboxItem(InboxKinds.ProtectionEnding, $"Protection of {deal.RegistrationNumber} ({deal.Customer.CompanyName}) ends", end, deal.EstimatedValue, "/api/deals/" + deal.Id));
            }
            var protectedDeals = d.Deals.Where(x => x.Status == DealStatus.Approved && x.ProtectedUntil > now).ToList();
            var quarter = QuarterMonths(now);
            var won = admin
                ? Sum((d.Stats?.WonByMonth ?? new Dictionary<string, IReadOnlyDictionary<string, decimal>>()).Where(m => quarter.Contains(m.Key))
                    .SelectMany(m => m.Value.Select(c => new Money(c.Value, c.Key))))
                : Sum(d.Deals.Where(x => x.Status == DealStatus.Won && quarter.Contains(TierRules.Month(x.Outcome?.CloseDate ?? DateOnly.FromDateTime((x.Outcome?.RecordedAt ?? x.UpdatedAt).UtcDateTime))))
                    .Select(x => x.Outcome?.Amount ?? x.EstimatedValue));
            tiles = tiles with { Pipeline = Sum(protectedDeals.Select(x => x.EstimatedValue)), PipelineDeals = protectedDeals.Count, WonThisQuarter = won };
        }

        // Leads: pending offers to the company (any member may answer them), as the lead list shows them to this caller.
        if (offers.Result.Value is { } offerPage)
        {
            var pending = offerPage.Items.Select(r => r.Lead)
                .Where(l => l.PendingOffer?.PartnerId == partnerId && LeadAccess.Allows(caller, LeadOperation.Answer, l)).ToList();
            inbox.AddRange(pending.Select(l => new InboxItem(InboxKinds.LeadOffer,
                $"Lead offer: {l.Company.Industry ?? "a company"} in {l.Company.Country}", l.PendingOffer!.ExpiresAt, l.EstimatedValue, "/api/leads/" + l.Id)));
            tiles = tiles with { LeadsAwaitingAcceptance = pending.Count };
        }

        // MDF: the company's money (every member reads budgets); requests and claims are a rep's own.
        if (requests.Result.Value is { } requestPage)
        {
            foreach (var r in requestPage.Items.Where(r => r.PartnerId == partnerId && (admin || r.RequesterId == caller.UserId)))
            {
                var claimDue = r.ClaimDeadline is { } day ? FundRequest.ClaimDeadlineAt(day) : (DateTimeOffset?)null;
                if (r.Status == FundRequestStatus.InfoRequested)
                    inbox.Add(new InboxItem(InboxKinds.MdfInfoRequested, $"Information requested: {r.Title}", null, r.RequestedAmount, "/api/mdf/requests/" + r.Id));
                else if (r.Status == FundRequestStatus.Approved && r.Claim is null or { Status: MdfClaimStatus.Draft })
                    inbox.Add(new InboxItem(InboxKinds.MdfClaimDue, $"Claim due: {r.Title}", claimDue, r.ApprovedAmount, r.Claim is { } draft ? "/api/mdf/claims/" + draft.Id : "/api/mdf/requests/" + r.Id));
                else if (r.Status == FundRequestStatus.Approved && r.Claim is { Status: MdfClaimStatus.InfoRequested } asked)
                    inbox.Add(new InboxItem(InboxKinds.MdfClaimInfoRequested, $"Information requested on the claim: {r.Title}", claimDue, asked.ClaimedAmount, "/api/mdf/claims/" + asked.Id));
            }
        }
        if (budgets.Result.Value is { } budgetList)
        {
            var today = DateOnly.FromDateTime(now.UtcDateTime);
            tiles = tiles with
            {
                MdfAvailable = Sum(budgetList.Where(b => b.Budget.PartnerId == partnerId && b.Budget.PeriodStart <= today && today <= b.Budget.PeriodEnd)
                    .Select(b => BudgetDto.From(b).Available)),
            };
        }

        // Training: the caller's own certifications and courses; a partner admin also sees the company's certifications from its index.
        List<TrainingInProgress>? inProgress = null;
        if (person.Result.Value is var personal && calendar.Result.Value is { } cal && person.Result.Section.Status == SectionStatus.Ok)
        {
            var until = now + cal.Days(CertificationExpiringWithinDays);
            var expiring = new Dictionary<string, InboxItem>(StringComparer.Ordinal);
            foreach (var a in personal?.Awards.Select(v => v.Value) ?? [])
            {
                if (a.IsValidAt(now) && a.ExpiresAt > now && a.ExpiresAt <= until)
                    expiring[a.Id] = new InboxItem(InboxKinds.CertificationExpiring, $"{a.CertificationName} of {a.PersonName} expires", a.ExpiresAt, null, $"/api/awards/{a.Id}/certificate");
            }
            if (admin && partnerRows?.Certifications is { } company)
            {
                foreach (var a in company.Awards.Values)
                {
                    if (a.ExpiresAt is { } expires && expires > now && expires <= until && !expiring.ContainsKey(a.AwardId))
                        expiring[a.AwardId] = new InboxItem(InboxKinds.CertificationExpiring, $"{a.CertificationName ?? "A certification"} of {a.PersonName ?? "a colleague"} expires", expires, null, $"/api/awards/{a.AwardId}/certificate");
                }
            }
            inbox.AddRange(expiring.Values);
            inProgress = (personal?.Enrollments.Select(v => v.Value) ?? []).Where(e => e.Status == EnrollmentStatus.InProgress).OrderBy(e => e.StartedAt)
                .Select(e => new TrainingInProgress(e.CourseId, e.Status.ToString(), e.StartedAt, e.BestScore, "/api/courses/" + e.CourseId)).ToList();
        }

        if (balances.Result.Value is { } balanceList)
        {
            tiles = tiles with
            {
                Rebates = balanceList.GroupBy(b => b.Balance.Currency, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => new RebateTile(g.Key, g.Sum(b => b.Balance.Rebate + b.Balance.Adjusted), g.Sum(b => b.Balance.Paid))).ToList(),
            };
        }

        var rowsSection = rows.Result.Section with { Truncated = partnerRows?.Truncated ?? false };
        var sections = new HomeSections(
            Partner: rowsSection,
            Tier: rows.Result.Section.Status == SectionStatus.Ok && partnerRows?.Partner is null ? new HomeSection(SectionStatus.Unavailable, "The partner was not found.", false) : rowsSection,
            Deals: deals.Result.Section with { Truncated = deals.Result.Value?.Truncated ?? false },
            Leads: offers.Result.Section with { Truncated = offers.Result.Value?.NextCursor is not null },
            Mdf: Worst(requests.Result.Section with { Truncated = requests.Result.Value?.NextCursor is not null }, budgets.Result.Section),
            Training: Worst(person.Result.Section, calendar.Result.Section),
            Incentives: balances.Result.Section,
            Content: newAssets.Result.Section,
            ChannelManager: manager.Result.Section,
            Applications: HomeSection.NotApplicable,
            Plans: proposed is null ? HomeSection.NotApplicable : proposed.Result.Section with { Truncated = proposed.Result.Value?.NextCursor is not null });
        return new PortalHomeDto(admin ? "partnerAdmin" : "partnerUser", now, sections, HomeInbox.Order(inbox), tier, tiles,
            newAssets.Result.Value, partnerRows?.LastVisitAt, inProgress, manager.Result.Value, null, null);
    }

    private async Task<PortalHomeDto> VendorAsync(Caller caller, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        // Admins review everything; a channel manager the partners they own (the per-manager partitions of the indexes).
        var managerId = caller.IsAdmin ? null : caller.UserId;
        var deals = Section("deals", () => home.VendorDealsAsync(managerId, now.AddDays(ProtectionEndingWithinDays), MaxRows, ct), ct);
        var dealSettings = Section("deals", () => settings.GetAsync<DealSettings>(DealSettings.SectionName, ct), ct);
        var requests = Section("mdf", () => mdf.ListRequestsAsync(MdfAccess.DefaultListScope(caller), null, new PageRequest(MaxRows, null), ct), ct);
        var queue = Section("applications", () => applications.ListAsync(managerId, ApplicationStatus.UnderReview, new PageRequest(MaxRows, null), ct), ct);
        await Task.WhenAll(deals, dealSettings, requests, queue);

        var inbox = new List<InboxItem>();
        List<StalledPartner>? stalled = null;
        if (deals.Result.Value is { } d && dealSettings.Result.Value is { } ds)
        {
            foreach (var deal in d.Deals)
            {
                if (deal.Status == nameof(DealStatus.UnderReview))
                    inbox.Add(new InboxItem(InboxKinds.DealReview, $"Review registration {deal.RegistrationNumber} of {deal.PartnerName}: {deal.Customer.CompanyName}",
                        (deal.SubmittedAt ?? deal.CreatedAt) + ds.ReviewEscalateAfter, deal.EstimatedValue, "/api/deals/" + deal.Id));
                else if (deal.Status == nameof(DealStatus.Approved) && deal.Extensions.FirstOrDefault(x => x.Status == "Pending") is { } extension)
                    inbox.Add(new InboxItem(InboxKinds.ExtensionReview, $"Extension of {extension.Days} days for {deal.RegistrationNumber} of {deal.PartnerName}",
                        deal.ProtectedUntil, deal.EstimatedValue, "/api/deals/" + deal.Id));
            }
            stalled = d.Deals.Where(x => x.Status == nameof(DealStatus.Approved) && x.Outcome is null && x.ProtectedUntil is { } end && end > now && end <= now.AddDays(ProtectionEndingWithinDays))
                .GroupBy(x => x.PartnerId, StringComparer.Ordinal)
                .Select(g => new StalledPartner(g.Key, g.First().PartnerName, g.Count(), Sum(g.Select(x => x.EstimatedValue)), g.Min(x => x.ProtectedUntil!.Value), "/api/partners/" + g.Key))
                .OrderBy(s => s.EarliestProtectionEnd).ThenBy(s => s.PartnerId, StringComparer.Ordinal).ToList();
        }
        if (requests.Result.Value is { } requestPage)
        {
            foreach (var r in requestPage.Items)
            {
                if (r.Status == FundRequestStatus.Submitted || (r.Status == FundRequestStatus.AwaitingSecondApproval && caller.IsAdmin && r.FirstApproval?.ById != caller.UserId))
                    inbox.Add(new InboxItem(InboxKinds.MdfRequestReview, $"Review MDF request of {r.PartnerName}: {r.Title}", r.EscalateAt, r.RequestedAmount, "/api/mdf/requests/" + r.Id));
                else if (r.Status == FundRequestStatus.Approved && r.Claim is { Status: MdfClaimStatus.Submitted } claim)
                    inbox.Add(new InboxItem(InboxKinds.MdfClaimReview, $"Review MDF claim of {r.PartnerName}: {r.Title}", claim.ReviewEscalateAt, claim.ClaimedAmount, "/api/mdf/claims/" + claim.Id));
            }
        }
        if (queue.Result.Value is { } apps)
        {
            inbox.AddRange(apps.Items.Select(a => new InboxItem(InboxKinds.ApplicationReview, $"Review the application of {a.Company.LegalName}", a.Deadlines.EscalateAt, null, "/api/partner-applications/" + a.Id)));
        }
        var ordered = HomeInbox.Order(inbox);
        var na = HomeSection.NotApplicable;
        var sections = new HomeSections(na, na, Worst(deals.Result.Section with { Truncated = deals.Result.Value?.Truncated ?? false }, dealSettings.Result.Section), na,
            requests.Result.Section with { Truncated = requests.Result.Value?.NextCursor is not null }, na, na, na, na,
            queue.Result.Section with { Truncated = queue.Result.Value?.NextCursor is not null }, na);
        return new PortalHomeDto("vendor", now, sections, ordered, null, null, null, null, null, null,
            ordered.Where(i => i.Deadline is { } due && due <= now).ToList(), stalled);
    }

    /// <summary>The tier section: the partner's tier with its badge, and the next tier's criteria from the last stored evaluation.</summary>
    private static HomeTier TierOf(Partner partner, PartnerTierState? state)
    {
        var tier = Text.Camel(partner.Tier);
        var badge = new HomeTierBadge(tier, char.ToUpperInvariant(tier[0]) + tier[1..] + " partner");
        var next = state?.Evaluation?.Next;
        var progress = next is { Criteria.Count: > 0 } ? (int)Math.Floor(100m * next.Criteria.Count(c => c.Met) / next.Criteria.Count) : (int?)null;
        return new HomeTier(tier, badge, next?.Tier, progress, state?.Evaluation?.EvaluatedAt, next?.Criteria ?? [], next?.Gaps.ToList() ?? []);
    }

    private Task RecordVisitAsync(Task<SectionResult<PartnerHomeRows>> rows, string partnerId, string userId, DateTimeOffset now, CancellationToken ct) =>
        Task.Run(async () =>
        {
            // Recorded after the last visit was read (the assets compare with that one); a failure only costs the next "new since".
            if ((await rows).Value is null) return;
            try { await home.RecordVisitAsync(partnerId, userId, now, ct); }
            catch (Exception ex) when (ex is not OperationCanceledException) { PrmTelemetry.HomeSectionUnavailable("visit", ex); }
        }, CancellationToken.None);

    /// <summary>The months (yyyy-MM) of the calendar quarter of <paramref name="now"/> (UTC).</summary>
    public static IReadOnlySet<string> QuarterMonths(DateTimeOffset now)
    {
        var first = (now.UtcDateTime.Month - 1) / 3 * 3 + 1;
        return Enumerable.Range(first, 3).Select(m => TierRules.Month(new DateOnly(now.UtcDateTime.Year, m, 1))).ToHashSet(StringComparer.Ordinal);
    }

    private static List<Money> Sum(IEnumerable<Money> amounts) =>
        amounts.GroupBy(m => m.Currency, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new Money(g.Sum(m => m.Amount), g.Key)).ToList();

    private static HomeSection Worst(HomeSection a, HomeSection b) =>
        a.Status != SectionStatus.Ok ? a : b.Status != SectionStatus.Ok ? b : a with { Truncated = a.Truncated || b.Truncated };

    private sealed record SectionResult<T>(T? Value, HomeSection Section);

    /// <summary>Runs one section's read: its failure is the section's ("unavailable"), never the page's.</summary>
    private async Task<SectionResult<T>> Section<T>(string name, Func<Task<T>> read, CancellationToken ct)
    {
        try
        {
            return new SectionResult<T>(await read(), HomeSection.Ok());
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            PrmTelemetry.HomeSectionUnavailable(name, ex);
            return new SectionResult<T>(default, new HomeSection(SectionStatus.Unavailable, $"The {name} section could not be read; try again shortly.", false));
        }
    }
}
