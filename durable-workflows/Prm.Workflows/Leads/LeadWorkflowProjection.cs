using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Prm.Core.Leads;
using Prm.Core.Outbox;
using Prm.Core.Settings;

namespace Prm.Workflows.Leads;

/// <summary>
/// Starts a lead's workflow when its state needs one (an offer, a conversion clock) and tells a live one about every change (from the
/// outbox; at least once, idempotent). A finished instance (the lead went to the pool, or was closed) is started again when the lead
/// needs timers again (a vendor assignment or reroute).
/// </summary>
public sealed class LeadWorkflowProjection(DurableClientAccessor durable, ProgramSettings settings) : IWorkflowProjection
{
    public bool Concerns(IntegrationEvent e) => LeadEvents.All.Contains(e.Type);

    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (!Concerns(e)) return;
        var data = e.Data.Deserialize<LeadEvents.LeadData>(OutboxJson.Options)!;
        if (!data.Latest) return;
        var lead = data.Lead;
        var client = durable.Client ?? throw new TransientDeliveryException("The Durable Task client is not available yet.", TimeSpan.FromSeconds(15));
        var instanceId = LeadWorkflow.InstanceId(lead.Id);
        var existing = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct);
        if (existing is { IsCompleted: false })
        {
            await client.RaiseEventAsync(instanceId, LeadWorkflow.ChangedEvent, lead.Status, ct);
            return;
        }
        var rules = await settings.GetAsync<LeadSettings>(LeadSettings.SectionName, ct);
        var pending = lead.Offers.LastOrDefault(o => o.Status == nameof(OfferStatus.Pending));
        var worked = lead.Status is nameof(LeadStatus.Accepted) or nameof(LeadStatus.Contacted) or nameof(LeadStatus.Qualified);
        var state = new LeadWorkflowState(lead.Status, pending?.Id, pending?.OfferedAt, pending?.ExpiresAt, worked ? lead.ConvertBy : null, worked ? lead.RecallAt : null);
        var input = LeadWorkflow.For(lead.Id, state, rules.ReminderFractions);
        if (input is null) return;
        // A finished generation of an earlier phase, or one that failed: start again from the lead's state.
        if (existing is not null) await client.PurgeInstanceAsync(instanceId, cancellation: ct);
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(LeadOrchestrator), input, new StartOrchestrationOptions(instanceId), ct);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct) is null) throw;
        }
    }
}
