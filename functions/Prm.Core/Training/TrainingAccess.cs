using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Training;

/// <summary>Who may see which training data. What the caller may not see does not exist for them (404).</summary>
public static class TrainingAccess
{
    /// <summary>An attempt is its taker's alone.</summary>
    public static bool MayUseAttempt(Caller caller, Attempt attempt) => attempt.UserId == caller.UserId;

    /// <summary>
    /// An award: its holder, the partner admins of the partner the holder belongs to now, that partner's channel manager, admins.
    /// <paramref name="holderPartner"/> is the holder's current partner (null when they belong to none).
    /// </summary>
    public static bool MayRead(Caller caller, Award award, Partner? holderPartner) =>
        caller.IsAdmin
        || award.UserId == caller.UserId
        || (holderPartner is not null && (caller.IsPartnerAdminOf(holderPartner.Id) || (caller.IsChannelManager && holderPartner.ChannelManagerId == caller.UserId)));

    /// <summary>A partner's certifications: its partner admins, its channel manager, admins (its sales reps: 403; anyone else: 404).</summary>
    public static async Task<Partner> LoadPartnerAsync(IPartnerStore store, Caller caller, string partnerId, CancellationToken ct)
    {
        var partner = (await PartnerAccess.LoadVisibleAsync(store, caller, partnerId, ct)).Value;
        if (caller.PartnerId is not null && !caller.IsPartnerAdminOf(partnerId))
            throw new ForbiddenException("A partner's certifications are visible to its partner admins, its channel manager and admins.");
        return partner;
    }
}
