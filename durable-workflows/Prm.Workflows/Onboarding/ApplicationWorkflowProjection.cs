using System.Text.Json;
using Microsoft.DurableTask;
using Prm.Core.Onboarding;
using Prm.Core.Outbox;

namespace Prm.Workflows.Onboarding;

/// <summary>Starts the review workflow when an application is submitted and tells it about the decision (at least once; idempotent).</summary>
public sealed class ApplicationWorkflowProjection(DurableClientAccessor durable) : IOutboxProjection
{
    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (e.Type is not (ApplicationEvents.Submitted or ApplicationEvents.Approved or ApplicationEvents.Rejected)) return;
        var client = durable.Client ?? throw new TransientDeliveryException("The Durable Task client is not available yet.", TimeSpan.FromSeconds(15));
        var data = e.Data.Deserialize<ApplicationEvents.ApplicationData>(OutboxJson.Options)!;
        var instanceId = ApplicationReview.InstanceId(data.ApplicationId);
        var existing = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct);
        if (e.Type == ApplicationEvents.Submitted)
        {
            if (existing is not null) return;
            var input = new ApplicationReview(data.ApplicationId, data.Deadlines.RemindAt, data.Deadlines.EscalateAt, data.Deadlines.ExpiresAt);
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(ApplicationReviewOrchestrator), input, new StartOrchestrationOptions(instanceId), ct);
            return;
        }
        // A decision ends the review; an instance that has not started yet or has finished needs nothing (its steps check the status).
        if (existing is { IsRunning: true }) await client.RaiseEventAsync(instanceId, ApplicationReview.DecidedEvent, data.Status, ct);
    }
}
