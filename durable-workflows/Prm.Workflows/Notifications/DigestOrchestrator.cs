using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Prm.Core.Notifications;
using Prm.Core.Outbox;

namespace Prm.Workflows.Notifications;

/// <summary>
/// One instance per person and cadence (daily, weekly), eternal: a durable timer until the next digest time (computed by the step activity
/// in the person's time zone, never here), then the step sends the digest and tells the next time; each period continues as new. It ends
/// when the person is gone (left their partner, account removed): their items are dropped, nothing is sent.
/// </summary>
public sealed class DigestOrchestrator : TaskOrchestrator<DigestWorkflow, string>
{
    private static readonly TaskOptions Retry = ActivityRetry.Default;

    public override async Task<string> RunAsync(TaskOrchestrationContext context, DigestWorkflow input)
    {
        var next = await context.CallActivityAsync<DigestNext>(nameof(DigestStepActivity), input, Retry);
        if (next.Gone) return next.Outcome;
        await context.CreateTimer(next.At.UtcDateTime, CancellationToken.None);
        context.ContinueAsNew(input with { Due = true });
        return next.Outcome;
    }
}

/// <summary>Sends a person's digest when due and tells when the next one is (idempotent: the items a digest lists leave with its email).</summary>
public sealed class DigestStepActivity(Digests digests) : TaskActivity<DigestWorkflow, DigestNext>
{
    public override Task<DigestNext> RunAsync(TaskActivityContext context, DigestWorkflow input) => ExecuteAsync(input, CancellationToken.None);

    public Task<DigestNext> ExecuteAsync(DigestWorkflow input, CancellationToken ct) => digests.StepAsync(input.UserId, input.Cadence, input.Due, ct);
}

/// <summary>
/// Starts a person's digest workflow when an email is first kept for it (from the outbox; at least once, idempotent: one instance per
/// person and cadence, a running one is left alone; a failed, terminated or ended one starts again).
/// </summary>
public sealed class DigestWorkflowProjection(DurableClientAccessor durable) : IWorkflowProjection
{
    public bool Concerns(IntegrationEvent e) => e.Type == NotificationEvents.DigestItemRecorded;

    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (!Concerns(e)) return;
        var data = e.Data.Deserialize<NotificationEvents.DigestItemData>(OutboxJson.Options)!;
        var cadence = data.Cadence == Digests.Name(DigestCadence.Weekly) ? DigestCadence.Weekly : DigestCadence.Daily;
        var client = durable.Client ?? throw new TransientDeliveryException("The Durable Task client is not available yet.", TimeSpan.FromSeconds(15));
        var instanceId = DigestWorkflow.InstanceId(data.UserId, cadence);
        var existing = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct);
        if (existing is { IsCompleted: false }) return;
        if (existing is not null) await client.PurgeInstanceAsync(instanceId, cancellation: ct);
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(DigestOrchestrator), new DigestWorkflow(data.UserId, cadence, Due: false), new StartOrchestrationOptions(instanceId), ct);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct) is null) throw;
        }
    }
}
