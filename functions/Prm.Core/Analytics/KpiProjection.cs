using System.Text.Json;
using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Core.Leads;
using Prm.Core.Outbox;

namespace Prm.Core.Analytics;

/// <summary>
/// Keeps the KPI buckets from the outbox (at least once, idempotent): each deal or lead event carries the whole record, whose facts
/// (<see cref="KpiFactRules"/>) become its contribution to the partner's buckets. A redelivered event changes nothing, an older event
/// delivered late is ignored (the contribution keeps the record's UpdatedAt).
/// </summary>
public sealed class KpiProjection(IKpiStore store, Partners.IPartnerStore partners, Onboarding.IApplicationStore applications, Mdf.IMdfStore mdf, AnalyticsCalendar calendar) : IOutboxProjection
{
    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(e);
        try
        {
            if (e.Type is Partners.PartnerEvents.CreatedType or Partners.PartnerEvents.UpdatedType or DealEvents.Submitted && e.PartnerId is { } funnelPartnerId)
            {
                // The activation funnel: from the partner record (a first registration stands in until the record carries it).
                // A registration moves the funnel only as the partner's first: once the record carries an earlier first registration
                // (stamped from that registration's own event, delivered before this one in the partition's order), it changes no fact.
                if (await partners.GetAsync(funnelPartnerId, ct) is { } partner && !KpiFactRules.LeavesFunnelAlone(e.Type, e.OccurredAt, partner.Value))
                {
                    var firstDeal = e.Type == DealEvents.Submitted ? e.OccurredAt : (DateTimeOffset?)null;
                    var version = Math.Max(partner.Value.UpdatedAt.UtcTicks, e.OccurredAt.UtcTicks);
                    await store.ApplyAsync(funnelPartnerId, SubjectKey(funnelPartnerId), version, KpiFactRules.OfPartner(partner.Value, calendar, firstDeal), ct);
                }
            }
            if (e.Type is Training.TrainingEvents.CertificationEarned or Training.TrainingEvents.CertificationRenewed or Training.TrainingEvents.CertificationExpired
                or Training.TrainingEvents.CertificationRevoked && e.PartnerId is { } holder)
            {
                var award = e.Data.Deserialize<Training.TrainingEvents.AwardData>(OutboxJson.Options)!;
                await store.ApplyAsync(holder, SubjectKey(award.AwardId), e.OccurredAt.UtcTicks, KpiFactRules.OfAward(award, calendar), ct);
            }
            if (e.Type is Onboarding.ApplicationEvents.Submitted or Onboarding.ApplicationEvents.Approved or Onboarding.ApplicationEvents.Rejected)
            {
                // The funnel's first step, program-wide: the facts of the application as it stands now (an older event then changes nothing).
                var data = e.Data.Deserialize<Onboarding.ApplicationEvents.ApplicationData>(OutboxJson.Options)!;
                if (await applications.GetAsync(data.ApplicationId, ct) is { } application)
                {
                    await store.ApplyAsync(KpiRows.Applications, SubjectKey(application.Value.Id), e.OccurredAt.UtcTicks, KpiFactRules.OfApplication(application.Value, calendar), ct);
                }
            }
            if (e.Type == Mdf.MdfEvents.ClaimPaid)
            {
                var data = e.Data.Deserialize<Mdf.MdfEvents.RequestData>(OutboxJson.Options)!;
                if (await mdf.GetRequestAsync(data.RequestId, ct) is { } request)
                {
                    await store.ApplyAsync(request.Request.PartnerId, SubjectKey(request.Request.Id), e.OccurredAt.UtcTicks, KpiFactRules.OfFundRequest(request.Request), ct);
                }
            }
            if (e.Type.StartsWith("deal.", StringComparison.Ordinal))
            {
                var data = e.Data.Deserialize<DealEvents.DealData>(OutboxJson.Options)!;
                if (!data.Latest || data.Deal.Status == nameof(DealStatus.Draft)) return;
                // A submission or a decision changes the deal's facts: its buckets are read beside its contribution.
                var changes = e.Type is DealEvents.Submitted or DealEvents.Approved or DealEvents.Rejected or DealEvents.Won or DealEvents.Lost;
                await store.ApplyAsync(data.Deal.PartnerId, SubjectKey(data.Deal.Id), data.Deal.UpdatedAt.UtcTicks, KpiFactRules.OfDeal(data.Deal, calendar), ct, likelyChanged: changes,
                    likelyNew: data.Deal.IsFirstSubmission());
            }
            else if (LeadEvents.All.Contains(e.Type, StringComparer.Ordinal))
            {
                var data = e.Data.Deserialize<LeadEvents.LeadData>(OutboxJson.Options)!;
                if (!data.Latest) return;
                foreach (var (partnerId, facts) in KpiFactRules.OfLead(data.Lead, calendar))
                {
                    await store.ApplyAsync(partnerId, SubjectKey(data.Lead.Id), data.Lead.UpdatedAt.UtcTicks, facts, ct);
                }
            }
        }
        catch (PreconditionFailedException ex)
        {
            throw new TransientDeliveryException("The partner's KPI buckets stayed contended.", TimeSpan.FromSeconds(2), ex);
        }
    }

    /// <summary>The key of a record's contribution: its id (deal and lead ids do not collide).</summary>
    public static string SubjectKey(string recordId) => recordId;
}

/// <summary>Where a rebuild goes next: the program-wide applications first, then the partners a page at a time.</summary>
public enum KpiRebuildPhase { Applications, Partners }

/// <summary>
/// The rebuild (POST /api/analytics/rebuild starts it as a durable workflow; each step is one page): it recomputes each record's facts
/// from the records and makes them the stored contributions, then sums the contributions and corrects every bucket row that differs. On
/// buckets kept by the projection it corrects nothing. Records: partner applications (program-wide); per partner its own record (the
/// activation funnel), its deal registrations, the leads offered to it, its MDF requests (paid claims), and every other record that holds a
/// contribution there: a certification award (the partner it was earned for keeps it; a revoked award leaves), a POS batch's day (from the
/// batch's stored lines; a superseded batch counts nothing). A contribution is replaced unless a live event stored a newer one after the
/// step began (its version is the step's start).
/// </summary>
public sealed class KpiRebuild(IKpiStore store, Partners.IPartnerStore partners, IDealStore deals, ILeadStore leads, Onboarding.IApplicationStore applications,
    Mdf.IMdfStore mdf, Training.ITrainingStore training, Pos.IPosStore pos, AnalyticsCalendar calendar, TimeProvider clock)
{
    /// <summary>One step: a page of applications or of partners (<paramref name="page"/>'s cursor is the phase's).</summary>
    public async Task<KpiRebuildReport> RunAsync(Identity.Caller caller, KpiRebuildPhase phase, PageRequest page, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (!caller.IsAdmin) throw new ForbiddenException("Only admins rebuild the KPIs.");
        try
        {
            return phase == KpiRebuildPhase.Applications ? await ApplicationsAsync(page, ct) : await PartnersAsync(page, ct);
        }
        catch (PreconditionFailedException)
        {
            throw new ConflictException("The KPI buckets stayed contended; run the rebuild again with the same cursor.");
        }
    }

    private async Task<KpiRebuildReport> ApplicationsAsync(PageRequest page, CancellationToken ct)
    {
        var version = clock.GetUtcNow().UtcTicks;
        var batch = await applications.ListAsync(null, null, page, ct);
        foreach (var application in batch.Items)
        {
            await store.ApplyAsync(KpiRows.Applications, KpiProjection.SubjectKey(application.Id), version, KpiFactRules.OfApplication(application, calendar), ct);
        }
        // The partition is recounted once, with the last page (its contributions are complete then).
        var (checkedRows, corrected) = batch.NextCursor is null ? await store.RecountAsync(KpiRows.Applications, ct) : (0, 0);
        return new KpiRebuildReport(0, batch.Items.Count, checkedRows, corrected, batch.NextCursor);
    }

    private async Task<KpiRebuildReport> PartnersAsync(PageRequest page, CancellationToken ct)
    {
        var batch = await partners.ListAsync(new Partners.PartnerQuery(null, null, null, null, null), page, ct);
        int records = 0, checkedRows = 0, corrected = 0;
        var lines = new Dictionary<string, IReadOnlyDictionary<(string PartnerId, DateOnly Day), IReadOnlyList<KpiFact>>>(StringComparer.Ordinal);
        foreach (var partner in batch.Items)
        {
            var version = clock.GetUtcNow().UtcTicks;
            var done = new HashSet<string>(StringComparer.Ordinal);
            async Task Apply(string subject, IReadOnlyList<KpiFact> facts)
            {
                if (!done.Add(subject)) return;
                await store.ApplyAsync(partner.Id, subject, version, facts, ct);
                records++;
            }
            await Apply(KpiProjection.SubjectKey(partner.Id), KpiFactRules.OfPartner(partner, calendar));
            await foreach (var deal in AllAsync<DealDto>((p, c) => deals.ListAsync(new DealQuery(partner.Id, null, null, null, null, null), p, c), ct))
            {
                await Apply(KpiProjection.SubjectKey(deal.Id), KpiFactRules.OfDeal(deal, calendar));
            }
            await foreach (var row in AllAsync<LeadListRow>((p, c) => leads.ListAsync(new LeadQuery(partner.Id, null, null), p, c), ct))
            {
                var lead = LeadDto.Vendor(row.Lead);
                await Apply(KpiProjection.SubjectKey(lead.Id), KpiFactRules.OfLead(lead, calendar).GetValueOrDefault(partner.Id) ?? []);
            }
            await foreach (var request in AllAsync<Mdf.FundRequest>((p, c) => mdf.ListRequestsAsync("partner:" + partner.Id, null, p, c), ct))
            {
                await Apply(KpiProjection.SubjectKey(request.Id), KpiFactRules.OfFundRequest(request));
            }
            // Every other record holding a contribution here: recomputed from that record.
            foreach (var subject in await store.SubjectsAsync(partner.Id, ct))
            {
                if (done.Contains(subject)) continue;
                if (await FactsOfAsync(partner.Id, subject, lines, ct) is { } facts) await Apply(subject, facts);
            }
            var (c2, fixedRows) = await store.RecountAsync(partner.Id, ct);
            checkedRows += c2;
            corrected += fixedRows;
        }
        return new KpiRebuildReport(batch.Items.Count, records, checkedRows, corrected, batch.NextCursor);
    }

    /// <summary>The facts of a stored contribution's record for the partner, or null when the subject is of no kind the rebuild knows (left as stored).</summary>
    private async Task<IReadOnlyList<KpiFact>?> FactsOfAsync(string partnerId, string subject, Dictionary<string, IReadOnlyDictionary<(string PartnerId, DateOnly Day), IReadOnlyList<KpiFact>>> posCache, CancellationToken ct)
    {
        if (subject.StartsWith("crt_", StringComparison.Ordinal))
        {
            return await training.GetAwardAsync(subject, ct) is { } award ? KpiFactRules.OfAward(award.Value, calendar) : [];
        }
        if (subject.StartsWith("pos", StringComparison.Ordinal) && subject.Split(':') is [var batchId, var dayText]
            && DateOnly.TryParseExact(dayText, "yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var day))
        {
            if (!posCache.TryGetValue(batchId, out var byDay))
            {
                var batch = await pos.GetBatchAsync(batchId, ct);
                var stored = new List<Pos.PosStoredLine>();
                if (batch is { Value.Status: "Committed" })
                {
                    await foreach (var line in AllAsync<Pos.PosStoredLine>((p, c) => pos.LinesAsync(batchId, p, c), ct)) stored.Add(line);
                }
                posCache[batchId] = byDay = Pos.PosImport.FactsOf(batchId, stored);
            }
            return byDay.GetValueOrDefault((partnerId, day)) ?? [];
        }
        if (subject.StartsWith("deal", StringComparison.Ordinal))
        {
            return await deals.GetAsync(subject, ct) is { } deal && deal.Value.PartnerId == partnerId ? KpiFactRules.OfDeal(DealDto.From(deal.Value, vendorView: true), calendar) : [];
        }
        if (subject.StartsWith("lead", StringComparison.Ordinal))
        {
            return await leads.GetAsync(subject, ct) is { } lead ? KpiFactRules.OfLead(LeadDto.Vendor(lead.Value), calendar).GetValueOrDefault(partnerId) ?? [] : [];
        }
        if (subject.StartsWith("mdr", StringComparison.Ordinal))
        {
            return await mdf.GetRequestAsync(subject, ct) is { } request && request.Request.PartnerId == partnerId ? KpiFactRules.OfFundRequest(request.Request) : [];
        }
        return null;
    }

    private static async IAsyncEnumerable<T> AllAsync<T>(Func<PageRequest, CancellationToken, Task<Page<T>>> list, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        string? cursor = null;
        do
        {
            var page = await list(new PageRequest(PageRequest.MaxLimit, cursor), ct);
            foreach (var item in page.Items) yield return item;
            cursor = page.NextCursor;
        }
        while (cursor is not null);
    }
}
