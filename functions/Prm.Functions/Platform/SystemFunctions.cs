using Microsoft.DurableTask.Client;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;
using Prm.Storage;

namespace Prm.Functions.Platform;

/// <summary>The caller as the API returns it.</summary>
public sealed record MeResponse(string UserId, string Email, string DisplayName, IReadOnlyList<string> Roles, string? PartnerId, string? PartnerRole);

/// <summary>Health as the API returns it.</summary>
/// <param name="Status">Healthy, or Degraded when the app serves requests but a part of it cannot work (see problems).</param>
/// <param name="Problems">What an operator must fix, e.g. an unresolved Key Vault reference of the email key.</param>
public sealed record HealthResponse(string Status, DateTimeOffset CheckedAt, IReadOnlyList<string> Problems);

/// <summary>Health, the caller, and the API description.</summary>
public sealed class SystemFunctions(PrmTables tables, PlatformHealth platform, TimeProvider clock, InvitationAcceptance invitations)
{
    [Function("Health")]
    [Access(AccessPolicy.Anonymous)]
    [ApiOperation("Health", "200 when storage answers (status Degraded with the problems an operator must fix, e.g. an email key the app cannot read), 503 with Retry-After while storage does not answer or start-up initialization still waits for access.", Response = typeof(HealthResponse))]
    public async Task<IActionResult> Health([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest req, CancellationToken ct)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            if (!platform.StorageReady) throw new ServiceUnavailableException("Starting: storage initialization waits for access (role assignments may still be propagating).", TimeSpan.FromSeconds(30));
            await tables.Keys.GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>("health", "", select: ["PartitionKey"], cancellationToken: timeout.Token);
            var problems = platform.Problems;
            return Api.Ok(new HealthResponse(problems.Count == 0 ? "Healthy" : "Degraded", clock.GetUtcNow(), problems));
        }
        catch (Exception ex) when (ex is Azure.RequestFailedException or OperationCanceledException or HttpRequestException or AggregateException)
        {
            throw new ServiceUnavailableException("Storage does not answer.");
        }
    }

    [Function("Me")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("The caller", "Who is signed in: roles from the token, partner membership from the directory.", Response = typeof(MeResponse))]
    public IActionResult Me([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "me")] HttpRequest req)
    {
        var caller = req.Caller();
        return Api.Ok(new MeResponse(caller.UserId, caller.Email, caller.DisplayName, caller.Roles, caller.PartnerId, caller.PartnerRole?.ToString()));
    }

    [Function("AcceptInvitation")]
    [Access(AccessPolicy.TokenOnly)]
    [ApiOperation("Accept an invitation", "The signed-in person presents the code from the invitation link; their account joins the partner. The code works once; an unknown or used code is 404.",
        Request = typeof(AcceptInvitationRequest), Response = typeof(MeResponse), Errors = [404])]
    public async Task<IActionResult> AcceptInvitation([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "invitations/accept")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var body = await ApiJson.ReadAsync<AcceptInvitationRequest>(req, ct);
        var caller = await invitations.AcceptAsync(req.HttpContext.User, body, ct);
        return Api.Ok(new MeResponse(caller.UserId, caller.Email, caller.DisplayName, caller.Roles, caller.PartnerId, caller.PartnerRole?.ToString()));
    }

    [Function("OpenApiDocument")]
    [Access(AccessPolicy.Anonymous)]
    [ApiOperation("OpenAPI document", "This document: every route with request and response schemas, roles and errors.", ResponseContentType = "application/json")]
    public async Task<IActionResult> OpenApi([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "openapi.json")] HttpRequest req, CancellationToken ct)
    {
        var server = $"{req.Scheme}://{req.Host}/api";
        return new ContentApiResult(200, await OpenApiDocumentBuilder.ToJsonAsync(server, ct), "application/json; charset=utf-8");
    }

    [Function("AsyncApiDocument")]
    [Access(AccessPolicy.Anonymous)]
    [ApiOperation("Event catalog (AsyncAPI 3)", "Every integration event PrmFunctions emits, generated from the event types in code: the CloudEvents envelope, one message per event type, and a JSON schema per event's data (components.schemas.{event}.v{version}, what each event's dataschema names). The same events travel on Service Bus and to webhook subscriptions.", ResponseContentType = "application/json")]
    public IActionResult AsyncApi([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "asyncapi.json")] HttpRequest req) =>
        new ContentApiResult(200, Prm.Functions.OpenApi.AsyncApiDocument.ToJson($"{req.Scheme}://{req.Host}/api"), "application/json; charset=utf-8");
}
