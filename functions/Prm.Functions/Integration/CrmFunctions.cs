using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Prm.Core.Identity;
using Prm.Core.Integration;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;

namespace Prm.Functions.Integration;

/// <summary>CRM updates coming back in (machine clients), and the external ids that link records to the CRM.</summary>
public sealed class CrmFunctions(CrmEvents crm, ExternalIds externalIds)
{
    [Function("ReceiveCrmEvent")]
    [Access(AccessPolicy.Integration)]
    [ApiOperation("Receive a CRM event", "Machine clients only (app-only token with the app role Prm.Integration; people get 403). kind: opportunity.stageChanged (a won or lost stage sets the registration's outcome), opportunity.linked (data.dealId: links the opportunity id to the registration), account.ownerChanged (data.ownerEmail: the owning channel manager of the partner linked to the account). Idempotent by id per system (a redelivery answers duplicate and changes nothing); ordered per record by version (or occurredAt): an older event after a newer one is recorded and ignored (stale). An unknown external id is parked for review: 202.",
        Request = typeof(CrmEventRequest), Response = typeof(CrmEventResult), AlsoStatus = [202], Errors = [409, 422])]
    public async Task<IActionResult> Receive([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "integrations/crm/events")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var (result, accepted) = await crm.ReceiveAsync(req.Caller(), await ApiJson.ReadAsync<CrmEventRequest>(req, ct), ct);
        return accepted ? Api.Accepted(result) : Api.Ok(result);
    }

    [Function("ListParkedCrmEvents")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("CRM events parked for review", "Admins. Events whose external id matched no record, newest first, with the reason and the body as received.",
        Response = typeof(ListResponse<ParkedCrmEvent>), Query = ["limit", "cursor"])]
    public async Task<IActionResult> Parked([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "integrations/crm/parked")] HttpRequest req, CancellationToken ct) =>
        Api.Page(await crm.ParkedAsync(req.Caller(), req.Paging(), ct));

    [Function("SetDealExternalId")]
    [Access(AccessPolicy.VendorOrIntegration)]
    [ApiOperation("Link a registration to a CRM record", "Admins, channel managers and machine clients. Sets the registration's id in the system (salesforce, hubspot, dynamics, …); its previous id there is released. 409 when that id belongs to another registration. Look-ups by external id are point reads.",
        Request = typeof(ExternalIdRequest), Response = typeof(ExternalIdDto), Errors = [409])]
    public async Task<IActionResult> SetDeal([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "deals/{dealId}/external-ids/{system}")] HttpRequest req, [DurableClient] DurableTaskClient durable, string dealId, string system, CancellationToken ct) =>
        Api.Ok(await externalIds.LinkDealAsync(req.Caller(), dealId, system, await ApiJson.ReadAsync<ExternalIdRequest>(req, ct), ct));

    [Function("ListDealExternalIds")]
    [Access(AccessPolicy.VendorOrIntegration)]
    [ApiOperation("A registration's CRM ids", "Admins, channel managers and machine clients: the registration's id per system.", Response = typeof(IReadOnlyList<ExternalIdDto>))]
    public async Task<IActionResult> ListDeal([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "deals/{dealId}/external-ids")] HttpRequest req, string dealId, CancellationToken ct) =>
        Api.Ok(await externalIds.OfDealAsync(req.Caller(), dealId, ct));
}
