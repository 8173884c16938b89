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

    [Theory]
    [InlineData("boss@https://x.example/about")]
    [InlineData("boss@x.example/about")]
    [InlineData("boss@x.example:25")]
    [InlineData("boss@-x.example")]
    [InlineData("boss@x-.example")]
    [InlineData("boss@x..example")]
    [InlineData("boss@.x.example")]
    [InlineData("boss@x.example.")]
    [InlineData("boss@x_y.example")]
    [InlineData("boss@x.e")]
    [InlineData("boss@x.123")]
    [InlineData("boss@192.168.0.1")]
    [InlineData("boss@x.example?subject=hi")]
    public void NormalizeEmail_returns_null_when_the_part_after_the_at_sign_is_not_a_domain(string input) =>
        Text.NormalizeEmail(input).Should().BeNull();

    [Theory]
    [InlineData("Boss@Sub-Domain.X.Example", "boss@sub-domain.x.example")]
    [InlineData("o'neil+tag@x1.example.io", "o'neil+tag@x1.example.io")]
    [InlineData("boss@xn--bcher-kva.example", "boss@xn--bcher-kva.example")]
    public void NormalizeEmail_accepts_any_valid_domain(string input, string expected) =>
        Text.NormalizeEmail(input).Should().Be(expected);

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

    [Theory]
    [InlineData("arzte gmbh", "arzte gmbh")]
    [InlineData("  ACME Corp  ", "acme corp")]
    public void NameKey_is_case_insensitive_and_trimmed(string input, string expected) =>
        Text.NameKey(input).Should().Be(expected);

    [Theory]
    [InlineData("Ärzte GmbH", "arzte gmbh")]
    [InlineData("  Café Crème  ", "cafe creme")]
    public void NameKey_is_accent_insensitive(string input, string expected) =>
        Text.NameKey(input).Should().Be(expected);

    [Fact]
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

    [Theory]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("-0")]
    public void ParseEnum_rejects_numbers_with_a_sign_or_leading_blank(string text) =>
        Text.ParseEnum<PartnerTier>(text).Should().BeNull();

    [Theory]
    [InlineData("silver,gold")]
    [InlineData("registered,gold")]
    public void ParseEnum_rejects_comma_separated_lists(string text) =>
        Text.ParseEnum<PartnerTier>(text).Should().BeNull();

    [Theory]
    [InlineData(" gold")]
    [InlineData("gold ")]
    [InlineData("go ld")]
    [InlineData("gold.")]
    [InlineData("g\u00F6ld")]
    [InlineData("1gold")]
    public void ParseEnum_accepts_only_ascii_letters(string text) =>
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
