using System.Collections.Concurrent;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Common;
using Prm.Core.Leads;
using Prm.Workflows.Leads;

namespace Prm.Workflows.Tests;

public sealed class LeadWorkflowTests
{
    /// <summary>
    /// A lead as the workflow sees it: steps are recorded; an expiry or a recall routes the lead as the lead service does (the next state
    /// of <see cref="Routes"/>) and, like the outbox projection, raises the change event.
    /// </summary>
    private sealed class FakeLead : ILeadSteps
    {
        public ConcurrentQueue<(LeadStep Step, string Cycle)> Steps { get; } = new();

        public LeadWorkflowState? State { get; set; }

        /// <summary>What an expiry or recall routes the lead to, in turn (an offer to the next partner, then the vendor pool).</summary>
        public Queue<Func<LeadWorkflowState>> Routes { get; } = new();

        public DurableTaskClient? Client { get; set; }

        /// <summary>The change events of routing are lost (as the libraries can lose one in a continue-as-new).</summary>
        public bool LoseEvents { get; set; }

        public Task<LeadWorkflowState?> StateAsync(string leadId, CancellationToken ct) => Task.FromResult(State);

        public async Task<StepOutcome> RunLeadStepAsync(string leadId, LeadStep step, string cycle, CancellationToken ct)
        {
            Steps.Enqueue((step, cycle));
            if (step is LeadStep.OfferExpire or LeadStep.Recall)
            {
                State = Routes.Dequeue()();
                if (LoseEvents) return StepOutcome.Done;
                await Client!.RaiseEventAsync(LeadWorkflow.InstanceId(leadId), LeadWorkflow.ChangedEvent, State.Status, ct);
            }
            return StepOutcome.Done;
        }
    }

    private static readonly IReadOnlyList<double> Fractions = [0.5, 0.9];

    private static async Task<(DurableTaskTestHost Host, FakeLead Lead)> StartAsync()
    {
        var lead = new FakeLead();
        var host = await Orchestrations.StartHostAsync(new DurableTaskTestHostOptions { ConfigureServices = s => s.AddSingleton<ILeadSteps>(lead) });
        lead.Client = host.Client;
        return (host, lead);
    }

    private static LeadWorkflowState Offer(string offerId, double seconds) =>
        new(nameof(LeadStatus.Offered), offerId, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddSeconds(seconds), null, null);

    private static LeadWorkflowState Pool() => new(nameof(LeadStatus.VendorPool), null, null, null, null, null);

    private static async Task<string> StartLeadAsync(DurableTaskTestHost host, FakeLead lead, string leadId, LeadWorkflowState state)
    {
        lead.State = state;
        var input = LeadWorkflow.For(leadId, state, Fractions)!;
        return await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(LeadOrchestrator), input, new Microsoft.DurableTask.StartOrchestrationOptions(LeadWorkflow.InstanceId(leadId)));
    }

    [Fact]
    public async Task Accepting_ends_the_offer_phase_without_an_expiry_and_starts_the_conversion_clock()
    {
        var (host, lead) = await StartAsync();
        await using var _ = host;
        var id = await StartLeadAsync(host, lead, "lead_accept", Offer("lof_1", 30));
        await Orchestrations.CustomStatusAsync(host.Client, id, "Offer");
        lead.State = new LeadWorkflowState(nameof(LeadStatus.Accepted), null, null, null, DateTimeOffset.UtcNow.AddMinutes(10), DateTimeOffset.UtcNow.AddMinutes(20));
        await host.Client.RaiseEventAsync(id, LeadWorkflow.ChangedEvent, "Accepted");
        await Orchestrations.CustomStatusAsync(host.Client, id, "Conversion");
        lead.State = new LeadWorkflowState(nameof(LeadStatus.Converted), null, null, null, null, null);
        await host.Client.RaiseEventAsync(id, LeadWorkflow.ChangedEvent, "Converted");
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be("Converted");
        lead.Steps.Should().BeEmpty("the partner answered before any deadline");
    }

    [Fact]
    public async Task A_routing_whose_change_event_was_lost_is_found_by_the_recheck_which_reads_the_state_anyway()
    {
        var (host, lead) = await StartAsync();
        await using var _ = host;
        lead.LoseEvents = true;
        lead.Routes.Enqueue(Pool);
        var state = Offer("lof_1", 2);
        lead.State = state;
        var input = LeadWorkflow.For("lead_lost", state, Fractions, TimeSpan.FromSeconds(2))!;
        input.Recheck.Should().Be(TimeSpan.FromSeconds(2));
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(LeadOrchestrator), input, new Microsoft.DurableTask.StartOrchestrationOptions(LeadWorkflow.InstanceId("lead_lost")));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be(nameof(LeadStatus.VendorPool), "the expiry's change event never came");
        lead.Steps.Select(s => s.Step).Should().Equal(LeadStep.OfferReminder, LeadStep.OfferReminder, LeadStep.OfferExpire);
    }

    [Fact]
    public void A_lead_generation_rechecks_its_state_and_one_started_before_the_recheck_existed_does_not()
    {
        LeadWorkflow.For("lead_r", Offer("lof_1", 60), Fractions)!.Recheck.Should().Be(WorkflowRecheck.Interval);
        var old = System.Text.Json.JsonSerializer.Deserialize<LeadWorkflow>(
            """{"LeadId":"lead_old","Phase":0,"Cycle":"lof_1","Reminders":[],"Deadline":"2026-12-01T00:00:00+00:00","Fractions":[0.5]}""")!;
        old.Recheck.Should().Be(TimeSpan.Zero, "an input written before the recheck existed waits for the change alone, as it ran");
    }

    [Fact]
    public async Task An_offer_reminds_at_half_and_ninety_percent_then_expires_and_the_lead_goes_to_the_next_partner()
    {
        var (host, lead) = await StartAsync();
        await using var _ = host;
        lead.Routes.Enqueue(() => Offer("lof_2", 30));
        var id = await StartLeadAsync(host, lead, "lead_expiry", Offer("lof_1", 2));
        await Orchestrations.UntilAsync(() => lead.Steps.Any(s => s.Step == LeadStep.OfferExpire), "the first offer expired");
        (await GenerationAsync(host.Client, id, w => w.Cycle == "lof_2")).Phase.Should().Be(LeadPhase.Offer, "the workflow follows the new offer");
        lead.Steps.Select(s => (s.Step, s.Cycle)).Should().Equal((LeadStep.OfferReminder, "lof_1#1"), (LeadStep.OfferReminder, "lof_1#2"), (LeadStep.OfferExpire, "lof_1"));
        await host.Client.TerminateInstanceAsync(id);
    }

    [Fact]
    public async Task A_decline_reroutes_the_running_workflow_to_the_new_offer_and_the_old_deadlines_never_fire()
    {
        var (host, lead) = await StartAsync();
        await using var _ = host;
        var id = await StartLeadAsync(host, lead, "lead_decline", Offer("lof_1", 4));
        await Orchestrations.CustomStatusAsync(host.Client, id, "Offer");
        lead.State = Offer("lof_2", 2);
        await host.Client.RaiseEventAsync(id, LeadWorkflow.ChangedEvent, "Offered");
        lead.Routes.Enqueue(Pool);
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be(nameof(LeadStatus.VendorPool));
        lead.Steps.Should().OnlyContain(s => s.Cycle.StartsWith("lof_2", StringComparison.Ordinal), "the declined offer's timers were cancelled");
        lead.Steps.Select(s => s.Step).Should().Equal(LeadStep.OfferReminder, LeadStep.OfferReminder, LeadStep.OfferExpire);
    }

    [Fact]
    public async Task Three_offers_that_expire_in_turn_send_the_lead_to_the_vendor_pool()
    {
        var (host, lead) = await StartAsync();
        await using var _ = host;
        lead.Routes.Enqueue(() => Offer("lof_2", 1));
        lead.Routes.Enqueue(() => Offer("lof_3", 1));
        lead.Routes.Enqueue(Pool);
        var id = await StartLeadAsync(host, lead, "lead_hops", Offer("lof_1", 1));
        (await Orchestrations.CompletionAsync(host.Client, id)).ReadOutputAs<string>().Should().Be(nameof(LeadStatus.VendorPool));
        lead.Steps.Where(s => s.Step == LeadStep.OfferExpire).Select(s => s.Cycle).Should().Equal("lof_1", "lof_2", "lof_3");
        lead.Steps.Count(s => s.Step == LeadStep.OfferReminder).Should().Be(6);
    }

    [Fact]
    public async Task No_update_by_the_conversion_deadline_sends_a_reminder_and_later_the_recall_routes_the_lead_again()
    {
        var (host, lead) = await StartAsync();
        await using var _ = host;
        var by = DateTimeOffset.UtcNow.AddSeconds(1);
        var recall = DateTimeOffset.UtcNow.AddSeconds(2);
        lead.Routes.Enqueue(() => Offer("lof_next", 30));
        var id = await StartLeadAsync(host, lead, "lead_recall", new LeadWorkflowState(nameof(LeadStatus.Accepted), null, null, null, by, recall));
        await Orchestrations.UntilAsync(() => lead.Steps.Any(s => s.Step == LeadStep.Recall), "the lead was recalled");
        (await GenerationAsync(host.Client, id, w => w.Phase == LeadPhase.Offer)).Cycle.Should().Be("lof_next");
        lead.Steps.Select(s => (s.Step, s.Cycle)).Should().Equal((LeadStep.ConversionReminder, Lead.Stamp(by)), (LeadStep.Recall, Lead.Stamp(recall)));
        await host.Client.TerminateInstanceAsync(id);
    }

    [Fact]
    public async Task A_status_update_moves_the_conversion_clock_and_cancels_the_old_recall()
    {
        var (host, lead) = await StartAsync();
        await using var _ = host;
        var id = await StartLeadAsync(host, lead, "lead_update", new LeadWorkflowState(nameof(LeadStatus.Accepted), null, null, null, DateTimeOffset.UtcNow.AddSeconds(3), DateTimeOffset.UtcNow.AddSeconds(4)));
        await Orchestrations.CustomStatusAsync(host.Client, id, "Conversion");
        lead.State = new LeadWorkflowState(nameof(LeadStatus.Contacted), null, null, null, DateTimeOffset.UtcNow.AddMinutes(10), DateTimeOffset.UtcNow.AddMinutes(20));
        await host.Client.RaiseEventAsync(id, LeadWorkflow.ChangedEvent, "Contacted");
        var wanted = lead.State.RecallAt!.Value;
        await GenerationAsync(host.Client, id, w => w.Deadline == wanted);
        // The new generation runs (its input carries the new clock): the old reminder and recall ended with the generation before.
        await Orchestrations.CustomStatusAsync(host.Client, id, "Conversion");
        lead.Steps.Should().BeEmpty("the old reminder and recall were cancelled");
        await host.Client.TerminateInstanceAsync(id);
    }

    /// <summary>Waits (at most a minute, polling) until the running generation's input satisfies <paramref name="wanted"/>; returns it.</summary>
    private static async Task<LeadWorkflow> GenerationAsync(DurableTaskClient client, string id, Func<LeadWorkflow, bool> wanted)
    {
        var patience = DateTimeOffset.UtcNow.AddSeconds(60);
        while (true)
        {
            var instance = await client.GetInstanceAsync(id, getInputsAndOutputs: true);
            if (instance is { IsRunning: true } && instance.ReadInputAs<LeadWorkflow>() is { } input && wanted(input)) return input;
            if (DateTimeOffset.UtcNow > patience) throw new TimeoutException($"Waited 60 s for a generation of {id} (it runs {instance?.SerializedInput}).");
            await Task.Delay(50);
        }
    }

    [Fact]
    public void The_generation_follows_the_state_and_carries_its_deadlines()
    {
        var at = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var offer = LeadWorkflow.For("lead_x", new LeadWorkflowState("Offered", "lof_1", at, at.AddHours(48), null, null), Fractions)!;
        offer.Phase.Should().Be(LeadPhase.Offer);
        offer.Reminders.Should().Equal(at.AddHours(24), at.AddHours(43.2));
        offer.Deadline.Should().Be(at.AddHours(48));
        LeadWorkflow.For("lead_x", new LeadWorkflowState("VendorPool", null, null, null, null, null), Fractions).Should().BeNull();
        LeadWorkflow.For("lead_x", null, Fractions).Should().BeNull();
    }
}
