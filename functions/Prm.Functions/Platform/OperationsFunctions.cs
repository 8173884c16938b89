using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Operations;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;
using Prm.Storage;
using Prm.Storage.Outbox;
using Prm.Workflows.Operations;

namespace Prm.Functions.Platform;

/// <summary>
/// The operations API (admins): see and repair stuck outbox messages and workflows without opening storage, and a health check that names
/// what does not answer. Partner users and channel managers get 403 (the routes name no partner's data); machine clients 403.
/// </summary>
public sealed class OperationsFunctions(OutboxOperations outbox, WorkflowOperations workflows, PrmTables tables, PlatformHealth platform, TimeProvider clock)
{
    [Function("ListOutboxMessages")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Outbox messages for operators", "Admins. status=Dead (default): messages parked after their last attempt, newest first, with the last error — retry them with POST /api/ops/outbox/{id}/retry. status=Pending: the oldest messages not delivered yet, oldest first (a page may be short when messages are delivered while it is read). Never the payload.",
        Response = typeof(ListResponse<OutboxMessageDto>), Query = ["status", "limit", "cursor"])]
    public async Task<IActionResult> ListOutbox([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "ops/outbox")] HttpRequest req, CancellationToken ct) =>
        Api.Page(await outbox.ListAsync(req.Caller(), req.Query("status"), req.Paging(), ct));

    [Function("RetryOutboxMessage")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Put a dead outbox message back", "Admins. The dead message's attempts start over and it is delivered again within seconds (first in its partition's order, with its original id, so consumers deduplicate). 404 when no dead message has that id; 409 when it was put back already.",
        Response = typeof(OutboxMessageDto), Status = 202, Errors = [404, 409])]
    public async Task<IActionResult> RetryOutbox([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "ops/outbox/{messageId}/retry")] HttpRequest req, [DurableClient] DurableTaskClient durable, string messageId, CancellationToken ct) =>
        Api.Accepted(await outbox.RetryAsync(req.Caller(), messageId, ct));

    [Function("ListSubjectWorkflows")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("A record's workflows", "Admins. subject (required): deals/{id}, partner-applications/{id}, mdf/requests/{id}, leads/{id}, awards/{id}, plans/{id} (activation, quarterly reviews, close), partners/{id} (agreement wait, checklist reminders, tier downgrade), partners/{id}/tier, partners/{id}/users/{userId} (invitation follow-up). Each Durable instance with its runtime status (NotFound when none exists), custom status, next timer and whether it can be restarted from the record's state.",
        Response = typeof(SubjectWorkflows), Query = ["subject"])]
    public async Task<IActionResult> Workflows([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "ops/workflows")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct) =>
        Api.Ok(await workflows.ListAsync(req.Caller(), durable, req.Query("subject"), ct));

    [Function("TerminateWorkflow")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Terminate a record's workflow", "Admins. { subject, instanceId (optional when the subject has one workflow), reason }: terminates a running or pending instance; the next event of the record starts it again from its state (as after a failure). 409 when it is not running.",
        Request = typeof(WorkflowCommand), Response = typeof(WorkflowInstanceDto), Status = 202, Errors = [409])]
    public async Task<IActionResult> Terminate([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "ops/workflows/terminate")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct) =>
        Api.Accepted(await workflows.TerminateAsync(req.Caller(), durable, await ApiJson.ReadAsync<WorkflowCommand>(req, ct), ct));

    [Function("RestartWorkflow")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Restart a record's workflow from its state", "Admins. { subject, instanceId (optional when the subject has one workflow) }: reads the record's current state as the workflow's state activity does, terminates a running instance, purges its history and starts the workflow the state needs (same instance id). 409 when the record needs no workflow now, or the kind's input comes only from its starting event (agreement, checklist, invitation).",
        Request = typeof(WorkflowCommand), Response = typeof(WorkflowInstanceDto), Status = 202, Errors = [409])]
    public async Task<IActionResult> Restart([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "ops/workflows/restart")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct) =>
        Api.Accepted(await workflows.RestartAsync(req.Caller(), durable, await ApiJson.ReadAsync<WorkflowCommand>(req, ct), ct));

    [Function("HealthDetails")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Detailed health", "Admins. The anonymous health check plus storage reachability and latency, the outbox lag (age of the oldest pending message, pending and dead counts) and the Durable backend (probed through the invocation's client). Always 200 with status Healthy, Degraded (something needs an operator: problems) or Unhealthy (storage or the Durable backend does not answer).",
        Response = typeof(HealthDetails))]
    public async Task<IActionResult> Details([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health/details")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        if (!req.Caller().IsAdmin) throw new ForbiddenException("Only program admins read the detailed health.");
        var problems = new List<string>(platform.Problems);
        if (!platform.StorageReady) problems.Add("Start-up storage initialization has not finished (role assignments may still be propagating).");
        var storage = await ProbeAsync(async token =>
            await tables.Keys.GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>("health", "", select: ["PartitionKey"], cancellationToken: token), ct);
        OutboxLag? lag = null;
        if (storage.Reachable)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(10));
                lag = await outbox.LagAsync(timeout.Token);
                if (lag.Dead > 0) problems.Add($"{lag.Dead} dead outbox message(s) wait for an operator: GET /api/ops/outbox.");
                if (lag.LagSeconds > 600) problems.Add($"The oldest pending outbox message is {lag.LagSeconds:0} s old: delivery is stuck or behind (GET /api/ops/outbox?status=Pending).");
            }
            catch (Exception ex) when (ex is Azure.RequestFailedException or OperationCanceledException && !ct.IsCancellationRequested)
            {
                problems.Add("The outbox could not be read: " + ex.Message);
            }
        }
        var durableHealth = await ProbeAsync(async token => await durable.GetInstanceAsync("health-probe", getInputsAndOutputs: false, token), ct);
        if (!storage.Reachable) problems.Add("Storage does not answer: " + storage.Error);
        if (!durableHealth.Reachable) problems.Add("The Durable backend does not answer: " + durableHealth.Error);
        var status = !storage.Reachable || !durableHealth.Reachable ? "Unhealthy" : problems.Count > 0 ? "Degraded" : "Healthy";
        return Api.Ok(new HealthDetails(status, clock.GetUtcNow(), problems, storage, lag, durableHealth));
    }

    private static async Task<DependencyHealth> ProbeAsync(Func<CancellationToken, Task> probe, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await probe(timeout.Token);
            return new DependencyHealth(true, Math.Round(watch.Elapsed.TotalMilliseconds, 2), null);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            var message = ex is OperationCanceledException ? "no answer within 5 s" : ex.Message;
            return new DependencyHealth(false, Math.Round(watch.Elapsed.TotalMilliseconds, 2), message.Length > 300 ? message[..300] : message);
        }
    }
}
