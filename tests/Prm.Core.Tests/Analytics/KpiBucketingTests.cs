using Prm.Core.Analytics;
using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Core.Mdf;

namespace Prm.Core.Tests.Analytics;

public class KpiBucketingTests
{
    private static readonly AnalyticsCalendar Utc = new(TimeZoneInfo.Utc);
    private static readonly AnalyticsCalendar Berlin = new(TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"));
    private static readonly AnalyticsCalendar NewYork = new(TimeZoneInfo.FindSystemTimeZoneById("America/New_York"));

    [Theory]
    [InlineData("2026-03-31T22:59:59Z", "2026-04-01")] // summer time (+02:00) since 2026-03-29: 00:59:59 local
    [InlineData("2026-03-31T21:59:59Z", "2026-03-31")]
    [InlineData("2026-03-31T22:00:00Z", "2026-04-01")]
    [InlineData("2026-12-31T22:59:59Z", "2026-12-31")] // winter time (+01:00)
    [InlineData("2026-12-31T23:00:00Z", "2027-01-01")]
    public void A_fact_falls_on_the_programs_local_day(string instant, string berlinDay)
    {
        var at = DateTimeOffset.Parse(instant, System.Globalization.CultureInfo.InvariantCulture);
        var expected = DateOnly.Parse(berlinDay, System.Globalization.CultureInfo.InvariantCulture);
        Berlin.DayOf(at).Should().Be(expected);
    }

    [Fact]
    public void The_same_instant_falls_on_different_days_in_different_time_zones_at_a_day_edge()
    {
        var at = new DateTimeOffset(2026, 7, 1, 2, 30, 0, TimeSpan.Zero); // 04:30 in Berlin, 22:30 the evening before in New York
        Utc.DayOf(at).Should().Be(new DateOnly(2026, 7, 1));
        Berlin.DayOf(at).Should().Be(new DateOnly(2026, 7, 1));
        NewYork.DayOf(at).Should().Be(new DateOnly(2026, 6, 30));
        // A quarter boundary follows the local day: with a July fiscal start, June 30th in New York is the last day of FY2026.
        AnalyticsCalendar.PeriodOf(NewYork.DayOf(at), KpiPeriod.FiscalYear, new FiscalCalendar(7)).Key.Should().Be("FY2026");
        AnalyticsCalendar.PeriodOf(Utc.DayOf(at), KpiPeriod.FiscalYear, new FiscalCalendar(7)).Key.Should().Be("FY2027");
    }

    [Fact]
    public void A_range_is_covered_by_whole_years_then_whole_months_then_days()
    {
        AnalyticsCalendar.Cover(new DateOnly(2026, 1, 1), new DateOnly(2026, 3, 31)).Should().Equal("m|202601", "m|202602", "m|202603");
        AnalyticsCalendar.Cover(new DateOnly(2025, 12, 30), new DateOnly(2027, 2, 2)).Should().Equal(
            "d|20251230", "d|20251231", "y|2026", "m|202701", "d|20270201", "d|20270202");
        AnalyticsCalendar.Cover(new DateOnly(2026, 2, 27), new DateOnly(2026, 3, 1)).Should().Equal("d|20260227", "d|20260228", "d|20260301");
    }

    [Fact]
    public void A_quarter_reads_three_bucket_rows_whatever_the_number_of_facts()
    {
        var fiscal = new FiscalCalendar(4);
        var q = fiscal.FiscalQuarter(2027, 3); // Oct-Dec 2026 with an April start
        AnalyticsCalendar.Cover(q.Start, q.End).Should().HaveCount(3);
    }

    [Fact]
    public void Fiscal_quarters_and_years_follow_the_first_month_and_are_clipped_to_the_range()
    {
        var fiscal = new FiscalCalendar(7);
        var slices = AnalyticsCalendar.Slices(new DateOnly(2026, 5, 15), new DateOnly(2026, 10, 2), KpiPeriod.Quarter, fiscal);
        slices.Should().Equal(
            new KpiSlice("FY2026-Q4", new DateOnly(2026, 5, 15), new DateOnly(2026, 6, 30)),
            new KpiSlice("FY2027-Q1", new DateOnly(2026, 7, 1), new DateOnly(2026, 9, 30)),
            new KpiSlice("FY2027-Q2", new DateOnly(2026, 10, 1), new DateOnly(2026, 10, 2)));
        AnalyticsCalendar.Slices(new DateOnly(2026, 5, 15), new DateOnly(2026, 10, 2), KpiPeriod.FiscalYear, fiscal).Select(s => s.Key).Should().Equal("FY2026", "FY2027");
        AnalyticsCalendar.Slices(new DateOnly(2026, 5, 15), new DateOnly(2026, 10, 2), KpiPeriod.Quarter, new FiscalCalendar(1)).Select(s => s.Key)
            .Should().Equal("FY2026-Q2", "FY2026-Q3", "FY2026-Q4");
        AnalyticsCalendar.Slices(new DateOnly(2026, 1, 30), new DateOnly(2026, 3, 1), KpiPeriod.Month, fiscal).Select(s => s.Key).Should().Equal("2026-01", "2026-02", "2026-03");
        AnalyticsCalendar.Slices(new DateOnly(2026, 1, 30), new DateOnly(2026, 3, 1), KpiPeriod.Total, fiscal).Should().ContainSingle().Which.Key.Should().Be("2026-01-30..2026-03-01");
    }

    [Fact]
    public void Too_many_periods_and_bad_ranges_name_the_field()
    {
        FluentActions.Invoking(() => AnalyticsCalendar.Slices(new DateOnly(2020, 1, 1), new DateOnly(2026, 1, 1), KpiPeriod.Day, new FiscalCalendar(1)))
            .Should().Throw<ValidationFailedException>().Which.Errors.Keys.Should().Equal("period");
        FluentActions.Invoking(() => AnalyticsCalendar.Range("2026-02-01", "2026-01-01")).Should().Throw<ValidationFailedException>().Which.Errors.Keys.Should().Equal("to");
        FluentActions.Invoking(() => AnalyticsCalendar.Range("2026-13-01", "2026-01-01")).Should().Throw<ValidationFailedException>().Which.Errors.Keys.Should().Equal("from");
        FluentActions.Invoking(() => AnalyticsCalendar.Range(null, "2026-01-01")).Should().Throw<ValidationFailedException>().Which.Errors.Keys.Should().Equal("from");
    }

    [Theory]
    [InlineData("partner", KpiGroupBy.Partner)]
    [InlineData("channelManager", KpiGroupBy.ChannelManager)]
    [InlineData("productLine", KpiGroupBy.ProductLine)]
    public void GroupBy_values_parse(string text, KpiGroupBy expected) => AnalyticsQueries.ParseGroupBy(text).Should().Be(expected);

    [Theory]
    [InlineData("country")]
    [InlineData("Partner")]
    [InlineData("partner;drop")]
    [InlineData("")]
    public void A_groupBy_that_does_not_exist_names_groupBy(string text) =>
        FluentActions.Invoking(() => AnalyticsQueries.ParseGroupBy(text)).Should().Throw<ValidationFailedException>().Which.Errors.Keys.Should().Equal("groupBy");
}
