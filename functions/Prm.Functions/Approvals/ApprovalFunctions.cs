using Microsoft.DurableTask.Client;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Azure.Functions.Worker;
using Prm.Core.Approvals;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;

namespace Prm.Functions.Approvals;

/// <summary>
/// Decision links from emails: GET shows what is being decided (never changes anything: mail scanners open links), POST decides.
/// No sign-in: the token is the credential, bound to one step, one subject and the person it was sent to. A thin router: the
/// <see cref="DecisionLinkRouter"/> resolves and claims the link and hands it to the subject of its kind; the one problem map gives
/// the status of a failure (404 unknown, 410 expired, 409 used or decided, 403 not allowed, 400/422 bad input).
/// </summary>
public sealed class ApprovalFunctions(DecisionLinkRouter router, ForwardingOptions forwarding)
{
    [Function("ShowDecisionLink")]
    [Access(AccessPolicy.Anonymous)]
    [ApiOperation("The decision page of a link", "An HTML page with what is being decided and Approve / Reject buttons. Never changes state. 404 for an unknown or tampered link, 410 when expired; a used link shows who decided when.",
        ResponseContentType = "text/html", ErrorContentType = "text/html", Errors = [403, 409, 410, 422])]
    public async Task<IActionResult> Show([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "approvals/{token}")] HttpRequest req, string token, CancellationToken ct) =>
        await PageAsync(req, () => router.ShowAsync(token, ct));

    [Function("UseDecisionLink")]
    [Access(AccessPolicy.Anonymous)]
    [ApiOperation("Decide through a link", "Form post from the page (fields decision and reason) or the same as JSON. Performs the decision once (concurrent posts of one link decide once) and shows the outcome page.",
        Request = typeof(DecisionForm), RequestContentType = "application/x-www-form-urlencoded", ResponseContentType = "text/html", ErrorContentType = "text/html", Errors = [403, 409, 410, 422])]
    public async Task<IActionResult> Use([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "approvals/{token}")] HttpRequest req, [DurableClient] DurableTaskClient durable, string token, CancellationToken ct)
    {
        var bytes = await ApiJson.ReadBytesAsync(req, ApiJson.DefaultMaxBody, ct, "application/x-www-form-urlencoded", "application/json");
        DecisionForm form;
        if (req.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true)
        {
            try { form = JsonSerializer.Deserialize<DecisionForm>(bytes, ApiJson.Options) ?? new DecisionForm(null, null); }
            catch (JsonException) { throw new ValidationFailedException("body", "The JSON is malformed."); }
        }
        else
        {
            var fields = QueryHelpers.ParseQuery(Encoding.UTF8.GetString(bytes));
            form = new DecisionForm(fields.TryGetValue("decision", out var d) ? d.ToString() : null, fields.TryGetValue("reason", out var r) ? r.ToString() : null);
        }
        var ip = ClientAddress.Of(req, forwarding)?.ToString();
        return await PageAsync(req, () => router.DecideAsync(token, form, new DecisionContext(ip, req.Headers.UserAgent.ToString()), ct));
    }

    private static async Task<IActionResult> PageAsync(HttpRequest req, Func<Task<string>> page)
    {
        try
        {
            return new ContentApiResult(200, await page(), "text/html; charset=utf-8");
        }
        catch (DecisionPageException ex)
        {
            return new ContentApiResult(Problems.From(ex.Problem, req.HttpContext).Status, ex.Page, "text/html; charset=utf-8");
        }
    }
}
