using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Onboarding;

/// <summary>Who reviews the applications of a country or a region (the first rule that matches wins; country rules before region rules).</summary>
public sealed record ReviewerAssignment(string? Country, string? Region, string ChannelManagerId);

/// <summary>
/// The onboarding section of the program settings — the one settings type of onboarding: fit-score rules, reviewer assignment, review,
/// information and agreement deadlines, the current agreement version, checklist reminders. The defaults are the initializers below;
/// configuration may override them at start (tests run the deadlines in seconds): section "Onboarding" (fit rules, checklist reminders),
/// section "Review" (review and information deadlines, same names) and section "Agreement" (FirstReminderAfter, SecondReminderAfter,
/// ExpiresAfter, CurrentVersion). Admins override them at run time through the settings API (PUT /api/settings/onboarding).
/// </summary>
public sealed record OnboardingSettings
{
    /// <summary>The section's name in the settings API.</summary>
    public const string SectionName = "onboarding";

    /// <summary>The configuration section that may override the fit rules and checklist reminders at start.</summary>
    public const string ConfigurationSection = "Onboarding";

    /// <summary>The configuration section that may override the review and information deadlines at start (keys named as here).</summary>
    public const string ReviewConfigurationSection = "Review";

    /// <summary>The configuration section that may override the agreement deadlines and version at start (keys without the "Agreement" prefix).</summary>
    public const string AgreementConfigurationSection = "Agreement";

    /// <summary>Countries the program recruits in (ISO alpha-2).</summary>
    public List<string> TargetCountries { get; init; } = ["US", "CA", "GB", "DE", "FR", "NL", "AT", "CH", "SE", "AU"];

    /// <summary>Points for a target country.</summary>
    public int TargetCountryPoints { get; init; } = 40;

    /// <summary>Points by partner type (camelCase names).</summary>
    public Dictionary<string, int> PartnerTypePoints { get; init; } = new() { ["reseller"] = 30, ["msp"] = 30, ["distributor"] = 25, ["agent"] = 15, ["referral"] = 10 };

    /// <summary>Points by expected annual revenue band.</summary>
    public Dictionary<string, int> RevenueBandPoints { get; init; } = new() { ["<100k"] = 5, ["100k-1m"] = 15, ["1m-10m"] = 25, [">10m"] = 30 };

    /// <summary>Assignment of channel managers by country or region; without a match, the channel manager of the applicant's region, else the admins.</summary>
    public List<ReviewerAssignment> Assignments { get; init; } = [];

    /// <summary>Reminder to the assignee.</summary>
    public TimeSpan ReviewReminderAfter { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Escalation to the program admins.</summary>
    public TimeSpan ReviewEscalateAfter { get; init; } = TimeSpan.FromHours(48);

    /// <summary>Expiry of an undecided application (the applicant is told).</summary>
    public TimeSpan ReviewExpiresAfter { get; init; } = TimeSpan.FromDays(14);

    /// <summary>How long an applicant has to answer a request for information (no answer: the application expires).</summary>
    public TimeSpan InfoAnswerWithin { get; init; } = TimeSpan.FromDays(14);

    /// <summary>The agreement version new partners accept (uploaded with PUT /api/settings/agreements/{version}).</summary>
    public string AgreementVersion { get; init; } = AgreementVersions.Seeded;

    /// <summary>Reminders of the agreement offer and its expiry, after the approval.</summary>
    public TimeSpan AgreementFirstReminderAfter { get; init; } = TimeSpan.FromDays(3);
    public TimeSpan AgreementSecondReminderAfter { get; init; } = TimeSpan.FromDays(7);
    public TimeSpan AgreementExpiresAfter { get; init; } = TimeSpan.FromDays(30);

    /// <summary>Reminders of unfinished onboarding checklist items after activation.</summary>
    public TimeSpan ChecklistFirstReminderAfter { get; init; } = TimeSpan.FromDays(7);
    public TimeSpan ChecklistSecondReminderAfter { get; init; } = TimeSpan.FromDays(21);

    /// <summary>The review deadlines of a review cycle that starts at <paramref name="from"/> (the submission, or the answer to a request for information).</summary>
    public ReviewDeadlines ReviewDeadlinesFrom(DateTimeOffset from) => new(from + ReviewReminderAfter, from + ReviewEscalateAfter, from + ReviewExpiresAfter);

    /// <summary>
    /// The agreement offer's deadlines, counted from the application's approval (<paramref name="approvedAt"/>): the one place they are
    /// computed, so the links in the offer and its reminders expire exactly when the workflow expires the offer.
    /// </summary>
    public AgreementDeadlines AgreementDeadlinesFrom(DateTimeOffset approvedAt) =>
        new(approvedAt + AgreementFirstReminderAfter, approvedAt + AgreementSecondReminderAfter, approvedAt + AgreementExpiresAfter);

    /// <summary>The section registration: <paramref name="defaults"/> (from code and configuration) for what was never saved, validation against staff and the stored agreement documents.</summary>
    public static SettingsSection<OnboardingSettings> Section(OnboardingSettings defaults, IStaffStore staff, IAgreementDocuments documents) =>
        new(SectionName, () => defaults with
        {
            TargetCountries = [.. defaults.TargetCountries],
            PartnerTypePoints = new(defaults.PartnerTypePoints),
            RevenueBandPoints = new(defaults.RevenueBandPoints),
            Assignments = [.. defaults.Assignments],
        }, (s, ct) => ValidateAsync(s, staff, documents, ct));

    public static async Task ValidateAsync(OnboardingSettings s, IStaffStore staff, IAgreementDocuments documents, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        void Fail(string field, string message) => errors[field] = [message];
        for (var i = 0; i < s.TargetCountries.Count; i++)
        {
            if (!Text.IsCountryCode(s.TargetCountries[i])) Fail($"targetCountries[{i}]", "targetCountries holds ISO 3166-1 alpha-2 codes such as DE.");
        }
        if (s.TargetCountryPoints is < 0 or > 100) Fail("targetCountryPoints", "targetCountryPoints must be 0 to 100.");
        foreach (var (type, points) in s.PartnerTypePoints)
        {
            if (Text.ParseEnum<PartnerType>(type) is null) Fail($"partnerTypePoints.{type}", "partnerTypePoints keys are partner types: " + string.Join(", ", Enum.GetValues<PartnerType>().Select(t => Text.Camel(t))) + ".");
            else if (points is < 0 or > 100) Fail($"partnerTypePoints.{type}", "Points must be 0 to 100.");
        }
        foreach (var (band, points) in s.RevenueBandPoints)
        {
            if (!SubmitApplicationValidator.RevenueBands.Contains(band)) Fail($"revenueBandPoints.{band}", "revenueBandPoints keys are revenue bands: " + string.Join(", ", SubmitApplicationValidator.RevenueBands) + ".");
            else if (points is < 0 or > 100) Fail($"revenueBandPoints.{band}", "Points must be 0 to 100.");
        }
        if (s.Assignments.Count > 200) Fail("assignments", "At most 200 assignment rules.");
        IReadOnlyList<StaffMember>? all = null;
        for (var i = 0; i < s.Assignments.Count; i++)
        {
            var rule = s.Assignments[i];
            if ((rule.Country is null) == (rule.Region is null)) Fail($"assignments[{i}]", "Each assignment names either a country or a region.");
            if (rule.Country is not null && !Text.IsCountryCode(rule.Country)) Fail($"assignments[{i}].country", "country must be an ISO 3166-1 alpha-2 code such as DE.");
            if (rule.Region is not null && !Regions.IsKnown(rule.Region)) Fail($"assignments[{i}].region", "region must be one of: " + string.Join(", ", Regions.All) + ".");
            all ??= await staff.ListAsync(ct);
            if (!all.Any(m => m.Id == rule.ChannelManagerId && m.Roles.Contains(AppRoles.ChannelManager))) Fail($"assignments[{i}].channelManagerId", "channelManagerId must be the id of a channel manager.");
        }
        Positive(s.ReviewReminderAfter, "reviewReminderAfter");
        Positive(s.ReviewEscalateAfter, "reviewEscalateAfter");
        Positive(s.ReviewExpiresAfter, "reviewExpiresAfter");
        Positive(s.InfoAnswerWithin, "infoAnswerWithin");
        Positive(s.AgreementFirstReminderAfter, "agreementFirstReminderAfter");
        Positive(s.AgreementSecondReminderAfter, "agreementSecondReminderAfter");
        Positive(s.AgreementExpiresAfter, "agreementExpiresAfter");
        Positive(s.ChecklistFirstReminderAfter, "checklistFirstReminderAfter");
        Positive(s.ChecklistSecondReminderAfter, "checklistSecondReminderAfter");
        if (!(s.ReviewReminderAfter < s.ReviewEscalateAfter && s.ReviewEscalateAfter < s.ReviewExpiresAfter)) Fail("reviewExpiresAfter", "Review deadlines must come in order: reviewReminderAfter < reviewEscalateAfter < reviewExpiresAfter.");
        if (!(s.AgreementFirstReminderAfter < s.AgreementSecondReminderAfter && s.AgreementSecondReminderAfter < s.AgreementExpiresAfter)) Fail("agreementExpiresAfter", "Agreement deadlines must come in order: first reminder < second reminder < expiry.");
        if (!(s.ChecklistFirstReminderAfter < s.ChecklistSecondReminderAfter)) Fail("checklistSecondReminderAfter", "The second checklist reminder must come after the first.");
        if (!AgreementVersions.IsValid(s.AgreementVersion)) Fail("agreementVersion", AgreementVersions.Rule);
        else if (errors.Count == 0 && !await documents.ExistsAsync(s.AgreementVersion, ct)) errors["agreementVersion"] = [$"No agreement document {s.AgreementVersion} was uploaded; upload it with PUT /api/settings/agreements/{s.AgreementVersion} first."];
        if (errors.Count > 0) throw new ValidationFailedException(errors, string.Join(" ", errors.Select(e => e.Value[0])), unprocessable: true);

        void Positive(TimeSpan value, string field)
        {
            if (value <= TimeSpan.Zero || value > TimeSpan.FromDays(400)) Fail(field, $"{field} must be a duration above zero and at most 400 days.");
        }
    }
}

/// <summary>Agreement version names.</summary>
public static class AgreementVersions
{
    /// <summary>The version the storage seeds at start when no other is configured (Agreement:CurrentVersion), and the settings' default.</summary>
    public const string Seeded = "2026-01";

    public const string Rule = "An agreement version is 1 to 40 letters, digits, dots, dashes or underscores, e.g. 2026-07.";

    public static bool IsValid(string? version) => version is { Length: > 0 and <= 40 } && version.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_');
}
