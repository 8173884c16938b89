using System.Globalization;
using Prm.Core.Common;

namespace Prm.Core.Incentives;

/// <summary>How long an incentive program's periods are: calendar months, quarters or years (UTC).</summary>
public enum IncentivePeriodKind { Monthly, Quarterly, Annual }

/// <summary>
/// One period of a program: its text ("2026-11", "2026-Q4", "2026"), first and last day (inclusive). A transaction is dated in the
/// period that holds its close date; the period ends at <see cref="EndsAt"/> (the next day's start, UTC).
/// </summary>
public sealed record IncentivePeriod(IncentivePeriodKind Kind, string Text, DateOnly Start, DateOnly End)
{
    /// <summary>The instant the period ends: 00:00 UTC of the day after its last day.</summary>
    public DateTimeOffset EndsAt => new(End.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    public bool Contains(DateOnly day) => day >= Start && day <= End;

    public override string ToString() => Text;
}

/// <summary>Period arithmetic of the incentive programs (calendar periods, UTC). Pure.</summary>
public static class IncentivePeriods
{
    public const int MinYear = 2000;
    public const int MaxYear = 2100;

    /// <summary>The period of <paramref name="kind"/> that holds the day.</summary>
    public static IncentivePeriod Containing(IncentivePeriodKind kind, DateOnly day) => kind switch
    {
        IncentivePeriodKind.Monthly => Month(day.Year, day.Month),
        IncentivePeriodKind.Quarterly => Quarter(day.Year, (day.Month - 1) / 3 + 1),
        _ => Year(day.Year),
    };

    /// <summary>The period of <paramref name="kind"/> that holds the instant (its UTC day).</summary>
    public static IncentivePeriod Containing(IncentivePeriodKind kind, DateTimeOffset at) => Containing(kind, DateOnly.FromDateTime(at.UtcDateTime));

    /// <summary>The period right after <paramref name="period"/>.</summary>
    public static IncentivePeriod Next(IncentivePeriod period) => Containing(period.Kind, period.End.AddDays(1));

    /// <summary>The period right before <paramref name="period"/>.</summary>
    public static IncentivePeriod Previous(IncentivePeriod period) => Containing(period.Kind, period.Start.AddDays(-1));

    /// <summary>Reads period text of the kind ("2026-11", "2026-Q4", "2026"); null when it is not one.</summary>
    public static IncentivePeriod? Parse(IncentivePeriodKind kind, string? text)
    {
        if (text is null) return null;
        switch (kind)
        {
            case IncentivePeriodKind.Monthly when text.Length == 7 && text[4] == '-' && Digits(text, 0, 4, out var y) && Digits(text, 5, 2, out var m) && m is >= 1 and <= 12 && InRange(y):
                return Month(y, m);
            case IncentivePeriodKind.Quarterly when text.Length == 7 && text[4] == '-' && text[5] == 'Q' && Digits(text, 0, 4, out var qy) && text[6] is >= '1' and <= '4' && InRange(qy):
                return Quarter(qy, text[6] - '0');
            case IncentivePeriodKind.Annual when text.Length == 4 && Digits(text, 0, 4, out var ay) && InRange(ay):
                return Year(ay);
            default:
                return null;
        }
    }

    /// <summary>What period text of the kind looks like, for messages.</summary>
    public static string Format(IncentivePeriodKind kind) => kind switch
    {
        IncentivePeriodKind.Monthly => "a month such as 2026-11",
        IncentivePeriodKind.Quarterly => "a quarter such as 2026-Q4",
        _ => "a year such as 2026",
    };

    /// <summary>
    /// When the period's transactions stop counting in it and the period closes: its end plus <paramref name="graceDays"/> days. A
    /// transaction dated in the period and recorded by then counts in it; a later one goes to the next open period.
    /// </summary>
    public static DateTimeOffset CutoffOf(IncentivePeriod period, int graceDays) => period.EndsAt.AddDays(graceDays);

    private static IncentivePeriod Month(int year, int month)
    {
        var start = new DateOnly(year, month, 1);
        return new IncentivePeriod(IncentivePeriodKind.Monthly, start.ToString("yyyy-MM", CultureInfo.InvariantCulture), start, start.AddMonths(1).AddDays(-1));
    }

    private static IncentivePeriod Quarter(int year, int quarter)
    {
        var start = new DateOnly(year, 3 * (quarter - 1) + 1, 1);
        return new IncentivePeriod(IncentivePeriodKind.Quarterly, year.ToString(CultureInfo.InvariantCulture) + "-Q" + quarter.ToString(CultureInfo.InvariantCulture), start, start.AddMonths(3).AddDays(-1));
    }

    private static IncentivePeriod Year(int year)
    {
        var start = new DateOnly(year, 1, 1);
        return new IncentivePeriod(IncentivePeriodKind.Annual, year.ToString(CultureInfo.InvariantCulture), start, start.AddYears(1).AddDays(-1));
    }

    private static bool InRange(int year) => year is >= MinYear and <= MaxYear;

    private static bool Digits(string text, int from, int length, out int value)
    {
        value = 0;
        for (var i = from; i < from + length; i++)
        {
            if (!char.IsAsciiDigit(text[i])) return false;
            value = value * 10 + (text[i] - '0');
        }
        return true;
    }
}

/// <summary>One band of a rebate: amounts from <see cref="From"/> (inclusive) to <see cref="To"/> (exclusive; null: no upper end) earn <see cref="Rate"/> %.</summary>
public sealed record RebateSlab(decimal From, decimal? To, decimal Rate);

/// <summary>
/// The rebate arithmetic, exact in decimal (the caller rounds once to the currency's minor unit, half-even). Retrospective: the rate of
/// the slab the total reached applies to the whole total. Prospective: each slab's rate applies to the part of the total in its band.
/// Slabs are contiguous and ordered, the last one open-ended (see <see cref="IncentiveProgramRules"/>); below the first slab nothing is earned.
/// </summary>
public static class SlabMath
{
    /// <summary>The rate (%) of the slab that holds <paramref name="total"/>; 0 below the first slab.</summary>
    public static decimal RateAt(IReadOnlyList<RebateSlab> slabs, decimal total)
    {
        var rate = 0m;
        foreach (var s in slabs)
        {
            if (total >= s.From) rate = s.Rate;
        }
        return rate;
    }

    /// <summary>Retrospective rebate of <paramref name="total"/>: total × the reached slab's rate, unrounded.</summary>
    public static decimal Retrospective(IReadOnlyList<RebateSlab> slabs, decimal total) => total <= 0 ? 0m : total * RateAt(slabs, total) / 100m;

    /// <summary>Prospective rebate of <paramref name="total"/>: the sum over the slabs of the part of the total in the band × its rate, unrounded.</summary>
    public static decimal Prospective(IReadOnlyList<RebateSlab> slabs, decimal total)
    {
        var sum = 0m;
        foreach (var s in slabs)
        {
            if (total <= s.From) break;
            var top = s.To is { } to ? Math.Min(total, to) : total;
            sum += (top - s.From) * s.Rate / 100m;
        }
        return sum;
    }

    /// <summary>The rebate of the total by <paramref name="method"/>, capped, rounded half-even to the currency's minor unit.</summary>
    public static decimal Rebate(IReadOnlyList<RebateSlab> slabs, RebateMethod method, decimal? cap, decimal total, string currency)
    {
        var raw = method == RebateMethod.Retrospective ? Retrospective(slabs, total) : Prospective(slabs, total);
        var rounded = new Money(raw, currency).Round().Amount;
        return cap is { } c ? Math.Min(rounded, c) : rounded;
    }
}
