using Microsoft.DurableTask.Client;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Prm.Core.Audit;
using Prm.Core.Identity;
using Prm.Core.Partners;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;

namespace Prm.Functions.Partners;

/// <summary>The partner directory API.</summary>
public sealed class PartnerFunctions(PartnerDirectory directory)
{
    [Function("ListPartners")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("List partners", "Channel managers see the partners they own; admins see all (scope=all) or their own (scope=mine). Filters: status, tier, region, channelManagerId; search is a case-insensitive name prefix.",
        Response = typeof(ListResponse<PartnerDto>), Query = ["scope", "status", "tier", "region", "channelManagerId", "search", "limit", "cursor"])]
    public async Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partners")] HttpRequest req, CancellationToken ct)
    {
        var page = await directory.ListAsync(req.Caller(), req.Query("scope"), req.Query("status"), req.Query("tier"), req.Query("region"),
            req.Query("channelManagerId"), req.Query("search"), req.Paging(), ct);
        return Api.Page(page);
    }

    [Function("CreatePartner")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Create a partner", "Creates a partner directly (the migration path beside onboarding); optionally invites its first partner admin.",
        Request = typeof(CreatePartnerRequest), Response = typeof(PartnerDto), Status = 201)]
    public async Task<IActionResult> Create([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "partners")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var created = await directory.CreateAsync(req.Caller(), await ApiJson.ReadAsync<CreatePartnerRequest>(req, ct), ct);
        return Api.Created(created.Value, $"/api/partners/{created.Value.Id}", created.ETag);
    }

    [Function("GetPartner")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Read a partner", "Members read their own partner; channel managers the partners they own; admins any. The ETag header is the version for If-Match.",
        Response = typeof(PartnerDto))]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partners/{partnerId}")] HttpRequest req, string partnerId, CancellationToken ct) =>
        Api.Versioned(await directory.GetAsync(req.Caller(), partnerId, ct));

    [Function("UpdatePartner")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Edit a partner", "Only fields present change. Partner admins edit the profile (name, website, phone, description, city); admins and the owning channel manager also tier, status, channelManagerId, country, region, partnerType. If-Match is required.",
        Request = typeof(PatchPartnerRequest), Response = typeof(PartnerDto), IfMatch = true)]
    public async Task<IActionResult> Update([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "partners/{partnerId}")] HttpRequest req, [DurableClient] DurableTaskClient durable, string partnerId, CancellationToken ct)
    {
        var body = await ApiJson.ReadAsync<PatchPartnerRequest>(req, ct);
        return Api.Versioned(await directory.PatchAsync(req.Caller(), partnerId, req.IfMatch(), body, ct));
    }

    [Function("GetPartnerOnboarding")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("The onboarding checklist", "Profile complete, agreement accepted, first colleague invited, first certification, first deal registered — each with the date it was done. Deals and certifications complete their items through their events.",
        Response = typeof(OnboardingChecklist))]
    public async Task<IActionResult> Onboarding([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partners/{partnerId}/onboarding")] HttpRequest req, string partnerId, CancellationToken ct) =>
        Api.Ok(await directory.OnboardingAsync(req.Caller(), partnerId, ct));

    [Function("GetPartnerTimeline")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Read a partner's timeline", "Every state change of the partner and its users, newest first: who, what, when, and the changed fields before and after.",
        Response = typeof(ListResponse<AuditEntry>), Query = ["limit", "cursor"])]
    public async Task<IActionResult> Timeline([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partners/{partnerId}/timeline")] HttpRequest req, string partnerId, CancellationToken ct) =>
        Api.Page(await directory.TimelineAsync(req.Caller(), partnerId, req.Paging(), ct));
}
