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
public sealed class KpiProjection(IKpiStore store, Partners.IPartnerStore partners, AnalyticsCalendar calendar) : IOutboxProjection
{
    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(e);
        try
        {
            if (e.Type is Partners.PartnerEvents.CreatedType or Partners.PartnerEvents.UpdatedType or DealEvents.Submitted && e.PartnerId is { } funnelPartnerId)
            {
                // The activation funnel: from the partner record (a first registration stands in until the record carries it).
                if (await partners.GetAsync(funnelPartnerId, ct) is { } partner)
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
            if (e.Type.StartsWith("deal.", StringComparison.Ordinal))
            {
                var data = e.Data.Deserialize<DealEvents.DealData>(OutboxJson.Options)!;
                if (!data.Latest || data.Deal.Status == nameof(DealStatus.Draft)) return;
                await store.ApplyAsync(data.Deal.PartnerId, SubjectKey(data.Deal.Id), data.Deal.UpdatedAt.UtcTicks, KpiFactRules.OfDeal(data.Deal, calendar), ct);
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

/// <summary>
/// The rebuild (POST /api/analytics/rebuild, admins): a page of partners at a time (resumable by its cursor), it recomputes each record's
/// facts from the records (the partner's deal registrations, the leads offered to it) and makes them the stored contributions, then sums
/// the contributions and corrects every bucket row that differs. On buckets kept by the projection it corrects nothing.
/// </summary>
public sealed class KpiRebuild(IKpiStore store, Partners.IPartnerStore partners, IDealStore deals, ILeadStore leads, AnalyticsCalendar calendar)
{
    public async Task<KpiRebuildReport> RunAsync(Identity.Caller caller, PageRequest page, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (!caller.IsAdmin) throw new ForbiddenException("Only admins rebuild the KPIs.");
        var batch = await partners.ListAsync(new Partners.PartnerQuery(null, null, null, null, null), page, ct);
        int records = 0, checkedRows = 0, corrected = 0;
        try
        {
            foreach (var partner in batch.Items)
            {
                var partnerFacts = KpiFactRules.OfPartner(partner, calendar);
                await store.ApplyAsync(partner.Id, KpiProjection.SubjectKey(partner.Id), partner.UpdatedAt.UtcTicks, partnerFacts, ct);
                records++;
                await foreach (var deal in AllAsync<DealDto>((p, c) => deals.ListAsync(new DealQuery(partner.Id, null, null, null, null, null), p, c), ct))
                {
                    await store.ApplyAsync(partner.Id, KpiProjection.SubjectKey(deal.Id), deal.UpdatedAt.UtcTicks, KpiFactRules.OfDeal(deal, calendar), ct);
                    records++;
                }
                await foreach (var row in AllAsync<LeadListRow>((p, c) => leads.ListAsync(new LeadQuery(partner.Id, null, null), p, c), ct))
                {
                    var lead = LeadDto.Vendor(row.Lead);
                    var facts = KpiFactRules.OfLead(lead, calendar).GetValueOrDefault(partner.Id) ?? [];
                    await store.ApplyAsync(partner.Id, KpiProjection.SubjectKey(lead.Id), lead.UpdatedAt.UtcTicks, facts, ct);
                    records++;
                }
                var (c2, fixedRows) = await store.RecountAsync(partner.Id, ct);
                checkedRows += c2;
                corrected += fixedRows;
            }
        }
        catch (PreconditionFailedException)
        {
            throw new ConflictException("The KPI buckets stayed contended; run the rebuild again with the same cursor.");
        }
        return new KpiRebuildReport(batch.Items.Count, records, checkedRows, corrected, batch.NextCursor);
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
