using Prm.Core.Common;

namespace Prm.Core.Tests;

public class MoneyTests
{
    [Theory]
    [InlineData("2.345", "EUR", "2.34")]
    [InlineData("2.355", "EUR", "2.36")]
    [InlineData("2.3451", "EUR", "2.35")]
    [InlineData("-2.345", "EUR", "-2.34")]
    [InlineData("0.125", "USD", "0.12")]
    [InlineData("0.135", "USD", "0.14")]
    [InlineData("2.5", "JPY", "2")]
    [InlineData("3.5", "JPY", "4")]
    [InlineData("1234.49", "KRW", "1234")]
    [InlineData("1.2345", "BHD", "1.234")]
    [InlineData("1.2355", "BHD", "1.236")]
    [InlineData("1.23456", "KWD", "1.235")]
    public void Round_is_half_even_to_the_currency_minor_unit(string amount, string currency, string expected)
    {
        var rounded = new Money(decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture), currency).Round();

        rounded.Amount.Should().Be(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture));
        rounded.Currency.Should().Be(currency);
    }

    [Fact]
    public void Round_keeps_three_decimals_for_bhd_and_none_for_jpy()
    {
        new Money(10.0005m, "BHD").Round().Amount.Should().Be(10.000m);
        new Money(10.0015m, "BHD").Round().Amount.Should().Be(10.002m);
        new Money(99.99m, "JPY").Round().Amount.Should().Be(100m);
    }

    [Fact]
    public void Round_of_an_unknown_currency_uses_two_decimals() =>
        new Money(1.005m, "XYZ").Round().Amount.Should().Be(1.00m);

    [Theory]
    [InlineData("EUR", true)]
    [InlineData("JPY", true)]
    [InlineData("BHD", true)]
    [InlineData("eur", false)]
    [InlineData("XYZ", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsKnown_accepts_listed_upper_case_codes(string? code, bool expected) =>
        Currencies.IsKnown(code).Should().Be(expected);

    [Theory]
    [InlineData("EUR", 2)]
    [InlineData("JPY", 0)]
    [InlineData("BHD", 3)]
    [InlineData("XYZ", 2)]
    public void MinorUnits_per_currency(string code, int expected) =>
        Currencies.MinorUnits(code).Should().Be(expected);

    [Theory]
    [InlineData("1234.5", "EUR", "1234.50 EUR")]
    [InlineData("1234", "EUR", "1234.00 EUR")]
    [InlineData("-0.5", "USD", "-0.50 USD")]
    [InlineData("1234", "JPY", "1234 JPY")]
    [InlineData("1.234", "BHD", "1.234 BHD")]
    [InlineData("1.2", "KWD", "1.200 KWD")]
    [InlineData("1.5", "XYZ", "1.50 XYZ")]
    public void ToString_is_the_invariant_amount_with_the_currency_minor_units_and_the_code(string amount, string currency, string expected) =>
        new Money(decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture), currency).ToString().Should().Be(expected);

    [Fact]
    public void ToString_keeps_all_minor_units_of_a_three_decimal_currency() =>
        new Money(1.234m, "BHD").ToString().Should().Be("1.234 BHD");

    [Fact]
    public void ToString_is_the_same_whatever_the_current_culture()
    {
        var before = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            new Money(1234.5m, "EUR").ToString().Should().Be("1234.50 EUR");
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = before;
        }
    }

    [Theory]
    [InlineData("2.345", "EUR", "2.34 EUR")]
    [InlineData("2.5", "JPY", "2 JPY")]
    [InlineData("1.2345", "BHD", "1.234 BHD")]
    public void ToString_of_an_amount_finer_than_the_minor_unit_shows_it_rounded_like_Round(string amount, string currency, string expected)
    {
        var money = new Money(decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture), currency);

        money.ToString().Should().Be(expected).And.Be(money.Round().ToString(), "printing an amount must not round it differently from Round()");
    }
}
