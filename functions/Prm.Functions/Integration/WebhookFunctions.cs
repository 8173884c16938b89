using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Prm.Core.Identity;
using Prm.Core.Integration;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;
using Prm.Storage.Integration;

namespace Prm.Functions.Integration;

/// <summary>Webhook subscriptions (admins): signed CloudEvents POSTed to HTTPS receivers, with a delivery log, retry, ping and replay.</summary>
public sealed class WebhookFunctions(Webhooks webhooks, WebhookDeliverer deliverer)
{
    public const string SweepSetting = "Webhooks:SweepSchedule";

    [Function("CreateWebhook")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Subscribe a webhook", "Admins. url: HTTPS, not resolving to loopback, private, link-local or metadata addresses (checked again at every delivery; http://localhost only in Development). eventTypes: event types of GET /api/asyncapi.json or patterns (deal.*, *). The answer carries the signing secret (Standard Webhooks, whsec_…): the only time it is shown.",
        Request = typeof(CreateWebhookRequest), Response = typeof(WebhookCreated), Status = 201)]
    public async Task<IActionResult> Create([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "webhooks")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var created = await webhooks.CreateAsync(req.Caller(), await ApiJson.ReadAsync<CreateWebhookRequest>(req, ct), ct);
        return Api.Created(created, $"/api/webhooks/{created.Webhook.Id}");
    }

    [Function("ListWebhooks")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("List webhook subscriptions", "Admins. Oldest first, without secrets.", Response = typeof(IReadOnlyList<WebhookDto>))]
    public async Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "webhooks")] HttpRequest req, CancellationToken ct) =>
        Api.Ok(await webhooks.ListAsync(req.Caller(), ct));

    [Function("GetWebhook")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Read a webhook subscription", "Admins. Status (Active or Disabled with the reason), consecutive failures, last success, secret rotation.", Response = typeof(WebhookDto))]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "webhooks/{webhookId}")] HttpRequest req, string webhookId, CancellationToken ct) =>
        Api.Ok(await webhooks.GetAsync(req.Caller(), webhookId, ct));

    [Function("DeleteWebhook")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Delete a webhook subscription", "Admins. Nothing more is sent to it.", Status = 204)]
    public async Task<IActionResult> Delete([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "webhooks/{webhookId}")] HttpRequest req, [DurableClient] DurableTaskClient durable, string webhookId, CancellationToken ct)
    {
        await webhooks.DeleteAsync(req.Caller(), webhookId, ct);
        return Api.NoContent();
    }

    [Function("EnableWebhook")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Enable a disabled webhook subscription", "Admins. The failure count starts over and queued deliveries go out again.", Response = typeof(WebhookDto))]
    public async Task<IActionResult> Enable([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "webhooks/{webhookId}/enable")] HttpRequest req, [DurableClient] DurableTaskClient durable, string webhookId, CancellationToken ct) =>
        Api.Ok(await webhooks.EnableAsync(req.Caller(), webhookId, ct));

    [Function("RotateWebhookSecret")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Rotate a webhook's signing secret", "Admins. A new secret (shown once); during the overlap (overlapHours, default 24, 0 to 168) every request carries a signature with each secret, so the receiver can switch without losing events.",
        Request = typeof(RotateSecretRequest), Response = typeof(WebhookSecret), Errors = [409])]
    public async Task<IActionResult> Rotate([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "webhooks/{webhookId}/rotate-secret")] HttpRequest req, [DurableClient] DurableTaskClient durable, string webhookId, CancellationToken ct) =>
        Api.Ok(await webhooks.RotateSecretAsync(req.Caller(), webhookId, await ApiJson.ReadAsync<RotateSecretRequest>(req, ct), ct));

    [Function("ListWebhookDeliveries")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("A webhook's delivery log", "Admins. Every attempt, newest first: delivery and event, attempt number, status code, latency, outcome, the first 500 characters of the answer or the error.",
        Response = typeof(ListResponse<WebhookAttemptDto>), Query = ["limit", "cursor"])]
    public async Task<IActionResult> Deliveries([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "webhooks/{webhookId}/deliveries")] HttpRequest req, string webhookId, CancellationToken ct) =>
        Api.Page(await webhooks.AttemptsAsync(req.Caller(), webhookId, req.Paging(), ct));

    [Function("GetWebhookDelivery")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Read a webhook delivery", "Admins. Status (Pending, Succeeded, Failed), attempts, next attempt, last status code or error.", Response = typeof(WebhookDeliveryDto))]
    public async Task<IActionResult> Delivery([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "webhooks/{webhookId}/deliveries/{deliveryId}")] HttpRequest req, string webhookId, string deliveryId, CancellationToken ct) =>
        Api.Ok(await webhooks.DeliveryAsync(req.Caller(), webhookId, deliveryId, ct));

    [Function("RetryWebhookDelivery")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Retry a webhook delivery", "Admins. A pending delivery is due at once; a succeeded or failed one is queued again behind its subject's queued events. The request returns before anything is sent.",
        Response = typeof(WebhookDeliveryDto), Status = 202, Errors = [409])]
    public async Task<IActionResult> Retry([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "webhooks/{webhookId}/deliveries/{deliveryId}/retry")] HttpRequest req, [DurableClient] DurableTaskClient durable, string webhookId, string deliveryId, CancellationToken ct) =>
        Api.Accepted(await webhooks.RetryAsync(req.Caller(), webhookId, deliveryId, ct));

    [Function("PingWebhook")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Ping a webhook", "Admins. Queues a webhook.ping event to this subscription only; follow it in the delivery log.", Response = typeof(WebhookDeliveryDto), Status = 202, Errors = [409])]
    public async Task<IActionResult> Ping([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "webhooks/{webhookId}/ping")] HttpRequest req, [DurableClient] DurableTaskClient durable, string webhookId, CancellationToken ct) =>
        Api.Accepted(await webhooks.PingAsync(req.Caller(), webhookId, ct));

    [Function("ReplayWebhook")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Replay events to a webhook", "Admins. Every event since the instant (the event log keeps 30 days) that the subscription wants is queued again, in the order it happened, with its original id (receivers deduplicate by webhook-id).",
        Request = typeof(ReplayRequest), Response = typeof(ReplayResult), Status = 202, Errors = [409])]
    public async Task<IActionResult> Replay([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "webhooks/{webhookId}/replay")] HttpRequest req, [DurableClient] DurableTaskClient durable, string webhookId, CancellationToken ct) =>
        Api.Accepted(await webhooks.ReplayAsync(req.Caller(), webhookId, await ApiJson.ReadAsync<ReplayRequest>(req, ct), ct));

    /// <summary>Delivers webhook retries that came due (the due-time queue's sweep; first attempts go out at once in-process).</summary>
    [Function("WebhookSweep")]
    public Task Sweep([TimerTrigger("%" + SweepSetting + "%")] TimerInfo timer, CancellationToken ct) => deliverer.SweepAsync(ct);
}
