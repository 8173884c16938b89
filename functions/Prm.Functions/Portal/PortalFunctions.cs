using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Prm.Core.Identity;
using Prm.Core.Portal;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;

namespace Prm.Functions.Portal;

/// <summary>The portal home of the signed-in person.</summary>
public sealed class PortalFunctions(PortalHome home)
{
    [Function("GetPortalHome")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("The home of the signed-in person",
        "Partner users: the tier (badge, next tier, criteria and gaps from the last evaluation), the action inbox (kinds leadOffer, dealReturned, protectionEnding (within 14 days), mdfInfoRequested, mdfClaimDue, mdfClaimInfoRequested, certificationExpiring (within 60 days), invitationPending and onboardingItem (partner admins); planAwaitingAcceptance is reserved for the plans module), the tiles (pipeline, won this quarter, MDF available, rebates accrued vs paid, leads awaiting acceptance), assets new since the previous visit (this call records the visit), training in progress and the channel manager. Partner admins see their company's items, sales reps their own registrations, leads and MDF requests. Vendor staff: their review inbox (applicationReview, dealReview, extensionReview, mdfRequestReview, mdfClaimReview) by SLA deadline, the escalations (deadline passed) and partners with stalled deals (protection ending within 14 days without an outcome). The inbox is sorted by deadline (none last), then by amount (largest first). Each section reports ok, unavailable (its reads failed; the page still answers 200) or notApplicable in sections.",
        Response = typeof(PortalHomeDto))]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "portal/home")] HttpRequest req, CancellationToken ct) =>
        Api.Ok(await home.GetAsync(req.Caller(), ct));
}
