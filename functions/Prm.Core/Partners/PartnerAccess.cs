using Prm.Core.Common;
using Prm.Core.Identity;

namespace Prm.Core.Partners;

/// <summary>Who may see and change which partner. A partner that the caller may not see does not exist for them (404).</summary>
public static class PartnerAccess
{
    /// <summary>Admins see every partner, channel managers the partners they own, partner users their own company.</summary>
    public static bool CanSee(Caller caller, Partner partner) =>
        caller.IsAdmin
        || (caller.IsChannelManager && partner.ChannelManagerId == caller.UserId)
        || caller.IsMemberOf(partner.Id);

    /// <summary>Vendor-side management (tier, status, owner): admins, and the owning channel manager.</summary>
    public static bool CanManageProgram(Caller caller, Partner partner) =>
        caller.IsAdmin || (caller.IsChannelManager && partner.ChannelManagerId == caller.UserId);

    /// <summary>Managing the partner's users and profile: its partner admins, plus vendor management.</summary>
    public static bool CanManageCompany(Caller caller, Partner partner) =>
        caller.IsPartnerAdminOf(partner.Id) || CanManageProgram(caller, partner);

    /// <summary>Loads a partner the caller may see, or throws 404 — also for a well-formed id of someone else's partner.</summary>
    public static async Task<Versioned<Partner>> LoadVisibleAsync(IPartnerStore store, Caller caller, string partnerId, CancellationToken ct)
    {
        // Partner users never get a storage read for a partner id that is not theirs.
        if (caller.PartnerId is not null && caller.PartnerId != partnerId) throw new NotFoundException("Partner");
        if (!Ids.LooksLike(partnerId, "ptn")) throw new NotFoundException("Partner");
        var found = await store.GetAsync(partnerId, ct);
        if (found is null || !CanSee(caller, found.Value)) throw new NotFoundException("Partner");
        return found;
    }
}
