using System.Globalization;
using Prm.Core.Common;
using Prm.Core.Settings;

namespace Prm.Core.Notifications;

/// <summary>
/// Settings section <c>notifications</c>: the program's default <see cref="DeliveryMode"/> per notification kind (a kind left out is
/// immediate; kinds in <see cref="NotificationKinds.AlwaysImmediate"/> only take immediate), when digests go out (the local time of day
/// in each person's time zone, the weekday of the weekly one) and how long a digest period lasts (one day and seven days in production;
/// configuration section "Notifications" sets seconds for tests), and how long an unsubscribe link works.
/// </summary>
public sealed record NotificationSettings
{
    public const string SectionName = "notifications";
    public const string ConfigurationSection = "Notifications";

    /// <summary>The program default per kind (camelCase kind name to mode).</summary>
    public Dictionary<string, DeliveryMode> Defaults { get; init; } = [];

    /// <summary>Length of the daily digest's period. A whole day or more aligns the digest to <see cref="DigestLocalTime"/>.</summary>
    public TimeSpan DailyDigestPeriod { get; init; } = TimeSpan.FromDays(1);

    /// <summary>Length of the weekly digest's period. Seven days or more aligns it to <see cref="WeeklyDigestDay"/> at <see cref="DigestLocalTime"/>.</summary>
    public TimeSpan WeeklyDigestPeriod { get; init; } = TimeSpan.FromDays(7);

    /// <summary>The local time of day ("HH:mm") digests go out, in the recipient's time zone.</summary>
    public string DigestLocalTime { get; init; } = "08:00";

    /// <summary>The weekday the weekly digest goes out.</summary>
    public DayOfWeek WeeklyDigestDay { get; init; } = DayOfWeek.Monday;

    /// <summary>How many days an unsubscribe link works.</summary>
    public int UnsubscribeLinkValidDays { get; init; } = 90;

    /// <summary>The program default of a kind (immediate when not set, and always for the kinds that cannot be turned off).</summary>
    public DeliveryMode DefaultOf(NotificationKind kind) =>
        !NotificationKinds.IsLocked(kind) && Defaults.TryGetValue(NotificationKinds.Name(kind), out var mode) ? mode : DeliveryMode.Immediate;

    /// <summary>The digest time of day as a time.</summary>
    public TimeOnly LocalTime => TimeOnly.ParseExact(DigestLocalTime, "HH:mm", CultureInfo.InvariantCulture);

    public static SettingsSection<NotificationSettings> Section(NotificationSettings defaults) =>
        new(SectionName, () => defaults, (s, _) =>
        {
            var errors = Check(s);
            if (errors.Count > 0) throw new ValidationFailedException(errors, string.Join(" ", errors.Select(e => e.Value[0])), unprocessable: true);
            return Task.CompletedTask;
        });

    /// <summary>Every problem of the values, by field (empty when they are acceptable).</summary>
    public static Dictionary<string, string[]> Check(NotificationSettings s)
    {
        var errors = new Dictionary<string, string[]>();
        void Fail(string field, string message) => errors[field] = [message];
        foreach (var (name, mode) in s.Defaults ?? [])
        {
            if (NotificationPreferenceRules.Check(name, mode) is { } problem) Fail($"defaults.{name}", problem);
        }
        if (s.DailyDigestPeriod < TimeSpan.FromSeconds(1) || s.DailyDigestPeriod > TimeSpan.FromDays(7)) Fail("dailyDigestPeriod", "dailyDigestPeriod is 1 second to 7 days.");
        if (s.WeeklyDigestPeriod < TimeSpan.FromSeconds(1) || s.WeeklyDigestPeriod > TimeSpan.FromDays(31)) Fail("weeklyDigestPeriod", "weeklyDigestPeriod is 1 second to 31 days.");
        if (s.DigestLocalTime is null || !TimeOnly.TryParseExact(s.DigestLocalTime, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            Fail("digestLocalTime", "digestLocalTime is a time of day written HH:mm (e.g. 08:00).");
        if (!Enum.IsDefined(s.WeeklyDigestDay)) Fail("weeklyDigestDay", "weeklyDigestDay is a weekday (monday to sunday).");
        if (s.UnsubscribeLinkValidDays is < 1 or > 3650) Fail("unsubscribeLinkValidDays", "unsubscribeLinkValidDays is 1 to 3650.");
        return errors;
    }
}

/// <summary>The rules of a person's (or the program's) choice for one kind, in one place.</summary>
public static class NotificationPreferenceRules
{
    /// <summary>Why the mode is not acceptable for the kind name; null when it is.</summary>
    public static string? Check(string? kindName, DeliveryMode mode)
    {
        if (NotificationKinds.Parse(kindName) is not { } kind)
            return $"'{kindName}' is no notification kind; the kinds are {string.Join(", ", NotificationKinds.All.Select(NotificationKinds.Name))}.";
        if (!Enum.IsDefined(mode)) return "The mode is immediate, dailyDigest, weeklyDigest or off.";
        if (NotificationKinds.IsLocked(kind) && mode != DeliveryMode.Immediate)
            return $"{NotificationKinds.Name(kind)} cannot be turned off or put in a digest: it carries decisions with deadlines or access to the account.";
        return null;
    }

    /// <summary>A mode written in the API's words (immediate, dailyDigest, weeklyDigest, off); null when it is none of them.</summary>
    public static DeliveryMode? ParseMode(string? text) => text switch
    {
        "immediate" => DeliveryMode.Immediate,
        "dailyDigest" => DeliveryMode.DailyDigest,
        "weeklyDigest" => DeliveryMode.WeeklyDigest,
        "off" => DeliveryMode.Off,
        _ => null,
    };

    /// <summary>The API's word for a mode.</summary>
    public static string Name(DeliveryMode mode) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(mode.ToString());
}
