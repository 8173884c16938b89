using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Deals;

/// <summary>
/// Loads registrations as <see cref="DealAccess"/> allows and commits transitions: the registration with its timeline entry, events and
/// emails in one transaction (then the claim it gave up is released), re-deciding on a fresh copy when someone committed meanwhile.
/// </summary>
public sealed class DealCommits(IDealStore store, IPartnerStore partners, DealPartners partnerFacts, DealNotices notices, TimeProvider clock)
{
    /// <summary>
    /// A registration the caller may read, or 404 (also for another company's well-formed id, without a storage read); 403 when the
    /// caller may read it but not do <paramref name="operation"/>.
    /// </summary>
    public async Task<Versioned<Deal>> LoadAsync(Caller caller, string dealId, DealOperation operation, CancellationToken ct)
    {
        var partnerId = DealIds.PartnerOf(dealId) ?? throw new NotFoundException("Deal");
        if (!DealAccess.MayAddress(caller, partnerId)) throw new NotFoundException("Deal");
        // Who owns the partner decides a channel manager's access: read it, never a cached copy. The id names the partner, so both reads
        // run side by side.
        var ownerRead = DealAccess.NeedsPartnerOwner(caller) ? partners.GetAsync(partnerId, ct) : null;
        var dealRead = store.GetAsync(dealId, ct);
        await Task.WhenAll(ownerRead is null ? [dealRead] : [dealRead, ownerRead]);
        var found = await dealRead ?? throw new NotFoundException("Deal");
        var owner = ownerRead is null ? null : (await ownerRead)?.Value.ChannelManagerId;
        if (!DealAccess.Allows(caller, DealOperation.Read, found.Value, owner)) throw new NotFoundException("Deal");
        if (!DealAccess.Allows(caller, operation, found.Value, owner))
        {
            throw new ForbiddenException(operation == DealOperation.Change
                ? "Only the registering user and the partner's admins change a registration."
                : "Only the partner's channel manager and program admins decide registrations.");
        }
        return found;
    }

    /// <summary>Loads the registration, applies <paramref name="transition"/> and commits it; on a lost race reloads and applies it again.</summary>
    public Task<Versioned<DealDto>> TransitionAsync(Caller caller, string dealId, DealOperation operation, Func<Deal, DateTimeOffset, DealChange> transition, CancellationToken ct) =>
        ReadDecideCommit.RunAsync(async attempt =>
        {
            var found = attempt == 1 ? await LoadAsync(caller, dealId, operation, ct) : await store.GetAsync(dealId, ct) ?? throw new NotFoundException("Deal");
            var now = clock.GetUtcNow();
            var (deal, etag) = await CommitAsync(caller, found, transition(found.Value, now), now, ct);
            return new Versioned<DealDto>(DealDto.From(deal, caller.IsVendor), etag);
        }, ct: ct);

    /// <summary>Commits <paramref name="change"/> of <paramref name="found"/> (If-Match its ETag; 412 when stale) and releases the claim it gave up.</summary>
    public async Task<(Deal Deal, string ETag)> CommitAsync(Caller caller, Versioned<Deal> found, DealChange change, DateTimeOffset now, CancellationToken ct)
    {
        var before = found.Value;
        var deal = change.Deal with { ChannelManagerId = await partnerFacts.ManagerOfAsync(change.Deal, ct) };
        var outbox = await notices.OutboxAsync(deal, change, now, ct);
        var etag = await store.UpdateAsync(deal, found.ETag, new ChangeSet([Entry(caller, now, change.Action, deal.Id, Diff.Between(before.Snapshot(), deal.Snapshot()), change.Note)], outbox), ct);
        if (before.ClaimKey is { } held && deal.ClaimKey != held) await store.ReleaseClaimAsync(held, deal.Id, ct);
        return (deal, etag);
    }

    /// <summary>The timeline entry of a registration's change.</summary>
    public static AuditEntry Entry(Caller caller, DateTimeOffset now, string action, string dealId, IReadOnlyList<FieldChange> changes, string? note = null) =>
        new(Ids.New("aud"), now, caller.UserId, caller.DisplayName, action, "deal", dealId, changes, note);
}
