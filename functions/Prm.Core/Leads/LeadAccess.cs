using Prm.Core.Identity;

namespace Prm.Core.Leads;

/// <summary>What a caller asks to do with a lead.</summary>
public enum LeadOperation
{
    /// <summary>Read the lead (masked until the caller's partner accepted it) and its timeline.</summary>
    Read,

    /// <summary>Accept or decline the pending offer: any member of the offered partner.</summary>
    Answer,

    /// <summary>Update the status or convert: the holding partner's admins and the assigned rep.</summary>
    Work,

    /// <summary>Assign the lead to a rep: the holding partner's admins.</summary>
    Assign,

    /// <summary>Vendor actions: assign to a named partner, recall, reroute.</summary>
    Steer,
}

/// <summary>
/// Who may do what with leads — the one place for it. A lead a caller may not read does not exist for them (404); one they may read but
/// not act on is a 403.
/// <list type="bullet">
/// <item>Leads belong to the vendor: admins and channel managers read and steer every lead; the integration app (<c>Prm.Integration</c>) creates and reads them.</item>
/// <item>A partner sees a lead only once it was offered to it, masked until it accepts; its admins see all of their company's, a rep only the ones assigned to them (and pending offers, which any member may answer).</item>
/// <item>A rep acting on another rep's lead gets 404, as does anyone of another partner.</item>
/// </list>
/// </summary>
public static class LeadAccess
{
    /// <summary>Who may create leads: admins, channel managers and the integration app.</summary>
    public static bool MayCreate(Caller caller) => caller.PartnerId is null && (caller.IsVendor || caller.IsIntegration);

    public static bool Allows(Caller caller, LeadOperation operation, Lead lead)
    {
        if (caller.PartnerId is null)
        {
            return operation switch
            {
                LeadOperation.Read => caller.IsVendor || caller.IsIntegration,
                LeadOperation.Steer => caller.IsVendor,
                _ => false,
            };
        }
        var partnerId = caller.PartnerId;
        var offered = lead.Offers.Any(o => o.PartnerId == partnerId);
        if (!offered) return false;
        var holds = lead.PartnerId == partnerId;
        var admin = caller.PartnerRole == PartnerRole.PartnerAdmin;
        var pendingForMe = lead.PendingOffer?.PartnerId == partnerId;
        // A rep sees pending offers of the company, and held leads assigned to them; nothing of another rep's.
        var repMaySee = admin || pendingForMe || !holds || lead.AssignedTo == caller.UserId;
        if (holds && !admin && lead.AssignedTo != caller.UserId) repMaySee = false;
        return operation switch
        {
            LeadOperation.Read => repMaySee,
            LeadOperation.Answer => repMaySee,
            LeadOperation.Work => holds && (admin || lead.AssignedTo == caller.UserId),
            LeadOperation.Assign => holds && admin,
            _ => false,
        };
    }

    /// <summary>What a lead list may show: vendor staff and the integration app all; partner admins their company's; reps their own.</summary>
    public static LeadQuery? ListScope(Caller caller, LeadStatus? status)
    {
        if (caller.PartnerId is { } own) return new LeadQuery(own, caller.PartnerRole == PartnerRole.PartnerAdmin ? null : caller.UserId, status);
        return caller.IsVendor || caller.IsIntegration ? new LeadQuery(null, null, status) : null;
    }
}
