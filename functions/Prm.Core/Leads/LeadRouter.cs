using System.Security.Cryptography;

namespace Prm.Core.Leads;

/// <summary>
/// Reads what the routing engine needs from the routing index and runs it: the index partitions of the matching rules and the deal
/// holder in parallel, then the named partners (point reads). With the commit that follows, a routing decision costs at most six storage
/// round trips whatever the number of partners (see docs/benchmarks.md).
/// </summary>
public sealed class LeadRouter(ILeadRoutingIndex index)
{
    public async Task<RoutingDecision> DecideAsync(Lead lead, LeadSettings s, DateTimeOffset now, CancellationToken ct)
    {
        var facts = LeadFacts.Of(lead);
        var excluded = lead.ExcludedPartners;
        if (lead.Hops >= s.MaxHops) return LeadRouting.Route(facts, s, new Dictionary<string, IReadOnlyList<RoutingEntry>>(), new Dictionary<string, RoutingEntry>(), null, excluded, lead.Hops, now, Seed());
        var partitionsTask = index.ReadAsync(LeadRouting.PartitionsNeeded(facts, s), ct);
        var holderTask = index.DealHolderAsync(lead.Company.Domain, ct);
        await Task.WhenAll(partitionsTask, holderTask);
        var holderId = holderTask.Result;
        var names = LeadRouting.NamedPartners(facts, s).Concat(holderId is null ? [] : [holderId]).Distinct(StringComparer.Ordinal).ToList();
        // A named partner already in a partition read needs no second read.
        var loaded = partitionsTask.Result.Values.SelectMany(p => p).GroupBy(e => e.PartnerId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var missing = names.Where(n => !loaded.ContainsKey(n)).ToList();
        var named = new Dictionary<string, RoutingEntry>(StringComparer.Ordinal);
        foreach (var n in names.Where(loaded.ContainsKey)) named[n] = loaded[n];
        if (missing.Count > 0) foreach (var (id, entry) in await index.EntriesAsync(missing, ct)) named[id] = entry;
        var holder = holderId is not null && named.TryGetValue(holderId, out var h) ? h : null;
        return LeadRouting.Route(facts, s, partitionsTask.Result, named, holder, excluded, lead.Hops, now, Seed());
    }

    /// <summary>The entry of a partner a vendor assigns the lead to (404 when it is not an Active partner in the index).</summary>
    public async Task<RoutingEntry?> EntryAsync(string partnerId, CancellationToken ct) =>
        (await index.EntriesAsync([partnerId], ct)).TryGetValue(partnerId, out var e) ? e : null;

    private static long Seed() => BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8)) & long.MaxValue;
}
