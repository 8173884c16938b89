using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Prm.Core.Audit;
using Prm.Core.Deals;
using Prm.Core.Identity;
using Prm.Core.Leads;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;

namespace Prm.Functions.Leads;

/// <summary>Lead distribution: intake, routing, masked offers, accept/decline, work and convert, vendor steering, figures and fairness.</summary>
public sealed class LeadFunctions(CaptureLead capture, WorkLead work, LeadQueries queries, LeadImport import)
{
    [Function("ImportLeads")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Import leads from CSV", "Admins. text/csv with a header row (" + LeadImport.Columns + "); productLines separated by ';', consentToShare true or false. Every row is validated as an intake. dryRun=true reports row by row (create, update, rejected with reasons) and writes nothing; a real run routes each valid row and is idempotent by externalId. Body limit 16 MiB, at most 5,000 rows.",
        RequestContentType = "text/csv", Response = typeof(LeadImportReport), Query = ["dryRun"])]
    public async Task<IActionResult> Import([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "leads/import")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var dryRun = req.Flag("dryRun");
        var bytes = await ApiJson.ReadBytesAsync(req, Prm.Functions.Partners.PartnerImportFunction.MaxCsvBytes, ct, "text/csv");
        using var stream = new MemoryStream(bytes, writable: false);
        return Api.Ok(await import.RunAsync(req.Caller(), stream, dryRun, ct));
    }

    [Function("CreateLead")]
    [Access(AccessPolicy.VendorOrIntegration)]
    [ApiOperation("Create a lead", "Admins, channel managers and machine clients (app-only token with the app role Prm.Integration). The lead is routed at once by the rules of the settings section leads: the answer carries the lead and the routing outcome (offered, vendorPool, vendorOnly). consentToShare false keeps the lead with the vendor (VendorOnly). The same externalId again updates the lead (200); the same contact email at the same domain within 30 days merges into the open lead (200, outcome merged).",
        Request = typeof(CreateLeadRequest), Response = typeof(LeadIntakeResult), Status = 201, AlsoStatus = [200])]
    public async Task<IActionResult> Create([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "leads")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var (result, created) = await capture.IntakeAsync(req.Caller(), await ApiJson.ReadAsync<CreateLeadRequest>(req, ct), ct);
        return created ? Api.Created(result, $"/api/leads/{result.Lead.Id}") : Api.Ok(result);
    }

    [Function("ListLeads")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("List leads", "Newest first. Vendor staff see all; partner admins the leads offered to their company (masked until accepted); reps their pending offers and the leads assigned to them. Filter: status.",
        Response = typeof(ListResponse<LeadDto>), Query = ["status", "limit", "cursor"])]
    public async Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "leads")] HttpRequest req, CancellationToken ct) =>
        Api.Page(await queries.ListAsync(req.Caller(), req.Query("status"), req.Paging(), ct));

    [Function("GetLeadFairness")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Lead routing fairness", "Admins. For each weighted or round-robin rule, each partner's share of the offers made in [from, to) (default: the last 30 days) against its share of effective weight among the eligible candidates; deviations over 20% are flagged.",
        Response = typeof(FairnessReport), Query = ["from", "to"])]
    public async Task<IActionResult> Fairness([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "lead-fairness")] HttpRequest req, CancellationToken ct) =>
        Api.Ok(await queries.FairnessAsync(req.Caller(), req.Query("from"), req.Query("to"), ct));

    [Function("GetLead")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Read a lead", "Vendor staff see everything with the routing traces. A partner sees a lead offered to it: before it accepts, industry, country, region, size band, product lines, grade, estimated value and the accept deadline only (masked: true); after, everything. A partner member's first read records openedAt on the offer.",
        Response = typeof(LeadDto))]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "leads/{leadId}")] HttpRequest req, [DurableClient] DurableTaskClient durable, string leadId, CancellationToken ct) =>
        Api.Versioned(await queries.GetAsync(req.Caller(), leadId, ct));

    [Function("GetLeadTimeline")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("A lead's timeline", "Every transition: who, what, when. Vendor staff, and the partner holding the lead.", Response = typeof(ListResponse<AuditEntry>), Query = ["limit", "cursor"])]
    public async Task<IActionResult> Timeline([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "leads/{leadId}/timeline")] HttpRequest req, string leadId, CancellationToken ct) =>
        Api.Page(await queries.TimelineAsync(req.Caller(), leadId, req.Paging(), ct));

    [Function("AcceptLead")]
    [Access(AccessPolicy.PartnerMember)]
    [ApiOperation("Accept a lead offer", "Any member of the offered partner, before the accept deadline (410 after it). Two members at once: one wins, the other gets 409 (or 404 when the lead went to another rep). The conversion clock starts; a rep who accepts works the lead.",
        Response = typeof(LeadDto), Errors = [409, 410])]
    public async Task<IActionResult> Accept([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "leads/{leadId}/accept")] HttpRequest req, [DurableClient] DurableTaskClient durable, string leadId, CancellationToken ct)
    {
        var caller = req.Caller();
        var lead = await work.AcceptAsync(caller, leadId, ct);
        return Api.Ok(LeadQueries.View(caller, lead.Value), lead.ETag);
    }

    [Function("DeclineLead")]
    [Access(AccessPolicy.PartnerMember)]
    [ApiOperation("Decline a lead offer", "reason: notMyTerritory, noCapacity, notAFit (routed on, excluding your company), badData or duplicate (vendor review); optional note.",
        Request = typeof(DeclineLeadRequest), Response = typeof(LeadDto), Errors = [409])]
    public async Task<IActionResult> Decline([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "leads/{leadId}/decline")] HttpRequest req, [DurableClient] DurableTaskClient durable, string leadId, CancellationToken ct)
    {
        var caller = req.Caller();
        var lead = await work.DeclineAsync(caller, leadId, await ApiJson.ReadAsync<DeclineLeadRequest>(req, ct), ct);
        return Api.Ok(LeadQueries.View(caller, lead.Value), lead.ETag);
    }

    [Function("AssignLead")]
    [Access(AccessPolicy.PartnerMember)]
    [ApiOperation("Assign a lead to a rep", "The holding partner's admins: userId of a user of the company.", Request = typeof(AssignLeadRequest), Response = typeof(LeadDto), Errors = [409])]
    public async Task<IActionResult> Assign([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "leads/{leadId}/assign")] HttpRequest req, [DurableClient] DurableTaskClient durable, string leadId, CancellationToken ct)
    {
        var caller = req.Caller();
        var lead = await work.AssignAsync(caller, leadId, await ApiJson.ReadAsync<AssignLeadRequest>(req, ct), ct);
        return Api.Ok(LeadQueries.View(caller, lead.Value), lead.ETag);
    }

    [Function("UpdateLeadStatus")]
    [Access(AccessPolicy.PartnerMember)]
    [ApiOperation("Update a lead's status", "The holding partner's admins and the assigned rep: Contacted or Qualified (the conversion clock restarts), Disqualified (reason) or ClosedLost.",
        Request = typeof(LeadStatusRequest), Response = typeof(LeadDto), Errors = [409])]
    public async Task<IActionResult> Status([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "leads/{leadId}/status")] HttpRequest req, [DurableClient] DurableTaskClient durable, string leadId, CancellationToken ct)
    {
        var caller = req.Caller();
        var lead = await work.StatusAsync(caller, leadId, await ApiJson.ReadAsync<LeadStatusRequest>(req, ct), ct);
        return Api.Ok(LeadQueries.View(caller, lead.Value), lead.ETag);
    }

    [Function("ConvertLead")]
    [Access(AccessPolicy.PartnerMember)]
    [ApiOperation("Convert a lead into a deal registration", "The holding partner's admins and the assigned rep: registers a deal prefilled from the lead (customer, contact, product lines, value; the MDF request of its campaign kept) through the deal registration rules, linked both ways (the deal's leadId, the lead's dealId). 409 when converted before. Optional body: expectedCloseDate (default in 90 days), estimatedValue (default the lead's), notes.",
        Request = typeof(ConvertLeadRequest), Response = typeof(DealDto), Status = 201, Errors = [409])]
    public async Task<IActionResult> Convert([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "leads/{leadId}/convert")] HttpRequest req, [DurableClient] DurableTaskClient durable, string leadId, CancellationToken ct)
    {
        var (_, deal) = await work.ConvertAsync(req.Caller(), leadId, await ApiJson.ReadAsync<ConvertLeadRequest>(req, ct), ct);
        return Api.Created(deal, $"/api/deals/{deal.Id}");
    }

    [Function("AssignLeadToPartner")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("Assign a lead to a partner", "Admins and channel managers: partnerId of an Active partner (the rules are overridden and the trace records who); a pending offer is withdrawn. Optional reason.",
        Request = typeof(VendorLeadRequest), Response = typeof(LeadDto), Errors = [409])]
    public async Task<IActionResult> AssignToPartner([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "leads/{leadId}/vendor-assign")] HttpRequest req, [DurableClient] DurableTaskClient durable, string leadId, CancellationToken ct) =>
        Api.Versioned(Vendor(await work.AssignToPartnerAsync(req.Caller(), leadId, await ApiJson.ReadAsync<VendorLeadRequest>(req, ct), ct)));

    [Function("RecallLead")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("Recall a lead", "Admins and channel managers: a worked lead is taken from its partner and routed again (excluding it). Optional reason.",
        Request = typeof(VendorLeadRequest), Response = typeof(LeadDto), Errors = [409])]
    public async Task<IActionResult> Recall([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "leads/{leadId}/recall")] HttpRequest req, [DurableClient] DurableTaskClient durable, string leadId, CancellationToken ct) =>
        Api.Versioned(Vendor(await work.RecallAsync(req.Caller(), leadId, await ApiJson.ReadAsync<VendorLeadRequest>(req, ct), ct)));

    [Function("RerouteLead")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("Reroute a lead", "Admins and channel managers: a pending offer is withdrawn (that partner excluded) and the rules route the lead again; a pooled lead is routed afresh. Optional reason.",
        Request = typeof(VendorLeadRequest), Response = typeof(LeadDto), Errors = [409])]
    public async Task<IActionResult> Reroute([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "leads/{leadId}/reroute")] HttpRequest req, [DurableClient] DurableTaskClient durable, string leadId, CancellationToken ct) =>
        Api.Versioned(Vendor(await work.RerouteAsync(req.Caller(), leadId, await ApiJson.ReadAsync<VendorLeadRequest>(req, ct), ct)));

    [Function("GetPartnerLeadStats")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("A partner's lead figures", "Offers, accepted, declined, expired, recalled, converted, acceptance rate, median hours to accept, conversion rate, open leads, and the pause from routing (after repeated expiries or recalls). Members, the owning channel manager, admins.",
        Response = typeof(LeadStats))]
    public async Task<IActionResult> Stats([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partners/{partnerId}/lead-stats")] HttpRequest req, string partnerId, CancellationToken ct) =>
        Api.Ok(await queries.StatsAsync(req.Caller(), partnerId, ct));

    [Function("GetPartnerLeadRouting")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("A partner's lead routing profile", "weight (0 to 100; 0 never receives leads; default 1) and holidayUntil (no offers until then), with the ETag for If-Match. Members, the owning channel manager, admins.",
        Response = typeof(LeadRoutingProfile))]
    public async Task<IActionResult> GetRouting([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partners/{partnerId}/lead-routing")] HttpRequest req, string partnerId, CancellationToken ct) =>
        Api.Versioned(await queries.ProfileAsync(req.Caller(), partnerId, ct));

    [Function("UpdatePartnerLeadRouting")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Change a partner's lead routing profile", "If-Match required (\"defaults\" when never saved). weight: the owning channel manager and admins; holidayUntil (a future date within a year, or null): also the partner's admins. The routing index follows at once.",
        Request = typeof(LeadRoutingProfileRequest), Response = typeof(LeadRoutingProfile), IfMatch = true)]
    public async Task<IActionResult> UpdateRouting([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "partners/{partnerId}/lead-routing")] HttpRequest req, [DurableClient] DurableTaskClient durable, string partnerId, CancellationToken ct) =>
        Api.Versioned(await queries.SaveProfileAsync(req.Caller(), partnerId, req.IfMatch(), await ApiJson.ReadAsync<LeadRoutingProfileRequest>(req, ct), ct));

    private static Prm.Core.Common.Versioned<LeadDto> Vendor(Prm.Core.Common.Versioned<Lead> lead) => new(LeadDto.Vendor(lead.Value), lead.ETag);
}
