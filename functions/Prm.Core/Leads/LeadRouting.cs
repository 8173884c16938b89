using System.Globalization;
using Prm.Core.Common;
using Prm.Core.Partners;

namespace Prm.Core.Leads;

/// <summary>
/// A partner as the routing index lists it: static facts (from partner events) and the routing figures (from lead events: open leads,
/// offers today, acceptance over the rate window, pause, holiday, weight). The index has a partition per country, per region and one for
/// all, so candidates come from point reads of the index, never from a scan of partners.
/// </summary>
public sealed record RoutingEntry
{
    public required string PartnerId { get; init; }
    public required string Name { get; init; }
    public required string Tier { get; init; }
    public required string Country { get; init; }
    public required string Region { get; init; }
    public string? ChannelManagerId { get; init; }
    public double Weight { get; init; } = 1;
    public DateTimeOffset? HolidayUntil { get; init; }
    public DateTimeOffset? PausedUntil { get; init; }
    public int OpenLeads { get; init; }
    public string? Day { get; init; }
    public int OfferedOnDay { get; init; }

    /// <summary>Offers answered or expired within the rate window, and how many of them were accepted.</summary>
    public int RateOffers { get; init; }
    public int RateAccepted { get; init; }
    public DateTimeOffset? LastOfferedAt { get; init; }

    /// <summary>Acceptance rate over the window; a partner without answered offers counts as 1 (no penalty before evidence).</summary>
    public double AcceptanceRate => RateOffers <= 0 ? 1.0 : Math.Clamp((double)RateAccepted / RateOffers, 0, 1);

    /// <summary>Routing weight x (0.5 + 0.5 x acceptance rate); weight 0 never receives leads.</summary>
    public double EffectiveWeight => Weight <= 0 ? 0 : Weight * (0.5 + 0.5 * AcceptanceRate);
}

/// <summary>The lead facts the rules look at.</summary>
public sealed record LeadFacts(string Country, string Region, string? PostalCode, IReadOnlyList<string> ProductLines, string? Industry, string? SizeBand, string? Grade)
{
    public static LeadFacts Of(Lead l) => new(l.Company.Country, l.Company.Region, l.Company.PostalCode, l.ProductLines, l.Company.Industry, l.Company.SizeBand, l.Grade);
}

/// <summary>What routing decided: an offer to a partner (with its index entry) or the vendor pool, and the trace of why.</summary>
public sealed record RoutingDecision(RoutingEntry? Partner, RoutingTrace Trace, string? PoolReason);

/// <summary>
/// The routing engine, pure: rules are data (<see cref="LeadSettings.Rules"/>), evaluated in order against the lead; a customer with an
/// active deal registration goes first to the partner that holds it; then the first matching rule that finds an eligible partner decides;
/// a required rule that finds none sends the lead to the vendor pool; the fallback partner or the pool ends the chain. The weighted pick
/// draws from a seeded generator over the candidates sorted by id, so <see cref="Replay"/> of a stored trace gives the same partner.
/// </summary>
public static class LeadRouting
{
    /// <summary>The most candidates a trace keeps (the trace lives on the lead's row); <see cref="RoutingTrace.CandidateCount"/> tells all.</summary>
    public const int TraceCandidates = 100;

    /// <summary>The index partitions the rules that match this lead read: "all", "r:{region}", "c:{country}".</summary>
    public static IReadOnlyList<string> PartitionsNeeded(LeadFacts lead, LeadSettings settings) =>
        settings.Rules.Where(r => r.Action != "partner" && Matches(r.When, lead)).Select(r => PartitionOf(r.Scope, lead)).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The named partners the rules that match this lead (and the fallback) may need.</summary>
    public static IReadOnlyList<string> NamedPartners(LeadFacts lead, LeadSettings settings) =>
        settings.Rules.Where(r => r.Action == "partner" && Matches(r.When, lead)).Select(r => r.PartnerId!)
            .Concat(settings.FallbackPartnerId is { } f ? [f] : []).Distinct(StringComparer.Ordinal).ToList();

    public static string PartitionOf(string scope, LeadFacts lead) => scope switch
    {
        "country" => "c:" + lead.Country.ToUpperInvariant(),
        "region" => "r:" + lead.Region.ToLowerInvariant(),
        _ => "all",
    };

    /// <summary>Whether every given condition matches the lead.</summary>
    public static bool Matches(LeadRuleConditions? when, LeadFacts lead)
    {
        if (when is null) return true;
        static bool In(List<string>? values, string? value) => values is null || values.Count == 0 || (value is not null && values.Any(v => string.Equals(v.Trim(), value, StringComparison.OrdinalIgnoreCase)));
        if (!In(when.Countries, lead.Country) || !In(when.Regions, lead.Region) || !In(when.Industries, lead.Industry) || !In(when.SizeBands, lead.SizeBand) || !In(when.Grades, lead.Grade)) return false;
        if (when.ProductLines is { Count: > 0 } lines && !lead.ProductLines.Any(p => lines.Any(l => string.Equals(l.Trim(), p, StringComparison.OrdinalIgnoreCase)))) return false;
        if (when.PostalCodePrefixes is { Count: > 0 } prefixes && (lead.PostalCode is null || !prefixes.Any(p => lead.PostalCode.StartsWith(p.Trim(), StringComparison.OrdinalIgnoreCase)))) return false;
        return true;
    }

    /// <summary>Why a partner may not get this lead now, or null when it may.</summary>
    public static string? Ineligible(RoutingEntry e, IReadOnlyList<string>? tiers, LeadSettings s, IReadOnlySet<string> excluded, DateTimeOffset now)
    {
        if (excluded.Contains(e.PartnerId)) return "declined, expired or was recalled for this lead";
        if (e.Weight <= 0) return "routing weight 0";
        if (tiers is { Count: > 0 } && !tiers.Any(t => string.Equals(t, e.Tier, StringComparison.OrdinalIgnoreCase))) return "tier not allowed by the rule";
        if (e.PausedUntil > now) return "paused from routing";
        if (e.HolidayUntil > now) return "on holiday";
        if (e.OpenLeads >= s.MaxOpenLeads) return "at capacity";
        if (e.Day == DayOf(now) && e.OfferedOnDay >= s.DailyCap) return "daily cap reached";
        return null;
    }

    public static string DayOf(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>
    /// Routes a lead. <paramref name="partitions"/> holds the index partitions of <see cref="PartitionsNeeded"/>, <paramref name="named"/>
    /// the entries of <see cref="NamedPartners"/> (missing: not Active), <paramref name="holder"/> the entry of the partner holding an
    /// active deal registration of the customer.
    /// </summary>
    public static RoutingDecision Route(LeadFacts lead, LeadSettings s, IReadOnlyDictionary<string, IReadOnlyList<RoutingEntry>> partitions,
        IReadOnlyDictionary<string, RoutingEntry> named, RoutingEntry? holder, IReadOnlySet<string> excluded, int hops, DateTimeOffset now, long seed)
    {
        var evaluated = new List<string>();
        if (hops >= s.MaxHops)
        {
            evaluated.Add($"maxHops: {hops} offers made, the program allows {s.MaxHops}");
            return Pool(evaluated, "maxHops", seed, now);
        }
        if (holder is not null)
        {
            var why = Ineligible(holder, null, s, excluded, now);
            evaluated.Add("deal registration holder " + holder.PartnerId + (why is null ? ": eligible" : ": " + why));
            if (why is null) return Pick(evaluated, null, "holder of an active deal registration", "dealHolder", [Candidate(holder, null)], holder, seed, now);
        }
        for (var i = 0; i < s.Rules.Count; i++)
        {
            var rule = s.Rules[i];
            if (!Matches(rule.When, lead))
            {
                evaluated.Add($"#{i} {rule.Name}: no match");
                continue;
            }
            IReadOnlyList<RoutingEntry> pool = rule.Action == "partner"
                ? named.TryGetValue(rule.PartnerId!, out var n) ? [n] : []
                : partitions.TryGetValue(PartitionOf(rule.Scope, lead), out var p) ? p : [];
            var candidates = pool.OrderBy(c => c.PartnerId, StringComparer.Ordinal).Select(c => Candidate(c, Ineligible(c, rule.Tiers, s, excluded, now))).ToList();
            var eligible = candidates.Where(c => c.ExcludedBecause is null).ToList();
            if (eligible.Count == 0)
            {
                evaluated.Add($"#{i} {rule.Name}: matched, nobody eligible" + (rule.Required ? " (required: vendor pool)" : " (optional: skipped)"));
                if (rule.Required) return new RoutingDecision(null, Trace(evaluated, i, rule.Name, rule.Action, candidates, seed, null, "vendorPool", now), "noCandidate");
                continue;
            }
            evaluated.Add($"#{i} {rule.Name}: matched, {eligible.Count} eligible");
            var picked = rule.Action switch
            {
                "weighted" => WeightedPick(eligible, seed),
                "roundRobin" => pool.Where(c => eligible.Any(e => e.PartnerId == c.PartnerId)).OrderBy(c => c.LastOfferedAt ?? DateTimeOffset.MinValue).ThenBy(c => c.PartnerId, StringComparer.Ordinal).First().PartnerId,
                _ => eligible[0].PartnerId,
            };
            return Pick(evaluated, i, rule.Name, rule.Action, candidates, pool.First(c => c.PartnerId == picked), seed, now);
        }
        if (s.FallbackPartnerId is { } fallback && named.TryGetValue(fallback, out var f) && Ineligible(f, null, s, excluded, now) is null)
        {
            evaluated.Add("fallback partner " + fallback);
            return Pick(evaluated, null, "fallback partner", "partner", [Candidate(f, null)], f, seed, now);
        }
        evaluated.Add("no rule decided: vendor pool");
        return Pool(evaluated, "noCandidate", seed, now);
    }

    /// <summary>Re-runs the pick of a stored trace: the same candidates and seed give the same partner (null when the trace made no pick or was cut).</summary>
    public static string? Replay(RoutingTrace trace)
    {
        if (trace.PickedPartnerId is null || trace.Candidates.Count < trace.CandidateCount) return null;
        var eligible = trace.Candidates.Where(c => c.ExcludedBecause is null).OrderBy(c => c.PartnerId, StringComparer.Ordinal).ToList();
        return trace.Action switch
        {
            "weighted" => WeightedPick(eligible, trace.Seed),
            "roundRobin" => trace.PickedPartnerId is { } p && eligible.Any(c => c.PartnerId == p) ? p : null, // order by idle time, kept in the pick
            _ => eligible.FirstOrDefault()?.PartnerId,
        };
    }

    /// <summary>The weighted draw: a point in [0, total effective weight) from the seed, the candidate whose share (in id order) holds it.</summary>
    public static string? WeightedPick(IReadOnlyList<RoutingCandidate> eligible, long seed)
    {
        var positive = eligible.Where(c => c.EffectiveWeight > 0).OrderBy(c => c.PartnerId, StringComparer.Ordinal).ToList();
        if (positive.Count == 0) return null;
        var total = positive.Sum(c => c.EffectiveWeight);
        var point = Unit(seed) * total;
        var sum = 0.0;
        foreach (var c in positive)
        {
            sum += c.EffectiveWeight;
            if (point < sum) return c.PartnerId;
        }
        return positive[^1].PartnerId;
    }

    /// <summary>A uniform value in [0, 1) from a seed (SplitMix64: the same on every platform and runtime version).</summary>
    public static double Unit(long seed)
    {
        unchecked
        {
            var z = (ulong)seed + 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return (z >> 11) * (1.0 / (1UL << 53));
        }
    }

    private static RoutingCandidate Candidate(RoutingEntry e, string? excludedBecause) =>
        new(e.PartnerId, e.Name, e.Weight, Math.Round(e.AcceptanceRate, 4), Math.Round(e.EffectiveWeight, 6), excludedBecause);

    private static RoutingDecision Pick(List<string> evaluated, int? index, string name, string action, List<RoutingCandidate> candidates, RoutingEntry picked, long seed, DateTimeOffset now) =>
        new(picked, Trace(evaluated, index, name, action, candidates, seed, picked.PartnerId, "offered", now), null);

    private static RoutingDecision Pool(List<string> evaluated, string reason, long seed, DateTimeOffset now) =>
        new(null, Trace(evaluated, null, null, "vendorPool", [], seed, null, "vendorPool", now), reason);

    private static RoutingTrace Trace(List<string> evaluated, int? index, string? name, string action, List<RoutingCandidate> candidates, long seed, string? picked, string outcome, DateTimeOffset now) =>
        new(evaluated, index, name, action, candidates.Take(TraceCandidates).ToList(), candidates.Count, seed, picked, outcome, now);

    /// <summary>A trace of a vendor's direct assignment (rules overridden).</summary>
    public static RoutingTrace Assigned(RoutingEntry partner, string byName, DateTimeOffset now) =>
        new([$"assigned by {byName} (rules overridden)"], null, "vendor assignment", "assigned", [Candidate(partner, null)], 1, 0, partner.PartnerId, "offered", now);

    /// <summary>The partner facts of an index entry from a partner (figures kept from the previous entry).</summary>
    public static RoutingEntry EntryOf(Partner p, RoutingEntry? previous) => (previous ?? new RoutingEntry { PartnerId = p.Id, Name = p.Name, Tier = "", Country = "", Region = "" }) with
    {
        PartnerId = p.Id, Name = p.Name, Tier = Text.Camel(p.Tier), Country = p.Country.ToUpperInvariant(), Region = p.Region.ToLowerInvariant(), ChannelManagerId = p.ChannelManagerId,
    };
}
