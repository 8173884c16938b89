using Microsoft.DurableTask.Client;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Prm.Core.Audit;
using Prm.Core.Identity;
using Prm.Core.Onboarding;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;

namespace Prm.Functions.Onboarding;

/// <summary>Partner applications: the public form, the vetting queue, decisions, the applicant's status view.</summary>
public sealed class ApplicationFunctions(SubmitApplication submit, DecideApplication decide, ApplicationInfo applicant, ApplicationQueries queries, ForwardingOptions forwarding,
    Prm.Core.Configuration.ProgramOptions program)
{
    [Function("SubmitPartnerApplication")]
    [Access(AccessPolicy.Anonymous)]
    [ApiOperation("Apply to become a partner", "The public form. Returns 202 with a statusUrl the applicant follows without an account. At most 3 applications per email and 20 per client IP per hour (429 with Retry-After). Free-mail and disposable domains, a domain that belongs to a partner or an open application, and similar partner names are flagged for the reviewer, not refused. Honours Idempotency-Key (per applicant email): a retry returns the first application with a fresh status link of its own, sends no second receipt and counts against no limit.",
        Request = typeof(SubmitApplicationRequest), Response = typeof(SubmittedApplication), Status = 202, Errors = [429], Headers = ["Idempotency-Key"])]
    public async Task<IActionResult> Submit([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "partner-applications")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var body = await ApiJson.ReadAsync<SubmitApplicationRequest>(req, ct);
        var (application, statusUrl) = await submit.SubmitAsync(body, ClientAddress.RateLimitKey(ClientAddress.Of(req, forwarding)), $"{req.Scheme}://{req.Host}/api",
            req.Headers["Idempotency-Key"].FirstOrDefault(), ct);
        return Api.Accepted(new SubmittedApplication(application.Id, application.Status.ToString(), statusUrl), statusUrl);
    }

    [Function("ListPartnerApplications")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("The vetting queue", "Newest first. Channel managers see the applications assigned to them; admins all, or one assignee's (assigneeId). Filter by status.",
        Response = typeof(ListResponse<ApplicationDto>), Query = ["status", "assigneeId", "limit", "cursor"])]
    public async Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partner-applications")] HttpRequest req, CancellationToken ct) =>
        Api.Page(await queries.ListAsync(req.Caller(), req.Query("status"), req.Query("assigneeId"), req.Paging(), ct));

    [Function("GetPartnerApplication")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("Read an application", "The application, its screening (flags, duplicate matches, fit score with reasons), assignee, deadlines and decisions. The assignee and admins.",
        Response = typeof(ApplicationDto))]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partner-applications/{applicationId}")] HttpRequest req, string applicationId, CancellationToken ct) =>
        Api.Versioned(await queries.GetAsync(req.Caller(), applicationId, ct));

    [Function("GetPartnerApplicationTimeline")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("An application's timeline", "Submission, reminders, escalation, decision, expiry: who, what, when.", Response = typeof(ListResponse<AuditEntry>), Query = ["limit", "cursor"])]
    public async Task<IActionResult> Timeline([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partner-applications/{applicationId}/timeline")] HttpRequest req, string applicationId, CancellationToken ct) =>
        Api.Page(await queries.TimelineAsync(req.Caller(), applicationId, req.Paging(), ct));

    [Function("DecidePartnerApplication")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("Decide an application", "approve: the partner is created (AgreementPending, chosen or entry tier, owned by the assignee) and the applicant is invited as its first partner admin. reject (reason required): final, the applicant is told why. requestInfo (reason = the question): the applicant gets a single-use answer link valid for the info deadline; no answer expires the application. A decided application is 409 naming who decided when.",
        Request = typeof(ApplicationDecisionRequest), Response = typeof(ApplicationDto))]
    public async Task<IActionResult> Decide([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "partner-applications/{applicationId}/decision")] HttpRequest req, [DurableClient] DurableTaskClient durable, string applicationId, CancellationToken ct)
    {
        var body = await ApiJson.ReadAsync<ApplicationDecisionRequest>(req, ct);
        return Api.Versioned(await decide.DecideAsync(req.Caller(), applicationId, body, ct));
    }

    [Function("GetPartnerApplicationStatus")]
    [Access(AccessPolicy.Anonymous)]
    [ApiOperation("The applicant's view", "Through the signed statusUrl: status, company, submission time, the reason of a rejection. A wrong token is 404. A browser (Accept naming text/html before JSON) following the emailed link is sent (302) to the portal's page of the application, which reads this route with the same token.",
        Response = typeof(ApplicationStatusDto), Query = ["token"], AlsoStatus = [302])]
    public async Task<IActionResult> Status([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partner-applications/{applicationId}/status")] HttpRequest req, string applicationId, CancellationToken ct)
    {
        if (BrowserNavigation.WantsHtml(req))
        {
            return new Prm.Functions.Content.FoundResult(new Uri($"{program.PortalBaseUrl.TrimEnd('/')}/applications/{Uri.EscapeDataString(applicationId)}?token={Uri.EscapeDataString(req.Query("token") ?? "")}"));
        }
        return Api.Ok(await applicant.StatusAsync(applicationId, req.Query("token"), ct));
    }

    [Function("AnswerPartnerApplicationInfo")]
    [Access(AccessPolicy.Anonymous)]
    [ApiOperation("Answer a request for information", "The applicant, with the single-use token from the request-info email (body: token, answer). The application is under review again with fresh deadlines; the reviewer gets the answer with new decision links. Unknown or used token 404, past the due time 410.",
        Request = typeof(ApplicationInfoAnswer), Response = typeof(ApplicationStatusDto), Errors = [410])]
    public async Task<IActionResult> AnswerInfo([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "partner-applications/{applicationId}/info")] HttpRequest req, [DurableClient] DurableTaskClient durable, string applicationId, CancellationToken ct) =>
        Api.Ok(await applicant.AnswerAsync(applicationId, await ApiJson.ReadAsync<ApplicationInfoAnswer>(req, ct), ct));
}
