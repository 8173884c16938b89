using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Onboarding;

/// <summary>Who reviews the applications of a country or a region (the first rule that matches wins; country rules before region rules).</summary>
public sealed record ReviewerAssignment(string? Country, string? Region, string ChannelManagerId);

/// <summary>
/// The onboarding section of the program settings (admins change it through PUT /api/settings/onboarding): fit-score rules,
/// reviewer assignment, review, information and agreement deadlines, the current agreement version, checklist reminders.
/// Defaults come from configuration (sections Onboarding, Review, Agreement).
/// </summary>
public sealed record OnboardingSettings
{
    public const string SectionName = "onboarding";

    public List<string> TargetCountries { get; init; } = [];
    public int TargetCountryPoints { get; init; }
    public Dictionary<string, int> PartnerTypePoints { get; init; } = [];
    public Dictionary<string, int> RevenueBandPoints { get; init; } = [];

    /// <summary>Assignment of channel managers by country or region; without a match, the channel manager of the applicant's region, else the admins.</summary>
    public List<ReviewerAssignment> Assignments { get; init; } = [];

    public TimeSpan ReviewReminderAfter { get; init; }
    public TimeSpan ReviewEscalateAfter { get; init; }
    public TimeSpan ReviewExpiresAfter { get; init; }
    public TimeSpan InfoAnswerWithin { get; init; }

    /// <summary>The agreement version new partners accept (uploaded with PUT /api/settings/agreements/{version}).</summary>
    public string AgreementVersion { get; init; } = "";
    public TimeSpan AgreementFirstReminderAfter { get; init; }
    public TimeSpan AgreementSecondReminderAfter { get; init; }
    public TimeSpan AgreementExpiresAfter { get; init; }

    public TimeSpan ChecklistFirstReminderAfter { get; init; }
    public TimeSpan ChecklistSecondReminderAfter { get; init; }

    public static OnboardingSettings From(OnboardingOptions onboarding, ReviewOptions review, AgreementOptions agreement) => new()
    {
        TargetCountries = [.. onboarding.TargetCountries],
        TargetCountryPoints = onboarding.TargetCountryPoints,
        PartnerTypePoints = new(onboarding.PartnerTypePoints),
        RevenueBandPoints = new(onboarding.RevenueBandPoints),
        ReviewReminderAfter = review.ReviewReminderAfter,
        ReviewEscalateAfter = review.ReviewEscalateAfter,
        ReviewExpiresAfter = review.ReviewExpiresAfter,
        InfoAnswerWithin = review.InfoAnswerWithin,
        AgreementVersion = agreement.CurrentVersion,
        AgreementFirstReminderAfter = agreement.FirstReminderAfter,
        AgreementSecondReminderAfter = agreement.SecondReminderAfter,
        AgreementExpiresAfter = agreement.ExpiresAfter,
        ChecklistFirstReminderAfter = onboarding.ChecklistFirstReminderAfter,
        ChecklistSecondReminderAfter = onboarding.ChecklistSecondReminderAfter,
    };

    /// <summary>The section registration: defaults from configuration, validation against staff and the stored agreement documents.</summary>
    public static SettingsSection<OnboardingSettings> Section(OnboardingOptions onboarding, ReviewOptions review, AgreementOptions agreement, IStaffStore staff, IAgreementDocuments documents) =>
        new(SectionName, () => From(onboarding, review, agreement), (s, ct) => ValidateAsync(s, staff, documents, ct));

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
    public const string Rule = "An agreement version is 1 to 40 letters, digits, dots, dashes or underscores, e.g. 2026-07.";

    public static bool IsValid(string? version) => version is { Length: > 0 and <= 40 } && version.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_');
}
