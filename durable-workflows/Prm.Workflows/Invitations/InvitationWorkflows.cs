using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Prm.Core.Outbox;
using Prm.Core.Partners;

namespace Prm.Workflows.Invitations;

/// <summary>Starts the invitation follow-up on the host's Durable Task client; starting it twice for the same user is a no-op.</summary>
public sealed class InvitationWorkflows(DurableClientAccessor durable, TimeProvider clock, WorkflowOptions options) : IInvitationWorkflows
{
    public async Task StartAsync(string partnerId, string userId, CancellationToken ct)
    {
        var client = durable.Client ?? throw new TransientDeliveryException("The Durable Task client is not available yet.", TimeSpan.FromSeconds(15));
        var instanceId = InvitationFollowUp.InstanceId(userId);
        if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct) is not null) return;
        var input = new InvitationFollowUp(partnerId, userId, clock.GetUtcNow() + options.InvitationReminderAfter);
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(InvitationFollowUpOrchestrator), input, new StartOrchestrationOptions(instanceId), ct);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            // Started concurrently by another dispatcher: nothing to do. Anything else fails the delivery, which is retried.
            if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct) is null) throw;
        }
    }
}

/// <summary>Starts the follow-up workflow when an invitation event leaves the outbox (at least once; idempotent per user).</summary>
public sealed class InvitationWorkflowProjection(IInvitationWorkflows workflows) : IWorkflowProjection
{
    public bool Concerns(IntegrationEvent e) => e.Type == PartnerEvents.UserInvitedType && e.PartnerId is not null;

    public Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (!Concerns(e) || e.PartnerId is null) return Task.CompletedTask;
        var data = System.Text.Json.JsonSerializer.Deserialize<PartnerEvents.UserData>(e.Data, OutboxJson.Options)!;
        return workflows.StartAsync(e.PartnerId, data.User.Id, ct);
    }
}
