namespace Prm.Core.Deals;

/// <summary>
/// Scores an incoming deal registration against the candidates found for it (same domain or a shared blocking key):
/// active registrations of other partners or of the same partner, recently won deals and house accounts. Pure and
/// deterministic; the cost is linear in the number of candidates, which the blocking keys keep small.
/// </summary>
public static class ConflictEngine
{
    /// <summary>
    /// Assesses the conflict of <paramref name="incoming"/> with each candidate. Per candidate, identity evidence (same
    /// registrable domain; exact, strong or similar name) is required; product overlap and country then add to or subtract
    /// from the score. A house account matched by domain or by a strong or exact name is <see cref="ConflictLevel.Certain"/>
    /// with score 100. The result's level and score are those of the best candidate.
    /// </summary>
    public static ConflictAssessment Assess(NormalizedCustomer incoming, IReadOnlyList<ConflictCandidate> candidates, ConflictRules rules)
    {
        ArgumentNullException.ThrowIfNull(incoming);
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(rules);

        var matches = new List<ConflictMatch>();
        var best = 0;
        for (var i = 0; i < candidates.Count; i++)
        {
            var candidate = candidates[i] ?? throw new ArgumentException("Candidates cannot be null.", nameof(candidates));
            var match = AssessOne(incoming, candidate, i, rules);
            best = Math.Max(best, match.Score);
            if (match.Level != ConflictLevel.None) matches.Add(match);
        }
        if (matches.Count == 0) return best == 0 ? ConflictAssessment.NoConflict : new(ConflictLevel.None, best, [], []);

        matches.Sort((x, y) => y.Level != x.Level ? y.Level.CompareTo(x.Level)
            : y.Score != x.Score ? y.Score.CompareTo(x.Score)
            : x.CandidateIndex.CompareTo(y.CandidateIndex));
        var evidence = matches.SelectMany(m => m.Evidence).Distinct(StringComparer.Ordinal).ToArray();
        return new(matches[0].Level, best, evidence, matches);
    }

    private static ConflictMatch AssessOne(NormalizedCustomer incoming, ConflictCandidate candidate, int index, ConflictRules rules)
    {
        var samePartner = candidate.PartnerId is not null && incoming.PartnerId is not null
            && string.Equals(candidate.PartnerId, incoming.PartnerId, StringComparison.Ordinal);
        var subject = Subject(candidate, samePartner);
        var evidence = new List<string>(4);

        var domainMatch = incoming.Domain is not null && string.Equals(incoming.Domain, candidate.Domain, StringComparison.Ordinal);
        if (domainMatch) evidence.Add($"{subject} matches this customer's domain.");

        var name = incoming.NameKey is not null && candidate.NameKey is not null
            ? NameSimilarity.Compare(incoming.NameKey, candidate.NameKey, rules)
            : default;
        var strongName = name.Exact || name.Similarity >= rules.StrongNameSimilarity;
        var nameWeight = 0;
        if (name.Exact)
        {
            nameWeight = rules.ExactNameWeight;
            evidence.Add($"{subject} matches this customer's name.");
        }
        else if (name.Similarity >= rules.StrongNameSimilarity)
        {
            nameWeight = rules.StrongNameWeight;
            evidence.Add($"{subject} has a name very similar to this customer's.");
        }
        else if (name.Similarity >= rules.SimilarNameSimilarity)
        {
            nameWeight = rules.SimilarNameWeight;
            evidence.Add($"{subject} has a name similar to this customer's.");
        }

        if (!domainMatch && nameWeight == 0) return new(index, candidate.Kind, samePartner, 0, ConflictLevel.None, []);

        if (candidate.Kind == ConflictCandidateKind.HouseAccount && (domainMatch || strongName))
        {
            return new(index, candidate.Kind, samePartner, 100, ConflictLevel.Certain, evidence);
        }

        var score = (domainMatch ? rules.DomainMatchWeight : 0) + nameWeight;
        if (incoming.ProductLineIds.Intersect(candidate.ProductLineIds, StringComparer.OrdinalIgnoreCase).Any())
        {
            score += rules.ProductOverlapWeight;
            evidence.Add($"{subject} includes at least one of the same product lines.");
        }
        if (incoming.Country is not null && candidate.Country is not null)
        {
            if (string.Equals(incoming.Country, candidate.Country, StringComparison.OrdinalIgnoreCase))
            {
                score += rules.SameCountryWeight;
                evidence.Add($"{subject} is in the same country.");
            }
            else if (!domainMatch)
            {
                score -= rules.OtherCountryPenalty;
            }
        }
        score = Math.Clamp(score, 0, 100);
        var level = LevelOf(score, rules);
        return new(index, candidate.Kind, samePartner, score, level, level == ConflictLevel.None ? [] : evidence);
    }

    private static ConflictLevel LevelOf(int score, ConflictRules rules) =>
        score >= rules.CertainScore ? ConflictLevel.Certain
        : score >= rules.LikelyScore ? ConflictLevel.Likely
        : score >= rules.PossibleScore ? ConflictLevel.Possible
        : ConflictLevel.None;

    private static string Subject(ConflictCandidate candidate, bool samePartner) => candidate.Kind switch
    {
        ConflictCandidateKind.HouseAccount => "A house account (reserved for direct sales)",
        ConflictCandidateKind.RecentlyWonDeal when candidate.PartnerId is null => "A deal recently won by direct sales",
        ConflictCandidateKind.RecentlyWonDeal when samePartner => "A deal recently won by your organization",
        ConflictCandidateKind.RecentlyWonDeal => "A deal recently won by another partner",
        _ when samePartner => "An active registration by your organization",
        _ => "An active registration by another partner",
    };
}
