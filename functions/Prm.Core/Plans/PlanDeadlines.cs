using Prm.Core.Analytics;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Plans;

/// <summary>
/// The steps of the plan workflow: the deadlines still ahead (<see cref="PlanSchedule"/>), and each step — activate at the fiscal year's
/// start, a quarter's review agenda (the off-track objectives, to the channel manager and the partner admins), the reminder of an
/// unrecorded review (to the channel manager), the close at the year's end. Each step is idempotent per quarter (the plan carries what
/// was sent) and reads the plan as it is now: a plan closed early, or a quarter whose review is recorded, gets nothing more.
/// </summary>
public sealed class PlanDeadlines(IPlanStore store, IPartnerStore partners, ProgramSettings settings, BusinessPlans plans, PlanActuals actuals, AnalyticsCalendar calendar,
    TimeProvider clock) : IPlanSteps
{
    public async Task<IReadOnlyList<PlanDeadline>?> DeadlinesAsync(string planId, CancellationToken ct)
    {
        var found = await store.GetAsync(planId, ct);
        if (found is null) return null;
        var fiscal = await plans.FiscalAsync(ct);
        var rules = await settings.GetAsync<PlanSettings>(PlanSettings.SectionName, ct);
        return PlanSchedule.Deadlines(found.Value, fiscal, calendar.Zone, rules);
    }

    public Task<StepOutcome> RunStepAsync(string planId, PlanStepKind kind, int quarter, CancellationToken ct) =>
        ReadDecideCommit.RunAsync(async _ =>
        {
            var found = await store.GetAsync(planId, ct);
            if (found is null) return StepOutcome.Closed;
            var plan = found.Value;
            var partner = (await partners.GetAsync(plan.PartnerId, ct))?.Value;
            if (partner is null) return StepOutcome.Closed;
            var fiscal = await plans.FiscalAsync(ct);
            var now = clock.GetUtcNow();
            PlanChange change;
            switch (kind)
            {
                case PlanStepKind.Activate:
                    change = plan.Activate(now);
                    break;
                case PlanStepKind.Close:
                    change = plan.Close(now, byWorkflow: true);
                    break;
                default:
                    if (quarter is < 1 or > 4) return StepOutcome.Skipped;
                    var period = fiscal.FiscalQuarter(plan.FiscalYear, quarter);
                    if (!PlanSchedule.Counts(plan, period, calendar.Zone)) return plan.StatusValue == PlanStatus.Closed ? StepOutcome.Closed : StepOutcome.Skipped;
                    var agenda = await AgendaAsync(plan, fiscal, quarter, ct);
                    change = kind == PlanStepKind.ReviewDue ? plan.MarkAgenda(quarter, agenda, now) : plan.MarkReminder(quarter, agenda, now);
                    break;
            }
            if (change.None) return StepOutcome.DoneAlready;
            await plans.CommitAsync(Caller.System, found, partner, change, ct);
            return StepOutcome.Done;
        }, ct: ct);

    /// <summary>The agenda of a quarter's review: the objectives off track in it as of today (the on-track rule of <see cref="PlanRules.Track"/>).</summary>
    private async Task<PlanEvents.ReviewDueData> AgendaAsync(BusinessPlan plan, Mdf.FiscalCalendar fiscal, int quarter, CancellationToken ct)
    {
        var today = calendar.DayOf(clock.GetUtcNow());
        var progress = await actuals.ProgressAsync(plan, fiscal, today, ct);
        var offTrack = progress.Select(o => (o, q: o.Quarters[quarter - 1]))
            .Where(x => x.q.Status == Text.Camel(TrackStatus.OffTrack))
            .Select(x => new PlanEvents.AgendaItem(x.o.ObjectiveId, x.o.Kind, x.o.Name, x.q.Target, x.q.Actual, x.q.Expected, x.o.Currency))
            .ToList();
        return new PlanEvents.ReviewDueData(plan.Id, plan.PartnerId, plan.FiscalYear, quarter, fiscal.FiscalQuarter(plan.FiscalYear, quarter).End, offTrack);
    }
}
