using Prm.Core.Deals;

namespace Prm.Core.Tests.Deals;

public class ConflictEngineTests
{
    private const string Me = "partner-mine-0001";
    private const string Rival = "partner-rival-9f3c";

    private static NormalizedCustomer Incoming(string? name, string? domain = null, string? country = null, params string[] products) =>
        CustomerNormalizer.Normalize(name, domain, country, products, Me) ?? throw new InvalidOperationException("unusable test input");

    private static ConflictCandidate Candidate(ConflictCandidateKind kind, string? partnerId, string? name, string? domain = null, string? country = null, params string[] products)
    {
        var customer = CustomerNormalizer.Normalize(name, domain, country, products) ?? throw new InvalidOperationException("unusable test input");
        return ConflictCandidate.From(kind, customer, partnerId);
    }

    private static ConflictCandidate RivalRegistration(string? name, string? domain = null, string? country = null, params string[] products) =>
        Candidate(ConflictCandidateKind.ActiveRegistration, Rival, name, domain, country, products);

    private static ConflictAssessment Assess(NormalizedCustomer incoming, params ConflictCandidate[] candidates) =>
        ConflictEngine.Assess(incoming, candidates, ConflictRules.Default);

    /// <summary>Name-only pairs (no domain, country or product): what the name alone is worth.</summary>
    [Theory]
    [InlineData("Acme Corp", "ACME Corporation Inc.", ConflictLevel.Likely)]
    [InlineData("Acme Corp", "The Acme Company Ltd", ConflictLevel.Likely)]
    [InlineData("Acme Corp", "acme", ConflictLevel.Likely)]
    [InlineData("Acme Corp", "Acme Bricks", ConflictLevel.Possible)]
    [InlineData("Acme Corp", "Acne Studios", ConflictLevel.None)]
    [InlineData("Acme", "Acne", ConflictLevel.None)]
    // Decision: Müller and Mueller are the same name (German transliteration of the umlaut), so Likely like any exact name.
    [InlineData("Müller GmbH", "Mueller", ConflictLevel.Likely)]
    [InlineData("Müller GmbH & Co. KG", "Muller AG", ConflictLevel.Likely)]
    [InlineData("Société Générale SA", "Societe Generale", ConflictLevel.Likely)]
    [InlineData("Procter & Gamble", "Procter and Gamble", ConflictLevel.Likely)]
    [InlineData("Coca-Cola Company", "CocaCola", ConflictLevel.Likely)]
    [InlineData("McDonald's Corporation", "Mc Donalds", ConflictLevel.Likely)]
    // A one-letter typo is a strong but not an exact match: worth a look on its own, Likely with a supporting fact.
    [InlineData("Siemens AG", "Siemans", ConflictLevel.Possible)]
    [InlineData("Apple", "Applied Materials", ConflictLevel.None)]
    [InlineData("Apple Inc.", "Applied", ConflictLevel.None)]
    [InlineData("General Motors", "General Mills", ConflictLevel.None)]
    [InlineData("General Electric", "General Dynamics", ConflictLevel.None)]
    [InlineData("Delta Air Lines", "Delta Faucet", ConflictLevel.None)]
    [InlineData("American Express", "American Airlines", ConflictLevel.None)]
    [InlineData("Oracle", "Microsoft", ConflictLevel.None)]
    public void Name_only_pairs_get_the_expected_level(string incoming, string existing, ConflictLevel expected)
    {
        var forward = Assess(Incoming(incoming), RivalRegistration(existing));
        var backward = Assess(Incoming(existing), RivalRegistration(incoming));

        forward.Level.Should().Be(expected);
        backward.Level.Should().Be(expected, "the comparison is symmetric");
    }

    [Theory]
    [InlineData("General Motors", "General Mills")]
    [InlineData("Apple", "Applied Materials")]
    [InlineData("Acme Corp", "Acne Studios")]
    [InlineData("Ford", "Fort Knox Security")]
    public void Distinct_companies_are_at_most_possible_even_in_the_same_country_with_the_same_product(string incoming, string existing) =>
        Assess(Incoming(incoming, null, "US", "pl-1"), RivalRegistration(existing, null, "US", "pl-1"))
            .Level.Should().BeOneOf(ConflictLevel.None, ConflictLevel.Possible);

    [Theory]
    [InlineData("www.acme.com", "https://shop.acme.com/path")]
    [InlineData("jane@sales.acme.com", "acme.com")]
    [InlineData("acme.co.uk", "http://www.ACME.co.uk/")]
    public void The_same_registrable_domain_alone_is_likely(string incomingDomain, string existingDomain)
    {
        var result = Assess(Incoming("Acme Holdings", incomingDomain), RivalRegistration("Roadrunner Supplies", existingDomain));

        result.Level.Should().Be(ConflictLevel.Likely);
        result.Score.Should().Be(ConflictRules.Default.DomainMatchWeight);
        result.Evidence.Should().Equal("An active registration by another partner matches this customer's domain.");
    }

    [Fact]
    public void A_different_public_suffix_is_a_different_domain()
    {
        var result = Assess(Incoming(null, "acme.co.uk"), RivalRegistration(null, "acme.com"));
        result.Level.Should().Be(ConflictLevel.None);
        result.Matches.Should().BeEmpty();
    }

    [Fact]
    public void Same_domain_and_same_name_is_certain()
    {
        var result = Assess(Incoming("Acme Corp", "www.acme.com"), RivalRegistration("ACME Corporation Inc.", "jane@sales.acme.com"));

        result.Level.Should().Be(ConflictLevel.Certain);
        result.Score.Should().Be(100);
        result.Evidence.Should().Equal(
            "An active registration by another partner matches this customer's domain.",
            "An active registration by another partner matches this customer's name.");
    }

    [Fact]
    public void Same_domain_same_product_and_same_country_is_certain_as_in_siebel()
    {
        var result = Assess(Incoming("Acme", "acme.com", "US", "pl-storage"), RivalRegistration("Roadrunner Supplies", "acme.com", "US", "PL-STORAGE", "pl-network"));

        result.Level.Should().Be(ConflictLevel.Certain);
        result.Score.Should().Be(95);
        result.Evidence.Should().Contain("An active registration by another partner includes at least one of the same product lines.")
            .And.Contain("An active registration by another partner is in the same country.");
    }

    [Fact]
    public void Supporting_facts_lift_an_exact_name_and_a_typo()
    {
        Assess(Incoming("Acme Corp", null, "DE", "pl-1"), RivalRegistration("Acme GmbH", null, "DE", "pl-1"))
            .Should().Match<ConflictAssessment>(r => r.Level == ConflictLevel.Certain && r.Score == 90);
        Assess(Incoming("Siemens AG", null, "DE"), RivalRegistration("Siemans", null, "DE"))
            .Level.Should().Be(ConflictLevel.Likely);
    }

    [Fact]
    public void Product_and_country_alone_are_not_evidence()
    {
        var result = Assess(Incoming("Initech", "initech.com", "US", "pl-1"), RivalRegistration("Globex", "globex.com", "US", "pl-1"));

        result.Should().BeEquivalentTo(ConflictAssessment.NoConflict);
        result.BestMatch.Should().BeNull();
    }

    [Fact]
    public void A_name_match_in_another_country_counts_less_but_a_domain_match_does_not()
    {
        Assess(Incoming("Acme Corp", null, "FR"), RivalRegistration("Acme Inc", null, "US")).Should()
            .Match<ConflictAssessment>(r => r.Level == ConflictLevel.Possible && r.Score == 50);
        Assess(Incoming(null, "acme.com", "FR"), RivalRegistration(null, "acme.com", "US")).Score.Should().Be(70);
        Assess(Incoming("Acme Bricks", null, "FR"), RivalRegistration("Acme", null, "US")).Level.Should().Be(ConflictLevel.None);
    }

    [Theory]
    [InlineData("Acme Corp", null)]
    [InlineData("Roadrunner Supplies", "https://shop.acme.com/path")]
    [InlineData("ACME Corporation Inc.", null)]
    [InlineData("Acmee Corp", null)]
    public void A_house_account_matched_by_domain_or_strong_name_is_certain(string incomingName, string? incomingDomain)
    {
        var house = Candidate(ConflictCandidateKind.HouseAccount, null, "Acme Corp", "acme.com", "US");
        var result = Assess(Incoming(incomingName, incomingDomain, "FR"), house);

        result.Level.Should().Be(ConflictLevel.Certain);
        result.Score.Should().Be(100);
        result.BestMatch!.Kind.Should().Be(ConflictCandidateKind.HouseAccount);
        result.Evidence.Should().OnlyContain(e => e.StartsWith("A house account (reserved for direct sales) ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_house_account_has_the_documented_evidence_text()
    {
        var result = Assess(Incoming("The Acme Company Ltd"), Candidate(ConflictCandidateKind.HouseAccount, null, "Acme Corp"));
        result.Evidence.Should().Equal("A house account (reserved for direct sales) matches this customer's name.");
    }

    [Fact]
    public void A_house_account_with_only_a_similar_name_is_scored_like_any_candidate()
    {
        var result = Assess(Incoming("Acme Bricks"), Candidate(ConflictCandidateKind.HouseAccount, null, "Acme"));

        result.Level.Should().Be(ConflictLevel.Possible);
        result.Evidence.Should().Equal("A house account (reserved for direct sales) has a name similar to this customer's.");
    }

    [Fact]
    public void The_house_account_comes_first_among_the_matches()
    {
        var registration = RivalRegistration("Roadrunner Supplies", "acme.com", "US");
        var house = Candidate(ConflictCandidateKind.HouseAccount, null, "Acme Corp");
        var result = Assess(Incoming("Acme", "acme.com", "US"), registration, house);

        result.Level.Should().Be(ConflictLevel.Certain);
        result.Matches.Select(m => (m.CandidateIndex, m.Level, m.Score)).Should().Equal((1, ConflictLevel.Certain, 100), (0, ConflictLevel.Likely, 80));
        result.Evidence[0].Should().Be("A house account (reserved for direct sales) matches this customer's name.");
    }

    [Fact]
    public void Evidence_never_contains_another_partners_id_or_deal_details()
    {
        var candidates = new[]
        {
            RivalRegistration("Acme Corp", "acme.com", "US", "pl-secret-product"),
            Candidate(ConflictCandidateKind.RecentlyWonDeal, Rival, "Acme", "acme.com", "US", "pl-secret-product"),
            Candidate(ConflictCandidateKind.RecentlyWonDeal, null, "Acme", "acme.com"),
            Candidate(ConflictCandidateKind.HouseAccount, null, "Acme Corp", "acme.com"),
            Candidate(ConflictCandidateKind.ActiveRegistration, Me, "Acme Corp", "acme.com", "US", "pl-secret-product"),
        };
        var result = Assess(Incoming("Acme Corp", "acme.com", "US", "pl-secret-product"), candidates);

        result.Evidence.Should().NotBeEmpty();
        var everything = result.Evidence.Concat(result.Matches.SelectMany(m => m.Evidence)).ToArray();
        foreach (var sentence in everything)
        {
            sentence.Should().NotContainAny(Rival, "rival", Me, "pl-secret-product", "acme", "Acme", "US");
            sentence.Should().EndWith(".");
        }
        result.Matches.Should().HaveCount(5);
    }

    [Fact]
    public void Evidence_tells_the_kind_of_candidate_apart_without_naming_it()
    {
        Assess(Incoming(null, "acme.com"), Candidate(ConflictCandidateKind.ActiveRegistration, Me, null, "acme.com"))
            .Evidence.Should().Equal("An active registration by your organization matches this customer's domain.");
        Assess(Incoming(null, "acme.com"), Candidate(ConflictCandidateKind.RecentlyWonDeal, Rival, null, "acme.com"))
            .Evidence.Should().Equal("A deal recently won by another partner matches this customer's domain.");
        Assess(Incoming(null, "acme.com"), Candidate(ConflictCandidateKind.RecentlyWonDeal, Me, null, "acme.com"))
            .Evidence.Should().Equal("A deal recently won by your organization matches this customer's domain.");
        Assess(Incoming(null, "acme.com"), Candidate(ConflictCandidateKind.RecentlyWonDeal, null, null, "acme.com"))
            .Evidence.Should().Equal("A deal recently won by direct sales matches this customer's domain.");
        Assess(Incoming("Siemens"), RivalRegistration("Siemans"))
            .Evidence.Should().Equal("An active registration by another partner has a name very similar to this customer's.");
    }

    [Fact]
    public void A_duplicate_of_ones_own_registration_is_flagged_as_same_partner()
    {
        var result = Assess(Incoming("Acme Corp", "acme.com"), Candidate(ConflictCandidateKind.ActiveRegistration, Me, "Acme", "www.acme.com"));

        result.Level.Should().Be(ConflictLevel.Certain);
        result.BestMatch.Should().BeEquivalentTo(new { CandidateIndex = 0, Kind = ConflictCandidateKind.ActiveRegistration, SamePartner = true, Score = 100 });
    }

    [Fact]
    public void Without_an_incoming_partner_every_partner_owned_candidate_is_another_partners()
    {
        var anonymous = CustomerNormalizer.Normalize("Acme", "acme.com")!;
        var result = ConflictEngine.Assess(anonymous, [Candidate(ConflictCandidateKind.ActiveRegistration, Me, "Acme", "acme.com")], ConflictRules.Default);

        result.BestMatch!.SamePartner.Should().BeFalse();
        result.Evidence[0].Should().StartWith("An active registration by another partner");
    }

    [Fact]
    public void Matches_are_ordered_best_first_and_keep_candidate_indexes()
    {
        var candidates = new[]
        {
            RivalRegistration("Globex"),
            RivalRegistration("Acme Bricks"),
            RivalRegistration("Acme Inc", "acme.com"),
            RivalRegistration("ACME"),
        };
        var result = Assess(Incoming("Acme", "acme.com"), candidates);

        result.Matches.Select(m => (m.CandidateIndex, m.Level)).Should().Equal(
            (2, ConflictLevel.Certain), (3, ConflictLevel.Likely), (1, ConflictLevel.Possible));
        result.BestMatch!.CandidateIndex.Should().Be(2);
        result.Level.Should().Be(ConflictLevel.Certain);
        result.Score.Should().Be(100);
        result.Evidence.Should().OnlyHaveUniqueItems();
        result.Evidence.Should().HaveCount(3, "domain, name and similar name; the repeated exact-name sentence is listed once");
    }

    [Fact]
    public void No_candidates_means_no_conflict()
    {
        var result = Assess(Incoming("Acme", "acme.com"));
        result.Should().BeEquivalentTo(ConflictAssessment.NoConflict);
    }

    [Fact]
    public void A_score_below_possible_is_reported_without_evidence()
    {
        var result = Assess(Incoming("Acme Bricks", null, "FR"), RivalRegistration("Acme", null, "DE"));

        result.Level.Should().Be(ConflictLevel.None);
        result.Score.Should().Be(15);
        result.Evidence.Should().BeEmpty();
        result.Matches.Should().BeEmpty();
    }

    [Fact]
    public void Scores_stay_within_0_and_100()
    {
        var rules = ConflictRules.Default with { DomainMatchWeight = 90, ExactNameWeight = 90, ProductOverlapWeight = 50, SameCountryWeight = 50, OtherCountryPenalty = 200 };
        ConflictEngine.Assess(Incoming("Acme", "acme.com", "US", "pl-1"), [RivalRegistration("Acme", "acme.com", "US", "pl-1")], rules).Score.Should().Be(100);
        ConflictEngine.Assess(Incoming("Acme", null, "US"), [RivalRegistration("Acme", null, "DE")], rules).Score.Should().Be(0);
    }

    [Fact]
    public void Rules_are_data_that_change_the_outcome()
    {
        var strict = ConflictRules.Default with { LikelyScore = 80, PossibleScore = 50 };
        var lenient = ConflictRules.Default with { SimilarNameSimilarity = 0.6 };

        ConflictEngine.Assess(Incoming("Acme Corp"), [RivalRegistration("Acme Inc")], strict).Level.Should().Be(ConflictLevel.Possible);
        ConflictEngine.Assess(Incoming("General Motors"), [RivalRegistration("General Mills")], lenient).Level.Should().Be(ConflictLevel.Possible);
    }

    [Fact]
    public void Default_rules_round_trip_through_settings_json()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(ConflictRules.Default);
        System.Text.Json.JsonSerializer.Deserialize<ConflictRules>(json).Should().Be(ConflictRules.Default);
        System.Text.Json.JsonSerializer.Deserialize<ConflictRules>("""{"CertainScore":95}""")
            .Should().Be(ConflictRules.Default with { CertainScore = 95 }, "missing settings keep their defaults");
    }

    [Fact]
    public void Assess_rejects_null_arguments()
    {
        var incoming = Incoming("Acme");
        FluentActions.Invoking(() => ConflictEngine.Assess(null!, [], ConflictRules.Default)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => ConflictEngine.Assess(incoming, null!, ConflictRules.Default)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => ConflictEngine.Assess(incoming, [], null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => ConflictEngine.Assess(incoming, [null!], ConflictRules.Default)).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void A_candidate_without_name_or_domain_in_common_is_ignored()
    {
        var result = Assess(Incoming("Acme", null), RivalRegistration(null, "acme.com"));
        result.Level.Should().Be(ConflictLevel.None);
    }
}
