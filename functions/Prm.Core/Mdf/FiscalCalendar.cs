using System.Globalization;
using Prm.Core.Common;

namespace Prm.Core.Mdf;

/// <summary>Whether a fiscal period is a whole fiscal year or one of its quarters.</summary>
public enum FiscalPeriodKind
{
    /// <summary>A fiscal year, written "2026".</summary>
    Year,

    /// <summary>A fiscal quarter, written "2026-Q4".</summary>
    Quarter,
}

/// <summary>
/// A fiscal year or quarter with its first and last day (both inclusive) and its canonical text ("2026" or "2026-Q4").
/// Create one through <see cref="FiscalCalendar"/>, which knows the month the fiscal year starts in.
/// </summary>
/// <param name="Kind">Year or quarter.</param>
/// <param name="Year">The fiscal year's number: the calendar year in which the fiscal year ends.</param>
/// <param name="Quarter">1 to 4 for a quarter; 0 for a whole year.</param>
/// <param name="Start">First day, inclusive.</param>
/// <param name="End">Last day, inclusive.</param>
public sealed record FiscalPeriod(FiscalPeriodKind Kind, int Year, int Quarter, DateOnly Start, DateOnly End)
{
    /// <summary>Canonical text: "2026" for a year, "2026-Q4" for a quarter.</summary>
    public string Text => Kind == FiscalPeriodKind.Year
        ? Year.ToString(CultureInfo.InvariantCulture)
        : Year.ToString(CultureInfo.InvariantCulture) + "-Q" + Quarter.ToString(CultureInfo.InvariantCulture);

    /// <summary>True when the day lies in the period.</summary>
    public bool Contains(DateOnly date) => date >= Start && date <= End;

    /// <summary>True when the whole inclusive range lies in the period; false as well when <paramref name="to"/> is before <paramref name="from"/>.</summary>
    public bool Contains(DateOnly from, DateOnly to) => from <= to && Contains(from) && Contains(to);

    /// <summary>The canonical text.</summary>
    public override string ToString() => Text;
}

/// <summary>
/// The program's fiscal calendar. The fiscal year starts on the first day of <see cref="FirstMonth"/> and is named by the
/// calendar year in which it ends: with a July start, FY2026 runs from 2025-07-01 to 2026-06-30; with a January start the
/// fiscal year equals the calendar year. Quarters are consecutive three-month blocks from the fiscal year's first day.
/// </summary>
public sealed class FiscalCalendar
{
    /// <summary>Lowest fiscal year accepted in period text.</summary>
    public const int MinYear = 2000;

    /// <summary>Highest fiscal year accepted in period text.</summary>
    public const int MaxYear = 2100;

    /// <summary>The error message for period text that does not parse.</summary>
    public const string FormatMessage = "must be a fiscal year such as 2026 or a fiscal quarter such as 2026-Q4.";

    /// <summary>Creates the calendar of a program whose fiscal year starts in <paramref name="firstMonth"/> (1 = January).</summary>
    /// <exception cref="ArgumentOutOfRangeException">When the month is not 1 to 12.</exception>
    public FiscalCalendar(int firstMonth)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(firstMonth, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstMonth, 12);
        FirstMonth = firstMonth;
    }

    /// <summary>The month (1 = January) the fiscal year starts in.</summary>
    public int FirstMonth { get; }

    /// <summary>
    /// Reads the year and quarter from period text without a calendar: "2026" or "2026-Q4" (the "q" may be lower case,
    /// surrounding white space is ignored). Quarter is 0 for a year. False when the text is not a period or the year is
    /// outside <see cref="MinYear"/>..<see cref="MaxYear"/>.
    /// </summary>
    public static bool TryParseText(string? text, out int year, out int quarter)
    {
        year = 0;
        quarter = 0;
        if (text is null) return false;
        var value = text.Trim();
        if (value.Length is not (4 or 7)) return false;
        if (!value[..4].All(char.IsAsciiDigit)) return false;
        year = int.Parse(value[..4], NumberStyles.None, CultureInfo.InvariantCulture);
        if (year is < MinYear or > MaxYear) return false;
        if (value.Length == 7)
        {
            if (value[4] != '-' || value[5] is not ('Q' or 'q') || value[6] is < '1' or > '4') return false;
            quarter = value[6] - '0';
        }
        return true;
    }

    /// <summary>True when the text is period text <see cref="TryParseText"/> accepts.</summary>
    public static bool IsPeriodText(string? text) => TryParseText(text, out _, out _);

    /// <summary>Parses period text into a period of this calendar; false when the text is not a period.</summary>
    public bool TryParse(string? text, out FiscalPeriod? period)
    {
        period = TryParseText(text, out var year, out var quarter) ? (quarter == 0 ? FiscalYear(year) : FiscalQuarter(year, quarter)) : null;
        return period is not null;
    }

    /// <summary>Parses period text into a period of this calendar.</summary>
    /// <exception cref="ValidationFailedException">On <paramref name="field"/> when the text is not a period.</exception>
    public FiscalPeriod Parse(string? text, string field = "period") =>
        TryParse(text, out var period) ? period! : throw new ValidationFailedException(field, field + " " + FormatMessage);

    /// <summary>The fiscal year named <paramref name="year"/> (the calendar year in which it ends).</summary>
    public FiscalPeriod FiscalYear(int year)
    {
        var start = YearStart(year);
        return new FiscalPeriod(FiscalPeriodKind.Year, year, 0, start, start.AddYears(1).AddDays(-1));
    }

    /// <summary>Quarter 1 to 4 of fiscal year <paramref name="year"/>.</summary>
    public FiscalPeriod FiscalQuarter(int year, int quarter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(quarter, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quarter, 4);
        var start = YearStart(year).AddMonths(3 * (quarter - 1));
        return new FiscalPeriod(FiscalPeriodKind.Quarter, year, quarter, start, start.AddMonths(3).AddDays(-1));
    }

    /// <summary>The fiscal year or quarter (per <paramref name="kind"/>) that contains the day.</summary>
    public FiscalPeriod Containing(DateOnly date, FiscalPeriodKind kind)
    {
        // Months since the fiscal year began, 0..11; the fiscal year ends in the next calendar year unless it starts in January.
        var offset = (date.Month - FirstMonth + 12) % 12;
        var startYear = date.Month >= FirstMonth ? date.Year : date.Year - 1;
        var year = FirstMonth == 1 ? startYear : startYear + 1;
        return kind == FiscalPeriodKind.Year ? FiscalYear(year) : FiscalQuarter(year, offset / 3 + 1);
    }

    /// <summary>The period of the same kind just before <paramref name="period"/> (the source of co-op accrual).</summary>
    public FiscalPeriod Previous(FiscalPeriod period)
    {
        ArgumentNullException.ThrowIfNull(period);
        return period.Kind == FiscalPeriodKind.Year
            ? FiscalYear(period.Year - 1)
            : period.Quarter == 1 ? FiscalQuarter(period.Year - 1, 4) : FiscalQuarter(period.Year, period.Quarter - 1);
    }

    /// <summary>True when the inclusive range lies within the period.</summary>
    public static bool IsWithin(FiscalPeriod period, DateOnly from, DateOnly to)
    {
        ArgumentNullException.ThrowIfNull(period);
        return period.Contains(from, to);
    }

    private DateOnly YearStart(int year) => new(FirstMonth == 1 ? year : year - 1, FirstMonth, 1);
}
