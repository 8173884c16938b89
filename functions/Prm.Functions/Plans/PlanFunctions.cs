using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Plans;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;

namespace Prm.Functions.Plans;

/// <summary>Joint business plans: one per partner and fiscal year, proposed to and accepted by the partner, versioned once locked, reviewed each quarter.</summary>
public sealed class PlanFunctions(BusinessPlans plans)
{
    private const string Visibility = " The partner's members see it once proposed (a Draft, another partner's plan and a guessed id are 404); channel managers their own partners' plans; admins all.";

    [Function("CreatePlan")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("Create a joint business plan", "The partner's channel manager or an admin: { partnerId, fiscalYear (the current fiscal year or one of the next 5; the fiscal calendar of the mdf settings), title, objectives [{ kind revenue | wonDeals | registrations | certifiedPeople | leadsAccepted | custom, name (required for custom), targets [Q1, Q2, Q3, Q4] (>= 0; counts whole), weight 1-100, currency (revenue; the program currency by default) }], initiatives [{ title, owner, dueDate, status open | done | dropped, mdfRequestId (an MDF request of the same partner, 422 otherwise) }] }. An unknown kind is 400 naming objectives[i].kind; a negative target 422 naming objectives[i].targets[q]; a weight outside 1-100 422 naming objectives[i].weight. A second plan of the partner for the year is 409 naming fiscalYear. The plan starts as Draft (vendor staff only), version 1.",
        Request = typeof(CreatePlanRequest), Response = typeof(BusinessPlan), Status = 201)]
    public async Task<IActionResult> Create([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "plans")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var created = await plans.CreateAsync(req.Caller(), await ApiJson.ReadAsync<CreatePlanRequest>(req, ct), ct);
        return Api.Created(created.Value, $"/api/plans/{created.Value.Id}", created.ETag);
    }

    [Function("ListPlans")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("List joint business plans", "?partnerId (partner users: their own by default) and ?fiscalYear. Partner users never see Drafts; a channel manager without partnerId gets the plans of the partners they own; a partner the caller may not see is 404.",
        Response = typeof(ListResponse<PlanSummary>), Query = ["partnerId", "fiscalYear", "limit", "cursor"])]
    public async Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "plans")] HttpRequest req, CancellationToken ct) =>
        Api.Page(await plans.ListAsync(req.Caller(), req.Query("partnerId"), req.Query("fiscalYear"), req.Paging(), ct));

    [Function("GetPlan")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Read a joint business plan with its actuals", "The plan (ETag) and, per objective and fiscal quarter, the target, the actual computed from the partner's KPI buckets by the day the work happened (won revenue and won deals by close date, registrations by approval day, certifications by award day, leads by the day accepted; custom objectives: the value recorded with evidence), the elapsed share of the quarter, what the on-track rule expects by now (target x (elapsed share - 10 points)) and the verdict onTrack | offTrack | notStarted." + Visibility,
        Response = typeof(PlanView))]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "plans/{planId}")] HttpRequest req, string planId, CancellationToken ct) =>
        Api.Versioned(await plans.GetAsync(req.Caller(), planId, ct));

    [Function("EditPlan")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Edit a joint business plan", "The partner's channel manager or an admin; If-Match required. title, objectives and initiatives as for creating it (a list given replaces the whole list; items keep their id). A Draft or Proposed plan changes in place; an Accepted or Active plan is locked: only initiatives' status moves (progress) are taken, anything else is 409 naming the field (objectives, initiatives, title) — POST /api/plans/{planId}/versions makes a new version instead. Closed: 409. Partner users 403.",
        Request = typeof(PlanChangeRequest), Response = typeof(BusinessPlan), IfMatch = true, PartialRequest = true)]
    public async Task<IActionResult> Edit([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "plans/{planId}")] HttpRequest req, [DurableClient] DurableTaskClient durable, string planId, CancellationToken ct) =>
        Api.Versioned(await plans.EditAsync(req.Caller(), planId, req.IfMatch(), await ApiJson.ReadAsync<PlanChangeRequest>(req, ct), ct));

    [Function("ProposePlan")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Propose a plan to the partner", "Draft to Proposed (the partner's channel manager or an admin): the partner's people see it and may comment, its partner admins are emailed. Another status is 409. If-Match optional.",
        Response = typeof(BusinessPlan), OptionalIfMatch = true)]
    public async Task<IActionResult> Propose([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "plans/{planId}/propose")] HttpRequest req, [DurableClient] DurableTaskClient durable, string planId, CancellationToken ct) =>
        Api.Versioned(await plans.ProposeAsync(req.Caller(), planId, req.IfMatch(), ct));

    [Function("AcceptPlan")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Accept a plan", "A partner admin of the plan's partner accepts the Proposed version they read (If-Match required): the plan is locked — Active when its fiscal year has begun, Accepted until then. The channel manager is emailed; the quarterly review workflow starts. Vendor staff and partner users 403; another status 409.",
        Response = typeof(BusinessPlan), IfMatch = true)]
    public async Task<IActionResult> Accept([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "plans/{planId}/accept")] HttpRequest req, [DurableClient] DurableTaskClient durable, string planId, CancellationToken ct) =>
        Api.Versioned(await plans.AcceptAsync(req.Caller(), planId, req.IfMatch(), ct));

    [Function("ClosePlan")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Close a plan", "The partner's channel manager or an admin closes the plan before its year ends (the workflow closes it when the year ends). Closed twice is 409. If-Match optional.",
        Response = typeof(BusinessPlan), OptionalIfMatch = true)]
    public async Task<IActionResult> Close([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "plans/{planId}/close")] HttpRequest req, [DurableClient] DurableTaskClient durable, string planId, CancellationToken ct) =>
        Api.Versioned(await plans.CloseAsync(req.Caller(), planId, req.IfMatch(), ct));

    [Function("CommentOnPlan")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Comment on a plan", "{ text } (1-2,000 characters), on the current version: the partner's people once it is proposed, vendor staff always. Closed: 409." + Visibility,
        Request = typeof(PlanCommentRequest), Response = typeof(BusinessPlan))]
    public async Task<IActionResult> Comment([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "plans/{planId}/comments")] HttpRequest req, [DurableClient] DurableTaskClient durable, string planId, CancellationToken ct) =>
        Api.Versioned(await plans.CommentAsync(req.Caller(), planId, await ApiJson.ReadAsync<PlanCommentRequest>(req, ct), ct));

    [Function("CreatePlanVersion")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Make a new version of a locked plan", "The partner's channel manager or an admin, If-Match required: { title, objectives, initiatives (as for PATCH), reason } of an Accepted or Active plan. The version counts up with the field changes against the version before it (GET /versions); the plan is Proposed until a partner admin accepts it again (its partner admins are emailed). A Draft or Proposed plan is 409 (PATCH changes it in place); no change is 422.",
        Request = typeof(PlanChangeRequest), Response = typeof(BusinessPlan), IfMatch = true, PartialRequest = true)]
    public async Task<IActionResult> NewVersion([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "plans/{planId}/versions")] HttpRequest req, [DurableClient] DurableTaskClient durable, string planId, CancellationToken ct) =>
        Api.Versioned(await plans.NewVersionAsync(req.Caller(), planId, req.IfMatch(), await ApiJson.ReadAsync<PlanChangeRequest>(req, ct), ct));

    [Function("ListPlanVersions")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("A plan's versions", "Every version, oldest first: its content and the field changes against the version before it (version 1: none), the reason, who made it and when." + Visibility,
        Response = typeof(ListResponse<PlanVersion>))]
    public async Task<IActionResult> Versions([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "plans/{planId}/versions")] HttpRequest req, string planId, CancellationToken ct) =>
        Api.Page(new Page<PlanVersion>(await plans.VersionsAsync(req.Caller(), planId, ct), null));

    [Function("RecordPlanReview")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Record a quarterly review", "The partner's channel manager or an admin: { quarter 1-4, notes, decisions [] } of a plan accepted at least once, for a quarter that has begun (422 naming quarter otherwise); a second record of the quarter replaces the first. A recorded review stops the quarter's reminder. Partner users 403.",
        Request = typeof(PlanReviewRequest), Response = typeof(BusinessPlan))]
    public async Task<IActionResult> Review([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "plans/{planId}/reviews")] HttpRequest req, [DurableClient] DurableTaskClient durable, string planId, CancellationToken ct) =>
        Api.Versioned(await plans.ReviewAsync(req.Caller(), planId, await ApiJson.ReadAsync<PlanReviewRequest>(req, ct), ct));

    [Function("RecordPlanValue")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Record a custom objective's value", "The partner's channel manager or an admin: { objectiveId (a custom objective: other kinds are computed from the records, 422), quarter 1-4 (begun), value (the quarter's actual so far, >= 0), evidence }; a later value of the quarter replaces it. Partner users 403.",
        Request = typeof(CustomValueRequest), Response = typeof(BusinessPlan))]
    public async Task<IActionResult> Value([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "plans/{planId}/values")] HttpRequest req, [DurableClient] DurableTaskClient durable, string planId, CancellationToken ct) =>
        Api.Versioned(await plans.RecordValueAsync(req.Caller(), planId, await ApiJson.ReadAsync<CustomValueRequest>(req, ct), ct));
}
