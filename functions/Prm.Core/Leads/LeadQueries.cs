using System.Globalization;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Leads;

/// <summary>Reading leads: lists by who asks (see <see cref="LeadAccess"/>), one lead (masked until accepted), its timeline, a partner's figures, the fairness report.</summary>
public sealed class LeadQueries(ILeadStore store, ILeadRoutingIndex index, IPartnerStore partners, LeadCommits commits, TimeProvider clock)
{
    public async Task<Page<LeadDto>> ListAsync(Caller caller, string? status, PageRequest page, CancellationToken ct)
    {
        var statusValue = Text.ParseEnum<LeadStatus>(status);
        if (status is not null && statusValue is null) throw new ValidationFailedException("status", "status must be one of: " + string.Join(", ", Enum.GetNames<LeadStatus>()) + ".");
        var scope = LeadAccess.ListScope(caller, statusValue) ?? throw new ForbiddenException("Only vendor staff, partner users and the integration app list leads.");
        var rows = await store.ListAsync(scope, page, ct);
        var items = rows.Items.Where(r => LeadAccess.Allows(caller, LeadOperation.Read, r.Lead)).Select(r => View(caller, r.Lead)).ToList();
        return new Page<LeadDto>(items, rows.NextCursor);
    }

    /// <summary>One lead as the caller may see it; a partner member's first read of its pending offer records openedAt.</summary>
    public async Task<Versioned<LeadDto>> GetAsync(Caller caller, string leadId, CancellationToken ct)
    {
        var found = await commits.LoadAsync(caller, leadId, LeadOperation.Read, ct);
        if (caller.PartnerId is { } partnerId && found.Value.Opened(partnerId, clock.GetUtcNow()) is { } opened)
        {
            try
            {
                var now = clock.GetUtcNow();
                var etag = await commits.CommitAsync(caller, found, new LeadChange(opened, "lead.opened", [], [], "opened by " + caller.DisplayName), now, ct);
                found = new Versioned<Lead>(opened, etag);
            }
            catch (PreconditionFailedException)
            {
                // Someone changed the lead meanwhile: the next read records the opening.
            }
        }
        return new Versioned<LeadDto>(View(caller, found.Value), found.ETag);
    }

    public async Task<Page<AuditEntry>> TimelineAsync(Caller caller, string leadId, PageRequest page, CancellationToken ct)
    {
        var found = await commits.LoadAsync(caller, leadId, LeadOperation.Read, ct);
        // A partner sees the timeline once it holds the lead (the entries name customer data and other partners otherwise).
        if (caller.PartnerId is not null && found.Value.PartnerId != caller.PartnerId) throw new ForbiddenException("The timeline of a lead shows once your company accepted it.");
        return await store.TimelineAsync(leadId, page, ct);
    }

    /// <summary>A partner's lead figures: members, the owning channel manager, admins (404 otherwise).</summary>
    public async Task<LeadStats> StatsAsync(Caller caller, string partnerId, CancellationToken ct)
    {
        await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct);
        return (await index.FiguresAsync(partnerId, ct)).ToStats(clock.GetUtcNow());
    }

    /// <summary>
    /// For each rule, each partner's share of the offers it made in [from, to) against its share of the effective weight among the eligible
    /// candidates of those offers (from their traces); a deviation over 20% of the weight share is flagged.
    /// </summary>
    public async Task<FairnessReport> FairnessAsync(Caller caller, string? from, string? to, CancellationToken ct)
    {
        if (!caller.IsAdmin) throw new ForbiddenException("The fairness report is for program admins.");
        var now = clock.GetUtcNow();
        var errors = new Dictionary<string, string[]>();
        var start = Instant(from, "from", now.AddDays(-30), errors);
        var end = Instant(to, "to", now, errors);
        if (errors.Count == 0 && end <= start) errors["to"] = ["to must be after from."];
        if (errors.Count == 0 && end - start > TimeSpan.FromDays(366)) errors["to"] = ["The period takes at most 366 days."];
        if (errors.Count > 0) throw new ValidationFailedException(errors);
        var offers = await store.OffersBetweenAsync(start, end, 10_000, ct);
        var rules = new List<FairnessRule>();
        foreach (var group in offers.Where(o => o.Trace is { RuleName: not null, Action: "weighted" or "roundRobin" }).GroupBy(o => o.Trace!.RuleName!))
        {
            var counts = new Dictionary<string, (string Name, int Offers, double Weight)>(StringComparer.Ordinal);
            foreach (var offer in group)
            {
                var eligible = offer.Trace!.Candidates.Where(c => c.ExcludedBecause is null).ToList();
                var total = eligible.Sum(c => c.EffectiveWeight);
                foreach (var c in eligible)
                {
                    var current = counts.GetValueOrDefault(c.PartnerId, (c.PartnerName, 0, 0));
                    counts[c.PartnerId] = (c.PartnerName, current.Offers + (c.PartnerId == offer.PartnerId ? 1 : 0), current.Weight + (total > 0 ? c.EffectiveWeight / total : 0));
                }
            }
            var n = group.Count();
            var lines = counts.Select(kv =>
            {
                var offerShare = (double)kv.Value.Offers / n;
                var weightShare = kv.Value.Weight / n;
                var deviation = weightShare > 0 ? (offerShare - weightShare) / weightShare : 0;
                return new FairnessLine(kv.Key, kv.Value.Name, kv.Value.Offers, Math.Round(offerShare, 4), Math.Round(weightShare, 4), Math.Round(deviation, 4), Math.Abs(deviation) > 0.2);
            }).OrderByDescending(l => l.Offers).ThenBy(l => l.PartnerId, StringComparer.Ordinal).ToList();
            rules.Add(new FairnessRule(group.Key, n, lines));
        }
        return new FairnessReport(start, end, rules);
    }

    /// <summary>A partner's lead routing profile with its ETag: members, the owning channel manager, admins.</summary>
    public async Task<Versioned<LeadRoutingProfile>> ProfileAsync(Caller caller, string partnerId, CancellationToken ct)
    {
        await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct);
        var figures = await index.FiguresAsync(partnerId, ct);
        return new Versioned<LeadRoutingProfile>(new LeadRoutingProfile(partnerId, figures.Weight, figures.HolidayUntil), figures.ProfileETag);
    }

    /// <summary>
    /// Replaces the profile (If-Match required): the weight only by the owning channel manager and admins (a partner admin sending another
    /// weight is 403), the holiday also by the partner's admins. Ranges before arithmetic: weight 0 to 100, holiday within a year.
    /// </summary>
    public async Task<Versioned<LeadRoutingProfile>> SaveProfileAsync(Caller caller, string partnerId, string? ifMatch, LeadRoutingProfileRequest? body, CancellationToken ct)
    {
        var partner = await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct);
        if (!PartnerAccess.CanManageCompany(caller, partner.Value)) throw new ForbiddenException("Only the partner's admins, its channel manager and program admins change its lead routing.");
        if (string.IsNullOrEmpty(ifMatch)) throw new PreconditionFailedException("PUT requires an If-Match header with the ETag from GET (\"defaults\" when never saved).", required: true);
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        var now = clock.GetUtcNow();
        var errors = new Dictionary<string, string[]>();
        if (body.Weight is not { } weight || double.IsNaN(weight) || weight < 0 || weight > 100) errors["weight"] = ["weight is required: 0 to 100 (0 never receives leads)."];
        DateTimeOffset? holiday = null;
        if (body.HolidayUntil is not null)
        {
            if (DateTimeOffset.TryParse(body.HolidayUntil, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var until) && until > now && until <= now.AddDays(366)) holiday = until;
            else errors["holidayUntil"] = ["holidayUntil must be a future date or instant within a year, or null."];
        }
        if (errors.Count > 0) throw new ValidationFailedException(errors);
        var current = await index.FiguresAsync(partnerId, ct);
        if (body.Weight != current.Weight && !PartnerAccess.CanManageProgram(caller, partner.Value)) throw new ForbiddenException("Only the partner's channel manager and program admins change its routing weight.");
        var etag = await index.SaveProfileAsync(partnerId, body.Weight!.Value, holiday, ifMatch, ct);
        return new Versioned<LeadRoutingProfile>(new LeadRoutingProfile(partnerId, body.Weight.Value, holiday), etag);
    }

    public static LeadDto View(Caller caller, Lead lead) => caller.PartnerId is { } p ? LeadDto.ForPartner(lead, p) : LeadDto.Vendor(lead);

    private static DateTimeOffset Instant(string? text, string field, DateTimeOffset fallback, Dictionary<string, string[]> errors)
    {
        if (text is null) return fallback;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) && at.Year is >= 2000 and <= 2200) return at;
        errors[field] = [$"{field} must be a date or an instant such as 2026-12-31 or 2026-12-31T00:00:00Z."];
        return fallback;
    }
}
