using System.Globalization;
using Prm.Core.Common;
using Prm.Core.Partners;
using Prm.Core.Training;

namespace Prm.Core.Tiers;

/// <summary>A valid certification held by one of the partner's people, as the tier counters keep it (expiry and names for the home's expiring certifications; null in rows written before them).</summary>
public sealed record HeldAward(string AwardId, string UserId, string Track, string Level, DateTimeOffset GraceEndsAt,
    DateTimeOffset? ExpiresAt = null, string? CertificationName = null, string? PersonName = null);

/// <summary>A manual criterion's value for one partner: met or not, the evidence, who set it and when.</summary>
public sealed record ManualCriterionValue(bool Met, string? Evidence, string SetById, string SetByName, DateTimeOffset SetAt);

/// <summary>
/// Everything an evaluation reads, from counters kept on write: won deal value by close month and currency, approved registrations by
/// approval month (both per partner, month buckets), the valid certifications of the partner's people, and the manual criteria.
/// </summary>
public sealed record TierFacts(
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, decimal>> WonByMonth,
    IReadOnlyDictionary<string, int> ApprovedByMonth,
    IReadOnlyList<HeldAward> Awards,
    IReadOnlyDictionary<string, ManualCriterionValue> Manual)
{
    public static TierFacts Empty { get; } = new(new Dictionary<string, IReadOnlyDictionary<string, decimal>>(), new Dictionary<string, int>(), [], new Dictionary<string, ManualCriterionValue>());
}

/// <summary>Monthly FX rates: per month ("yyyy-MM"), how many units of the program currency one unit of a currency is worth.</summary>
public sealed record FxTable(string ProgramCurrency, IReadOnlyDictionary<string, IReadOnlyDictionary<string, decimal>> Months)
{
    /// <summary>The rate of <paramref name="currency"/> in <paramref name="month"/>: 1 for the program currency, null when the table has none (never guessed).</summary>
    public decimal? Rate(string month, string currency) =>
        currency == ProgramCurrency ? 1m : Months.TryGetValue(month, out var rates) && rates.TryGetValue(currency, out var rate) ? rate : null;
}

/// <summary>A won amount the FX table could not convert: it is left out of the value and reported.</summary>
public sealed record MissingRate(string Month, string Currency, decimal Amount);

/// <summary>The measured values of an evaluation.</summary>
public sealed record TierValues(
    string Currency, string FromMonth, string ToMonth, decimal WonDealValue, int ApprovedRegistrations, IReadOnlyList<CertifiedCount> CertifiedPeople,
    int ActiveCertifications, IReadOnlyDictionary<string, bool> Manual, IReadOnlyList<MissingRate> MissingRates);

/// <summary>One criterion of a tier: target, actual and gap (what is still missing; 0 when met). A manual criterion counts 1 when met.</summary>
public sealed record CriterionResult(string Key, string Title, decimal Target, decimal Actual, decimal Gap, bool Met, string? Note);

/// <summary>A tier checked against the values: whether every criterion holds, and each criterion.</summary>
public sealed record TierCheck(string Tier, bool Qualifies, IReadOnlyList<CriterionResult> Criteria)
{
    public IEnumerable<CriterionResult> Gaps => Criteria.Where(c => !c.Met);
}

/// <summary>An evaluation: the values, the highest tier they qualify for, and the criteria of the partner's current and next tier.</summary>
public sealed record TierEvaluation(DateTimeOffset EvaluatedAt, string QualifiesFor, TierValues Values, TierCheck? Current, TierCheck? Next);

/// <summary>The tier rules: evaluation of facts against the program's tiers. Pure: no I/O, no clock.</summary>
public static class TierRules
{
    /// <summary>The 12 calendar months that end with the month of <paramref name="now"/> (UTC), oldest first, as "yyyy-MM".</summary>
    public static IReadOnlyList<string> TrailingMonths(DateTimeOffset now)
    {
        var first = new DateTime(now.UtcDateTime.Year, now.UtcDateTime.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(-11);
        return Enumerable.Range(0, 12).Select(i => Month(first.AddMonths(i))).ToList();
    }

    public static string Month(DateTime at) => at.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    public static string Month(DateOnly at) => at.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    /// <summary>Measures the facts at <paramref name="now"/>: trailing-12-month sums (FX per month, missing rates reported), certified people, manual criteria.</summary>
    public static TierValues Measure(TierFacts facts, FxTable fx, DateTimeOffset now)
    {
        var months = TrailingMonths(now);
        var won = 0m;
        var missing = new List<MissingRate>();
        foreach (var month in months)
        {
            if (!facts.WonByMonth.TryGetValue(month, out var byCurrency)) continue;
            foreach (var (currency, amount) in byCurrency.OrderBy(c => c.Key, StringComparer.Ordinal))
            {
                if (amount == 0) continue;
                if (fx.Rate(month, currency) is { } rate) won += amount * rate;
                else missing.Add(new MissingRate(month, currency, amount));
            }
        }
        var approved = months.Sum(m => facts.ApprovedByMonth.GetValueOrDefault(m));
        var valid = facts.Awards.Where(a => a.GraceEndsAt > now).ToList();
        var people = valid.GroupBy(a => (a.Track, a.Level))
            .Select(g => new CertifiedCount(g.Key.Track, g.Key.Level, g.Select(a => a.UserId).Distinct(StringComparer.Ordinal).Count()))
            .OrderBy(c => c.Track, StringComparer.Ordinal).ThenBy(c => LevelRank(c.Level)).ToList();
        var manual = facts.Manual.OrderBy(m => m.Key, StringComparer.Ordinal).ToDictionary(m => m.Key, m => m.Value.Met, StringComparer.Ordinal);
        return new TierValues(fx.ProgramCurrency, months[0], months[^1], new Money(won, fx.ProgramCurrency).Round().Amount, approved, people,
            valid.Select(a => a.AwardId).Distinct(StringComparer.Ordinal).Count(), manual, missing);
    }

    /// <summary>
    /// Evaluates the facts against the program's tiers: the highest listed tier whose every criterion holds (the first tier when none
    /// does), and per criterion of the partner's <paramref name="current"/> tier and of the tier above it: target, actual and gap.
    /// </summary>
    public static TierEvaluation Evaluate(TierFacts facts, FxTable fx, TierSettings settings, PartnerTier current, DateTimeOffset now)
    {
        var values = Measure(facts, fx, now);
        var awards = facts.Awards.Where(a => a.GraceEndsAt > now).ToList();
        var checks = settings.Tiers.Select(t => Check(t, values, awards, settings.Tiers[0] == t)).ToList();
        var qualifies = checks.LastOrDefault(c => c.Qualifies)?.Tier ?? settings.Tiers[0].Tier;
        var currentCheck = checks.FirstOrDefault(c => c.Tier == Text.Camel(current));
        var next = settings.Above(current) is { } above ? checks.First(c => c.Tier == Text.Camel(above.Value)) : null;
        return new TierEvaluation(now, Text.Camel(Text.ParseEnum<PartnerTier>(qualifies)!.Value), values, currentCheck, next);
    }

    /// <summary>Checks one tier. The first tier of the program has no criteria and always qualifies.</summary>
    public static TierCheck Check(TierDefinition tier, TierValues values, IReadOnlyList<HeldAward> validAwards, bool first = false)
    {
        var c = tier.Criteria;
        var results = new List<CriterionResult>();
        if (c.WonDealValue is { } wonTarget)
        {
            string? note = values.MissingRates.Count == 0 ? null
                : "No FX rate for " + string.Join(", ", values.MissingRates.Select(m => $"{m.Currency} in {m.Month} ({new Money(m.Amount, m.Currency)})")) + ": not counted.";
            results.Add(Numeric("wonDealValue", $"Won deal value, trailing 12 months ({values.Currency})", wonTarget, values.WonDealValue, note));
        }
        if (c.ApprovedRegistrations is { } regTarget) results.Add(Numeric("approvedRegistrations", "Approved deal registrations, trailing 12 months", regTarget, values.ApprovedRegistrations));
        foreach (var cp in c.CertifiedPeople)
        {
            var track = Text.Camel(Text.ParseEnum<CourseTrack>(cp.Track)!.Value);
            var level = Text.Camel(Text.ParseEnum<CertificationLevel>(cp.Level)!.Value);
            var rank = LevelRank(level);
            var actual = validAwards.Where(a => a.Track == track && LevelRank(a.Level) >= rank).Select(a => a.UserId).Distinct(StringComparer.Ordinal).Count();
            results.Add(Numeric($"certifiedPeople.{track}.{level}", $"People certified in {track}, {level} or above", cp.People, actual));
        }
        if (c.ActiveCertifications is { } activeTarget) results.Add(Numeric("activeCertifications", "Active certifications", activeTarget, values.ActiveCertifications));
        foreach (var m in c.Manual)
        {
            var met = values.Manual.GetValueOrDefault(m.Key);
            results.Add(new CriterionResult($"manual.{m.Key}", m.Title, 1, met ? 1 : 0, met ? 0 : 1, met, met ? null : "Set by the channel manager with evidence."));
        }
        var camel = Text.Camel(tier.Value);
        return new TierCheck(camel, first || results.All(r => r.Met), results);
    }

    private static CriterionResult Numeric(string key, string title, decimal target, decimal actual, string? note = null)
    {
        var met = actual >= target;
        return new CriterionResult(key, title, target, actual, met ? 0 : target - actual, met, met ? null : note);
    }

    /// <summary>associate 0, professional 1, expert 2 (unknown levels rank lowest).</summary>
    public static int LevelRank(string level) => Text.ParseEnum<CertificationLevel>(level) is { } l ? (int)l : -1;

    /// <summary>One line per gap, as the warnings name them: "Title: actual of target (gap more)".</summary>
    public static IReadOnlyList<string> Describe(IEnumerable<CriterionResult> gaps) =>
        gaps.Select(g => g.Key.StartsWith("manual.", StringComparison.Ordinal)
            ? $"{g.Title}: not met"
            : $"{g.Title}: {Num(g.Actual)} of {Num(g.Target)} ({Num(g.Gap)} more)" + (g.Note is null ? "" : " — " + g.Note)).ToList();

    private static string Num(decimal d) => d.ToString(d == decimal.Truncate(d) ? "#,0" : "#,0.00", CultureInfo.InvariantCulture);
}
