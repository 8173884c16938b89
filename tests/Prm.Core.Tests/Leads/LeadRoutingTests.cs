using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Leads;

namespace Prm.Core.Tests.Leads;

public class LeadRoutingTests
{
    private static readonly DateTimeOffset Now = Make.Now;
    private static readonly LeadFacts EmeaLead = new("DE", "emea", "10115", ["cloud-backup"], "Manufacturing", "200-999", "A");

    private static RoutingEntry Partner(char fill, string region = "emea", string country = "DE", string tier = "gold", double weight = 1) => new()
    {
        PartnerId = Make.PartnerId(fill), Name = "Partner " + fill, Tier = tier, Country = country, Region = region, Weight = weight,
    };

    private static IReadOnlyDictionary<string, IReadOnlyList<RoutingEntry>> Index(params RoutingEntry[] entries)
    {
        var map = new Dictionary<string, IReadOnlyList<RoutingEntry>>(StringComparer.Ordinal) { ["all"] = entries };
        foreach (var g in entries.GroupBy(e => "r:" + e.Region)) map[g.Key] = g.ToList();
        foreach (var g in entries.GroupBy(e => "c:" + e.Country)) map[g.Key] = g.ToList();
        return map;
    }

    // Each row: which condition, the value of the lead it is tested against, whether the rule matches.
    [Theory]
    [InlineData("countries", "DE", true)]
    [InlineData("countries", "FR", false)]
    [InlineData("regions", "emea", true)]
    [InlineData("regions", "amer", false)]
    [InlineData("postalCodePrefixes", "10", true)]
    [InlineData("postalCodePrefixes", "20", false)]
    [InlineData("productLines", "cloud-backup", true)]
    [InlineData("productLines", "managed-network", false)]
    [InlineData("industries", "manufacturing", true)]
    [InlineData("industries", "Retail", false)]
    [InlineData("sizeBands", "200-999", true)]
    [InlineData("sizeBands", "1-49", false)]
    [InlineData("grades", "A", true)]
    [InlineData("grades", "C", false)]
    public void A_rule_matches_when_every_condition_given_matches(string condition, string value, bool matches)
    {
        List<string> v = [value];
        var when = condition switch
        {
            "countries" => new LeadRuleConditions { Countries = v },
            "regions" => new LeadRuleConditions { Regions = v },
            "postalCodePrefixes" => new LeadRuleConditions { PostalCodePrefixes = v },
            "productLines" => new LeadRuleConditions { ProductLines = v },
            "industries" => new LeadRuleConditions { Industries = v },
            "sizeBands" => new LeadRuleConditions { SizeBands = v },
            _ => new LeadRuleConditions { Grades = v },
        };
        LeadRouting.Matches(when, EmeaLead).Should().Be(matches);
    }

    // Each row: what is wrong with the partner -> why it is not eligible (null: eligible).
    [Theory]
    [InlineData("none", null)]
    [InlineData("excluded", "declined, expired or was recalled for this lead")]
    [InlineData("weight0", "routing weight 0")]
    [InlineData("tier", "tier not allowed by the rule")]
    [InlineData("paused", "paused from routing")]
    [InlineData("pauseOver", null)]
    [InlineData("holiday", "on holiday")]
    [InlineData("holidayOver", null)]
    [InlineData("capacity", "at capacity")]
    [InlineData("underCapacity", null)]
    [InlineData("dailyCap", "daily cap reached")]
    [InlineData("dailyCapYesterday", null)]
    public void Eligibility(string situation, string? why)
    {
        var s = new LeadSettings { MaxOpenLeads = 25, DailyCap = 10 };
        var p = Partner('a', tier: "silver");
        HashSet<string> excluded = [];
        List<string>? tiers = null;
        p = situation switch
        {
            "excluded" => p,
            "weight0" => p with { Weight = 0 },
            "tier" => p,
            "paused" => p with { PausedUntil = Now.AddHours(1) },
            "pauseOver" => p with { PausedUntil = Now.AddHours(-1) },
            "holiday" => p with { HolidayUntil = Now.AddDays(2) },
            "holidayOver" => p with { HolidayUntil = Now.AddDays(-2) },
            "capacity" => p with { OpenLeads = 25 },
            "underCapacity" => p with { OpenLeads = 24 },
            "dailyCap" => p with { Day = LeadRouting.DayOf(Now), OfferedOnDay = 10 },
            "dailyCapYesterday" => p with { Day = LeadRouting.DayOf(Now.AddDays(-1)), OfferedOnDay = 10 },
            _ => p,
        };
        if (situation == "excluded") excluded.Add(p.PartnerId);
        if (situation == "tier") tiers = ["gold", "platinum"];
        LeadRouting.Ineligible(p, tiers, s, excluded, Now).Should().Be(why);
    }

    [Theory]
    [InlineData(1.0, 0, 0, 1.0)]     // no answered offers yet: full weight
    [InlineData(2.0, 10, 10, 2.0)]   // always accepts
    [InlineData(2.0, 10, 0, 1.0)]    // never accepts: half
    [InlineData(1.0, 4, 1, 0.625)]   // 25%: 0.5 + 0.125
    [InlineData(0.0, 4, 4, 0.0)]     // weight 0 never receives leads
    public void Effective_weight_is_weight_times_half_plus_half_the_acceptance_rate(double weight, int offers, int accepted, double effective)
    {
        (Partner('a', weight: weight) with { RateOffers = offers, RateAccepted = accepted }).EffectiveWeight.Should().BeApproximately(effective, 1e-9);
    }

    [Fact]
    public void The_first_matching_rule_with_an_eligible_partner_decides_and_optional_rules_without_one_are_skipped()
    {
        var northwind = Partner('a');
        var fabrikam = Partner('b', "amer", "US");
        var s = new LeadSettings
        {
            Rules =
            [
                new LeadRule { Name = "AMER", When = new LeadRuleConditions { Regions = ["amer"] }, Action = "partner", PartnerId = fabrikam.PartnerId },
                new LeadRule { Name = "EMEA", When = new LeadRuleConditions { Regions = ["emea"] }, Action = "partner", PartnerId = northwind.PartnerId },
                new LeadRule { Name = "All", Action = "weighted", Scope = "all" },
            ],
        };
        var named = new Dictionary<string, RoutingEntry> { [northwind.PartnerId] = northwind, [fabrikam.PartnerId] = fabrikam };
        var first = LeadRouting.Route(EmeaLead, s, Index(northwind, fabrikam), named, null, new HashSet<string>(), 0, Now, 42);
        first.Partner!.PartnerId.Should().Be(northwind.PartnerId);
        first.Trace.RuleName.Should().Be("EMEA");
        first.Trace.RulesEvaluated.Should().HaveCount(2).And.Contain(r => r.Contains("AMER: no match"));

        var excluded = new HashSet<string> { northwind.PartnerId };
        var next = LeadRouting.Route(EmeaLead, s, Index(northwind, fabrikam), named, null, excluded, 1, Now, 42);
        next.Partner!.PartnerId.Should().Be(fabrikam.PartnerId);
        next.Trace.RuleName.Should().Be("All");
        next.Trace.Candidates.Single(c => c.PartnerId == northwind.PartnerId).ExcludedBecause.Should().NotBeNull();
    }

    [Fact]
    public void A_required_rule_without_an_eligible_partner_sends_the_lead_to_the_pool_and_max_hops_ends_the_chain()
    {
        var only = Partner('a') with { PausedUntil = Now.AddDays(1) };
        var s = new LeadSettings { Rules = [new LeadRule { Name = "EMEA only", When = new LeadRuleConditions { Regions = ["emea"] }, Action = "weighted", Scope = "region", Required = true }, new LeadRule { Name = "All", Scope = "all" }] };
        var decision = LeadRouting.Route(EmeaLead, s, Index(only, Partner('b', "amer", "US")), new Dictionary<string, RoutingEntry>(), null, new HashSet<string>(), 0, Now, 1);
        decision.Partner.Should().BeNull();
        decision.PoolReason.Should().Be("noCandidate");
        var hops = LeadRouting.Route(EmeaLead, new LeadSettings(), Index(Partner('b')), new Dictionary<string, RoutingEntry>(), null, new HashSet<string>(), 3, Now, 1);
        hops.Partner.Should().BeNull();
        hops.PoolReason.Should().Be("maxHops");
    }

    [Fact]
    public void The_holder_of_an_active_deal_registration_of_the_customer_gets_the_lead_first()
    {
        var holder = Partner('c', "amer", "US");
        var decision = LeadRouting.Route(EmeaLead, new LeadSettings(), Index(Partner('a'), Partner('b')), new Dictionary<string, RoutingEntry>(), holder, new HashSet<string>(), 0, Now, 7);
        decision.Partner!.PartnerId.Should().Be(holder.PartnerId);
        decision.Trace.Action.Should().Be("dealHolder");
    }

    [Fact]
    public void Round_robin_picks_the_partner_offered_a_lead_longest_ago()
    {
        var s = new LeadSettings { Rules = [new LeadRule { Name = "RR", Action = "roundRobin", Scope = "region" }] };
        var recent = Partner('a') with { LastOfferedAt = Now.AddMinutes(-5) };
        var idle = Partner('b') with { LastOfferedAt = Now.AddDays(-2) };
        LeadRouting.Route(EmeaLead, s, Index(recent, idle), new Dictionary<string, RoutingEntry>(), null, new HashSet<string>(), 0, Now, 3).Partner!.PartnerId.Should().Be(idle.PartnerId);
    }

    [Fact]
    public void Replaying_a_stored_trace_reproduces_the_pick_and_the_picks_follow_the_effective_weights()
    {
        var entries = Enumerable.Range(0, 12).Select(i => Partner((char)('a' + i), weight: 1 + i % 4) with { RateOffers = 10, RateAccepted = i % 3 * 5 }).ToArray();
        var counts = new Dictionary<string, int>();
        for (long seed = 0; seed < 4000; seed++)
        {
            var decision = LeadRouting.Route(EmeaLead, new LeadSettings(), Index(entries), new Dictionary<string, RoutingEntry>(), null, new HashSet<string>(), 0, Now, seed * 7919);
            // The trace as stored on the lead (a JSON round trip) replays to the same partner.
            var stored = System.Text.Json.JsonSerializer.Deserialize<RoutingTrace>(System.Text.Json.JsonSerializer.Serialize(decision.Trace))!;
            LeadRouting.Replay(stored).Should().Be(decision.Partner!.PartnerId);
            counts[decision.Partner.PartnerId] = counts.GetValueOrDefault(decision.Partner.PartnerId) + 1;
        }
        var total = entries.Sum(e => e.EffectiveWeight);
        foreach (var e in entries) ((double)counts.GetValueOrDefault(e.PartnerId) / 4000).Should().BeApproximately(e.EffectiveWeight / total, 0.03, e.PartnerId);
    }

    [Fact]
    public void A_changed_candidate_in_a_trace_changes_the_replay_so_a_trace_cannot_be_edited_unnoticed()
    {
        var entries = new[] { Partner('a'), Partner('b'), Partner('c') };
        var decision = LeadRouting.Route(EmeaLead, new LeadSettings(), Index(entries), new Dictionary<string, RoutingEntry>(), null, new HashSet<string>(), 0, Now, 123456);
        var picked = decision.Trace.PickedPartnerId;
        var tampered = decision.Trace with { Candidates = decision.Trace.Candidates.Select(c => c.PartnerId == picked ? c with { EffectiveWeight = 0 } : c).ToList() };
        LeadRouting.Replay(tampered).Should().NotBe(picked);
    }
}
