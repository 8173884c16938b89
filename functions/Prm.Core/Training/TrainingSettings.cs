using Prm.Core.Common;
using Prm.Core.Settings;

namespace Prm.Core.Training;

/// <summary>
/// The training section of the program settings — the one settings type of training and certification: the exam defaults a course
/// takes when it names none, the attempt window, and the length of a certification day. The defaults are the initializers below;
/// configuration section "Training" may override them at start (tests shorten <see cref="DayLength"/> so that a month of validity
/// passes in seconds); admins override them at run time through the settings API.
/// </summary>
public sealed record TrainingSettings
{
    public const string SectionName = "training";
    public const string ConfigurationSection = "Training";

    /// <summary>The pass score (%) of an exam that names none.</summary>
    public int DefaultPassScore { get; init; } = 80;

    /// <summary>The attempts a person may start per <see cref="AttemptWindow"/> and course, unless the exam names another number.</summary>
    public int DefaultMaxAttempts { get; init; } = 3;

    /// <summary>The rolling window <see cref="DefaultMaxAttempts"/> counts in.</summary>
    public TimeSpan AttemptWindow { get; init; } = TimeSpan.FromDays(30);

    /// <summary>The wait after a failed attempt, unless the exam names another.</summary>
    public TimeSpan DefaultCooldown { get; init; } = TimeSpan.FromHours(24);

    /// <summary>The time limit of an attempt, unless the exam names another.</summary>
    public TimeSpan DefaultTimeLimit { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// How long one day of a certification's calendar lasts (validity, reminders, grace, renewal window). One day in production; a
    /// shorter day makes every certification deadline proportionally shorter (a month is then 30 such days).
    /// </summary>
    public TimeSpan DayLength { get; init; } = TimeSpan.FromDays(1);

    public static SettingsSection<TrainingSettings> Section(TrainingSettings defaults) =>
        new(SectionName, () => defaults, (s, _) => { Validate(s); return Task.CompletedTask; });

    public static void Validate(TrainingSettings s)
    {
        var errors = new Dictionary<string, string[]>();
        void Fail(string field, string message) => errors[field] = [message];
        if (s.DefaultPassScore is < 1 or > 100) Fail("defaultPassScore", "defaultPassScore must be 1 to 100.");
        if (s.DefaultMaxAttempts is < 1 or > 100) Fail("defaultMaxAttempts", "defaultMaxAttempts must be 1 to 100.");
        if (s.AttemptWindow < TimeSpan.FromMinutes(1) || s.AttemptWindow > TimeSpan.FromDays(366)) Fail("attemptWindow", "attemptWindow must be 1 minute to 366 days.");
        if (s.DefaultCooldown < TimeSpan.Zero || s.DefaultCooldown > TimeSpan.FromDays(30)) Fail("defaultCooldown", "defaultCooldown must be 0 to 30 days.");
        if (s.DefaultTimeLimit < TimeSpan.FromSeconds(1) || s.DefaultTimeLimit > TimeSpan.FromHours(24)) Fail("defaultTimeLimit", "defaultTimeLimit must be 1 second to 24 hours.");
        if (s.DayLength < TimeSpan.FromMilliseconds(10) || s.DayLength > TimeSpan.FromDays(1)) Fail("dayLength", "dayLength must be 10 milliseconds to 1 day.");
        if (errors.Count > 0) throw new ValidationFailedException(errors, string.Join(" ", errors.Select(e => e.Value[0])), unprocessable: true);
    }
}
