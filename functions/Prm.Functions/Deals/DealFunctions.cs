using Microsoft.DurableTask.Client;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Prm.Core.Audit;
using Prm.Core.Deals;
using Prm.Core.Identity;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;

namespace Prm.Functions.Deals;

/// <summary>Deal registration: register, follow, decide, extend, close.</summary>
public sealed class DealFunctions(RegisterDeal register, DealQueries queries, DecideDeal decide, DealExtensions extensions, DealOutcomes outcomes)
{
    [Function("RegisterDeal")]
    [Access(AccessPolicy.PartnerMember)]
    [ApiOperation("Register a deal", "Partner users. The conflict check runs at once: conflict.level none/possible/likely/certain with anonymous evidence. The first registration of a customer holds its claim; later ones are certain conflicts and go to review. Auto-approved when the program's rules allow. Honours Idempotency-Key: a retry returns the first result. draft: true saves without submitting.",
        Request = typeof(RegisterDealRequest), Response = typeof(DealDto), Status = 201, Headers = ["Idempotency-Key"])]
    public async Task<IActionResult> Register([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "deals")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var body = await ApiJson.ReadAsync<RegisterDealRequest>(req, ct);
        var key = req.Headers["Idempotency-Key"].FirstOrDefault();
        var (deal, _) = await register.RegisterAsync(req.Caller(), body, key, ct);
        return Api.Created(deal.Value, $"/api/deals/{deal.Value.Id}", deal.ETag);
    }

    [Function("ListDeals")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("List deals", "Newest first. Partner admins see their company's, sales reps their own, channel managers their partners', admins all. Filters: status, partnerId, customer (name prefix), expiringBefore (protection ends before).",
        Response = typeof(ListResponse<DealDto>), Query = ["status", "partnerId", "customer", "expiringBefore", "limit", "cursor"])]
    public async Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "deals")] HttpRequest req, CancellationToken ct) =>
        Api.Page(await queries.ListAsync(req.Caller(), req.Query("status"), req.Query("partnerId"), req.Query("customer"), req.Query("expiringBefore"), req.Paging(), ct));

    [Function("GetDeal")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Read a deal", "The registration with its conflict assessment, decisions, extensions and outcome. The ETag header is the version for If-Match.", Response = typeof(DealDto))]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "deals/{dealId}")] HttpRequest req, string dealId, CancellationToken ct) =>
        Api.Versioned(await queries.GetAsync(req.Caller(), dealId, ct));

    [Function("GetDealTimeline")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("A deal's timeline", "Every transition: who, what, when, the changed fields.", Response = typeof(ListResponse<AuditEntry>), Query = ["limit", "cursor"])]
    public async Task<IActionResult> Timeline([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "deals/{dealId}/timeline")] HttpRequest req, string dealId, CancellationToken ct) =>
        Api.Page(await queries.TimelineAsync(req.Caller(), dealId, req.Paging(), ct));

    [Function("UpdateDeal")]
    [Access(AccessPolicy.PartnerMember)]
    [ApiOperation("Edit a deal", "While Draft or Returned; only present fields change. If-Match is required.", Request = typeof(RegisterDealRequest), Response = typeof(DealDto), IfMatch = true, PartialRequest = true)]
    public async Task<IActionResult> Update([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "deals/{dealId}")] HttpRequest req, [DurableClient] DurableTaskClient durable, string dealId, CancellationToken ct) =>
        Api.Versioned(await register.EditAsync(req.Caller(), dealId, req.IfMatch(), await ApiJson.ReadAsync<RegisterDealRequest>(req, ct), ct));

    [Function("SubmitDeal")]
    [Access(AccessPolicy.PartnerMember)]
    [ApiOperation("Submit a draft or resubmit a returned deal", "The conflict check, claim and rules run again.", Response = typeof(DealDto))]
    public async Task<IActionResult> Submit([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "deals/{dealId}/submit")] HttpRequest req, [DurableClient] DurableTaskClient durable, string dealId, CancellationToken ct) =>
        Api.Versioned(await register.SubmitAsync(req.Caller(), dealId, ct));

    [Function("WithdrawDeal")]
    [Access(AccessPolicy.PartnerMember)]
    [ApiOperation("Withdraw a deal", "Final; the customer's claim is released. Optional body: reason.", Request = typeof(WithdrawRequest), Response = typeof(DealDto))]
    public async Task<IActionResult> Withdraw([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "deals/{dealId}/withdraw")] HttpRequest req, [DurableClient] DurableTaskClient durable, string dealId, CancellationToken ct) =>
        Api.Versioned(await outcomes.WithdrawAsync(req.Caller(), dealId, (await ApiJson.ReadAsync<WithdrawRequest>(req, ct))?.Reason, ct));

    [Function("DecideDeal")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("Decide a deal", "The partner's channel manager or an admin. approve (optional protectionDays): protection starts; reject (reason): final, claim released; return (reason): the partner completes and resubmits.",
        Request = typeof(DealDecisionRequest), Response = typeof(DealDto))]
    public async Task<IActionResult> Decide([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "deals/{dealId}/decision")] HttpRequest req, [DurableClient] DurableTaskClient durable, string dealId, CancellationToken ct) =>
        Api.Versioned(await decide.DecideAsync(req.Caller(), dealId, await ApiJson.ReadAsync<DealDecisionRequest>(req, ct), ct));

    [Function("RequestDealExtension")]
    [Access(AccessPolicy.PartnerMember)]
    [ApiOperation("Ask for a longer protection", "An approved deal; days and reason. The channel manager decides through the API or the emailed link; at most MaxExtensions approved.",
        Request = typeof(ExtensionRequestBody), Response = typeof(DealDto), Status = 201)]
    public async Task<IActionResult> RequestExtension([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "deals/{dealId}/extension-requests")] HttpRequest req, [DurableClient] DurableTaskClient durable, string dealId, CancellationToken ct)
    {
        var deal = await extensions.RequestAsync(req.Caller(), dealId, await ApiJson.ReadAsync<ExtensionRequestBody>(req, ct), ct);
        return Api.Created(deal.Value, $"/api/deals/{dealId}", deal.ETag);
    }

    [Function("DecideDealExtension")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("Decide an extension request", "approve moves the protection end (and the running expiry timer); reject (reason) tells the partner.",
        Request = typeof(ExtensionDecisionRequest), Response = typeof(DealDto))]
    public async Task<IActionResult> DecideExtension([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "deals/{dealId}/extension-requests/{extensionId}/decision")] HttpRequest req, [DurableClient] DurableTaskClient durable, string dealId, string extensionId, CancellationToken ct) =>
        Api.Versioned(await extensions.DecideAsync(req.Caller(), dealId, extensionId, await ApiJson.ReadAsync<ExtensionDecisionRequest>(req, ct), ct));

    [Function("RecordDealOutcome")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Record the outcome", "The partner or its channel manager: won (amount, closeDate) or lost (reason). Ends protection and releases the claim.",
        Request = typeof(DealOutcomeRequest), Response = typeof(DealDto))]
    public async Task<IActionResult> Outcome([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "deals/{dealId}/outcome")] HttpRequest req, [DurableClient] DurableTaskClient durable, string dealId, CancellationToken ct) =>
        Api.Versioned(await outcomes.RecordAsync(req.Caller(), dealId, await ApiJson.ReadAsync<DealOutcomeRequest>(req, ct), ct));

    [Function("GetPartnerDealStats")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("A partner's deal counters", "Submitted, approved, won, lost, active; pipeline and won value by currency. Members, the owning channel manager, admins.", Response = typeof(DealStats))]
    public async Task<IActionResult> Stats([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partners/{partnerId}/deal-stats")] HttpRequest req, string partnerId, CancellationToken ct) =>
        Api.Ok(await queries.StatsAsync(req.Caller(), partnerId, ct));
}

/// <summary>Optional body of POST /api/deals/{id}/withdraw.</summary>
public sealed record WithdrawRequest(string? Reason);

/// <summary>Product lines and house accounts.</summary>
public sealed class CatalogFunctions(ProductLines lines, HouseAccounts houses)
{
    [Function("ListProductLines")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("List product lines", "Any signed-in user: the active product lines deals are registered for (admins also see retired ones).", Response = typeof(ListResponse<ProductLine>))]
    public async Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "product-lines")] HttpRequest req, CancellationToken ct) =>
        Api.Ok(new ListResponse<ProductLine>(await lines.ListAsync(req.Caller(), ct), null));

    [Function("CreateProductLine")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Create a product line", "id (lower-case slug) and name.", Request = typeof(ProductLineRequest), Response = typeof(ProductLine), Status = 201)]
    public async Task<IActionResult> Create([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "product-lines")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var line = await lines.CreateAsync(req.Caller(), await ApiJson.ReadAsync<ProductLineRequest>(req, ct), ct);
        return Api.Created(line.Value, $"/api/product-lines/{line.Value.Id}", line.ETag);
    }

    [Function("UpdateProductLine")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Rename or retire a product line", "name and/or active; If-Match is required. Retired lines are refused in new registrations.", Request = typeof(ProductLineRequest), Response = typeof(ProductLine), IfMatch = true)]
    public async Task<IActionResult> Update([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "product-lines/{productLineId}")] HttpRequest req, [DurableClient] DurableTaskClient durable, string productLineId, CancellationToken ct) =>
        Api.Versioned(await lines.UpdateAsync(req.Caller(), productLineId, req.IfMatch(), await ApiJson.ReadAsync<ProductLineRequest>(req, ct), ct));

    [Function("ListHouseAccounts")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("List house accounts", "Customers reserved for direct sales.", Response = typeof(ListResponse<HouseAccountDto>))]
    public async Task<IActionResult> ListHouse([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "house-accounts")] HttpRequest req, CancellationToken ct) =>
        Api.Ok(new ListResponse<HouseAccountDto>(await houses.ListAsync(req.Caller(), ct), null));

    [Function("CreateHouseAccount")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Reserve a customer for direct sales", "name and domain; any registration matching it is a certain conflict and never auto-approved.", Request = typeof(HouseAccountRequest), Response = typeof(HouseAccountDto), Status = 201)]
    public async Task<IActionResult> CreateHouse([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "house-accounts")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var account = await houses.CreateAsync(req.Caller(), await ApiJson.ReadAsync<HouseAccountRequest>(req, ct), ct);
        return Api.Created(account.Value, $"/api/house-accounts/{account.Value.Id}", account.ETag);
    }

    [Function("GetHouseAccount")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("Read a house account", "With its ETag.", Response = typeof(HouseAccountDto))]
    public async Task<IActionResult> GetHouse([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "house-accounts/{houseAccountId}")] HttpRequest req, string houseAccountId, CancellationToken ct) =>
        Api.Versioned(await houses.GetAsync(req.Caller(), houseAccountId, ct));

    [Function("UpdateHouseAccount")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Change a house account", "name and domain; If-Match is required.", Request = typeof(HouseAccountRequest), Response = typeof(HouseAccountDto), IfMatch = true)]
    public async Task<IActionResult> UpdateHouse([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "house-accounts/{houseAccountId}")] HttpRequest req, [DurableClient] DurableTaskClient durable, string houseAccountId, CancellationToken ct) =>
        Api.Versioned(await houses.UpdateAsync(req.Caller(), houseAccountId, req.IfMatch(), await ApiJson.ReadAsync<HouseAccountRequest>(req, ct), ct));

    [Function("DeleteHouseAccount")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Release a house account", "Registrations of the customer are no longer certain conflicts. If-Match optional.", Status = 204, OptionalIfMatch = true)]
    public async Task<IActionResult> DeleteHouse([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "house-accounts/{houseAccountId}")] HttpRequest req, [DurableClient] DurableTaskClient durable, string houseAccountId, CancellationToken ct)
    {
        await houses.DeleteAsync(req.Caller(), houseAccountId, req.IfMatch(), ct);
        return Api.NoContent();
    }
}
