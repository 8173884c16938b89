using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;
using Prm.Core.Common;
using Prm.Core.Leads;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Core.Settings;
using Prm.Storage.Deals;

namespace Prm.Storage.Leads;

/// <summary>
/// Keeps the read side of leads from the outbox (at least once, idempotent): the lead lists (the lead as stored now, for the vendor and
/// for every partner it was offered to), the offer log (fairness), each concerned partner's figures (counters, open leads, acceptance,
/// strikes and the pause — committed with the channel manager's email and a lead.partnerPaused event when a pause starts), and the
/// routing index entries of partners (from partner events, and their figures from lead events).
/// </summary>
public sealed class LeadProjection(PrmTables tables, TableLeadRoutingIndex index, PartitionWriter writer, LeadNotices notices, ProgramSettings settings, TimeProvider clock) : IOutboxProjection
{
    public const string AllPartition = "all";
    public const string OfferLogPartition = "offers";

    public static string PartnerPartition(string partnerId) => "p:" + partnerId;

    /// <summary>A row key that sorts by time (fixed-width ticks).</summary>
    public static string TimeKey(DateTimeOffset at) => at.UtcTicks.ToString("D20", CultureInfo.InvariantCulture);

    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (e.Type is PartnerEvents.CreatedType or PartnerEvents.UpdatedType)
        {
            await PartnerChangedAsync(e.Data.Deserialize<PartnerEvents.PartnerData>(OutboxJson.Options)!, ct);
            return;
        }
        if (!LeadEvents.All.Contains(e.Type)) return;
        var data = e.Data.Deserialize<LeadEvents.LeadData>(OutboxJson.Options)!;
        var s = await settings.GetAsync<LeadSettings>(LeadSettings.SectionName, ct);
        var stored = data.Latest || e.Type == LeadEvents.Offered ? await StoredAsync(data.Lead.Id, ct) : null;
        if (data.Latest && stored is not null) await ListAsync(stored.Value.Lead, stored.Value.Body, ct);
        // The offer log keeps the offer with its whole trace (the event carries it without the candidate list).
        if (e.Type == LeadEvents.Offered && stored?.Lead is { } lead && data.Lead.Offers.LastOrDefault(o => o.PartnerId == data.PartnerId) is { } offered
            && LeadDto.Vendor(lead).Offers.FirstOrDefault(o => o.Id == offered.Id) is { } offer) await OfferLogAsync(offer, ct);
        // The partner the event concerns counts it; every partner of the lead keeps its open-lead set in step.
        var partners = data.Lead.Offers.Select(o => o.PartnerId).Append(data.PartnerId).Where(p => p is not null).Distinct(StringComparer.Ordinal).ToList();
        foreach (var partnerId in partners) await FiguresAsync(partnerId!, partnerId == data.PartnerId ? e : null, data.Lead, data.Reason, s, ct);
    }

    private async Task<(Lead Lead, string Body)?> StoredAsync(string leadId, CancellationToken ct)
    {
        var found = await tables.Leads.GetEntityIfExistsAsync<TableEntity>(leadId, TableLeadStore.LeadRow, cancellationToken: ct);
        return found.HasValue ? (TableLeadStore.Read(found.Value!), ChunkedText.Read(found.Value!, "Body")) : null;
    }

    /// <summary>The lead's list rows, written from the stored lead (so a late or repeated event writes the current state).</summary>
    private async Task ListAsync(Lead lead, string body, CancellationToken ct)
    {
        var rowKey = TimeKey(DateTimeOffset.MaxValue - (lead.CreatedAt - DateTimeOffset.MinValue)) + "|" + lead.Id;
        TableEntity Row(string partition, bool pending)
        {
            var row = new TableEntity(partition, rowKey) { ["LeadId"] = lead.Id, ["Status"] = lead.Status.ToString(), ["AssignedTo"] = lead.AssignedTo, ["Pending"] = pending };
            ChunkedText.Write(row, "Body", body);
            return row;
        }
        var writes = new List<Task> { tables.LeadIndex.UpsertEntityAsync(Row(AllPartition, lead.PendingOffer is not null), TableUpdateMode.Replace, ct) };
        foreach (var partnerId in lead.Offers.Select(o => o.PartnerId).Distinct(StringComparer.Ordinal))
        {
            writes.Add(tables.LeadIndex.UpsertEntityAsync(Row(PartnerPartition(partnerId), lead.PendingOffer?.PartnerId == partnerId), TableUpdateMode.Replace, ct));
        }
        await Task.WhenAll(writes);
    }

    private async Task OfferLogAsync(LeadOfferDto offer, CancellationToken ct)
    {
        var row = new TableEntity(OfferLogPartition, TimeKey(offer.OfferedAt) + "|" + offer.Id) { ["PartnerId"] = offer.PartnerId };
        ChunkedText.Write(row, "Body", JsonSerializer.Serialize(offer, TableDealStore.Json));
        await tables.LeadIndex.UpsertEntityAsync(row, TableUpdateMode.Replace, ct);
    }

    /// <summary>Applies the event to the partner's figures (idempotent by event id) and copies the routing figures into its index entries.</summary>
    private async Task FiguresAsync(string partnerId, IntegrationEvent? e, LeadDto lead, string? reason, LeadSettings s, CancellationToken ct)
    {
        var partition = TableLeadRoutingIndex.FiguresPartition(partnerId);
        await ReadDecideCommit.RunAsync(async _ =>
        {
            var (current, etag) = await index.ReadFiguresAsync(partnerId, ct);
            var (next, pausedNow) = e is null ? (current.WithOpen(lead), false) : current.Apply(e.Id, e.Type, lead, e.OccurredAt, s, reason);
            if (next == current) return current;
            var row = new TableEntity(partition, TableLeadRoutingIndex.FiguresRow);
            ChunkedText.Write(row, "Body", JsonSerializer.Serialize(next, TableDealStore.Json));
            var now = clock.GetUtcNow();
            var outbox = new List<OutboxMessage>();
            if (pausedNow)
            {
                outbox.Add(OutboxMessage.ForEvent(IntegrationEvent.Create(Ids.New("evt"), LeadEvents.PartnerPaused, now, $"partners/{partnerId}/lead-stats", partnerId, Correlation.Id, next.ToStats(now))));
                outbox.AddRange(await notices.PausedAsync(partnerId, next.PausedUntil!.Value, now, ct));
            }
            // The index entries first: once the figures (and a pause's email) are committed, routing sees them already. An attempt that
            // loses the race writes the entries again from the figures it re-decides; a redelivered event finds them applied.
            await EntryFiguresAsync(partnerId, next, s, ct);
            var action = etag is null ? new TableTransactionAction(TableTransactionActionType.Add, row) : new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, new Azure.ETag(etag));
            try
            {
                await writer.CommitAsync(tables.LeadRouting, partition, [action], new ChangeSet([], outbox), ct);
            }
            catch (ConflictException)
            {
                throw new PreconditionFailedException("The figures were written meanwhile.");
            }
            return next;
        }, attempts: 20, pause: ReadDecideCommit.Jitter(20), ct: ct);
    }

    private async Task EntryFiguresAsync(string partnerId, LeadPartnerFigures figures, LeadSettings s, CancellationToken ct)
    {
        var entry = (await index.EntriesAsync([partnerId], ct)).GetValueOrDefault(partnerId);
        if (entry is null) return; // not an Active partner in the index: nothing to route to
        var now = clock.GetUtcNow();
        foreach (var partition in PartitionsOf(entry))
        {
            await index.PutAsync(partition, partnerId, current => current is null ? null : figures.ToEntry(current, now, s), ct);
        }
    }

    /// <summary>Puts a partner into the routing index as a partner event would (a backfill for partners created before lead distribution existed).</summary>
    public Task IndexPartnerAsync(PartnerDto partner, CancellationToken ct) => PartnerChangedAsync(new PartnerEvents.PartnerData(partner, null, null, []), ct);

    /// <summary>A partner was created or changed: its entry joins (Active) or leaves (otherwise) the partitions of its region and country.</summary>
    private async Task PartnerChangedAsync(PartnerEvents.PartnerData data, CancellationToken ct)
    {
        var p = data.Partner;
        var previous = (await index.EntriesAsync([p.Id], ct)).GetValueOrDefault(p.Id);
        var active = p.Status == nameof(PartnerStatus.Active);
        var stale = previous is null ? [] : PartitionsOf(previous).ToList();
        if (!active)
        {
            foreach (var partition in stale) await index.PutAsync(partition, p.Id, _ => null, ct);
            return;
        }
        var (figures, _) = await index.ReadFiguresAsync(p.Id, ct);
        var s = await settings.GetAsync<LeadSettings>(LeadSettings.SectionName, ct);
        var entry = figures.ToEntry((previous ?? new RoutingEntry { PartnerId = p.Id, Name = p.Name, Tier = p.Tier, Country = p.Country, Region = p.Region }) with
        {
            Name = p.Name, Tier = p.Tier, Country = p.Country.ToUpperInvariant(), Region = p.Region.ToLowerInvariant(), ChannelManagerId = p.ChannelManagerId,
        }, clock.GetUtcNow(), s);
        var wanted = PartitionsOf(entry).ToList();
        foreach (var partition in stale.Except(wanted)) await index.PutAsync(partition, p.Id, _ => null, ct);
        foreach (var partition in wanted) await index.PutAsync(partition, p.Id, _ => entry, ct);
    }

    public static IEnumerable<string> PartitionsOf(RoutingEntry e) => [AllPartition, "r:" + e.Region.ToLowerInvariant(), "c:" + e.Country.ToUpperInvariant()];
}
