using Prm.Core.Common;
using Prm.Core.Mdf;
using Prm.Core.Partners;

namespace Prm.Core.Plans;

/// <summary>Storage port of plans: a partition per partner with its plans, their immutable versions and a key row per fiscal year.</summary>
public interface IPlanStore
{
    /// <summary>A plan by id (its partner's partition follows from the id), with its ETag.</summary>
    Task<Versioned<BusinessPlan>?> GetAsync(string planId, CancellationToken ct);

    /// <summary>Creates the plan with its version 1 and the partner's key row of the fiscal year: <see cref="ConflictException"/> when the partner has a plan for that year.</summary>
    Task<string> CreateAsync(BusinessPlan plan, PlanVersion first, ChangeSet changes, CancellationToken ct);

    /// <summary>Replaces the plan If-Match <paramref name="etag"/> (412 otherwise), adding <paramref name="newVersion"/> when given, with its change set.</summary>
    Task<string> SaveAsync(BusinessPlan plan, string etag, PlanVersion? newVersion, ChangeSet changes, CancellationToken ct);

    /// <summary>Plans of a partner (or of every partner when null), optionally of one fiscal year, grouped by partner (paged in storage order).</summary>
    Task<Page<BusinessPlan>> ListAsync(string? partnerId, int? fiscalYear, PageRequest page, CancellationToken ct);

    /// <summary>Every version of a plan, oldest first.</summary>
    Task<IReadOnlyList<PlanVersion>> VersionsAsync(string planId, CancellationToken ct);
}

/// <summary>A step of the plan workflow: activate at the fiscal year's start, a quarter's review agenda, its reminder, the close at the year's end.</summary>
public enum PlanStepKind { Activate, ReviewDue, ReviewReminder, Close }

/// <summary>When a step of the plan workflow is due (the quarter is 0 for activate and close).</summary>
public sealed record PlanDeadline(DateTimeOffset At, PlanStepKind Kind, int Quarter);

/// <summary>The port the plan workflow calls.</summary>
public interface IPlanSteps
{
    /// <summary>The steps still ahead for the plan (see <see cref="PlanSchedule.Deadlines"/>), or null when the plan does not exist.</summary>
    Task<IReadOnlyList<PlanDeadline>?> DeadlinesAsync(string planId, CancellationToken ct);

    /// <summary>Runs one step (idempotent per quarter: a repeated step does nothing).</summary>
    Task<StepOutcome> RunStepAsync(string planId, PlanStepKind kind, int quarter, CancellationToken ct);
}

/// <summary>
/// The deadlines of a plan's workflow, from the plan, the fiscal calendar, the program's time zone and the plans settings: one place.
/// A quarter counts when it ends after the plan was first accepted and not after an early close; its agenda is due
/// <see cref="PlanSettings.ReviewLead"/> before the quarter ends (at once when that has passed), its reminder
/// <see cref="PlanSettings.ReviewReminderAfter"/> after the end unless the review was recorded. An Accepted plan activates when its
/// fiscal year begins; the plan closes when the year ends.
/// </summary>
public static class PlanSchedule
{
    /// <summary>The instant a program-local day begins.</summary>
    public static DateTimeOffset StartOf(DateOnly day, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var local = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }

    /// <summary>The instant a fiscal quarter ends (the next day begins).</summary>
    public static DateTimeOffset EndOf(FiscalPeriod period, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(period);
        return StartOf(period.End.AddDays(1), zone);
    }

    /// <summary>Whether a quarter of the plan gets a review.</summary>
    public static bool Counts(BusinessPlan plan, FiscalPeriod quarter, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var end = EndOf(quarter, zone);
        return plan.FirstAcceptedAt is { } first && end > first && (plan.ClosedAt is not { } closed || closed >= end);
    }

    public static IReadOnlyList<PlanDeadline> Deadlines(BusinessPlan plan, FiscalCalendar fiscal, TimeZoneInfo zone, PlanSettings settings)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(fiscal);
        ArgumentNullException.ThrowIfNull(settings);
        var list = new List<PlanDeadline>();
        if (plan.FirstAcceptedAt is null) return list;
        var year = fiscal.FiscalYear(plan.FiscalYear);
        if (plan.StatusValue == PlanStatus.Accepted) list.Add(new PlanDeadline(StartOf(year.Start, zone), PlanStepKind.Activate, 0));
        for (var q = 1; q <= 4; q++)
        {
            var quarter = fiscal.FiscalQuarter(plan.FiscalYear, q);
            if (!Counts(plan, quarter, zone)) continue;
            var end = EndOf(quarter, zone);
            var marks = plan.Marks(q);
            if (marks.AgendaSentAt is null) list.Add(new PlanDeadline(end - settings.ReviewLead, PlanStepKind.ReviewDue, q));
            if (marks.ReminderSentAt is null && !plan.Reviews.Any(r => r.Quarter == q)) list.Add(new PlanDeadline(end + settings.ReviewReminderAfter, PlanStepKind.ReviewReminder, q));
        }
        if (plan.StatusValue != PlanStatus.Closed) list.Add(new PlanDeadline(EndOf(year, zone), PlanStepKind.Close, 0));
        return list.OrderBy(d => d.At).ThenBy(d => d.Kind).ToList();
    }
}
