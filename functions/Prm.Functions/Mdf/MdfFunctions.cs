using Microsoft.DurableTask.Client;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Prm.Core.Audit;
using Prm.Core.Identity;
using Prm.Core.Mdf;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;

namespace Prm.Functions.Mdf;

/// <summary>MDF and co-op funds: budgets, fund requests, decisions, claims with proofs, payouts, ROI.</summary>
public sealed class MdfFunctions(Budgets budgets, FundRequests requests, Claims claims, MdfReturns returns)
{
    [Function("CreateMdfBudget")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("Create a budget", "For a partner and fiscal period (\"2026\" or \"2026-Q4\", per the program's fiscal calendar): a fixed amount, or coopPercent + currency: a percentage of the partner's won deal value in the previous period. One budget per partner, period and currency (409).",
        Request = typeof(CreateBudgetRequest), Response = typeof(BudgetDto), Status = 201)]
    public async Task<IActionResult> CreateBudget([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "mdf/budgets")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var created = await budgets.CreateAsync(req.Caller(), await ApiJson.ReadAsync<CreateBudgetRequest>(req, ct), ct);
        return Api.Created(created.Value, $"/api/mdf/budgets/{created.Value.Id}", created.ETag);
    }

    [Function("ListMdfBudgets")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("List budgets", "With allocated, adjustments, available, pending, approved (reserved), claimed and paid. Partner users see their own; channel managers pass partnerId; admins all.",
        Response = typeof(ListResponse<BudgetDto>), Query = ["partnerId", "period"])]
    public async Task<IActionResult> ListBudgets([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "mdf/budgets")] HttpRequest req, CancellationToken ct) =>
        Api.Page(await budgets.ListAsync(req.Caller(), req.Query("partnerId"), req.Query("period"), ct));

    [Function("GetMdfBudget")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Read a budget", "The budget and its balance buckets.", Response = typeof(BudgetDto))]
    public async Task<IActionResult> GetBudget([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "mdf/budgets/{budgetId}")] HttpRequest req, string budgetId, CancellationToken ct) =>
        Api.Versioned(await budgets.GetAsync(req.Caller(), budgetId, ct));

    [Function("GetMdfBudgetLedger")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("A budget's ledger", "The append-only entries in sequence; replaying them gives the balance.", Response = typeof(ListResponse<LedgerEntryDto>))]
    public async Task<IActionResult> Ledger([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "mdf/budgets/{budgetId}/ledger")] HttpRequest req, string budgetId, CancellationToken ct) =>
        Api.Page(await budgets.LedgerAsync(req.Caller(), budgetId, ct));

    [Function("AdjustMdfBudget")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("Adjust a budget", "A signed change of the allocation with a reason: a ledger entry, never an overwrite. A decrease may not take available below zero (422 naming the available balance).",
        Request = typeof(BudgetAdjustmentRequest), Response = typeof(BudgetDto))]
    public async Task<IActionResult> Adjust([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "mdf/budgets/{budgetId}/adjustments")] HttpRequest req, [DurableClient] DurableTaskClient durable, string budgetId, CancellationToken ct) =>
        Api.Versioned(await budgets.AdjustAsync(req.Caller(), budgetId, await ApiJson.ReadAsync<BudgetAdjustmentRequest>(req, ct), ct));

    [Function("SubmitMdfRequest")]
    [Access(AccessPolicy.PartnerMember)]
    [ApiOperation("Request funds", "Dates within a budget period of the partner; the amount moves from available to pending (422 naming the available balance when it does not fit). Reviewers get decision links. Honours Idempotency-Key: a retry returns the first request and reserves nothing again.",
        Request = typeof(FundRequestInput), Response = typeof(FundRequestDto), Status = 201, Headers = ["Idempotency-Key"])]
    public async Task<IActionResult> SubmitRequest([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "mdf/requests")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var created = await requests.SubmitAsync(req.Caller(), await ApiJson.ReadAsync<FundRequestInput>(req, ct), req.Headers["Idempotency-Key"].FirstOrDefault(), ct);
        return Api.Created(created.Value, $"/api/mdf/requests/{created.Value.Id}", created.ETag);
    }

    [Function("ListMdfRequests")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("List fund requests", "Newest first. Partner users: their company's; channel managers: their partners' (or one partner's); admins: all or one partner's.",
        Response = typeof(ListResponse<FundRequestDto>), Query = ["partnerId", "status", "limit", "cursor"])]
    public async Task<IActionResult> ListRequests([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "mdf/requests")] HttpRequest req, CancellationToken ct) =>
        Api.Page(await requests.ListAsync(req.Caller(), req.Query("partnerId"), req.Query("status"), req.Paging(), ct));

    [Function("GetMdfRequest")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Read a fund request", "The request, its decisions and its claim.", Response = typeof(FundRequestDto))]
    public async Task<IActionResult> GetRequest([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "mdf/requests/{requestId}")] HttpRequest req, string requestId, CancellationToken ct) =>
        Api.Versioned(await requests.GetAsync(req.Caller(), requestId, ct));

    [Function("GetMdfRequestTimeline")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("A fund request's timeline", "Submission, decisions, reminders, claim steps: who, what, when.", Response = typeof(ListResponse<AuditEntry>), Query = ["limit", "cursor"])]
    public async Task<IActionResult> Timeline([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "mdf/requests/{requestId}/timeline")] HttpRequest req, string requestId, CancellationToken ct) =>
        Api.Page(await requests.TimelineAsync(req.Caller(), requestId, req.Paging(), ct));

    [Function("CancelMdfRequest")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Cancel a fund request", "A pending request (its amount returns to available) or an approved one without a submitted claim (the reservation returns).",
        Request = typeof(CancelInput), Response = typeof(FundRequestDto))]
    public async Task<IActionResult> Cancel([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "mdf/requests/{requestId}/cancel")] HttpRequest req, [DurableClient] DurableTaskClient durable, string requestId, CancellationToken ct) =>
        Api.Versioned(await requests.CancelAsync(req.Caller(), requestId, await ApiJson.ReadAsync<CancelInput>(req, ct), ct));

    [Function("DecideMdfRequest")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("Decide a fund request", "approve (approvedAmount up to the requested amount, maxReimbursementPercent, claimDeadline: default 60 days after the activity ends; above the second-approval threshold a second admin approves), reject (reason; final), requestInfo (reason). The partner's channel manager and admins.",
        Request = typeof(FundRequestDecisionInput), Response = typeof(FundRequestDto))]
    public async Task<IActionResult> Decide([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "mdf/requests/{requestId}/decision")] HttpRequest req, [DurableClient] DurableTaskClient durable, string requestId, CancellationToken ct) =>
        Api.Versioned(await requests.DecideAsync(req.Caller(), requestId, await ApiJson.ReadAsync<FundRequestDecisionInput>(req, ct), ct));

    [Function("AnswerMdfRequestInfo")]
    [Access(AccessPolicy.PartnerMember)]
    [ApiOperation("Answer a request for information", "The review starts again with fresh deadlines.", Request = typeof(FundRequestInfoAnswer), Response = typeof(FundRequestDto))]
    public async Task<IActionResult> AnswerInfo([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "mdf/requests/{requestId}/info")] HttpRequest req, [DurableClient] DurableTaskClient durable, string requestId, CancellationToken ct) =>
        Api.Versioned(await requests.AnswerInfoAsync(req.Caller(), requestId, await ApiJson.ReadAsync<FundRequestInfoAnswer>(req, ct), ct));

    [Function("CreateMdfClaim")]
    [Access(AccessPolicy.PartnerMember)]
    [ApiOperation("Start the claim of an approved request", "A draft with the claimed amount (at most approved amount x max reimbursement percent) and results; add proofs, then submit.",
        Request = typeof(ClaimInput), Response = typeof(ClaimDto), Status = 201)]
    public async Task<IActionResult> CreateClaim([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "mdf/requests/{requestId}/claims")] HttpRequest req, [DurableClient] DurableTaskClient durable, string requestId, CancellationToken ct)
    {
        var created = await claims.CreateAsync(req.Caller(), requestId, await ApiJson.ReadAsync<ClaimInput>(req, ct), ct);
        return Api.Created(created.Value, $"/api/mdf/claims/{created.Value.Id}", created.ETag);
    }

    [Function("GetMdfClaim")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Read a claim", "The claim with its proofs.", Response = typeof(ClaimDto))]
    public async Task<IActionResult> GetClaim([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "mdf/claims/{claimId}")] HttpRequest req, string claimId, CancellationToken ct) =>
        Api.Versioned(await claims.GetAsync(req.Caller(), claimId, ct));

    [Function("AddMdfProof")]
    [Access(AccessPolicy.PartnerMember)]
    [ApiOperation("Upload a proof", "Returns a proof id and a write-only SAS URL for one blob, valid 15 minutes: PUT the file there (x-ms-blob-type: BlockBlob), then complete it.",
        Request = typeof(ProofUploadInput), Response = typeof(ProofUpload), Status = 201)]
    public async Task<IActionResult> AddProof([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "mdf/claims/{claimId}/proofs")] HttpRequest req, [DurableClient] DurableTaskClient durable, string claimId, CancellationToken ct)
    {
        var upload = await claims.AddProofAsync(req.Caller(), claimId, await ApiJson.ReadAsync<ProofUploadInput>(req, ct), ct);
        return Api.Created(upload, $"/api/mdf/claims/{claimId}");
    }

    [Function("CompleteMdfProof")]
    [Access(AccessPolicy.PartnerMember)]
    [ApiOperation("Verify an uploaded proof", "At most 25 MiB and, judged by its first bytes, a PDF, PNG, JPEG, XLSX or CSV; anything else is deleted and refused (422).", Response = typeof(ClaimDto))]
    public async Task<IActionResult> CompleteProof([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "mdf/claims/{claimId}/proofs/{proofId}/complete")] HttpRequest req, [DurableClient] DurableTaskClient durable, string claimId, string proofId, CancellationToken ct) =>
        Api.Versioned(await claims.CompleteProofAsync(req.Caller(), claimId, proofId, ct));

    [Function("GetMdfProofLink")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("A reviewer's link to a proof", "A read-only SAS URL of the verified proof, valid 5 minutes.", Response = typeof(ProofLink))]
    public async Task<IActionResult> ProofLink([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "mdf/claims/{claimId}/proofs/{proofId}")] HttpRequest req, string claimId, string proofId, CancellationToken ct) =>
        Api.Ok(await claims.ProofLinkAsync(req.Caller(), claimId, proofId, ct));

    [Function("SubmitMdfClaim")]
    [Access(AccessPolicy.PartnerMember)]
    [ApiOperation("Submit a claim", "Needs at least one verified proof and the claim deadline not passed; an optional body updates amount and results (resubmission after request info).",
        Request = typeof(ClaimInput), Response = typeof(ClaimDto))]
    public async Task<IActionResult> SubmitClaim([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "mdf/claims/{claimId}/submit")] HttpRequest req, [DurableClient] DurableTaskClient durable, string claimId, CancellationToken ct) =>
        Api.Versioned(await claims.SubmitAsync(req.Caller(), claimId, await ApiJson.ReadAsync<ClaimInput>(req, ct), ct));

    [Function("DecideMdfClaim")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("Review a claim", "approve (amount, default the claimed amount; the rest of the reservation returns to available), reject (reason; final, the reservation returns), requestInfo (reason; the partner adds proofs and resubmits).",
        Request = typeof(ClaimDecisionInput), Response = typeof(ClaimDto))]
    public async Task<IActionResult> DecideClaim([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "mdf/claims/{claimId}/decision")] HttpRequest req, [DurableClient] DurableTaskClient durable, string claimId, CancellationToken ct) =>
        Api.Versioned(await claims.DecideAsync(req.Caller(), claimId, await ApiJson.ReadAsync<ClaimDecisionInput>(req, ct), ct));

    [Function("PayMdfClaim")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Record a payout", "Finance: paymentReference and paidOn; the claim is Paid (final) and the request closed.", Request = typeof(PayoutInput), Response = typeof(ClaimDto))]
    public async Task<IActionResult> Payout([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "mdf/claims/{claimId}/payout")] HttpRequest req, [DurableClient] DurableTaskClient durable, string claimId, CancellationToken ct) =>
        Api.Versioned(await claims.PayoutAsync(req.Caller(), claimId, await ApiJson.ReadAsync<PayoutInput>(req, ct), ct));

    [Function("GetMdfRequestRoi")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("ROI of a funded activity", "Paid amount, leads, attributed registered deals (deals carry mdfRequestId), pipeline and won value, cost per lead, return on spend.", Response = typeof(MdfRoiDto))]
    public async Task<IActionResult> RequestRoi([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "mdf/requests/{requestId}/roi")] HttpRequest req, string requestId, CancellationToken ct) =>
        Api.Ok(await returns.RequestAsync(req.Caller(), requestId, ct));

    [Function("GetMdfRoi")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("ROI of a partner's period", "The same figures over the partner's approved requests of the budget period.", Response = typeof(MdfRoiDto), Query = ["partnerId", "period"])]
    public async Task<IActionResult> PeriodRoi([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "mdf/roi")] HttpRequest req, CancellationToken ct) =>
        Api.Ok(await returns.PeriodAsync(req.Caller(), req.Query("partnerId"), req.Query("period"), ct));
}
