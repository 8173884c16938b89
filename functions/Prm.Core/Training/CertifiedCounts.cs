namespace Prm.Core.Training;

/// <summary>A count of certified people of one track and level.</summary>
public sealed record CertifiedCount(string Track, string Level, int People);

/// <summary>
/// A partner's certified people: an award counts for the partner the person belongs to NOW (their current membership), not the partner
/// they earned it at; one person counts once per track and level however many awards they hold; only valid awards count (not revoked,
/// not past grace).
/// </summary>
public static class CertifiedCounts
{
    public static IReadOnlyList<CertifiedCount> For(string partnerId, IEnumerable<Award> awards, IReadOnlyDictionary<string, string?> currentPartnerOfUser, DateTimeOffset now) =>
        awards.Where(a => a.IsValidAt(now) && currentPartnerOfUser.TryGetValue(a.UserId, out var current) && current == partnerId)
            .GroupBy(a => (a.Track, a.Level))
            .Select(g => new CertifiedCount(Common.Text.Camel(g.Key.Track), Common.Text.Camel(g.Key.Level), g.Select(a => a.UserId).Distinct().Count()))
            .OrderBy(c => c.Track, StringComparer.Ordinal).ThenBy(c => c.Level, StringComparer.Ordinal)
            .ToList();
}
