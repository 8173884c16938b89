using Prm.Core.Common;
using Prm.Core.Settings;

namespace Prm.Core.Plans;

/// <summary>
/// The "plans" section of the program settings (PUT /api/settings/plans): when a quarter's review is due before the quarter ends, and
/// how long after the quarter's end an unrecorded review reminds the channel manager. The defaults are the initializers below;
/// configuration section "Plans" may override them at start (tests make the review due at once); admins change them at run time.
/// The fiscal calendar is the program's one (mdf settings, fiscalYearFirstMonth).
/// </summary>
public sealed record PlanSettings
{
    public const string SectionName = "plans";
    public const string ConfigurationSection = "Plans";

    /// <summary>The longest lead: a quarter is at most 92 days, so a review is never due before its quarter begins.</summary>
    public static readonly TimeSpan MaxReviewLead = TimeSpan.FromDays(92);

    /// <summary>How long before a quarter ends its review is due (the agenda goes out then).</summary>
    public TimeSpan ReviewLead { get; init; } = TimeSpan.FromDays(14);

    /// <summary>How long after a quarter ends an unrecorded review reminds the channel manager.</summary>
    public TimeSpan ReviewReminderAfter { get; init; } = TimeSpan.FromDays(7);

    public static SettingsSection<PlanSettings> Section(PlanSettings defaults) =>
        new(SectionName, () => defaults, (s, _) => { Validate(s); return Task.CompletedTask; });

    public static void Validate(PlanSettings s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var errors = new Dictionary<string, string[]>();
        if (s.ReviewLead < TimeSpan.FromSeconds(1) || s.ReviewLead > MaxReviewLead) errors["reviewLead"] = ["reviewLead must be 1 second to 92 days."];
        if (s.ReviewReminderAfter < TimeSpan.FromSeconds(1) || s.ReviewReminderAfter > TimeSpan.FromDays(90)) errors["reviewReminderAfter"] = ["reviewReminderAfter must be 1 second to 90 days."];
        if (errors.Count > 0) throw new ValidationFailedException(errors, string.Join(" ", errors.Select(e => e.Value[0])), unprocessable: true);
    }
}
