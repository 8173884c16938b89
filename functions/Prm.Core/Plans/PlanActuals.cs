using Prm.Core.Analytics;
using Prm.Core.Mdf;

namespace Prm.Core.Plans;

/// <summary>
/// A plan's actuals, computed from the partner's KPI buckets (never typed in, never from the records themselves): each quarter reads
/// the fewest day/month/year bucket rows that cover it up to today, so the cost does not grow with the partner's deals or leads. The
/// facts fall on the day the work happened — won revenue and won deals on the close date, registrations on their approval day,
/// certifications on the award day, leads on the day accepted (see <see cref="KpiFactRules"/>). Custom objectives take the value the
/// channel manager recorded for the quarter.
/// </summary>
public sealed class PlanActuals(IKpiStore kpis)
{
    public async Task<IReadOnlyList<ObjectiveProgress>> ProgressAsync(BusinessPlan plan, FiscalCalendar fiscal, DateOnly today, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(fiscal);
        var quarters = Enumerable.Range(1, 4).Select(q => fiscal.FiscalQuarter(plan.FiscalYear, q)).ToList();
        var cover = quarters.Select(q => today < q.Start ? [] : AnalyticsCalendar.Cover(q.Start, q.End < today ? q.End : today)).ToList();
        var wanted = cover.SelectMany(c => c).ToHashSet(StringComparer.Ordinal);
        var needsBuckets = plan.Objectives.Any(o => o.KindValue != ObjectiveKind.Custom);
        var rows = wanted.Count == 0 || !needsBuckets ? new Dictionary<string, KpiBucket>() : await kpis.ReadAsync(plan.PartnerId, wanted, ct);
        var counters = cover.Select(c =>
        {
            var sum = new Dictionary<string, decimal>(StringComparer.Ordinal);
            foreach (var row in c)
            {
                if (!rows.TryGetValue(row, out var bucket)) continue;
                foreach (var (k, v) in bucket.Counters) sum[k] = sum.GetValueOrDefault(k) + v;
            }
            return KpiFigures.Line(sum, null);
        }).ToList();
        return Progress(plan, quarters, counters, today);
    }

    /// <summary>The progress of every objective from each quarter's summed counters (all product lines): pure, the rule applied per quarter.</summary>
    public static IReadOnlyList<ObjectiveProgress> Progress(BusinessPlan plan, IReadOnlyList<FiscalPeriod> quarters, IReadOnlyList<IReadOnlyDictionary<string, decimal>> counters, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(quarters);
        ArgumentNullException.ThrowIfNull(counters);
        var result = new List<ObjectiveProgress>();
        foreach (var o in plan.Objectives)
        {
            var list = new List<QuarterProgress>();
            for (var i = 0; i < quarters.Count; i++)
            {
                var q = quarters[i];
                var share = PlanRules.ElapsedShare(q, today);
                var actual = share == 0 ? 0m : Actual(o, i + 1, counters[i], plan.CustomValues);
                var target = o.Targets[i];
                var status = PlanRules.Track(actual, target, share);
                list.Add(new QuarterProgress(i + 1, q.Start, q.End, target, actual, share, share == 0 ? 0m : PlanRules.Expected(target, share), Common.Text.Camel(status)));
            }
            result.Add(new ObjectiveProgress(o.Id, o.Kind, o.Name, o.Weight, o.Currency, list, o.Targets.Sum(), list.Sum(q => q.Actual)));
        }
        return result;
    }

    /// <summary>An objective's actual in a quarter from the quarter's counters (summed over product lines), or the recorded custom value.</summary>
    public static decimal Actual(PlanObjective objective, int quarter, IReadOnlyDictionary<string, decimal> counters, IReadOnlyList<CustomValue> custom)
    {
        ArgumentNullException.ThrowIfNull(objective);
        ArgumentNullException.ThrowIfNull(counters);
        ArgumentNullException.ThrowIfNull(custom);
        return objective.KindValue switch
        {
            ObjectiveKind.Revenue => counters.GetValueOrDefault("wonRevenue:" + objective.Currency),
            ObjectiveKind.WonDeals => counters.GetValueOrDefault(KpiMetrics.Won),
            ObjectiveKind.Registrations => counters.GetValueOrDefault(KpiMetrics.Approved),
            ObjectiveKind.CertifiedPeople => counters.GetValueOrDefault(KpiMetrics.CertificationsEarned),
            ObjectiveKind.LeadsAccepted => counters.GetValueOrDefault(KpiMetrics.LeadAccepted),
            _ => custom.FirstOrDefault(v => v.ObjectiveId == objective.Id && v.Quarter == quarter)?.Value ?? 0m,
        };
    }
}
