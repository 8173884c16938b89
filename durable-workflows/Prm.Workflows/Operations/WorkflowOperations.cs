using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Core.Identity;
using Prm.Core.Leads;
using Prm.Core.Mdf;
using Prm.Core.Onboarding;
using Prm.Core.Operations;
using Prm.Core.Settings;
using Prm.Core.Tiers;
using Prm.Core.Training;
using Prm.Workflows.Deals;
using Prm.Workflows.Invitations;
using Prm.Workflows.Leads;
using Prm.Workflows.Mdf;
using Prm.Workflows.Onboarding;
using Prm.Workflows.Tiers;
using Prm.Workflows.Training;

namespace Prm.Workflows.Operations;

/// <summary>
/// The workflows of a record, for operators (admins): which Durable instances belong to a subject (the instance ids the workflow projections
/// use), their status, custom status and next timer; terminate one; restart one from the record's current state — the input is computed by
/// the same <c>For(state)</c> the projections and the workflows' own state activities use, read through the same ports, so a restarted
/// workflow is the one the app would have started for the record as it is now.
/// </summary>
public sealed partial class WorkflowOperations(
    IDealSteps deals, IApplicationReviewSteps applications, IMdfWorkflowSteps mdf, ILeadSteps leads, IAwardSteps awards, IDowngradeSteps downgrades,
    Prm.Core.Plans.IPlanSteps plans, ITierStore tiers, ProgramSettings settings, TimeProvider clock)
{
    /// <summary>A workflow of a subject: its kind and instance id, and how to compute its input from the record's state (null: no restart).</summary>
    private sealed record Target(string Kind, string InstanceId, string Orchestrator, Func<CancellationToken, Task<object?>>? Restart);

    [GeneratedRegex("^[A-Za-z0-9_-]{1,100}$")]
    private static partial Regex IdPattern();

    public const string SubjectHelp = "subject must name a record: deals/{id}, partner-applications/{id}, mdf/requests/{id}, leads/{id}, awards/{id}, plans/{id}, partners/{id}, partners/{id}/tier or partners/{id}/users/{userId}.";

    private static void Require(Caller caller)
    {
        if (!caller.IsAdmin) throw new ForbiddenException("Only program admins operate workflows.");
    }

    private static string Id(string value) => IdPattern().IsMatch(value) ? value : throw new ValidationFailedException("subject", SubjectHelp);

    /// <summary>The workflows a subject has (or would have), by the instance ids their projections give them.</summary>
    private async Task<IReadOnlyList<Target>> TargetsAsync(string? subject, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(subject)) throw new ValidationFailedException("subject", SubjectHelp);
        var parts = subject.Trim().Trim('/').Split('/');
        switch (parts)
        {
            case ["deals", var id]:
                return [new Target("deal", DealWorkflow.InstanceId(Id(id)), nameof(DealOrchestrator), async c =>
                {
                    var rules = await settings.GetAsync<DealSettings>(DealSettings.SectionName, c);
                    return DealWorkflow.For(id, await deals.StateAsync(id, c), rules.ExpiryFirstReminderBefore, rules.ExpirySecondReminderBefore);
                })];
            case ["partner-applications" or "applications", var id]:
                return [new Target("application", ApplicationReview.InstanceId(Id(id)), nameof(ApplicationReviewOrchestrator),
                    async c => ApplicationReview.For(id, await applications.StateAsync(id, c)))];
            case ["mdf", "requests", var id]:
                {
                    var targets = new List<Target>
                {
                    new("mdfRequest", MdfRequestWorkflow.InstanceId(Id(id)), nameof(MdfRequestOrchestrator), async c => MdfRequestWorkflow.For(id, await mdf.StateAsync(id, c))),
                };
                    return targets;
                }
            case ["leads", var id]:
                return [new Target("lead", LeadWorkflow.InstanceId(Id(id)), nameof(LeadOrchestrator), async c =>
                {
                    var rules = await settings.GetAsync<LeadSettings>(LeadSettings.SectionName, c);
                    return LeadWorkflow.For(id, await leads.StateAsync(id, c), rules.ReminderFractions);
                })];
            case ["awards", var id]:
                return [new Target("award", AwardWorkflow.InstanceId(Id(id)), nameof(AwardOrchestrator), async c => AwardWorkflow.For(id, await awards.StateAsync(id, c)))];
            case ["plans", var id]:
                return [new Target("plan", Plans.PlanWorkflow.InstanceId(Id(id)), nameof(Plans.PlanReviewOrchestrator),
                    async c => await plans.DeadlinesAsync(id, c) is { Count: > 0 } ahead ? new Plans.PlanWorkflow(id, ahead) : null)];
            case ["partners", var id]:
                {
                    Id(id);
                    var list = new List<Target>
                {
                    new("agreement", AgreementWait.InstanceId(id), nameof(AgreementOrchestrator), null),
                    new("checklist", ChecklistFollowUp.InstanceId(id), nameof(OnboardingChecklistOrchestrator), null),
                };
                    if (await DowngradeAsync(id, ct) is { } downgrade) list.Add(downgrade);
                    return list;
                }
            case ["partners", var id, "tier"]:
                return await DowngradeAsync(Id(id), ct) is { } pending ? [pending] : [];
            case ["partners", var id, "users", var userId]:
                Id(id);
                return [new Target("invitation", InvitationFollowUp.InstanceId(Id(userId)), nameof(InvitationFollowUpOrchestrator), null)];
            default:
                throw new ValidationFailedException("subject", SubjectHelp);
        }
    }

    /// <summary>The partner's downgrade workflow: the pending downgrade's, else the last one the record names (none when it never had one).</summary>
    private async Task<Target?> DowngradeAsync(string partnerId, CancellationToken ct)
    {
        var state = await tiers.GetStateAsync(partnerId, ct);
        if (state?.Value.Downgrade is not { } pending) return null;
        return new Target("tierDowngrade", TierDowngradeWorkflow.InstanceId(pending.Id), nameof(TierDowngradeOrchestrator),
            async c => TierDowngradeWorkflow.For(await downgrades.StateAsync(partnerId, pending.Id, c)));
    }

    public async Task<SubjectWorkflows> ListAsync(Caller caller, DurableTaskClient client, string? subject, CancellationToken ct)
    {
        Require(caller);
        var targets = await TargetsAsync(subject, ct);
        var items = await Task.WhenAll(targets.Select(t => DescribeAsync(client, t, ct)));
        return new SubjectWorkflows(subject!.Trim().Trim('/'), items);
    }

    /// <summary>Terminates a running or pending instance (asynchronous in the backend: the answer shows it as it is right after the request).</summary>
    public async Task<WorkflowInstanceDto> TerminateAsync(Caller caller, DurableTaskClient client, WorkflowCommand? body, CancellationToken ct)
    {
        Require(caller);
        var target = await PickAsync(body, ct);
        var reason = body!.Reason?.Trim();
        if (reason is { Length: > 500 }) throw new ValidationFailedException("reason", "reason takes at most 500 characters.");
        var existing = await client.GetInstanceAsync(target.InstanceId, getInputsAndOutputs: false, ct);
        if (existing is null) throw new ConflictException($"{target.InstanceId} does not exist.", "instanceId");
        if (existing.IsCompleted) throw new ConflictException($"{target.InstanceId} is {existing.RuntimeStatus}: there is nothing to terminate.", "instanceId");
        await client.TerminateInstanceAsync(target.InstanceId, new TerminateInstanceOptions($"Terminated by {caller.DisplayName} ({caller.UserId}): {reason ?? "no reason given"}"), ct);
        // Terminating is asynchronous in the backend; wait briefly so the answer usually shows the outcome.
        var deadline = clock.GetUtcNow() + TimeSpan.FromSeconds(10);
        while (clock.GetUtcNow() < deadline && await client.GetInstanceAsync(target.InstanceId, getInputsAndOutputs: false, ct) is { IsCompleted: false })
        {
            await Task.Delay(200, ct);
        }
        return await DescribeAsync(client, target, ct);
    }

    /// <summary>
    /// Starts the subject's workflow again from the record's current state: a running instance is terminated first, the old history purged,
    /// and a new instance with the same id starts with the input the record's state needs. 409 when the kind has no restart or the record
    /// needs no workflow now (decided, expired, gone).
    /// </summary>
    public async Task<WorkflowInstanceDto> RestartAsync(Caller caller, DurableTaskClient client, WorkflowCommand? body, CancellationToken ct)
    {
        Require(caller);
        var target = await PickAsync(body, ct);
        if (target.Restart is null)
            throw new ConflictException($"A {target.Kind} workflow has no restart from state (its input comes from the event that started it); terminate it and let the next event start it.", "instanceId");
        var input = await target.Restart(ct);
        if (input is null) throw new ConflictException($"The record of {body!.Subject} needs no {target.Kind} workflow in its current state (decided, expired or gone): nothing to restart.", "subject");
        var existing = await client.GetInstanceAsync(target.InstanceId, getInputsAndOutputs: false, ct);
        if (existing is { IsCompleted: false })
        {
            await client.TerminateInstanceAsync(target.InstanceId, new TerminateInstanceOptions($"Restarted from state by {caller.DisplayName} ({caller.UserId})"), ct);
            var deadline = clock.GetUtcNow() + TimeSpan.FromSeconds(30);
            while (await client.GetInstanceAsync(target.InstanceId, getInputsAndOutputs: false, ct) is { IsCompleted: false })
            {
                if (clock.GetUtcNow() > deadline) throw new ServiceUnavailableException($"{target.InstanceId} did not stop within 30 s; try again.", TimeSpan.FromSeconds(10));
                await Task.Delay(200, ct);
            }
        }
        if (existing is not null) await client.PurgeInstanceAsync(target.InstanceId, cancellation: ct);
        await client.ScheduleNewOrchestrationInstanceAsync(target.Orchestrator, input, new StartOrchestrationOptions(target.InstanceId), ct);
        return await DescribeAsync(client, target, ct);
    }

    private async Task<Target> PickAsync(WorkflowCommand? body, CancellationToken ct)
    {
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required: { subject, instanceId, reason }.");
        var targets = await TargetsAsync(body.Subject, ct);
        if (string.IsNullOrWhiteSpace(body.InstanceId))
        {
            return targets.Count == 1 ? targets[0]
                : throw new ValidationFailedException("instanceId", $"{body.Subject} has {targets.Count} workflows ({string.Join(", ", targets.Select(t => t.InstanceId))}); name the instanceId.");
        }
        return targets.FirstOrDefault(t => t.InstanceId == body.InstanceId.Trim())
            ?? throw new ValidationFailedException("instanceId", $"{body.InstanceId} is not a workflow of {body.Subject}; its workflows: {(targets.Count == 0 ? "none" : string.Join(", ", targets.Select(t => t.InstanceId)))}.");
    }

    private async Task<WorkflowInstanceDto> DescribeAsync(DurableTaskClient client, Target t, CancellationToken ct)
    {
        var m = await client.GetInstanceAsync(t.InstanceId, getInputsAndOutputs: true, ct);
        if (m is null) return new WorkflowInstanceDto(t.Kind, t.InstanceId, "NotFound", t.Orchestrator, null, null, null, null, null, t.Restart is not null);
        return new WorkflowInstanceDto(t.Kind, t.InstanceId, m.RuntimeStatus.ToString(), m.Name, CustomStatus(m.SerializedCustomStatus),
            m.CreatedAt, m.LastUpdatedAt, m.IsCompleted ? null : await NextTimerAsync(client, t.InstanceId, ct) ?? NextDeadline(m.SerializedInput, clock.GetUtcNow()), m.FailureDetails?.ErrorMessage, t.Restart is not null);
    }

    /// <summary>A custom status as the workflow wrote it: a JSON string unwrapped ("Offer"), anything else as its JSON text.</summary>
    private static string? CustomStatus(string? serialized)
    {
        if (string.IsNullOrEmpty(serialized)) return null;
        try
        {
            using var doc = JsonDocument.Parse(serialized);
            return doc.RootElement.ValueKind == JsonValueKind.String ? doc.RootElement.GetString() : serialized;
        }
        catch (JsonException)
        {
            return serialized;
        }
    }

    /// <summary>
    /// The next deadline of the current generation from its input, when the backend returns no history (the local host's sidecar): every
    /// generation carries its deadlines (instants, or for a deal's protection the end and the reminder offsets before it), and its timers
    /// fire at them; the earliest still ahead is the next timer.
    /// </summary>
    public static DateTimeOffset? NextDeadline(string? serializedInput, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(serializedInput)) return null;
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(serializedInput).RootElement;
        }
        catch (JsonException)
        {
            return null;
        }
        var instants = new List<DateTimeOffset>();
        var durations = new List<TimeSpan>();
        DateTimeOffset? cycle = null;
        void Walk(JsonElement e, string? name)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var p in e.EnumerateObject()) Walk(p.Value, p.Name);
                    break;
                case JsonValueKind.Array:
                    foreach (var item in e.EnumerateArray()) Walk(item, name);
                    break;
                case JsonValueKind.String:
                    var text = e.GetString()!;
                    if (text.Contains('T') && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at))
                    {
                        instants.Add(at);
                        if (string.Equals(name, "cycle", StringComparison.OrdinalIgnoreCase)) cycle = at;
                    }
                    else if (name?.EndsWith("Before", StringComparison.OrdinalIgnoreCase) == true && TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var offset))
                    {
                        durations.Add(offset);
                    }
                    break;
            }
        }
        Walk(root, null);
        // Reminders given as offsets before the cycle's end (a deal's protection).
        if (cycle is { } end) instants.AddRange(durations.Select(d => end - d));
        var ahead = instants.Where(i => i > now && i.Year < 2200).ToList();
        return ahead.Count == 0 ? null : ahead.Min();
    }

    /// <summary>The earliest durable timer of the current generation that has not fired (from the history); null when the backend cannot tell.</summary>
    private static async Task<DateTimeOffset?> NextTimerAsync(DurableTaskClient client, string instanceId, CancellationToken ct)
    {
        try
        {
            var history = await client.GetOrchestrationHistoryAsync(instanceId, ct);
            if (history.Count == 0) return null; // a backend that keeps the history to itself
            var fired = history.OfType<DurableTask.Core.History.TimerFiredEvent>().Select(f => f.TimerId).ToHashSet();
            var pending = history.OfType<DurableTask.Core.History.TimerCreatedEvent>().Where(t => !fired.Contains(t.EventId)).Select(t => t.FireAt).ToList();
            return pending.Count == 0 ? null : new DateTimeOffset(DateTime.SpecifyKind(pending.Min(), DateTimeKind.Utc));
        }
        catch (Exception ex) when (ex is NotSupportedException or NotImplementedException or ArgumentException or InvalidOperationException
            || ex.GetType().Name == "RpcException")
        {
            return null; // a backend without history queries: the status and custom status still tell the phase
        }
    }
}
