namespace Prm.Core.Deals;

/// <summary>
/// Legal-form words removed from the end of a company name key. Tokens are already lower case, without diacritics and
/// with the dots of abbreviations dropped, so "S.p.A." arrives as "spa" and "Sp. z o.o." as "sp z oo".
/// </summary>
internal static class LegalForms
{
    /// <summary>Single-token legal forms (English, German, French, Benelux, Nordic, Southern and Eastern Europe, Asia, Latin America).</summary>
    private static readonly HashSet<string> Words = new(StringComparer.Ordinal)
    {
        "inc", "incorporated", "llc", "llp", "lllp", "lp", "ltd", "limited", "plc", "pty", "pte", "pvt", "corp", "corporation",
        "co", "company", "cos", "companies",
        "gmbh", "mbh", "ag", "kg", "kgaa", "ohg", "ug", "ev", "se",
        "sa", "sas", "sasu", "sarl", "eurl", "sca", "scs", "snc", "sci",
        "bv", "nv", "bvba", "vof", "cv", "srl", "sprl",
        "ab", "as", "asa", "aps", "oy", "oyj", "hf", "ehf",
        "spa", "sapa", "scarl", "sl", "slu", "sau", "lda", "ltda", "sro", "kft", "zrt", "nyrt", "doo", "dd", "ad", "ood",
        "ooo", "oao", "zao", "pao", "pjsc", "ojsc", "jsc", "tov",
        "kk", "gk", "yk", "bhd", "sdn", "tbk", "pcl", "sae", "wll", "fzco", "fze", "fzc", "fzllc",
    };

    /// <summary>Multi-token legal forms, matched before single words.</summary>
    private static readonly string[][] Phrases =
    [
        ["sp", "z", "oo"],
        ["s", "de", "rl", "de", "cv"],
        ["s", "de", "rl"],
        ["sa", "de", "cv"],
        ["s", "a", "de", "c", "v"],
        ["kabushiki", "kaisha"],
        ["godo", "kaisha"],
        ["sdn", "bhd"],
        ["pty", "ltd"],
        ["pvt", "ltd"],
        ["pte", "ltd"],
        ["private", "limited"],
        ["public", "limited", "company"],
        ["limited", "liability", "company"],
        ["s", "a"],
        ["a", "s"],
        ["s", "p", "a"],
        ["a", "g"],
        ["b", "v"],
        ["n", "v"],
    ];

    /// <summary>Removes trailing legal forms (and an "and" left over from "&amp; Co."), always keeping the first token.</summary>
    public static void StripTrailing(List<string> tokens)
    {
        while (tokens.Count > 1)
        {
            var phrase = Array.Find(Phrases, p => p.Length < tokens.Count && EndsWith(tokens, p));
            if (phrase is not null) tokens.RemoveRange(tokens.Count - phrase.Length, phrase.Length);
            else if (Words.Contains(tokens[^1]) || tokens[^1] == "and") tokens.RemoveAt(tokens.Count - 1);
            else break;
        }
    }

    private static bool EndsWith(List<string> tokens, string[] phrase)
    {
        for (var i = 0; i < phrase.Length; i++)
        {
            if (tokens[tokens.Count - phrase.Length + i] != phrase[i]) return false;
        }
        return true;
    }
}
