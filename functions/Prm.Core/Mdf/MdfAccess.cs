using Prm.Core.Identity;

namespace Prm.Core.Mdf;

/// <summary>What a caller asks to do with MDF budgets, fund requests and claims.</summary>
public enum MdfOperation
{
    /// <summary>Read a budget, its ledger, a request, its claim, timeline and ROI.</summary>
    Read,

    /// <summary>The partner's side: request funds, answer questions, cancel, claim, upload proofs.</summary>
    ActForPartner,

    /// <summary>The vendor's side: create and adjust budgets, decide requests and claims, cancel, read proofs.</summary>
    Manage,

    /// <summary>Record a payout (finance: program admins).</summary>
    Pay,
}

/// <summary>
/// Who may do what with MDF — the one place for it. Every user of a partner company reads and acts on the company's budgets and
/// requests (MDF is the company's money, not a sales rep's own); the partner's current channel manager and admins manage them;
/// payouts are the admins'. What a caller may not read does not exist for them (404).
/// </summary>
public static class MdfAccess
{
    /// <summary>Whether answering for this caller needs the partner's current channel manager (read, never cached).</summary>
    public static bool NeedsPartnerOwner(Caller caller) => caller.PartnerId is null && !caller.IsAdmin && caller.IsChannelManager;

    /// <summary>Whether the caller may do <paramref name="operation"/> with the MDF of <paramref name="partnerId"/>, whose channel manager is <paramref name="partnerOwnerId"/>.</summary>
    public static bool Allows(Caller caller, MdfOperation operation, string partnerId, string? partnerOwnerId) => operation switch
    {
        MdfOperation.Read => caller.PartnerId == partnerId || Manages(caller, partnerOwnerId),
        MdfOperation.ActForPartner => caller.PartnerId == partnerId,
        MdfOperation.Manage => Manages(caller, partnerOwnerId),
        MdfOperation.Pay => caller.PartnerId is null && caller.IsAdmin,
        _ => false,
    };

    /// <summary>The request list a caller sees without naming a partner: admins all, channel managers their partners', partner users their company's.</summary>
    public static string DefaultListScope(Caller caller) =>
        caller.PartnerId is { } own ? "partner:" + own : caller.IsAdmin ? "all" : "cm:" + caller.UserId;

    private static bool Manages(Caller caller, string? partnerOwnerId) =>
        caller.PartnerId is null && (caller.IsAdmin || (caller.IsChannelManager && partnerOwnerId is not null && partnerOwnerId == caller.UserId));
}
