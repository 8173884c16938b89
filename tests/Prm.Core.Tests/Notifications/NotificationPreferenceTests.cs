using Prm.Core.Common;
using Prm.Core.Notifications;
using Prm.Core.Outbox;

namespace Prm.Core.Tests.Notifications;

public sealed class NotificationPreferenceTests
{
    private static NotificationPreferences Parse(string? timeZone, params (string Kind, string Mode)[] modes) =>
        MyNotifications.Parse(new NotificationPreferencesRequest(timeZone, modes.ToDictionary(m => m.Kind, m => m.Mode)));

    [Fact]
    public void A_person_may_digest_or_turn_off_updates()
    {
        var p = Parse("Europe/Berlin", ("dealUpdates", "dailyDigest"), ("tierUpdates", "off"), ("mdfUpdates", "weeklyDigest"));

        p.TimeZone.Should().Be("Europe/Berlin");
        p.ModeOf(NotificationKind.DealUpdates, new NotificationSettings()).Should().Be(DeliveryMode.DailyDigest);
        p.ModeOf(NotificationKind.TierUpdates, new NotificationSettings()).Should().Be(DeliveryMode.Off);
        p.ModeOf(NotificationKind.MdfUpdates, new NotificationSettings()).Should().Be(DeliveryMode.WeeklyDigest);
    }

    [Theory]
    [InlineData("leadOffers", "off")]
    [InlineData("leadOffers", "dailyDigest")]
    [InlineData("invitations", "weeklyDigest")]
    [InlineData("reviewRequests", "off")]
    [InlineData("infoRequests", "dailyDigest")]
    [InlineData("agreements", "off")]
    public void Kinds_with_deadlines_or_access_cannot_be_turned_off_or_digested(string kind, string mode)
    {
        var act = () => Parse(null, (kind, mode));

        var ex = act.Should().Throw<ValidationFailedException>().Which;
        ex.Unprocessable.Should().BeTrue();
        ex.Errors.Should().ContainKey($"preferences.{kind}");
    }

    [Fact]
    public void Immediate_is_accepted_for_a_locked_kind() => Parse(null, ("leadOffers", "immediate")).Modes.Should().ContainKey("leadOffers");

    [Theory]
    [InlineData("noSuchKind", "off", "preferences.noSuchKind")]
    [InlineData("dealUpdates", "sometimes", "preferences.dealUpdates")]
    [InlineData("dealUpdates", "DailyDigest", "preferences.dealUpdates")]
    public void An_unknown_kind_or_mode_is_named(string kind, string mode, string field) =>
        ((Action)(() => Parse(null, (kind, mode)))).Should().Throw<ValidationFailedException>().Which.Errors.Should().ContainKey(field);

    [Theory]
    [InlineData("Mars/Olympus")]
    [InlineData("")]
    [InlineData("CET+1")]
    public void A_time_zone_must_be_an_iana_id(string zone) =>
        ((Action)(() => Parse(zone))).Should().Throw<ValidationFailedException>().Which.Errors.Should().ContainKey("timeZone");

    [Fact]
    public void Kinds_left_out_take_the_program_default_and_locked_kinds_stay_immediate()
    {
        var settings = new NotificationSettings { Defaults = new() { ["contentUpdates"] = DeliveryMode.WeeklyDigest } };
        var stored = new NotificationPreferences(null, new Dictionary<string, DeliveryMode> { ["leadOffers"] = DeliveryMode.Off });

        stored.ModeOf(NotificationKind.ContentUpdates, settings).Should().Be(DeliveryMode.WeeklyDigest);
        stored.ModeOf(NotificationKind.DealUpdates, settings).Should().Be(DeliveryMode.Immediate);
        stored.ModeOf(NotificationKind.LeadOffers, settings).Should().Be(DeliveryMode.Immediate, "a stored choice cannot unlock a locked kind");
    }

    [Fact]
    public void The_program_cannot_default_a_locked_kind_to_off()
    {
        var errors = NotificationSettings.Check(new NotificationSettings { Defaults = new() { ["invitations"] = DeliveryMode.Off, ["dealUpdates"] = DeliveryMode.DailyDigest } });

        errors.Should().ContainKey("defaults.invitations").And.NotContainKey("defaults.dealUpdates");
    }

    [Theory]
    [InlineData("00:00:00", "dailyDigestPeriod")]
    [InlineData("8.00:00:00", "dailyDigestPeriod")]
    public void Digest_periods_are_bounded(string period, string field) =>
        NotificationSettings.Check(new NotificationSettings { DailyDigestPeriod = TimeSpan.Parse(period, System.Globalization.CultureInfo.InvariantCulture) }).Should().ContainKey(field);

    [Fact]
    public void A_digest_time_of_day_is_hh_mm() =>
        NotificationSettings.Check(new NotificationSettings { DigestLocalTime = "8am" }).Should().ContainKey("digestLocalTime");

    [Theory]
    [InlineData("carl@example.com", "carl@example.com", true)]
    [InlineData("Carl@Example.com", "carl@example.com", true)]
    [InlineData("ann@example.com", "carl@example.com", false)]
    [InlineData(null, "carl@example.com", false)]
    public void Nobody_is_emailed_about_their_own_action(string? actor, string to, bool own) =>
        NotificationGate.IsOwnAction(new EmailMessage(to, null, "s", "t", "<p>h</p>", "deal-approved", actor)).Should().Be(own);

    [Fact]
    public void An_unsubscribe_link_adds_the_one_click_headers_a_text_line_and_a_footer_link()
    {
        var email = new EmailComposer().Compose("tier-notice", "ann@example.com", "Ann", new { userName = "Ann" });

        var with = EmailComposer.WithUnsubscribe(email, "https://api.example.com/api/notifications/unsubscribe/abc", "tier updates");

        with.Headers.Should().Contain("List-Unsubscribe", "<https://api.example.com/api/notifications/unsubscribe/abc>")
            .And.Contain("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        with.Text.Should().Contain("Stop emails about tier updates: https://api.example.com/api/notifications/unsubscribe/abc");
        with.Text.IndexOf("Stop emails", StringComparison.Ordinal).Should().BeLessThan(with.Text.IndexOf("\n-- \n", StringComparison.Ordinal), "the link is above the footer");
        with.Html.Should().Contain("href=\"https://api.example.com/api/notifications/unsubscribe/abc\"").And.NotContain(EmailComposer.UnsubscribeMarker);
    }

    [Fact]
    public void A_digest_lists_an_email_without_its_footer() =>
        NotificationGate.BodyOf("Hello Ann,\n\nyour tier changed.\n\n-- \nPartner Program\n").Should().Be("Hello Ann,\n\nyour tier changed.");
}
