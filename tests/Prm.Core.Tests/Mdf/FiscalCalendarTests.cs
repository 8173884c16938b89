using Prm.Core.Common;
using Prm.Core.Mdf;

namespace Prm.Core.Tests.Mdf;

public class MdfFiscalCalendarTests
{
    private static readonly FiscalCalendar January = new(1);
    private static readonly FiscalCalendar July = new(7);

    private static DateOnly D(string iso) => DateOnly.Parse(iso, System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData(1, "2026", "2026-01-01", "2026-12-31")]
    [InlineData(1, "2026-Q1", "2026-01-01", "2026-03-31")]
    [InlineData(1, "2026-Q4", "2026-10-01", "2026-12-31")]
    [InlineData(7, "2026", "2025-07-01", "2026-06-30")]
    [InlineData(7, "2026-Q1", "2025-07-01", "2025-09-30")]
    [InlineData(7, "2026-Q3", "2026-01-01", "2026-03-31")]
    [InlineData(7, "2026-Q4", "2026-04-01", "2026-06-30")]
    [InlineData(2, "2024-Q1", "2023-02-01", "2023-04-30")]
    [InlineData(12, "2024-Q1", "2023-12-01", "2024-02-29")]
    public void Parse_gives_inclusive_start_and_end(int firstMonth, string text, string start, string end)
    {
        var period = new FiscalCalendar(firstMonth).Parse(text);

        period.Start.Should().Be(D(start));
        period.End.Should().Be(D(end));
        period.Text.Should().Be(text);
    }

    [Fact]
    public void Parse_accepts_a_lower_case_q_and_blanks_and_returns_the_canonical_text()
    {
        var period = July.Parse(" 2026-q2 ");

        period.Text.Should().Be("2026-Q2");
        period.ToString().Should().Be("2026-Q2");
        period.Kind.Should().Be(FiscalPeriodKind.Quarter);
        period.Quarter.Should().Be(2);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("26")]
    [InlineData("2026-Q5")]
    [InlineData("2026-Q0")]
    [InlineData("2026Q4")]
    [InlineData("2026-H1")]
    [InlineData("1999")]
    [InlineData("2101")]
    [InlineData("２０２６")]
    [InlineData("2026-Q4x")]
    public void Invalid_period_text_is_refused_on_the_field(string? text)
    {
        FiscalCalendar.IsPeriodText(text).Should().BeFalse();
        January.TryParse(text, out var period).Should().BeFalse();
        period.Should().BeNull();

        var act = () => January.Parse(text, "period");

        act.Should().Throw<ValidationFailedException>().Which.Errors.Keys.Should().Equal("period");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(13)]
    public void The_first_month_must_be_a_month(int month)
    {
        var act = () => new FiscalCalendar(month);

        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Theory]
    [InlineData(1, "2026-01-01", "2026", "2026-Q1")]
    [InlineData(1, "2026-12-31", "2026", "2026-Q4")]
    [InlineData(1, "2026-04-01", "2026", "2026-Q2")]
    [InlineData(7, "2025-07-01", "2026", "2026-Q1")]
    [InlineData(7, "2026-06-30", "2026", "2026-Q4")]
    [InlineData(7, "2026-07-01", "2027", "2027-Q1")]
    [InlineData(7, "2026-02-15", "2026", "2026-Q3")]
    [InlineData(7, "2025-12-31", "2026", "2026-Q2")]
    public void Containing_finds_the_fiscal_year_and_quarter_of_a_day(int firstMonth, string day, string year, string quarter)
    {
        var calendar = new FiscalCalendar(firstMonth);

        calendar.Containing(D(day), FiscalPeriodKind.Year).Text.Should().Be(year);
        calendar.Containing(D(day), FiscalPeriodKind.Quarter).Text.Should().Be(quarter);
        calendar.Containing(D(day), FiscalPeriodKind.Quarter).Contains(D(day)).Should().BeTrue();
    }

    [Fact]
    public void Every_day_of_several_years_lies_in_exactly_the_quarter_and_year_containing_it()
    {
        foreach (var calendar in new[] { January, July, new FiscalCalendar(4) })
        {
            for (var day = D("2024-01-01"); day <= D("2027-12-31"); day = day.AddDays(1))
            {
                var quarter = calendar.Containing(day, FiscalPeriodKind.Quarter);
                var year = calendar.Containing(day, FiscalPeriodKind.Year);
                quarter.Contains(day).Should().BeTrue();
                year.Contains(day).Should().BeTrue();
                quarter.Year.Should().Be(year.Year);
                calendar.Parse(quarter.Text).Should().Be(quarter);
            }
        }
    }

    [Theory]
    [InlineData(1, "2026-Q1", "2025-Q4")]
    [InlineData(1, "2026-Q3", "2026-Q2")]
    [InlineData(1, "2026", "2025")]
    [InlineData(7, "2026-Q1", "2025-Q4")]
    [InlineData(7, "2026", "2025")]
    public void Previous_is_the_period_of_the_same_kind_just_before(int firstMonth, string text, string expected)
    {
        var calendar = new FiscalCalendar(firstMonth);
        var period = calendar.Parse(text);

        var previous = calendar.Previous(period);

        previous.Text.Should().Be(expected);
        previous.End.AddDays(1).Should().Be(period.Start);
    }

    [Theory]
    [InlineData("2026-04-01", "2026-06-30", true)]
    [InlineData("2026-05-10", "2026-05-10", true)]
    [InlineData("2026-03-31", "2026-04-02", false)]
    [InlineData("2026-06-30", "2026-07-01", false)]
    [InlineData("2026-06-01", "2026-05-01", false)]
    public void A_date_range_lies_within_a_period_only_when_both_ends_do(string from, string to, bool expected)
    {
        var q4 = July.Parse("2026-Q4");

        q4.Contains(D(from), D(to)).Should().Be(expected);
        FiscalCalendar.IsWithin(q4, D(from), D(to)).Should().Be(expected);
    }
}
