using F23.StringSimilarity;

namespace Prm.Core.Deals;

/// <summary>Similarity of two company name keys, 0-1, from F23.StringSimilarity measures.</summary>
internal static class NameSimilarity
{
    private static readonly JaroWinkler JaroWinkler = new();
    private static readonly NormalizedLevenshtein Levenshtein = new();

    /// <summary>Result of a comparison: <paramref name="Exact"/> when the names are the same name.</summary>
    public readonly record struct Result(double Similarity, bool Exact);

    /// <summary>
    /// Folds the German transliteration of umlauts (ae, oe, ue → a, o, u) so that "mueller" meets "muller" (the key of
    /// Müller). Applied to both sides, so it never separates names that were equal.
    /// </summary>
    public static string Fold(string token) =>
        token.Contains('e', StringComparison.Ordinal)
            ? token.Replace("ae", "a", StringComparison.Ordinal).Replace("oe", "o", StringComparison.Ordinal).Replace("ue", "u", StringComparison.Ordinal)
            : token;

    /// <summary>
    /// Exact (1.0) when the keys are equal once spaces are ignored and umlaut transliteration folded. Otherwise the
    /// larger of a token score and the normalized Levenshtein similarity of the names without spaces. The token score
    /// pairs each word with its best unused counterpart (same word, or Jaro-Winkler and Levenshtein both above the
    /// rules' token thresholds, scored by Jaro-Winkler) and averages the Dice coefficient of the pairs with their share
    /// of the shorter name, so "acme" against "acme bricks" is similar but "general motors" against "general mills" is not.
    /// </summary>
    public static Result Compare(string a, string b, ConflictRules rules)
    {
        if (a == b) return new(1, true);
        var left = a.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(Fold).ToArray();
        var right = b.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(Fold).ToArray();
        var joinedLeft = string.Concat(left);
        var joinedRight = string.Concat(right);
        if (joinedLeft == joinedRight) return new(1, true);
        if (left.Length == 0 || right.Length == 0) return new(0, false);

        var used = new bool[right.Length];
        var sum = 0.0;
        foreach (var token in left)
        {
            var best = -1;
            var bestScore = 0.0;
            for (var j = 0; j < right.Length; j++)
            {
                if (used[j]) continue;
                var score = TokenScore(token, right[j], rules);
                if (score > bestScore) (best, bestScore) = (j, score);
            }
            if (best < 0) continue;
            used[best] = true;
            sum += bestScore;
        }
        var dice = 2 * sum / (left.Length + right.Length);
        var containment = sum / Math.Min(left.Length, right.Length);
        var tokens = (dice + containment) / 2;
        var joined = Levenshtein.Similarity(joinedLeft, joinedRight);
        return new(Math.Clamp(Math.Max(tokens, joined), 0, 1), false);
    }

    private static double TokenScore(string x, string y, ConflictRules rules)
    {
        if (x == y) return 1;
        var jaroWinkler = JaroWinkler.Similarity(x, y);
        return jaroWinkler >= rules.TokenJaroWinkler && Levenshtein.Similarity(x, y) >= rules.TokenLevenshtein ? jaroWinkler : 0;
    }
}
