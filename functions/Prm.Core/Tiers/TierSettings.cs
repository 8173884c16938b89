using Prm.Core.Common;
using Prm.Core.Partners;
using Prm.Core.Settings;
using Prm.Core.Training;

namespace Prm.Core.Tiers;

/// <summary>Certified people a tier asks for: at least <see cref="People"/> people holding a valid certification of the track at this level or above.</summary>
public sealed record CertifiedPeopleCriterion
{
    public string Track { get; init; } = "sales";
    public string Level { get; init; } = "associate";
    public int People { get; init; } = 1;
}

/// <summary>A criterion a channel manager sets per partner with evidence (e.g. "business plan signed").</summary>
public sealed record ManualCriterion
{
    public string Key { get; init; } = "";
    public string Title { get; init; } = "";
}

/// <summary>What a partner must show for a tier; every criterion that is set must hold. Null or empty: not asked.</summary>
public sealed record TierCriteria
{
    /// <summary>Won deal value over the trailing 12 months, in the program currency (other currencies through the FX table).</summary>
    public decimal? WonDealValue { get; init; }

    /// <summary>Approved deal registrations over the trailing 12 months.</summary>
    public int? ApprovedRegistrations { get; init; }

    public List<CertifiedPeopleCriterion> CertifiedPeople { get; init; } = [];

    /// <summary>Valid certifications held by the partner's people (every award counts).</summary>
    public int? ActiveCertifications { get; init; }

    public List<ManualCriterion> Manual { get; init; } = [];

    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsEmpty => WonDealValue is null && ApprovedRegistrations is null && CertifiedPeople.Count == 0 && ActiveCertifications is null && Manual.Count == 0;
}

/// <summary>What a tier gives: text, MDF share, the deal auto-approval limit (program currency) and the discount.</summary>
public sealed record TierBenefits
{
    public string Text { get; init; } = "";
    public decimal MdfSharePercent { get; init; }

    /// <summary>The largest estimated value a registration of this tier's partners may be auto-approved at; null: the deals section's autoApproveMaxValue.</summary>
    public decimal? DealAutoApprovalLimit { get; init; }
    public decimal DiscountPercent { get; init; }
}

/// <summary>One tier of the program: which <see cref="PartnerTier"/> it is, its criteria and benefits.</summary>
public sealed record TierDefinition
{
    public string Tier { get; init; } = "registered";
    public TierCriteria Criteria { get; init; } = new();
    public TierBenefits Benefits { get; init; } = new();

    [System.Text.Json.Serialization.JsonIgnore]
    public PartnerTier Value => Text.ParseEnum<PartnerTier>(Tier) ?? PartnerTier.Registered;
}

/// <summary>
/// The tiers section of the program settings — the one settings type of tiers: the ordered tiers (lowest first) with criteria and
/// benefits, the downgrade grace and its warnings, whether an upgrade waits for the channel manager, and the length of a tier day
/// (tests shorten it so that a 90-day grace passes in seconds). Defaults are the demo program below; configuration section "Tiers" may
/// override the durations at start; admins change everything at run time through the settings API.
/// </summary>
public sealed record TierSettings
{
    public const string SectionName = "tiers";
    public const string ConfigurationSection = "Tiers";

    /// <summary>The tiers, lowest first, each a distinct partner tier in rising order. The first has no criteria: every partner qualifies for it.</summary>
    public List<TierDefinition> Tiers { get; init; } = DemoTiers();

    /// <summary>Whether tiers are evaluated at all (nightly and on events).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Days between the evaluation that finds a partner below its tier and the downgrade.</summary>
    public int GraceDays { get; init; } = 90;

    /// <summary>Days before the downgrade date that partner admins and the channel manager are warned, naming the gaps.</summary>
    public List<int> WarningDaysBefore { get; init; } = [60, 30];

    /// <summary>When true an upgrade waits for the channel manager's confirmation; otherwise it is effective at once.</summary>
    public bool UpgradeNeedsConfirmation { get; init; }

    /// <summary>How long one tier day lasts (grace, warnings, overrides). One day in production.</summary>
    public TimeSpan DayLength { get; init; } = TimeSpan.FromDays(1);

    public TimeSpan Days(int days) => DayLength * days;

    /// <summary>The definition of a tier, or null when the program does not list it.</summary>
    public TierDefinition? Find(PartnerTier tier) => Tiers.FirstOrDefault(t => t.Value == tier);

    /// <summary>The listed tier directly above <paramref name="tier"/>, or null at the top.</summary>
    public TierDefinition? Above(PartnerTier tier) => Tiers.FirstOrDefault(t => t.Value > tier);

    public static List<TierDefinition> DemoTiers() =>
    [
        new() { Tier = "registered", Benefits = new() { Text = "Portal access, deal registration, standard margin.", MdfSharePercent = 0, DealAutoApprovalLimit = 25_000m, DiscountPercent = 0 } },
        new()
        {
            Tier = "silver",
            Criteria = new() { WonDealValue = 50_000m, ApprovedRegistrations = 2, CertifiedPeople = [new() { Track = "sales", Level = "associate", People = 1 }] },
            Benefits = new() { Text = "MDF eligibility and a higher auto-approval limit.", MdfSharePercent = 2, DealAutoApprovalLimit = 40_000m, DiscountPercent = 10 },
        },
        new()
        {
            Tier = "gold",
            Criteria = new()
            {
                WonDealValue = 250_000m, ApprovedRegistrations = 6, ActiveCertifications = 3,
                CertifiedPeople = [new() { Track = "sales", Level = "associate", People = 2 }, new() { Track = "technical", Level = "associate", People = 1 }],
                Manual = [new() { Key = "businessPlan", Title = "Annual business plan signed" }],
            },
            Benefits = new() { Text = "Co-marketing, lead distribution priority.", MdfSharePercent = 4, DealAutoApprovalLimit = 50_000m, DiscountPercent = 20 },
        },
        new()
        {
            Tier = "platinum",
            Criteria = new()
            {
                WonDealValue = 1_000_000m, ApprovedRegistrations = 15, ActiveCertifications = 8,
                CertifiedPeople = [new() { Track = "sales", Level = "professional", People = 3 }, new() { Track = "technical", Level = "professional", People = 2 }],
                Manual = [new() { Key = "businessPlan", Title = "Annual business plan signed" }, new() { Key = "executiveSponsor", Title = "Executive sponsor named" }],
            },
            Benefits = new() { Text = "Dedicated channel team, highest margins.", MdfSharePercent = 6, DealAutoApprovalLimit = 100_000m, DiscountPercent = 30 },
        },
    ];

    public static SettingsSection<TierSettings> Section(TierSettings defaults) =>
        new(SectionName, () => defaults with { Tiers = DemoTiersFrom(defaults), WarningDaysBefore = [.. defaults.WarningDaysBefore] }, (s, _) => { Validate(s); return Task.CompletedTask; });

    private static List<TierDefinition> DemoTiersFrom(TierSettings defaults) => defaults.Tiers.Select(t => t with
    {
        Criteria = t.Criteria with { CertifiedPeople = [.. t.Criteria.CertifiedPeople], Manual = [.. t.Criteria.Manual] },
    }).ToList();

    private static readonly string TierNames = string.Join(", ", Enum.GetValues<PartnerTier>().Select(t => Text.Camel(t)));

    public static void Validate(TierSettings s)
    {
        var errors = new Dictionary<string, string[]>();
        void Fail(string field, string message) => errors.TryAdd(field, [message]);
        if (s.Tiers is null || s.Tiers.Count == 0) Fail("tiers", "tiers lists at least one tier.");
        PartnerTier? previous = null;
        for (var i = 0; i < (s.Tiers?.Count ?? 0); i++)
        {
            var t = s.Tiers![i];
            var at = $"tiers[{i}]";
            if (t is null) { Fail(at, "A tier is an object."); continue; }
            if (Text.ParseEnum<PartnerTier>(t.Tier) is not { } value) { Fail($"{at}.tier", $"tier is one of: {TierNames}."); continue; }
            if (previous is { } p && value <= p) Fail($"{at}.tier", "Tiers are listed lowest first, each once (" + TierNames + ").");
            previous = value;
            if (t.Criteria is null || t.Criteria.CertifiedPeople is null || t.Criteria.Manual is null) { Fail($"{at}.criteria", "criteria is an object; certifiedPeople and manual are lists (empty when not asked)."); continue; }
            if (t.Benefits is null || t.Benefits.Text is null) { Fail($"{at}.benefits", "benefits is an object with text (may be empty), mdfSharePercent, dealAutoApprovalLimit and discountPercent."); continue; }
            var c = t.Criteria;
            if (i == 0 && !c.IsEmpty) Fail($"{at}.criteria", "The first tier has no criteria: every partner qualifies for it.");
            if (c.WonDealValue is < 0 or > 1_000_000_000_000m) Fail($"{at}.criteria.wonDealValue", "wonDealValue is 0 to 1,000,000,000,000.");
            if (c.ApprovedRegistrations is < 0 or > 1_000_000) Fail($"{at}.criteria.approvedRegistrations", "approvedRegistrations is 0 to 1,000,000.");
            if (c.ActiveCertifications is < 0 or > 1_000_000) Fail($"{at}.criteria.activeCertifications", "activeCertifications is 0 to 1,000,000.");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var j = 0; j < c.CertifiedPeople.Count; j++)
            {
                var cp = c.CertifiedPeople[j];
                var f = $"{at}.criteria.certifiedPeople[{j}]";
                if (cp is null || Text.ParseEnum<CourseTrack>(cp.Track) is null) Fail($"{f}.track", "track is one of: " + string.Join(", ", Enum.GetValues<CourseTrack>().Select(x => Text.Camel(x))) + ".");
                else if (Text.ParseEnum<CertificationLevel>(cp.Level) is null) Fail($"{f}.level", "level is one of: " + string.Join(", ", Enum.GetValues<CertificationLevel>().Select(x => Text.Camel(x))) + ".");
                else if (cp.People is < 1 or > 100_000) Fail($"{f}.people", "people is 1 to 100,000.");
                else if (!seen.Add(Text.Camel(Text.ParseEnum<CourseTrack>(cp.Track)!.Value) + "." + Text.Camel(Text.ParseEnum<CertificationLevel>(cp.Level)!.Value))) Fail(f, "Each track and level appears once per tier.");
            }
            var keys = new HashSet<string>(StringComparer.Ordinal);
            for (var j = 0; j < c.Manual.Count; j++)
            {
                var m = c.Manual[j];
                var f = $"{at}.criteria.manual[{j}]";
                if (m is null || !ManualKey.IsValid(m.Key)) Fail($"{f}.key", "key is 1-40 letters or digits, starting with a letter (e.g. businessPlan).");
                else if (!keys.Add(m.Key)) Fail($"{f}.key", "Each manual criterion appears once per tier.");
                else if (string.IsNullOrWhiteSpace(m.Title) || m.Title.Length > 200) Fail($"{f}.title", "title is 1 to 200 characters.");
            }
            var b = t.Benefits;
            if (b.Text.Length > 2000) Fail($"{at}.benefits.text", "text takes at most 2000 characters.");
            if (b.MdfSharePercent is < 0 or > 100) Fail($"{at}.benefits.mdfSharePercent", "mdfSharePercent is 0 to 100.");
            if (b.DiscountPercent is < 0 or > 100) Fail($"{at}.benefits.discountPercent", "discountPercent is 0 to 100.");
            if (b.DealAutoApprovalLimit is < 0 or > 1_000_000_000m) Fail($"{at}.benefits.dealAutoApprovalLimit", "dealAutoApprovalLimit is 0 to 1,000,000,000.");
        }
        if (s.GraceDays is < 0 or > 730) Fail("graceDays", "graceDays is 0 to 730.");
        if (s.WarningDaysBefore is null || s.WarningDaysBefore.Any(d => d < 1 || d > s.GraceDays) || s.WarningDaysBefore.Distinct().Count() != s.WarningDaysBefore.Count)
            Fail("warningDaysBefore", "warningDaysBefore holds distinct days from 1 to graceDays.");
        if (s.DayLength < TimeSpan.FromMilliseconds(10) || s.DayLength > TimeSpan.FromDays(1)) Fail("dayLength", "dayLength is 10 milliseconds to 1 day.");
        if (errors.Count > 0) throw new ValidationFailedException(errors, string.Join(" ", errors.Select(e => e.Value[0])), unprocessable: true);
    }
}

/// <summary>The shape of a manual criterion's key.</summary>
public static partial class ManualKey
{
    [System.Text.RegularExpressions.GeneratedRegex("^[a-zA-Z][a-zA-Z0-9]{0,39}$")]
    private static partial System.Text.RegularExpressions.Regex Shape();

    public static bool IsValid(string? key) => key is not null && Shape().IsMatch(key);
}
