using Prm.Core.Common;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Leads;

/// <summary>The conditions of a routing rule: every one given must match the lead (lists: any of them; text compared case-insensitively).</summary>
public sealed record LeadRuleConditions
{
    public List<string>? Countries { get; init; }
    public List<string>? Regions { get; init; }
    public List<string>? PostalCodePrefixes { get; init; }
    public List<string>? ProductLines { get; init; }
    public List<string>? Industries { get; init; }
    public List<string>? SizeBands { get; init; }
    public List<string>? Grades { get; init; }
}

/// <summary>
/// A routing rule: conditions and an action — <c>partner</c> (the named <see cref="PartnerId"/>), <c>roundRobin</c> (the eligible partner
/// offered a lead longest ago) or <c>weighted</c> (random, by effective weight) among the eligible partners of <see cref="Scope"/>
/// (<c>country</c>, <c>region</c> of the lead, or <c>all</c>), of the allowed <see cref="Tiers"/> (empty: any). A required rule that
/// matches but finds nobody eligible sends the lead to the vendor pool; an optional one is skipped.
/// </summary>
public sealed record LeadRule
{
    public string Name { get; init; } = "";
    public LeadRuleConditions When { get; init; } = new();
    public string Action { get; init; } = "weighted";
    public string? PartnerId { get; init; }
    public string Scope { get; init; } = "all";
    public List<string> Tiers { get; init; } = [];
    public bool Required { get; init; }
}

/// <summary>
/// The leads section of the program settings — the one settings type of lead distribution: the ordered routing rules and what ends the
/// chain, the accept window and its reminders, hops, the conversion clock, capacity, and the pause after repeated expiries. Defaults are
/// the initializers; configuration section "Leads" may override them at start (tests run the deadlines in seconds); admins at run time
/// through <c>PUT /api/settings/leads</c>.
/// </summary>
public sealed record LeadSettings
{
    public const string SectionName = "leads";
    public const string ConfigurationSection = "Leads";

    /// <summary>Ordered rules; the first that matches and decides wins. The default is a weighted pick over all Active partners.</summary>
    public List<LeadRule> Rules { get; init; } = [new LeadRule { Name = "Weighted over all Active partners", Action = "weighted", Scope = "all" }];

    /// <summary>What ends the chain when no rule decided: a partner id, or null for the vendor pool.</summary>
    public string? FallbackPartnerId { get; init; }

    public TimeSpan AcceptWindow { get; init; } = TimeSpan.FromHours(48);

    /// <summary>Reminders to the partner's admins at these fractions of the accept window (ascending, in (0, 1)).</summary>
    public List<double> ReminderFractions { get; init; } = [0.5, 0.9];
    public int MaxHops { get; init; } = 3;
    public TimeSpan ConversionWindow { get; init; } = TimeSpan.FromDays(30);
    public TimeSpan RecallGrace { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Open offers plus accepted-but-unconverted leads a partner may have at once.</summary>
    public int MaxOpenLeads { get; init; } = 25;

    /// <summary>Offers a partner may get per UTC day.</summary>
    public int DailyCap { get; init; } = 10;

    /// <summary>Expired or recalled offers within <see cref="PauseWindow"/> that pause a partner from routing for <see cref="PauseFor"/>.</summary>
    public int PauseAfterStrikes { get; init; } = 3;
    public TimeSpan PauseWindow { get; init; } = TimeSpan.FromDays(30);
    public TimeSpan PauseFor { get; init; } = TimeSpan.FromDays(7);

    /// <summary>The same contact email at the same domain within this many days merges into the open lead.</summary>
    public int MergeWindowDays { get; init; } = 30;

    /// <summary>How far back the acceptance rate of the effective weight looks.</summary>
    public int AcceptanceRateDays { get; init; } = 90;

    public static SettingsSection<LeadSettings> Section(LeadSettings defaults) =>
        new(SectionName, () => defaults with { Rules = [.. defaults.Rules], ReminderFractions = [.. defaults.ReminderFractions] }, (s, _) => { Validate(s); return Task.CompletedTask; });

    public static readonly string[] Actions = ["partner", "roundRobin", "weighted"];
    public static readonly string[] Scopes = ["country", "region", "all"];

    public static void Validate(LeadSettings s)
    {
        var errors = new Dictionary<string, string[]>();
        void Fail(string field, string message) => errors.TryAdd(field, [message]);
        if (s.Rules is null || s.Rules.Count > 50) Fail("rules", "rules takes at most 50 rules.");
        else
        {
            for (var i = 0; i < s.Rules.Count; i++)
            {
                var r = s.Rules[i];
                if (r is null) { Fail($"rules[{i}]", "A rule is an object."); continue; }
                if (string.IsNullOrWhiteSpace(r.Name) || r.Name.Length > 100) Fail($"rules[{i}].name", "name takes 1 to 100 characters.");
                if (!Actions.Contains(r.Action)) Fail($"rules[{i}].action", "action must be partner, roundRobin or weighted.");
                if (r.Action == "partner" && !Ids.LooksLike(r.PartnerId, "ptn")) Fail($"rules[{i}].partnerId", "partnerId (a partner id) is required for the action partner.");
                if (r.Action != "partner" && r.PartnerId is not null) Fail($"rules[{i}].partnerId", "partnerId applies to the action partner only.");
                if (!Scopes.Contains(r.Scope)) Fail($"rules[{i}].scope", "scope must be country, region or all.");
                for (var t = 0; t < (r.Tiers?.Count ?? 0); t++)
                {
                    if (Text.ParseEnum<PartnerTier>(r.Tiers![t]) is null) Fail($"rules[{i}].tiers[{t}]", "tiers holds tiers: registered, silver, gold, platinum.");
                }
                var w = r.When ?? new LeadRuleConditions();
                foreach (var (name, list) in new[] { ("countries", w.Countries), ("regions", w.Regions), ("postalCodePrefixes", w.PostalCodePrefixes), ("productLines", w.ProductLines), ("industries", w.Industries), ("sizeBands", w.SizeBands), ("grades", w.Grades) })
                {
                    if (list is null) continue;
                    if (list.Count > 200 || list.Any(v => string.IsNullOrWhiteSpace(v) || v.Length > 100)) Fail($"rules[{i}].when.{name}", $"{name} takes at most 200 values of 1 to 100 characters.");
                }
                if (w.Countries?.Any(c => !Text.IsCountryCode(c?.Trim().ToUpperInvariant())) == true) Fail($"rules[{i}].when.countries", "countries holds ISO 3166-1 alpha-2 codes.");
            }
        }
        if (s.FallbackPartnerId is not null && !Ids.LooksLike(s.FallbackPartnerId, "ptn")) Fail("fallbackPartnerId", "fallbackPartnerId must be a partner id or null (the vendor pool).");
        if (s.AcceptWindow < TimeSpan.FromSeconds(1) || s.AcceptWindow > TimeSpan.FromDays(30)) Fail("acceptWindow", "acceptWindow must be 1 second to 30 days.");
        if (s.ReminderFractions is null || s.ReminderFractions.Count > 5 || s.ReminderFractions.Any(f => !(f > 0 && f < 1)) || !s.ReminderFractions.SequenceEqual(s.ReminderFractions.Order()))
            Fail("reminderFractions", "reminderFractions takes at most 5 ascending fractions between 0 and 1.");
        if (s.MaxHops is < 1 or > 20) Fail("maxHops", "maxHops must be 1 to 20.");
        if (s.ConversionWindow < TimeSpan.FromSeconds(1) || s.ConversionWindow > TimeSpan.FromDays(365)) Fail("conversionWindow", "conversionWindow must be 1 second to 365 days.");
        if (s.RecallGrace < TimeSpan.FromSeconds(1) || s.RecallGrace > TimeSpan.FromDays(90)) Fail("recallGrace", "recallGrace must be 1 second to 90 days.");
        if (s.MaxOpenLeads is < 1 or > 10_000) Fail("maxOpenLeads", "maxOpenLeads must be 1 to 10,000.");
        if (s.DailyCap is < 1 or > 10_000) Fail("dailyCap", "dailyCap must be 1 to 10,000.");
        if (s.PauseAfterStrikes is < 1 or > 100) Fail("pauseAfterStrikes", "pauseAfterStrikes must be 1 to 100.");
        if (s.PauseWindow < TimeSpan.FromSeconds(1) || s.PauseWindow > TimeSpan.FromDays(365)) Fail("pauseWindow", "pauseWindow must be 1 second to 365 days.");
        if (s.PauseFor < TimeSpan.FromSeconds(1) || s.PauseFor > TimeSpan.FromDays(365)) Fail("pauseFor", "pauseFor must be 1 second to 365 days.");
        if (s.MergeWindowDays is < 0 or > 365) Fail("mergeWindowDays", "mergeWindowDays must be 0 to 365.");
        if (s.AcceptanceRateDays is < 1 or > 365) Fail("acceptanceRateDays", "acceptanceRateDays must be 1 to 365.");
        if (errors.Count > 0) throw new ValidationFailedException(errors, string.Join(" ", errors.Select(e => e.Value[0])), unprocessable: true);
    }
}
