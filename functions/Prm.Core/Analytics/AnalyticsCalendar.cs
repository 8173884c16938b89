using System.Globalization;
using Prm.Core.Common;
using Prm.Core.Mdf;

namespace Prm.Core.Analytics;

/// <summary>How a KPI table cuts its range into rows: days, calendar months, fiscal quarters, fiscal years, or one row for the whole range.</summary>
public enum KpiPeriod { Total, Day, Month, Quarter, FiscalYear }

/// <summary>One period of a KPI table, clipped to the asked range (both days inclusive).</summary>
public sealed record KpiSlice(string Key, DateOnly From, DateOnly To);

/// <summary>Configuration of analytics (section "Analytics"): the program's time zone, which decides the day a fact falls on.</summary>
public sealed class AnalyticsOptions
{
    public const string Section = "Analytics";

    /// <summary>IANA time zone id of the program (e.g. "Europe/Berlin"); "UTC" by default. Changing it needs a rebuild of the buckets.</summary>
    public string TimeZone { get; set; } = "UTC";
}

/// <summary>
/// The calendar of the KPIs: a fact falls on the program's local day (time zone from configuration) and is kept in the day, month and
/// calendar-year buckets of that day; periods (months, fiscal quarters and years with the fiscal year's first month from the mdf settings)
/// are read as the fewest whole buckets that cover them.
/// </summary>
public sealed class AnalyticsCalendar(TimeZoneInfo zone)
{
    /// <summary>The widest range a KPI query may span (days).</summary>
    public const int MaxRangeDays = 3700;

    /// <summary>The most periods (rows per group) a KPI table may have.</summary>
    public const int MaxSlices = 400;

    public static AnalyticsCalendar From(AnalyticsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new AnalyticsCalendar(TimeZoneInfo.FindSystemTimeZoneById(options.TimeZone));
    }

    public TimeZoneInfo Zone => zone;

    /// <summary>The program's local day of an instant.</summary>
    public DateOnly DayOf(DateTimeOffset at) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, zone).DateTime);

    /// <summary>The periods of <paramref name="period"/> that meet the range, each clipped to it.</summary>
    public static IReadOnlyList<KpiSlice> Slices(DateOnly from, DateOnly to, KpiPeriod period, FiscalCalendar fiscal)
    {
        ArgumentNullException.ThrowIfNull(fiscal);
        if (period == KpiPeriod.Total) return [new KpiSlice(Iso(from) + ".." + Iso(to), from, to)];
        var slices = new List<KpiSlice>();
        var day = from;
        while (day <= to)
        {
            var (key, _, end) = PeriodOf(day, period, fiscal);
            var last = end < to ? end : to;
            slices.Add(new KpiSlice(key, day, last));
            if (slices.Count > MaxSlices) throw new ValidationFailedException("period", $"The range has more than {MaxSlices} periods of '{Text.Camel(period)}'; choose a longer period or a shorter range.");
            day = last.AddDays(1);
        }
        return slices;
    }

    /// <summary>The period of <paramref name="kind"/> that contains the day: its key ("2026-03-05", "2026-03", "FY2026-Q2", "FY2026"), first and last day.</summary>
    public static (string Key, DateOnly Start, DateOnly End) PeriodOf(DateOnly day, KpiPeriod kind, FiscalCalendar fiscal)
    {
        ArgumentNullException.ThrowIfNull(fiscal);
        switch (kind)
        {
            case KpiPeriod.Day:
                return (Iso(day), day, day);
            case KpiPeriod.Month:
                var first = new DateOnly(day.Year, day.Month, 1);
                return (day.ToString("yyyy-MM", CultureInfo.InvariantCulture), first, first.AddMonths(1).AddDays(-1));
            case KpiPeriod.Quarter:
                var q = fiscal.Containing(day, FiscalPeriodKind.Quarter);
                return ("FY" + q.Text, q.Start, q.End);
            case KpiPeriod.FiscalYear:
                var y = fiscal.Containing(day, FiscalPeriodKind.Year);
                return ("FY" + y.Text, y.Start, y.End);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    /// <summary>The bucket rows a fact of <paramref name="day"/> is counted in: its day, month, calendar year and the all-time row.</summary>
    public static IReadOnlyList<string> RowsOf(DateOnly day) => [DayRow(day), MonthRow(day), YearRow(day), KpiRows.Total];

    /// <summary>yyyy-MM-dd.</summary>
    public static string Iso(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string DayRow(DateOnly day) => "d|" + day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    public static string MonthRow(DateOnly day) => "m|" + day.ToString("yyyyMM", CultureInfo.InvariantCulture);

    public static string YearRow(DateOnly day) => "y|" + day.ToString("yyyy", CultureInfo.InvariantCulture);

    /// <summary>
    /// The fewest bucket rows whose sum is the range: whole calendar years, then whole months, then days. A quarter reads at most 3 rows,
    /// any range at most 2 x 30 days + 2 x 11 months + its whole years: the cost does not depend on how many facts the buckets hold.
    /// </summary>
    public static IReadOnlyList<string> Cover(DateOnly from, DateOnly to)
    {
        var rows = new List<string>();
        var day = from;
        while (day <= to)
        {
            if (day.Month == 1 && day.Day == 1 && day.AddYears(1).AddDays(-1) <= to)
            {
                rows.Add(YearRow(day));
                day = day.AddYears(1);
            }
            else if (day.Day == 1 && day.AddMonths(1).AddDays(-1) <= to)
            {
                rows.Add(MonthRow(day));
                day = day.AddMonths(1);
            }
            else
            {
                rows.Add(DayRow(day));
                day = day.AddDays(1);
            }
        }
        return rows;
    }

    /// <summary>Parses a KPI query's range (yyyy-MM-dd, both inclusive); 400 naming from/to when absent, malformed, reversed or too wide.</summary>
    public static (DateOnly From, DateOnly To) Range(string? from, string? to)
    {
        static DateOnly Parse(string? text, string field) =>
            text is null ? throw new ValidationFailedException(field, $"{field} is required: a day (yyyy-MM-dd).")
            : DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) && d.Year is >= FiscalCalendar.MinYear and < FiscalCalendar.MaxYear
                ? d : throw new ValidationFailedException(field, $"{field} must be a day (yyyy-MM-dd) between {FiscalCalendar.MinYear} and {FiscalCalendar.MaxYear - 1}.");
        var f = Parse(from, "from");
        var t = Parse(to, "to");
        if (t < f) throw new ValidationFailedException("to", "to must not be before from.");
        if (t.DayNumber - f.DayNumber >= MaxRangeDays) throw new ValidationFailedException("to", $"The range may span at most {MaxRangeDays} days.");
        return (f, t);
    }
}

/// <summary>Row keys of the KPI partition of a partner.</summary>
public static class KpiRows
{
    /// <summary>The all-time bucket: the sum of every fact (stocks such as the pipeline are read as this minus what came after a day).</summary>
    public const string Total = "t";

    /// <summary>The partition of the program-wide facts (partner applications: no partner yet); partner ids never take this value.</summary>
    public const string Applications = "applications";
}
