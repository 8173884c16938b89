namespace Prm.Core.Deals;

/// <summary>How sure the engine is that a registration conflicts with an existing one.</summary>
public enum ConflictLevel
{
    /// <summary>No evidence worth a look.</summary>
    None = 0,

    /// <summary>Some evidence; a reviewer should glance at it.</summary>
    Possible = 1,

    /// <summary>Strong evidence; probably the same customer.</summary>
    Likely = 2,

    /// <summary>Conclusive: same customer (or a house account reserved for direct sales).</summary>
    Certain = 3,
}

/// <summary>What an existing record the incoming registration is compared with is.</summary>
public enum ConflictCandidateKind
{
    /// <summary>A registration that is submitted, under review or approved and still protected; of the same or another partner.</summary>
    ActiveRegistration = 0,

    /// <summary>A deal won recently (within the program's look-back window), by a partner or by direct sales.</summary>
    RecentlyWonDeal = 1,

    /// <summary>A named account reserved for direct sales; partners cannot register it.</summary>
    HouseAccount = 2,
}

/// <summary>An existing record found through the blocking keys or the domain, in comparable form.</summary>
/// <param name="Kind">What the record is.</param>
/// <param name="PartnerId">
/// Owner of the record, or null for direct sales and house accounts. Only compared with the incoming partner;
/// never written into evidence.
/// </param>
/// <param name="Domain">Registrable domain, or null.</param>
/// <param name="NameKey">Company name key, or null.</param>
/// <param name="Country">ISO 3166-1 alpha-2 code, or null.</param>
/// <param name="ProductLineIds">Product lines of the record; may be empty.</param>
public sealed record ConflictCandidate(
    ConflictCandidateKind Kind,
    string? PartnerId,
    string? Domain,
    string? NameKey,
    string? Country,
    IReadOnlyList<string> ProductLineIds)
{
    /// <summary>A candidate of the given kind for an already normalized customer.</summary>
    public static ConflictCandidate From(ConflictCandidateKind kind, NormalizedCustomer customer, string? partnerId) =>
        new(kind, partnerId, customer.Domain, customer.NameKey, customer.Country, customer.ProductLineIds);
}

/// <summary>
/// Weights and thresholds of the conflict score, as data (stored in the program settings). Scores are 0-100; a candidate
/// scores only when its domain matches or its name is at least <see cref="SimilarNameSimilarity"/> alike, and product
/// and country evidence then add to (or subtract from) that.
/// </summary>
public sealed record ConflictRules
{
    /// <summary>The defaults.</summary>
    public static ConflictRules Default { get; } = new();

    /// <summary>Lowest score reported as <see cref="ConflictLevel.Possible"/>.</summary>
    public int PossibleScore { get; init; } = 30;

    /// <summary>Lowest score reported as <see cref="ConflictLevel.Likely"/>.</summary>
    public int LikelyScore { get; init; } = 60;

    /// <summary>Lowest score reported as <see cref="ConflictLevel.Certain"/>.</summary>
    public int CertainScore { get; init; } = 90;

    /// <summary>Added when both registrable domains are known and equal.</summary>
    public int DomainMatchWeight { get; init; } = 70;

    /// <summary>Added when the name keys are equal (ignoring spaces and the German ae/oe/ue transliteration).</summary>
    public int ExactNameWeight { get; init; } = 65;

    /// <summary>Added when the name similarity is at least <see cref="StrongNameSimilarity"/> (and the names differ).</summary>
    public int StrongNameWeight { get; init; } = 55;

    /// <summary>Name similarity (0-1) counted as a strong match; also what makes a house account match by name.</summary>
    public double StrongNameSimilarity { get; init; } = 0.92;

    /// <summary>Added when the name similarity is at least <see cref="SimilarNameSimilarity"/> but below the strong one.</summary>
    public int SimilarNameWeight { get; init; } = 30;

    /// <summary>Name similarity (0-1) below which names are not evidence at all.</summary>
    public double SimilarNameSimilarity { get; init; } = 0.80;

    /// <summary>Lowest Jaro-Winkler similarity at which two name words can count as the same word (with <see cref="TokenLevenshtein"/>).</summary>
    public double TokenJaroWinkler { get; init; } = 0.90;

    /// <summary>Lowest normalized Levenshtein similarity at which two name words can count as the same word (keeps Apple apart from Applied).</summary>
    public double TokenLevenshtein { get; init; } = 0.75;

    /// <summary>Added when the registrations share at least one product line (supporting evidence only).</summary>
    public int ProductOverlapWeight { get; init; } = 15;

    /// <summary>Added when both countries are known and equal (supporting evidence only).</summary>
    public int SameCountryWeight { get; init; } = 10;

    /// <summary>Subtracted when both countries are known and differ and only the name (not the domain) matches.</summary>
    public int OtherCountryPenalty { get; init; } = 15;
}

/// <summary>One candidate that reached at least <see cref="ConflictLevel.Possible"/>; for routing, not for the partner's eyes.</summary>
/// <param name="CandidateIndex">Index of the candidate in the list given to <see cref="ConflictEngine.Assess"/>.</param>
/// <param name="Kind">The candidate's kind.</param>
/// <param name="SamePartner">True when the candidate belongs to the registering partner.</param>
/// <param name="Score">0-100.</param>
/// <param name="Level">Level of this candidate alone.</param>
/// <param name="Evidence">Anonymous evidence sentences for this candidate.</param>
public sealed record ConflictMatch(
    int CandidateIndex,
    ConflictCandidateKind Kind,
    bool SamePartner,
    int Score,
    ConflictLevel Level,
    IReadOnlyList<string> Evidence);

/// <summary>
/// Outcome of <see cref="ConflictEngine.Assess"/>. <see cref="Evidence"/> is safe to show the registering partner: it
/// never names another partner, a deal, a value or a product.
/// </summary>
/// <param name="Level">The highest level of any candidate.</param>
/// <param name="Score">The highest score of any candidate, 0-100.</param>
/// <param name="Evidence">Anonymous evidence sentences of the matches, best match first, without repeats.</param>
/// <param name="Matches">Candidates at <see cref="ConflictLevel.Possible"/> or above, best first (ties: lower index first).</param>
public sealed record ConflictAssessment(
    ConflictLevel Level,
    int Score,
    IReadOnlyList<string> Evidence,
    IReadOnlyList<ConflictMatch> Matches)
{
    /// <summary>No candidate matched.</summary>
    public static ConflictAssessment NoConflict { get; } = new(ConflictLevel.None, 0, [], []);

    /// <summary>The best-matching candidate, or null when none reached <see cref="ConflictLevel.Possible"/>.</summary>
    public ConflictMatch? BestMatch => Matches.Count > 0 ? Matches[0] : null;
}
