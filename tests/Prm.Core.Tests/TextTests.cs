using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Tests;

public class TextTests
{
    [Theory]
    [InlineData("Jane.Doe@Example.COM", "jane.doe@example.com")]
    [InlineData("  jane@example.com \t", "jane@example.com")]
    [InlineData("a+tag@sub.example.co.uk", "a+tag@sub.example.co.uk")]
    public void NormalizeEmail_lower_cases_and_trims(string input, string expected) =>
        Text.NormalizeEmail(input).Should().Be(expected);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("jane")]
    [InlineData("jane@")]
    [InlineData("@example.com")]
    [InlineData("jane@localhost")]
    [InlineData("jane@@example.com")]
    [InlineData("ja ne@example.com")]
    [InlineData("jane@exa mple.com")]
    public void NormalizeEmail_returns_null_for_what_is_not_an_email(string? input) =>
        Text.NormalizeEmail(input).Should().BeNull();

    [Fact]
    public void NormalizeEmail_rejects_addresses_longer_than_254_characters()
    {
        var local = new string('a', 64);
        var domain = string.Join('.', Enumerable.Repeat(new string('b', 60), 3)) + ".com"; // 187 chars
        var ok = local + "@" + domain;
        ok.Length.Should().BeLessThanOrEqualTo(254);
        Text.NormalizeEmail(ok).Should().Be(ok);

        var tooLong = new string('a', 64) + "@" + string.Join('.', Enumerable.Repeat(new string('b', 60), 4)) + ".com";
        tooLong.Length.Should().BeGreaterThan(254);
        Text.NormalizeEmail(tooLong).Should().BeNull();
    }

    [Theory]
    [InlineData("example.com", "example.com")]
    [InlineData("Example.COM.", "example.com")]
    [InlineData("  www.example.com  ", "example.com")]
    [InlineData("https://www.Example.com/partners?x=1#top", "example.com")]
    [InlineData("http://example.com:8080/path", "example.com")]
    [InlineData("example.com:443", "example.com")]
    [InlineData("HTTPS://shop.example.co.uk/", "shop.example.co.uk")]
    [InlineData("sub-domain.example.org?query", "sub-domain.example.org")]
    [InlineData("example.com#frag", "example.com")]
    [InlineData("123.example.com", "123.example.com")]
    public void NormalizeDomain_returns_the_host(string input, string expected) =>
        Text.NormalizeDomain(input).Should().Be(expected);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("localhost")]
    [InlineData("a..b")]
    [InlineData("a..com")]
    [InlineData("-example.com")]
    [InlineData("example-.com")]
    [InlineData("exa_mple.com")]
    [InlineData("example.c")]
    [InlineData("example.123")]
    [InlineData("https://")]
    [InlineData("jane@example.com")]
    [InlineData("192.168.0.1")]
    public void NormalizeDomain_returns_null_for_what_is_not_a_domain(string? input) =>
        Text.NormalizeDomain(input).Should().BeNull();

    [Fact]
    public void NormalizeDomain_rejects_a_label_longer_than_63_characters()
    {
        Text.NormalizeDomain(new string('a', 63) + ".com").Should().Be(new string('a', 63) + ".com");
        Text.NormalizeDomain(new string('a', 64) + ".com").Should().BeNull();
    }

    [Fact]
    public void EmailDomain_is_the_part_after_the_at_sign() =>
        Text.EmailDomain("jane@sales.example.com").Should().Be("sales.example.com");

    private const string NameKeyBug = "bug: Text.NameKey (Common/Text.cs:44) relies on string.Normalize(FormD), which is a no-op for non-ASCII text because /work/main/Directory.Build.props:12 sets InvariantGlobalization=true for every project; NameKey(\"Ärzte GmbH\") is \"ärzte gmbh\", expected \"arzte gmbh\" (accent-insensitive search never matches)";

    [Theory]
    [InlineData("arzte gmbh", "arzte gmbh")]
    [InlineData("  ACME Corp  ", "acme corp")]
    public void NameKey_is_case_insensitive_and_trimmed(string input, string expected) =>
        Text.NameKey(input).Should().Be(expected);

    [Theory(Skip = NameKeyBug)]
    [InlineData("Ärzte GmbH", "arzte gmbh")]
    [InlineData("  Café Crème  ", "cafe creme")]
    public void NameKey_is_accent_insensitive(string input, string expected) =>
        Text.NameKey(input).Should().Be(expected);

    [Fact(Skip = NameKeyBug)]
    public void NameKey_matches_names_that_differ_only_in_case_and_accents() =>
        Text.NameKey("Ärzte GmbH").Should().Be(Text.NameKey("arzte gmbh"));

    [Theory]
    [InlineData("A/B\\C#D?E|F", "abcdef")]
    [InlineData("Tab\tName", "tabname")]
    [InlineData("Line\nBreak", "linebreak")]
    public void NameKey_strips_characters_unsafe_in_table_keys(string input, string expected) =>
        Text.NameKey(input).Should().Be(expected);

    [Fact]
    public void Camel_lower_cases_the_first_letter_only()
    {
        Text.Camel(PartnerStatus.AgreementPending).Should().Be("agreementPending");
        Text.Camel(PartnerTier.Gold).Should().Be("gold");
        Text.Camel(PartnerType.Msp).Should().Be("msp");
    }

    [Theory]
    [InlineData("gold", PartnerTier.Gold)]
    [InlineData("Gold", PartnerTier.Gold)]
    [InlineData("GOLD", PartnerTier.Gold)]
    [InlineData("registered", PartnerTier.Registered)]
    public void ParseEnum_accepts_camel_and_pascal_case(string text, PartnerTier expected) =>
        Text.ParseEnum<PartnerTier>(text).Should().Be(expected);

    [Fact]
    public void ParseEnum_accepts_multi_word_values_in_both_cases()
    {
        Text.ParseEnum<PartnerStatus>("agreementPending").Should().Be(PartnerStatus.AgreementPending);
        Text.ParseEnum<PartnerStatus>("AgreementPending").Should().Be(PartnerStatus.AgreementPending);
        Text.ParseEnum<PartnerRole>("partnerAdmin").Should().Be(PartnerRole.PartnerAdmin);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("0")]
    [InlineData("1")]
    [InlineData("3")]
    [InlineData("42")]
    [InlineData("diamond")]
    [InlineData("agreement pending")]
    public void ParseEnum_rejects_numbers_and_unknown_names(string? text) =>
        Text.ParseEnum<PartnerTier>(text).Should().BeNull();

    [Theory(Skip = "bug: Text.ParseEnum (Common/Text.cs:64) only checks text[0] for a digit, so numbers after a sign or blank pass Enum.TryParse: \"+1\" -> Silver, \" 1\" -> Silver, \"-0\" -> Registered; expected null")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("-0")]
    public void ParseEnum_rejects_numbers_with_a_sign_or_leading_blank(string text) =>
        Text.ParseEnum<PartnerTier>(text).Should().BeNull();

    [Theory(Skip = "bug: Text.ParseEnum (Common/Text.cs:64) lets Enum.TryParse combine comma-separated names as flags: \"silver,gold\" -> Platinum (1|2=3), \"registered,gold\" -> Gold; expected null")]
    [InlineData("silver,gold")]
    [InlineData("registered,gold")]
    public void ParseEnum_rejects_comma_separated_lists(string text) =>
        Text.ParseEnum<PartnerTier>(text).Should().BeNull();

    [Theory]
    [InlineData("DE", true)]
    [InlineData("US", true)]
    [InlineData("GB", true)]
    [InlineData("de", false)]
    [InlineData("UK", false)]
    [InlineData("XX", false)]
    [InlineData("DEU", false)]
    [InlineData("D", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsCountryCode_accepts_upper_case_iso_alpha2_only(string? code, bool expected) =>
        Text.IsCountryCode(code).Should().Be(expected);
}
