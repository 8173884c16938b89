using Prm.Core.Identity;

namespace Prm.Core.Deals;

/// <summary>What a caller asks to do with deals.</summary>
public enum DealOperation
{
    /// <summary>Read a registration, its timeline, a decision link's page.</summary>
    Read,

    /// <summary>Edit, submit, withdraw, ask for an extension, record the outcome as the partner.</summary>
    Change,

    /// <summary>Decide the review or an extension, record the outcome as the vendor.</summary>
    Decide,
}

/// <summary>
/// Who may do what with deal registrations — the one place for it. A registration a caller may not read does not exist for them (404);
/// one they may read but not change or decide is a 403.
/// <list type="bullet">
/// <item>Partner admins read and change their company's registrations; sales reps only their own (no lateral visibility).</item>
/// <item>Channel managers read and decide the submitted registrations of the partners they own (the partner's current owner decides).</item>
/// <item>Admins read and decide every submitted registration. Drafts are the partner's own until submitted.</item>
/// </list>
/// </summary>
public static class DealAccess
{
    /// <summary>
    /// Whether the caller may address registrations of <paramref name="partnerId"/> at all, before anything is read: partner users only
    /// their own company's (another company's well-formed id costs no storage read), vendor staff any.
    /// </summary>
    public static bool MayAddress(Caller caller, string partnerId) =>
        caller.PartnerId is not null ? caller.PartnerId == partnerId : caller.IsVendor;

    /// <summary>Whether answering <see cref="Allows"/> for this caller needs the partner's current channel manager (read, never cached).</summary>
    public static bool NeedsPartnerOwner(Caller caller) => caller.PartnerId is null && !caller.IsAdmin && caller.IsChannelManager;

    /// <summary>Whether the caller may do <paramref name="operation"/> with <paramref name="deal"/>; <paramref name="partnerOwnerId"/> is the partner's channel manager.</summary>
    public static bool Allows(Caller caller, DealOperation operation, Deal deal, string? partnerOwnerId) => operation switch
    {
        DealOperation.Read => IsPartnerSide(caller, deal) || (deal.Status != DealStatus.Draft && IsReviewer(caller, partnerOwnerId)),
        DealOperation.Change => IsPartnerSide(caller, deal),
        DealOperation.Decide => deal.Status != DealStatus.Draft && IsReviewer(caller, partnerOwnerId),
        _ => false,
    };

    /// <summary>What a deal list may show the caller; null when the caller names a partner it may not see (404).</summary>
    /// <param name="caller">Who asks.</param>
    /// <param name="partnerId">The partner filter, if any.</param>
    /// <param name="partnerOwnerId">The channel manager of <paramref name="partnerId"/> (read only for a channel manager naming a partner).</param>
    public static DealListScope? ListScope(Caller caller, string? partnerId, string? partnerOwnerId)
    {
        if (caller.PartnerId is { } own)
        {
            if (partnerId is not null && partnerId != own) return null;
            return new DealListScope(own, null, caller.PartnerRole == PartnerRole.PartnerAdmin ? null : caller.UserId);
        }
        if (caller.IsAdmin) return new DealListScope(partnerId, null, null);
        if (!caller.IsChannelManager) return null;
        if (partnerId is null) return new DealListScope(null, caller.UserId, null);
        return partnerOwnerId == caller.UserId ? new DealListScope(partnerId, null, null) : null;
    }

    /// <summary>The registering user and the partner's admins.</summary>
    private static bool IsPartnerSide(Caller caller, Deal deal) =>
        caller.PartnerId == deal.PartnerId && (caller.PartnerRole == PartnerRole.PartnerAdmin || caller.UserId == deal.SubmittedBy);

    /// <summary>Admins, and the channel manager who owns the partner now.</summary>
    private static bool IsReviewer(Caller caller, string? partnerOwnerId) =>
        caller.PartnerId is null && (caller.IsAdmin || (caller.IsChannelManager && partnerOwnerId is not null && partnerOwnerId == caller.UserId));
}

/// <summary>The rows a deal list may show: a partner's (optionally one submitter's) or a channel manager's partners'.</summary>
public sealed record DealListScope(string? PartnerId, string? ChannelManagerId, string? SubmittedBy);
