using Microsoft.DurableTask.Client;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Prm.Core.Identity;
using Prm.Core.Partners;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;

namespace Prm.Functions.Partners;

/// <summary>A partner company's users.</summary>
public sealed class PartnerUserFunctions(PartnerTeam team)
{
    [Function("ListPartnerUsers")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("List a partner's users", "Partner admins, the owning channel manager and admins.", Response = typeof(ListResponse<PartnerUserDto>), Query = ["limit", "cursor"])]
    public async Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partners/{partnerId}/users")] HttpRequest req, string partnerId, CancellationToken ct) =>
        Api.Page(await team.ListAsync(req.Caller(), partnerId, req.Paging(), ct));

    [Function("InvitePartnerUser")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Invite a user", "Sends an invitation email; the person joins at first sign-in with that email. Partner admins invite people of their own domain.",
        Request = typeof(InviteUserRequest), Response = typeof(PartnerUserDto), Status = 201)]
    public async Task<IActionResult> Invite([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "partners/{partnerId}/users")] HttpRequest req, [DurableClient] DurableTaskClient durable, string partnerId, CancellationToken ct)
    {
        var body = await ApiJson.ReadAsync<InviteUserRequest>(req, ct);
        var user = await team.InviteAsync(req.Caller(), partnerId, body, ct);
        return Api.Created(user.Value, $"/api/partners/{partnerId}/users/{user.Value.Id}", user.ETag);
    }

    [Function("GetPartnerUser")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Read a user", "The partner's admins, its channel manager, admins, and the user themself. The ETag header is the version for If-Match.", Response = typeof(PartnerUserDto))]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partners/{partnerId}/users/{userId}")] HttpRequest req, string partnerId, string userId, CancellationToken ct) =>
        Api.Versioned(await team.GetAsync(req.Caller(), partnerId, userId, ct));

    [Function("UpdatePartnerUser")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Change a user's name or role", "If-Match is required. The last partner admin cannot be demoted (409).",
        Request = typeof(PatchUserRequest), Response = typeof(PartnerUserDto), IfMatch = true)]
    public async Task<IActionResult> Update([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "partners/{partnerId}/users/{userId}")] HttpRequest req, [DurableClient] DurableTaskClient durable, string partnerId, string userId, CancellationToken ct)
    {
        var body = await ApiJson.ReadAsync<PatchUserRequest>(req, ct);
        return Api.Versioned(await team.PatchAsync(req.Caller(), partnerId, userId, req.IfMatch(), body, ct));
    }

    [Function("RemovePartnerUser")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Remove a user", "Access ends at once. The last partner admin cannot be removed (409). If-Match is honoured when sent.", Status = 204, OptionalIfMatch = true)]
    public async Task<IActionResult> Remove([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "partners/{partnerId}/users/{userId}")] HttpRequest req, [DurableClient] DurableTaskClient durable, string partnerId, string userId, CancellationToken ct)
    {
        await team.RemoveAsync(req.Caller(), partnerId, userId, req.IfMatch(), ct);
        return Api.NoContent();
    }
}
