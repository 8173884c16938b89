using System.Collections.Concurrent;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Mdf;
using Prm.Core.Outbox;
using Prm.Core.Settings;
using Prm.Workflows.Mdf;

namespace Prm.Workflows.Tests;

public sealed class MdfWorkflowTests
{
    /// <summary>The request as the workflow sees it: the test sets its state before raising "changed"; steps are recorded.</summary>
    private sealed class RecordingSteps(Func<MdfStep, StepOutcome>? outcome = null) : IMdfWorkflowSteps
    {
        private MdfWorkflowState? state;
        private int stateReads;

        public ConcurrentQueue<MdfStep> Steps { get; } = new();

        /// <summary>The request's state the workflow reads when it wakes (set before raising the change).</summary>
        public MdfWorkflowState? State { get => Volatile.Read(ref state); set => Volatile.Write(ref state, value); }

        public int StateReads => Volatile.Read(ref stateReads);

        public Task<MdfWorkflowState?> StateAsync(string requestId, CancellationToken ct)
        {
            Interlocked.Increment(ref stateReads);
            return Task.FromResult(State);
        }

        public Task<StepOutcome> RunStepAsync(MdfStep step, CancellationToken ct)
        {
            Steps.Enqueue(step);
            return Task.FromResult(outcome?.Invoke(step) ?? StepOutcome.Done);
        }

        public IReadOnlyList<MdfStepKind> Kinds => Steps.Select(s => s.Kind).ToList();
    }

    private static Task<DurableTaskTestHost> StartAsync(IMdfWorkflowSteps steps) =>
        Orchestrations.StartHostAsync(new DurableTaskTestHostOptions { ConfigureServices = s => s.AddSingleton(steps) });

    private static MdfWorkflowState InReview(int cycle, DateTimeOffset remindAt, DateTimeOffset escalateAt, string status = "Submitted") =>
        new(status, cycle, remindAt, escalateAt, null, 0, null, null, []);

    private static MdfWorkflowState Approved(string? claimStatus, params MdfEvents.ScheduledStep[] schedule) =>
        new("Approved", 0, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, claimStatus, claimStatus is null or "Draft" ? 0 : 1, null, null, schedule);

    private static MdfWorkflowState Ended(string status) => new(status, 0, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null, 0, null, null, []);

    /// <summary>Starts the request's workflow in the phase <paramref name="state"/> needs (as the projection does), with that state.</summary>
    private static async Task<string> StartRequestAsync(DurableTaskTestHost host, RecordingSteps steps, string requestId, MdfWorkflowState state)
    {
        steps.State = state;
        var input = MdfRequestWorkflow.For(requestId, state) ?? throw new InvalidOperationException($"{state.Status} needs no workflow.");
        return await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(MdfRequestOrchestrator), input, new StartOrchestrationOptions(MdfRequestWorkflow.InstanceId(requestId)));
    }

    /// <summary>The request changes: its new state, then the "changed" event (whose payload the workflow does not trust).</summary>
    private static Task ChangeAsync(DurableTaskTestHost host, string id, RecordingSteps steps, MdfWorkflowState state, string hint = "mdf.request.changed")
    {
        steps.State = state;
        return host.Client.RaiseEventAsync(id, MdfRequestWorkflow.ChangedEvent, hint);
    }

    private static async Task<string> OutputAsync(DurableTaskClient client, string id) => (await Orchestrations.CompletionAsync(client, id)).ReadOutputAs<string>()!;

    [Fact]
    public async Task A_cancellation_whose_change_event_was_lost_is_found_by_the_recheck_which_reads_the_state_anyway()
    {
        // Waiting for the answer to a question has no deadline of its own: without the recheck a lost change would keep it waiting for good.
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var asked = InReview(1, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, "InfoRequested");
        steps.State = asked;
        var input = MdfRequestWorkflow.For("mdr_lost", asked, TimeSpan.FromSeconds(2))!;
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(MdfRequestOrchestrator), input, new StartOrchestrationOptions(MdfRequestWorkflow.InstanceId("mdr_lost")));
        await Orchestrations.CustomStatusAsync(host.Client, id, nameof(MdfPhase.InfoRequested));
        var reads = steps.StateReads;
        steps.State = Ended("Cancelled"); // no event is raised
        (await OutputAsync(host.Client, id)).Should().Be("Cancelled");
        steps.StateReads.Should().BeGreaterThan(reads);
        steps.Steps.Should().BeEmpty();
    }

    [Fact]
    public void An_mdf_generation_rechecks_its_state_and_one_started_before_the_recheck_existed_does_not()
    {
        MdfRequestWorkflow.For("r", InReview(1, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, "InfoRequested"))!.Recheck.Should().Be(WorkflowRecheck.Interval);
        var old = System.Text.Json.JsonSerializer.Deserialize<MdfRequestWorkflow>(
            """{"RequestId":"mdr_old","Phase":1,"Cycle":1,"RemindAt":null,"EscalateAt":null,"ClaimSchedule":[]}""")!;
        old.Recheck.Should().Be(TimeSpan.Zero, "an input written before the recheck existed waits for the change alone, as it ran");
    }

    [Fact]
    public void The_phase_follows_the_state()
    {
        var at = DateTimeOffset.UnixEpoch;
        var schedule = new MdfEvents.ScheduledStep(at, MdfStepKind.ClaimExpire);
        MdfRequestWorkflow.For("r", InReview(2, at, at.AddHours(1)))!.Should().Match<MdfRequestWorkflow>(w => w.Phase == MdfPhase.Review && w.Cycle == 2 && w.RemindAt == at && w.EscalateAt == at.AddHours(1));
        MdfRequestWorkflow.For("r", InReview(3, at, at, "AwaitingSecondApproval"))!.Phase.Should().Be(MdfPhase.Review);
        MdfRequestWorkflow.For("r", InReview(1, at, at, "InfoRequested"))!.Phase.Should().Be(MdfPhase.InfoRequested);
        foreach (var open in new[] { null, "Draft", "InfoRequested" })
            MdfRequestWorkflow.For("r", Approved(open, schedule))!.Should().Match<MdfRequestWorkflow>(w => w.Phase == MdfPhase.ClaimWindow && w.ClaimSchedule.Single() == schedule);
        foreach (var reviewed in new[] { "Submitted", "Approved" })
            MdfRequestWorkflow.For("r", Approved(reviewed, schedule))!.Phase.Should().Be(MdfPhase.ClaimUnderReview);
        MdfRequestWorkflow.For("r", Approved(null)).Should().BeNull("a claim window without a schedule would have no expiry");
        foreach (var final in new[] { "Rejected", "Cancelled", "Expired", "Closed" })
            MdfRequestWorkflow.For("r", Ended(final)).Should().BeNull();
        MdfRequestWorkflow.For("r", null).Should().BeNull();
    }

    [Fact]
    public async Task Without_a_decision_it_reminds_then_escalates_and_then_waits_for_the_decision()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var id = await StartRequestAsync(host, steps, "mdr_1", InReview(0, now.AddSeconds(1), now.AddSeconds(2)));
        await Orchestrations.UntilAsync(() => steps.Steps.Count == 2, "the reminder and the escalation");
        steps.Steps.Should().Equal(new MdfStep("mdr_1", MdfStepKind.RequestRemind, 0), new MdfStep("mdr_1", MdfStepKind.RequestEscalate, 0));
        (await Orchestrations.CustomStatusAsync(host.Client, id, "Review:0")).IsRunning.Should().BeTrue("after the escalation it waits for the decision");
        await ChangeAsync(host, id, steps, Ended("Rejected"));
        (await OutputAsync(host.Client, id)).Should().Be("Rejected");
        steps.Steps.Should().HaveCount(2);
    }

    [Fact]
    public async Task Approval_opens_the_claim_window_with_the_activity_end_the_reminders_before_the_deadline_and_the_expiry()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var id = await StartRequestAsync(host, steps, "mdr_2", InReview(0, now.AddSeconds(30), now.AddSeconds(60)));
        await ChangeAsync(host, id, steps, Approved(null,
            new(now.AddSeconds(1), MdfStepKind.ActivityEnded), new(now.AddSeconds(2), MdfStepKind.ClaimDeadlineReminder, 14),
            new(now.AddSeconds(3), MdfStepKind.ClaimDeadlineReminder, 3), new(now.AddSeconds(4), MdfStepKind.ClaimExpire)));
        (await OutputAsync(host.Client, id)).Should().Be("expired");
        steps.Kinds.Should().Equal(MdfStepKind.ActivityEnded, MdfStepKind.ClaimDeadlineReminder, MdfStepKind.ClaimDeadlineReminder, MdfStepKind.ClaimExpire);
        steps.Steps.Where(s => s.Kind == MdfStepKind.ClaimDeadlineReminder).Select(s => s.DaysBefore).Should().Equal(14, 3);
        steps.Steps.Should().OnlyContain(s => s.Cycle == 0, "claim window steps belong to no review cycle");
    }

    [Fact]
    public async Task A_submitted_claim_stops_the_claim_window_before_the_deadline()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var expiry = now.AddSeconds(6);
        var schedule = new MdfEvents.ScheduledStep[] { new(now.AddSeconds(1), MdfStepKind.ActivityEnded), new(expiry, MdfStepKind.ClaimExpire) };
        var id = await StartRequestAsync(host, steps, "mdr_3", Approved(null, schedule));
        await Orchestrations.UntilAsync(() => steps.Steps.Any(s => s.Kind == MdfStepKind.ActivityEnded), "the activity's end");
        await ChangeAsync(host, id, steps, Approved("Submitted", schedule), "mdf.claim.submitted");
        await Orchestrations.CustomStatusAsync(host.Client, id, nameof(MdfPhase.ClaimUnderReview));
        // The expiry's time has to pass to show that it does not fire: this waits for the clock, not for the workflow (which is
        // observed below through its completion).
        await Orchestrations.UntilAsync(() => DateTimeOffset.UtcNow > expiry.AddSeconds(1), "the claim deadline to pass");
        await ChangeAsync(host, id, steps, Ended("Closed"), "mdf.claim.paid");
        (await OutputAsync(host.Client, id)).Should().Be("Closed");
        steps.Kinds.Should().Equal(MdfStepKind.ActivityEnded);
    }

    [Fact]
    public async Task A_claim_returned_for_information_reopens_the_claim_window_and_the_deadline_still_expires_it()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var activityEnd = new MdfEvents.ScheduledStep(now.AddSeconds(1), MdfStepKind.ActivityEnded);
        var id = await StartRequestAsync(host, steps, "mdr_9", Approved(null, activityEnd, new(now.AddSeconds(60), MdfStepKind.ClaimExpire)));
        await Orchestrations.UntilAsync(() => steps.Steps.Any(s => s.Kind == MdfStepKind.ActivityEnded), "the activity's end");
        await ChangeAsync(host, id, steps, Approved("Submitted", activityEnd, new(now.AddSeconds(60), MdfStepKind.ClaimExpire)), "mdf.claim.submitted");
        await Orchestrations.CustomStatusAsync(host.Client, id, nameof(MdfPhase.ClaimUnderReview));

        // The reviewer asks for more proofs: the claim is editable again, so the claim window (and its expiry) is back. The state read
        // derives the schedule anew: the activity's end (done already, a no-op in Core: same step key) and the deadline.
        var deadline = DateTimeOffset.UtcNow.AddSeconds(2);
        await ChangeAsync(host, id, steps, Approved("InfoRequested", activityEnd, new(deadline, MdfStepKind.ClaimExpire)), "mdf.claim.infoRequested");
        (await OutputAsync(host.Client, id)).Should().Be("expired", "a returned claim does not keep its reservation past the deadline");
        steps.Steps.Where(s => s.Kind == MdfStepKind.ClaimExpire).Should().Equal([new MdfStep("mdr_9", MdfStepKind.ClaimExpire)]);
        steps.Steps.Where(s => s.Kind == MdfStepKind.ActivityEnded).Distinct().Should().ContainSingle("a repeated activity end has the same step key, which Core runs once");
        steps.Kinds.Last().Should().Be(MdfStepKind.ClaimExpire);
    }

    [Fact]
    public async Task Second_approval_starts_a_new_review_cycle_with_its_own_deadlines()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var id = await StartRequestAsync(host, steps, "mdr_4", InReview(0, now.AddSeconds(30), now.AddSeconds(60)));
        var later = DateTimeOffset.UtcNow;
        await ChangeAsync(host, id, steps, InReview(1, later.AddSeconds(1), later.AddSeconds(40), "AwaitingSecondApproval"), "mdf.request.firstApproved");
        await Orchestrations.CustomStatusAsync(host.Client, id, "Review:1");
        await Orchestrations.UntilAsync(() => !steps.Steps.IsEmpty, "the second cycle's reminder");
        steps.Steps.Should().ContainSingle().Which.Should().Be(new MdfStep("mdr_4", MdfStepKind.RequestRemind, 1));
        await ChangeAsync(host, id, steps, Approved(null, new MdfEvents.ScheduledStep(DateTimeOffset.UtcNow.AddSeconds(1), MdfStepKind.ClaimExpire)), "mdf.request.approved");
        (await OutputAsync(host.Client, id)).Should().Be("expired");
        steps.Kinds.Should().Equal(MdfStepKind.RequestRemind, MdfStepKind.ClaimExpire);
    }

    [Fact]
    public async Task Request_info_waits_for_the_answer_which_starts_a_new_cycle_that_a_rejection_ends()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var id = await StartRequestAsync(host, steps, "mdr_5", InReview(0, now.AddSeconds(30), now.AddSeconds(60)));
        await ChangeAsync(host, id, steps, InReview(0, now.AddSeconds(30), now.AddSeconds(60), "InfoRequested"), "mdf.request.infoRequested");
        await Orchestrations.CustomStatusAsync(host.Client, id, nameof(MdfPhase.InfoRequested));
        var answered = DateTimeOffset.UtcNow;
        await ChangeAsync(host, id, steps, InReview(1, answered.AddSeconds(1), answered.AddSeconds(40)), "mdf.request.infoAnswered");
        await Orchestrations.UntilAsync(() => !steps.Steps.IsEmpty, "the new cycle's reminder");
        await ChangeAsync(host, id, steps, Ended("Rejected"), "mdf.request.rejected");
        (await OutputAsync(host.Client, id)).Should().Be("Rejected");
        steps.Steps.Should().Equal(new MdfStep("mdr_5", MdfStepKind.RequestRemind, 1));
    }

    [Fact]
    public async Task A_step_that_finds_the_request_gone_ends_the_workflow()
    {
        var steps = new RecordingSteps(_ => StepOutcome.Closed);
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var input = MdfRequestWorkflow.For("mdr_6", InReview(0, now, now.AddSeconds(60)))!;
        steps.State = null; // the request is gone
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(MdfRequestOrchestrator), input);
        (await OutputAsync(host.Client, id)).Should().Be("closed");
        steps.Kinds.Should().Equal(MdfStepKind.RequestRemind);
    }

    [Fact]
    public async Task A_cancellation_ends_the_review_or_the_claim_window_without_steps()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var inReview = await StartRequestAsync(host, steps, "mdr_10", InReview(0, now.AddSeconds(30), now.AddSeconds(60)));
        await ChangeAsync(host, inReview, steps, Ended("Cancelled"), "mdf.request.cancelled");
        (await OutputAsync(host.Client, inReview)).Should().Be("Cancelled");

        var inWindow = await StartRequestAsync(host, steps, "mdr_11", Approved("Draft", new(now.AddSeconds(30), MdfStepKind.ActivityEnded), new(now.AddSeconds(60), MdfStepKind.ClaimExpire)));
        await ChangeAsync(host, inWindow, steps, Ended("Cancelled"), "mdf.request.cancelled");
        (await OutputAsync(host.Client, inWindow)).Should().Be("Cancelled");
        steps.Steps.Should().BeEmpty();
    }

    [Fact]
    public async Task A_late_or_repeated_event_is_checked_against_the_state_and_the_expiry_still_happens()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var expiry = new MdfEvents.ScheduledStep(now.AddSeconds(4), MdfStepKind.ClaimExpire);
        var id = await StartRequestAsync(host, steps, "mdr_12", Approved(null, new(now.AddSeconds(1), MdfStepKind.ActivityEnded), expiry));
        // Redelivered "submitted" and "answered" events arrive after the approval: the state says Approved (claim window), so it goes on.
        await host.Client.RaiseEventAsync(id, MdfRequestWorkflow.ChangedEvent, "mdf.request.submitted");
        await host.Client.RaiseEventAsync(id, MdfRequestWorkflow.ChangedEvent, "mdf.request.infoAnswered");
        await host.Client.RaiseEventAsync(id, MdfRequestWorkflow.ChangedEvent, "mdf.request.submitted");
        (await OutputAsync(host.Client, id)).Should().Be("expired");
        steps.StateReads.Should().BeGreaterThanOrEqualTo(1, "the events were checked against the state");
        steps.Steps.Should().NotContain(s => s.Kind == MdfStepKind.RequestRemind || s.Kind == MdfStepKind.RequestEscalate, "no event put it back into review");
        steps.Steps.Where(s => s.Kind == MdfStepKind.ClaimExpire).Should().Equal([new MdfStep("mdr_12", MdfStepKind.ClaimExpire)], "one expiry, at the state's deadline");
    }

    [Fact]
    public async Task A_late_decision_event_does_not_end_a_review_the_state_says_is_still_open()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var id = await StartRequestAsync(host, steps, "mdr_13", InReview(1, now.AddSeconds(1), now.AddSeconds(60)));
        // A stale "rejected" hint (of another cycle, say): the state still says Submitted, cycle 1.
        await host.Client.RaiseEventAsync(id, MdfRequestWorkflow.ChangedEvent, "Rejected");
        await Orchestrations.UntilAsync(() => steps.StateReads >= 1, "the state read");
        await Orchestrations.UntilAsync(() => !steps.Steps.IsEmpty, "the reminder of cycle 1");
        (await Orchestrations.CustomStatusAsync(host.Client, id, "Review:1")).IsRunning.Should().BeTrue();
        steps.Steps.Should().Equal(new MdfStep("mdr_13", MdfStepKind.RequestRemind, 1));
        await ChangeAsync(host, id, steps, Ended("Rejected"), "mdf.request.rejected");
        (await OutputAsync(host.Client, id)).Should().Be("Rejected");
    }

    [Fact]
    public async Task Claim_review_reminds_then_escalates_unless_decided()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var slow = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(MdfClaimReviewOrchestrator), new MdfClaimReview("mdr_7", "mdc_7", 1, now.AddSeconds(1), now.AddSeconds(2)));
        (await OutputAsync(host.Client, slow)).Should().Be("escalated");
        steps.Steps.Should().Equal(new MdfStep("mdr_7", MdfStepKind.ClaimReviewRemind, 0, 0, 1), new MdfStep("mdr_7", MdfStepKind.ClaimReviewEscalate, 0, 0, 1));

        var fast = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(MdfClaimReviewOrchestrator), new MdfClaimReview("mdr_8", "mdc_8", 2, now.AddSeconds(30), now.AddSeconds(60)));
        await host.Client.RaiseEventAsync(fast, MdfClaimReview.DecidedEvent, "Approved");
        (await OutputAsync(host.Client, fast)).Should().Be("Approved");
        steps.Steps.Should().HaveCount(2);
    }

    // The projection: what starts, wakes and restarts the workflows from the outbox.

    /// <summary>Settings never saved: the MDF defaults (claim reminders 14 and 3 days before the deadline).</summary>
    private sealed class DefaultSettings : ISettingsStore
    {
        public Task<Versioned<string>?> GetAsync(string section, CancellationToken ct) => Task.FromResult<Versioned<string>?>(null);

        public Task<string> SaveAsync(string section, string json, string? etag, AuditEntry audit, CancellationToken ct) => throw new NotSupportedException();

        public Task<Prm.Core.Common.Page<AuditEntry>> TimelineAsync(PageRequest page, CancellationToken ct) => throw new NotSupportedException();
    }

    private static ClientBound Projection(DurableTaskTestHost host)
    {
        var accessor = new DurableClientAccessor();
        return new(new MdfWorkflowProjection(accessor, new ProgramSettings(new DefaultSettings(), [MdfSettings.Section(new MdfSettings())], TimeProvider.System, new ProgramOptions())),
            accessor, host.Client);
    }

    /// <summary>The projection called the way the outbox functions call it: with the client of the invocation in scope.</summary>
    private sealed record ClientBound(MdfWorkflowProjection Inner, DurableClientAccessor Accessor, Microsoft.DurableTask.Client.DurableTaskClient Client)
    {
        public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
        {
            using (Accessor.Use(Client)) await Inner.ApplyAsync(e, ct);
        }
    }

    private static MdfEvents.RequestData Data(string requestId, string status, DateTimeOffset at, int cycle = 0, string? claimStatus = null, int submission = 0,
        DateTimeOffset? claimRemindAt = null, DateTimeOffset? claimEscalateAt = null, DateOnly? endDate = null, DateOnly? claimDeadline = null) =>
        new(requestId, "mdb_1", "ptn_1", status, new Money(1000m, "EUR"), status == "Approved" ? new Money(1000m, "EUR") : null, at.AddHours(48), at.AddHours(96), [],
            claimStatus is null ? null : "mdc_" + requestId, claimStatus, submission, claimRemindAt, claimEscalateAt, false, null, cycle, endDate, claimDeadline);

    private static IntegrationEvent Event(string type, MdfEvents.RequestData data, DateTimeOffset at) =>
        IntegrationEvent.Create("evt_" + Guid.NewGuid().ToString("N"), type, at, $"mdf/requests/{data.RequestId}", data.PartnerId, null, data);

    [Fact]
    public async Task A_claim_submission_starts_the_request_workflow_from_the_event_and_the_claim_review_with_the_events_deadlines()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var end = DateOnly.FromDateTime(now.UtcDateTime).AddDays(-1);
        var data = Data("mdr_20", "Approved", now, claimStatus: "Submitted", submission: 2, claimRemindAt: now.AddHours(1), claimEscalateAt: now.AddHours(2),
            endDate: end, claimDeadline: end.AddDays(30));
        await Projection(host).ApplyAsync(Event(MdfEvents.ClaimSubmitted, data, now), CancellationToken.None);

        await Orchestrations.CustomStatusAsync(host.Client, MdfRequestWorkflow.InstanceId("mdr_20"), nameof(MdfPhase.ClaimUnderReview));
        var review = await host.Client.GetInstanceAsync(MdfClaimReview.InstanceId("mdc_mdr_20", 2), getInputsAndOutputs: true);
        review!.ReadInputAs<MdfClaimReview>().Should().Be(new MdfClaimReview("mdr_20", "mdc_mdr_20", 2, now.AddHours(1), now.AddHours(2)));
    }

    [Fact]
    public async Task A_claim_submission_without_review_deadlines_starts_no_review_rather_than_inventing_them()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        var end = DateOnly.FromDateTime(now.UtcDateTime);
        var data = Data("mdr_21", "Approved", now, claimStatus: "Submitted", submission: 1, endDate: end, claimDeadline: end.AddDays(30));
        await Projection(host).ApplyAsync(Event(MdfEvents.ClaimSubmitted, data, now), CancellationToken.None);
        (await host.Client.GetInstanceAsync(MdfClaimReview.InstanceId("mdc_mdr_21", 1))).Should().BeNull();
        await Orchestrations.CustomStatusAsync(host.Client, MdfRequestWorkflow.InstanceId("mdr_21"), nameof(MdfPhase.ClaimUnderReview));
    }

    [Fact]
    public async Task Events_wake_a_running_workflow_and_leave_a_completed_one_alone()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var projection = Projection(host);
        var now = DateTimeOffset.UtcNow;
        var id = MdfRequestWorkflow.InstanceId("mdr_22");
        await projection.ApplyAsync(Event(MdfEvents.RequestSubmitted, Data("mdr_22", "Submitted", now), now), CancellationToken.None);
        await Orchestrations.CustomStatusAsync(host.Client, id, "Review:0");

        steps.State = Ended("Rejected");
        await projection.ApplyAsync(Event(MdfEvents.RequestRejected, Data("mdr_22", "Rejected", now), now), CancellationToken.None);
        (await OutputAsync(host.Client, id)).Should().Be("Rejected");

        // The submission is delivered again: the workflow ended for good, nothing starts.
        await projection.ApplyAsync(Event(MdfEvents.RequestSubmitted, Data("mdr_22", "Submitted", now), now), CancellationToken.None);
        var after = await host.Client.GetInstanceAsync(id, getInputsAndOutputs: true);
        after!.RuntimeStatus.Should().Be(OrchestrationRuntimeStatus.Completed);
        after.ReadOutputAs<string>().Should().Be("Rejected");
        steps.StateReads.Should().Be(1);
    }

    [Fact]
    public async Task A_terminated_workflow_starts_again_in_the_phase_the_event_needs_with_the_claim_schedule_from_its_dates()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var projection = Projection(host);
        var now = DateTimeOffset.UtcNow;
        var id = MdfRequestWorkflow.InstanceId("mdr_23");
        await projection.ApplyAsync(Event(MdfEvents.RequestSubmitted, Data("mdr_23", "Submitted", now), now), CancellationToken.None);
        await Orchestrations.CustomStatusAsync(host.Client, id, "Review:0");
        await host.Client.TerminateInstanceAsync(id);
        (await Orchestrations.CompletionAsync(host.Client, id)).RuntimeStatus.Should().Be(OrchestrationRuntimeStatus.Terminated);

        var end = DateOnly.FromDateTime(now.UtcDateTime).AddDays(10);
        var deadline = end.AddDays(60);
        await projection.ApplyAsync(Event(MdfEvents.RequestApproved, Data("mdr_23", "Approved", now, endDate: end, claimDeadline: deadline), now), CancellationToken.None);
        var running = await Orchestrations.CustomStatusAsync(host.Client, id, nameof(MdfPhase.ClaimWindow));
        var midnightAfter = (DateOnly d) => new DateTimeOffset(d.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        running.ReadInputAs<MdfRequestWorkflow>()!.ClaimSchedule.Should().Equal(
            new MdfEvents.ScheduledStep(midnightAfter(end), MdfStepKind.ActivityEnded),
            new MdfEvents.ScheduledStep(midnightAfter(deadline).AddDays(-14), MdfStepKind.ClaimDeadlineReminder, 14),
            new MdfEvents.ScheduledStep(midnightAfter(deadline).AddDays(-3), MdfStepKind.ClaimDeadlineReminder, 3),
            new MdfEvents.ScheduledStep(midnightAfter(deadline), MdfStepKind.ClaimExpire));
    }

    [Fact]
    public async Task An_approved_event_without_claim_dates_or_schedule_starts_no_claim_window()
    {
        var steps = new RecordingSteps();
        await using var host = await StartAsync(steps);
        var now = DateTimeOffset.UtcNow;
        await Projection(host).ApplyAsync(Event(MdfEvents.RequestApproved, Data("mdr_24", "Approved", now), now), CancellationToken.None);
        (await host.Client.GetInstanceAsync(MdfRequestWorkflow.InstanceId("mdr_24"))).Should().BeNull();
    }
}
