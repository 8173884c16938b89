using Prm.Core.Common;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Mdf;

/// <summary>
/// The "mdf" section of the program settings (PUT /api/settings/mdf): fiscal calendar, activity types per tier, the second-approval
/// threshold, request and claim-review deadlines, the default claim deadline and the claim reminders. The one settings type of MDF:
/// the defaults are the initializers below; configuration section "Mdf" may override them at start (tests run deadlines in seconds);
/// admins override them at run time through the settings API.
/// </summary>
public sealed record MdfSettings
{
    /// <summary>The section's name in the settings API.</summary>
    public const string SectionName = "mdf";

    /// <summary>The configuration section that may override the defaults at start.</summary>
    public const string ConfigurationSection = "Mdf";

    /// <summary>The month (1 = January) the program's fiscal year starts in.</summary>
    public int FiscalYearFirstMonth { get; init; } = 1;

    /// <summary>Tier (camelCase) to the activity types (camelCase) its partners may request; a tier that is absent may request every type.</summary>
    public Dictionary<string, List<string>> AllowedActivityTypesByTier { get; init; } = [];

    /// <summary>
    /// A fund request whose approved amount (in the budget's currency; no FX conversion) is above this needs a second approval by another
    /// admin. The approved amount counts, not the requested one: lowering the amount below the threshold is a decision of its own.
    /// </summary>
    public decimal SecondApprovalAbove { get; init; } = 10_000m;

    public TimeSpan RequestReminderAfter { get; init; } = TimeSpan.FromHours(48);
    public TimeSpan RequestEscalateAfter { get; init; } = TimeSpan.FromHours(96);

    /// <summary>Claim deadline when the approver sets none: this many days after the activity ends.</summary>
    public int DefaultClaimDeadlineDays { get; init; } = 60;

    /// <summary>Days before the claim deadline on which the partner is reminded.</summary>
    public List<int> ClaimReminderDaysBefore { get; init; } = [14, 3];

    public TimeSpan ClaimReviewReminderAfter { get; init; } = TimeSpan.FromHours(48);
    public TimeSpan ClaimReviewEscalateAfter { get; init; } = TimeSpan.FromHours(96);

    public FiscalCalendar Calendar() => new(FiscalYearFirstMonth);

    public bool Allows(PartnerTier tier, MdfActivityType type) =>
        !AllowedActivityTypesByTier.TryGetValue(Text.Camel(tier), out var allowed) || allowed.Any(a => Text.ParseEnum<MdfActivityType>(a) == type);

    /// <summary>Whether approving <paramref name="approved"/> needs a second admin's approval (see <see cref="SecondApprovalAbove"/>).</summary>
    public bool NeedsSecondApproval(Money approved) => approved.Amount > SecondApprovalAbove;

    /// <summary>The section of the program settings, with <paramref name="defaults"/> (from code and configuration) for what was never saved.</summary>
    public static SettingsSection<MdfSettings> Section(MdfSettings defaults) =>
        new(SectionName, () => defaults with
        {
            AllowedActivityTypesByTier = defaults.AllowedActivityTypesByTier.ToDictionary(e => e.Key, e => e.Value.ToList()),
            ClaimReminderDaysBefore = [.. defaults.ClaimReminderDaysBefore],
        }, (s, _) => { Validate(s); return Task.CompletedTask; });

    public static void Validate(MdfSettings s)
    {
        var errors = new Dictionary<string, string[]>();
        void Fail(string field, string message) => errors[field] = [message];
        if (s.FiscalYearFirstMonth is < 1 or > 12) Fail("fiscalYearFirstMonth", "fiscalYearFirstMonth must be 1 (January) to 12.");
        foreach (var (tier, types) in s.AllowedActivityTypesByTier)
        {
            if (Text.ParseEnum<PartnerTier>(tier) is null) Fail($"allowedActivityTypesByTier.{tier}", "Keys are tiers: " + string.Join(", ", Enum.GetValues<PartnerTier>().Select(t => Text.Camel(t))) + ".");
            else if (types.Any(t => Text.ParseEnum<MdfActivityType>(t) is null)) Fail($"allowedActivityTypesByTier.{tier}", "Values are activity types: " + string.Join(", ", Enum.GetValues<MdfActivityType>().Select(t => Text.Camel(t))) + ".");
        }
        if (s.SecondApprovalAbove <= 0 || s.SecondApprovalAbove > MdfMoney.MaxAmount) Fail("secondApprovalAbove", "secondApprovalAbove must be above 0 and at most 1,000,000,000.");
        if (s.DefaultClaimDeadlineDays is < 1 or > 730) Fail("defaultClaimDeadlineDays", "defaultClaimDeadlineDays must be 1 to 730.");
        if (s.ClaimReminderDaysBefore.Count > 5 || s.ClaimReminderDaysBefore.Any(d => d is < 1 or > 365)) Fail("claimReminderDaysBefore", "claimReminderDaysBefore holds at most 5 day counts of 1 to 365.");
        Positive(s.RequestReminderAfter, "requestReminderAfter");
        Positive(s.RequestEscalateAfter, "requestEscalateAfter");
        Positive(s.ClaimReviewReminderAfter, "claimReviewReminderAfter");
        Positive(s.ClaimReviewEscalateAfter, "claimReviewEscalateAfter");
        if (s.RequestReminderAfter >= s.RequestEscalateAfter) Fail("requestEscalateAfter", "requestReminderAfter must come before requestEscalateAfter.");
        if (s.ClaimReviewReminderAfter >= s.ClaimReviewEscalateAfter) Fail("claimReviewEscalateAfter", "claimReviewReminderAfter must come before claimReviewEscalateAfter.");
        if (errors.Count > 0) throw new ValidationFailedException(errors, string.Join(" ", errors.Select(e => e.Value[0])), unprocessable: true);

        void Positive(TimeSpan value, string field)
        {
            if (value <= TimeSpan.Zero || value > TimeSpan.FromDays(400)) Fail(field, $"{field} must be a duration above zero and at most 400 days.");
        }
    }
}
