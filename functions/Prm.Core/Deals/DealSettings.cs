using Prm.Core.Common;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Deals;

/// <summary>
/// The deals section of the program settings — the one settings type of deal registration: auto-approval rules, protection, extensions,
/// deadlines and the conflict rules (thresholds and weights). The defaults are the initializers below; configuration section "Deals"
/// may override them at start (tests run the deadlines in seconds); admins override them at run time through the settings API.
/// Auto-approval compares values in the program currency only; a registration in another currency goes to review.
/// </summary>
public sealed record DealSettings
{
    /// <summary>The section's name in the settings API.</summary>
    public const string SectionName = "deals";

    /// <summary>The configuration section that may override the defaults at start.</summary>
    public const string ConfigurationSection = "Deals";

    public bool AutoApprovalEnabled { get; init; } = true;

    /// <summary>The highest conflict level that may still be auto-approved (none, possible, likely).</summary>
    public string AutoApproveMaxConflictLevel { get; init; } = "none";

    /// <summary>The largest estimated value (in the program currency) that may be auto-approved.</summary>
    public decimal AutoApproveMaxValue { get; init; } = 50_000m;

    /// <summary>Partner tiers whose registrations may be auto-approved.</summary>
    public List<string> AutoApproveTiers { get; init; } = ["registered", "silver", "gold", "platinum"];

    /// <summary>Protection after approval unless the decision names protectionDays.</summary>
    public TimeSpan ProtectionPeriod { get; init; } = TimeSpan.FromDays(90);
    public int MaxProtectionDays { get; init; } = 365;
    public int MaxExtensions { get; init; } = 1;
    public int MaxExtensionDays { get; init; } = 90;
    /// <summary>The reviewer is reminded this long after the submission, and the admins get the review this long after it.</summary>
    public TimeSpan ReviewReminderAfter { get; init; } = TimeSpan.FromHours(24);
    public TimeSpan ReviewEscalateAfter { get; init; } = TimeSpan.FromHours(48);

    /// <summary>Reminders to the registering user before protection ends.</summary>
    public TimeSpan ExpiryFirstReminderBefore { get; init; } = TimeSpan.FromDays(14);
    public TimeSpan ExpirySecondReminderBefore { get; init; } = TimeSpan.FromDays(3);

    /// <summary>How long a decision link sent to a reviewer stays valid.</summary>
    public TimeSpan DecisionLinkValidFor { get; init; } = TimeSpan.FromDays(30);

    /// <summary>How far back won deals count as conflicts.</summary>
    public int WonLookbackDays { get; init; } = 366;

    public ConflictRules Conflict { get; init; } = ConflictRules.Default;

    /// <summary>The section of the program settings, with <paramref name="defaults"/> (from code and configuration) for what was never saved.</summary>
    public static SettingsSection<DealSettings> Section(DealSettings defaults) =>
        new(SectionName, () => defaults with { AutoApproveTiers = [.. defaults.AutoApproveTiers] }, (s, _) => { Validate(s); return Task.CompletedTask; });


    public static void Validate(DealSettings s)
    {
        var errors = new Dictionary<string, string[]>();
        void Fail(string field, string message) => errors[field] = [message];
        if (Text.ParseEnum<ConflictLevel>(s.AutoApproveMaxConflictLevel) is not { } level || level == ConflictLevel.Certain)
            Fail("autoApproveMaxConflictLevel", "autoApproveMaxConflictLevel must be none, possible or likely (certain conflicts are never auto-approved).");
        if (s.AutoApproveMaxValue is < 0 or > 1_000_000_000m) Fail("autoApproveMaxValue", "autoApproveMaxValue must be 0 to 1,000,000,000.");
        for (var i = 0; i < s.AutoApproveTiers.Count; i++)
        {
            if (Text.ParseEnum<PartnerTier>(s.AutoApproveTiers[i]) is null) Fail($"autoApproveTiers[{i}]", "autoApproveTiers holds tiers: " + string.Join(", ", Enum.GetValues<PartnerTier>().Select(t => Text.Camel(t))) + ".");
        }
        // Ranges before arithmetic: maxProtectionDays is checked before it becomes a duration.
        if (s.MaxProtectionDays is < 1 or > 730) Fail("maxProtectionDays", "maxProtectionDays must be 1 to 730.");
        else if (s.ProtectionPeriod <= TimeSpan.Zero || s.ProtectionPeriod > TimeSpan.FromDays(s.MaxProtectionDays)) Fail("protectionPeriod", "protectionPeriod must be above zero and at most maxProtectionDays.");
        if (s.MaxExtensions is < 0 or > 10) Fail("maxExtensions", "maxExtensions must be 0 to 10.");
        if (s.MaxExtensionDays is < 1 or > 365) Fail("maxExtensionDays", "maxExtensionDays must be 1 to 365.");
        if (s.ReviewReminderAfter <= TimeSpan.Zero || s.ReviewEscalateAfter <= s.ReviewReminderAfter) Fail("reviewEscalateAfter", "Review deadlines must come in order: 0 < reviewReminderAfter < reviewEscalateAfter.");
        if (s.ExpirySecondReminderBefore <= TimeSpan.Zero || s.ExpiryFirstReminderBefore <= s.ExpirySecondReminderBefore) Fail("expiryFirstReminderBefore", "Expiry reminders must come in order: expiryFirstReminderBefore > expirySecondReminderBefore > 0.");
        if (s.DecisionLinkValidFor <= TimeSpan.Zero || s.DecisionLinkValidFor > TimeSpan.FromDays(90)) Fail("decisionLinkValidFor", "decisionLinkValidFor must be above zero and at most 90 days.");
        if (s.WonLookbackDays is < 0 or > 3650) Fail("wonLookbackDays", "wonLookbackDays must be 0 to 3650.");
        var c = s.Conflict;
        if (!(0 < c.PossibleScore && c.PossibleScore < c.LikelyScore && c.LikelyScore < c.CertainScore && c.CertainScore <= 100)) Fail("conflict", "conflict scores must come in order: 0 < possibleScore < likelyScore < certainScore <= 100.");
        if (c.SimilarNameSimilarity is <= 0 or > 1 || c.StrongNameSimilarity is <= 0 or > 1 || c.SimilarNameSimilarity > c.StrongNameSimilarity) Fail("conflict", "conflict similarities must be in (0, 1] with similarNameSimilarity <= strongNameSimilarity.");
        if (errors.Count > 0) throw new ValidationFailedException(errors, string.Join(" ", errors.Select(e => e.Value[0])), unprocessable: true);
    }
}
