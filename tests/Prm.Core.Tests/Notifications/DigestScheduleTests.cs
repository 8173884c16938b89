using Prm.Core.Notifications;

namespace Prm.Core.Tests.Notifications;

public sealed class DigestScheduleTests
{
    private static readonly NotificationSettings Production = new();

    [Fact]
    public void The_daily_digest_goes_out_at_eight_in_the_persons_time_zone()
    {
        // 2026-12-01 06:30 UTC is 07:30 in Berlin (CET, UTC+1): today's 08:00 Berlin is 07:00 UTC.
        var next = Digests.NextAt(new DateTimeOffset(2026, 12, 1, 6, 30, 0, TimeSpan.Zero), "Europe/Berlin", DigestCadence.Daily, Production);

        next.Should().Be(new DateTimeOffset(2026, 12, 1, 7, 0, 0, TimeSpan.Zero));
    }

    [Fact]
    public void After_the_time_of_day_the_next_daily_digest_is_tomorrow()
    {
        var next = Digests.NextAt(new DateTimeOffset(2026, 12, 1, 7, 0, 0, TimeSpan.Zero), "Europe/Berlin", DigestCadence.Daily, Production);

        next.Should().Be(new DateTimeOffset(2026, 12, 2, 7, 0, 0, TimeSpan.Zero), "exactly at the time counts as sent");
    }

    [Fact]
    public void The_weekly_digest_goes_out_on_the_configured_weekday()
    {
        // Tuesday 2026-12-01 in New York: the next Monday is 2026-12-07, 08:00 EST = 13:00 UTC.
        var next = Digests.NextAt(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero), "America/New_York", DigestCadence.Weekly, Production);

        next.Should().Be(new DateTimeOffset(2026, 12, 7, 13, 0, 0, TimeSpan.Zero));
        next.DayOfWeek.Should().Be(DayOfWeek.Monday);
    }

    [Fact]
    public void A_time_of_day_in_a_daylight_saving_gap_moves_forward()
    {
        var settings = new NotificationSettings { DigestLocalTime = "02:30" };

        // 2027-03-28: Berlin jumps from 02:00 to 03:00 CEST; 02:30 does not exist and becomes 03:30 CEST = 01:30 UTC.
        var next = Digests.NextAt(new DateTimeOffset(2027, 3, 27, 23, 0, 0, TimeSpan.Zero), "Europe/Berlin", DigestCadence.Daily, settings);

        next.Should().Be(new DateTimeOffset(2027, 3, 28, 1, 30, 0, TimeSpan.Zero));
    }

    [Fact]
    public void A_shortened_period_counts_from_now()
    {
        var settings = new NotificationSettings { DailyDigestPeriod = TimeSpan.FromSeconds(5), WeeklyDigestPeriod = TimeSpan.FromSeconds(20) };
        var now = new DateTimeOffset(2026, 12, 1, 6, 30, 0, TimeSpan.Zero);

        Digests.NextAt(now, "Europe/Berlin", DigestCadence.Daily, settings).Should().Be(now.AddSeconds(5));
        Digests.NextAt(now, "Europe/Berlin", DigestCadence.Weekly, settings).Should().Be(now.AddSeconds(20));
    }
}
