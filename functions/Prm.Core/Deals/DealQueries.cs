using System.Globalization;
using Prm.Core.Approvals;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Deals;

/// <summary>Reading registrations: lists by who asks (see <see cref="DealAccess"/>), one registration, its timeline, a partner's counters.</summary>
public sealed class DealQueries(IDealStore store, IPartnerStore partners, DealPartners partnerFacts, DealCommits commits)
{
    /// <summary>Lists deals: partner admins their company's, sales reps their own, channel managers their partners', admins all.</summary>
    public async Task<Page<DealDto>> ListAsync(Caller caller, string? status, string? partnerId, string? customer, string? expiringBefore, PageRequest page, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var statusValue = Text.ParseEnum<DealStatus>(status);
        if (status is not null && statusValue is null) errors["status"] = ["status must be one of: " + string.Join(", ", Enum.GetNames<DealStatus>()) + "."];
        DateTimeOffset? before = null;
        if (expiringBefore is not null)
        {
            if (DateTimeOffset.TryParse(expiringBefore, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)) before = parsed;
            else errors["expiringBefore"] = ["expiringBefore must be a date or an instant such as 2026-12-31 or 2026-12-31T00:00:00Z."];
        }
        if (customer is not null && (customer.Trim().Length == 0 || customer.Length > 100)) errors["customer"] = ["customer must be 1 to 100 characters (a name prefix)."];
        if (errors.Count > 0) throw new ValidationFailedException(errors);
        var prefix = customer is null ? null : CustomerNormalizer.CompanyNameKey(customer) ?? Text.NameKey(customer);
        if (caller.PartnerId is null && !caller.IsVendor) throw new ForbiddenException("Only partner users and vendor staff list deals.");
        // A channel manager naming a partner: who owns it decides (read, never cached).
        var owner = caller.PartnerId is null && !caller.IsAdmin && partnerId is not null ? (await partners.GetAsync(partnerId, ct))?.Value.ChannelManagerId : null;
        var scope = DealAccess.ListScope(caller, partnerId, owner) ?? throw new NotFoundException("Partner");
        if (scope.PartnerId is not null && !Ids.LooksLike(scope.PartnerId, "ptn")) throw new NotFoundException("Partner");
        var result = await store.ListAsync(new DealQuery(scope.PartnerId, scope.ChannelManagerId, scope.SubmittedBy, statusValue, prefix, before), page, ct);
        if (!caller.IsVendor) return result.Map(d => d with { Conflict = d.Conflict with { MatchedDealIds = null, HouseAccount = null } });
        var items = result.Items.Where(d => d.Status != nameof(DealStatus.Draft)).ToList();
        if (scope.ChannelManagerId is not null)
        {
            // The per-manager index follows reassignments from the outbox; until it has, a partner's current owner decides.
            var owners = await Task.WhenAll(items.Select(d => d.PartnerId).Distinct().Select(async id => (id, (await partnerFacts.GetAsync(id, ct))?.ChannelManagerId)));
            var mine = owners.Where(o => o.Item2 == caller.UserId).Select(o => o.id).ToHashSet(StringComparer.Ordinal);
            items = items.Where(d => mine.Contains(d.PartnerId)).ToList();
        }
        return new Page<DealDto>(items, result.NextCursor);
    }

    public async Task<Versioned<DealDto>> GetAsync(Caller caller, string dealId, CancellationToken ct)
    {
        var found = await commits.LoadAsync(caller, dealId, DealOperation.Read, ct);
        return new Versioned<DealDto>(DealDto.From(found.Value, caller.IsVendor), found.ETag);
    }

    public async Task<Page<AuditEntry>> TimelineAsync(Caller caller, string dealId, PageRequest page, CancellationToken ct)
    {
        await commits.LoadAsync(caller, dealId, DealOperation.Read, ct);
        return await store.TimelineAsync(dealId, page, ct);
    }

    /// <summary>A partner's dashboard counters (members, the owning channel manager, admins).</summary>
    public async Task<DealStats> StatsAsync(Caller caller, string partnerId, CancellationToken ct)
    {
        await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct);
        return await store.StatsAsync(partnerId, ct);
    }

    /// <summary>The registration a decision link is about, as its recipient sees it (404 when the recipient may no longer see it).</summary>
    public Task<Versioned<DealDto>> ForLinkAsync(DecisionLink link, CancellationToken ct) =>
        GetAsync(DecisionLinks.RecipientOf(link), link.SubjectId.Split('|')[0], ct);
}
