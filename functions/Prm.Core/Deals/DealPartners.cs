using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Outbox;
using Prm.Core.Partners;

namespace Prm.Core.Deals;

/// <summary>
/// The partner facts deal registration needs on its hot path (status, tier, channel manager), cached per instance and refreshed in the
/// background (see <see cref="RefreshingCache{TKey,TValue}"/>). Access decisions never use it: they read the partner.
/// </summary>
public sealed class DealPartners(IPartnerStore partners, ProgramOptions program, TimeProvider clock)
{
    private readonly RefreshingCache<string, Partner?> cache = new(clock, TimeSpan.FromSeconds(program.MembershipCacheSeconds));

    public Task<Partner?> GetAsync(string partnerId, CancellationToken ct) =>
        cache.GetAsync(partnerId, async token => (await partners.GetAsync(partnerId, token))?.Value, ct);

    /// <summary>Forgets the cached copy of a partner (its owner, tier or status changed on this instance).</summary>
    public void Forget(string partnerId) => cache.Remove(partnerId);

    /// <summary>The partner's current channel manager (a reassignment moves the registrations' list rows with their next change).</summary>
    public async Task<string?> ManagerOfAsync(Deal deal, CancellationToken ct) => (await GetAsync(deal.PartnerId, ct))?.ChannelManagerId ?? deal.ChannelManagerId;
}

/// <summary>Drops the cached copy of a partner when the partner changes (on this instance at once; elsewhere within the cache time).</summary>
public sealed class DealPartnerCacheProjection(DealPartners partners) : IOutboxProjection
{
    public Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (e.Type == PartnerEvents.UpdatedType && e.PartnerId is { } id) partners.Forget(id);
        return Task.CompletedTask;
    }
}
