using Prm.Core.Identity;

namespace Prm.Core.Content;

/// <summary>
/// Who may see and manage assets — the one place for it. Program admins manage them; vendor staff (admins, channel managers) read every
/// asset in every status, its timeline, its download counts and any partner's view of it. A partner user reads, lists and downloads only
/// a published, unexpired asset its company sees now by the visibility rule (role dimension with the user's own role); anything else
/// does not exist for them (404, the same answer as a missing asset).
/// </summary>
public static class ContentAccess
{
    /// <summary>Whether the caller may read <paramref name="asset"/>; <paramref name="partner"/> is the caller's company as it is now (partner users only).</summary>
    public static bool MayRead(Caller caller, Asset asset, PartnerFacts? partner, DateTimeOffset now) =>
        caller.PartnerId is null
            ? caller.IsVendor
            : partner is not null && partner.PartnerId == caller.PartnerId && asset.IsLiveAt(now) && Visibility.Check(asset.Visibility, partner, caller.PartnerRole).Visible;

    /// <summary>Whether the caller manages assets (create, edit, upload versions, publish, archive).</summary>
    public static bool MayManage(Caller caller) => caller.PartnerId is null && caller.IsAdmin;

    /// <summary>Whether the caller reads vendor-only facts: timelines, download counts, a partner's view.</summary>
    public static bool MayInspect(Caller caller) => caller.PartnerId is null && caller.IsVendor;
}
