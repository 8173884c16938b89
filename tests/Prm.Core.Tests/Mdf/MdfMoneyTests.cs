using Prm.Core.Common;
using Prm.Core.Mdf;

namespace Prm.Core.Tests.Mdf;

public class MdfMoneyTests
{
    private static decimal M(string s) => decimal.Parse(s, System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("0.20", "EUR", "12.5", "0.02")]   // 0.025 -> even 0.02
    [InlineData("0.60", "EUR", "12.5", "0.08")]   // 0.075 -> even 0.08
    [InlineData("1.00", "EUR", "0.5", "0.00")]    // 0.005 -> even 0.00
    [InlineData("3.00", "EUR", "0.5", "0.02")]    // 0.015 -> even 0.02
    [InlineData("10000", "EUR", "3.3333", "333.33")]
    [InlineData("5", "JPY", "50", "2")]           // 2.5 -> even 2
    [InlineData("7", "JPY", "50", "4")]           // 3.5 -> even 4
    [InlineData("0.005", "BHD", "50", "0.002")]   // 0.0025 -> even 0.002
    [InlineData("100", "EUR", "100", "100")]
    [InlineData("100", "EUR", "0", "0")]
    public void Percentage_rounds_half_even_to_the_minor_unit(string amount, string currency, string percent, string expected)
    {
        var result = MdfMoney.Percentage(new Money(M(amount), currency), M(percent));

        result.Should().Be(new Money(M(expected), currency));
    }

    [Fact]
    public void Add_and_subtract_keep_the_currency_and_refuse_a_mix()
    {
        MdfMoney.Add(new Money(1.10m, "EUR"), new Money(2.20m, "EUR")).Should().Be(new Money(3.30m, "EUR"));
        MdfMoney.Subtract(new Money(1.10m, "EUR"), new Money(2.20m, "EUR")).Should().Be(new Money(-1.10m, "EUR"));

        var act = () => MdfMoney.Add(new Money(1m, "EUR"), new Money(1m, "USD"));

        var error = act.Should().Throw<CurrencyMismatchException>().Which;
        error.Expected.Should().Be("EUR");
        error.Actual.Should().Be("USD");
    }

    [Fact]
    public void Decimal_sums_are_exact_where_binary_floats_are_not()
    {
        var total = Enumerable.Repeat(new Money(0.10m, "EUR"), 10).Aggregate(MdfMoney.Add);

        total.Amount.Should().Be(1.00m);
    }

    [Fact]
    public void Coop_accrual_is_a_percentage_of_the_won_value_rounded_once()
    {
        var won = new[] { new Money(0.10m, "EUR"), new Money(0.10m, "EUR") };

        MdfMoney.CoopAccrual(12.5m, won, "EUR").Should().Be(new Money(0.02m, "EUR")); // 0.025 -> 0.02, not 0.01 + 0.01 rounded separately
        MdfMoney.CoopAccrual(5m, [], "EUR").Should().Be(new Money(0m, "EUR"));
        var act = () => MdfMoney.CoopAccrual(5m, [new Money(1m, "USD")], "EUR");
        act.Should().Throw<CurrencyMismatchException>();
    }

    [Theory]
    [InlineData("10.50", "EUR", false, 0)]
    [InlineData("10.500", "EUR", false, 0)]
    [InlineData("1000000000", "EUR", false, 0)]
    [InlineData("10.505", "EUR", false, 1)]
    [InlineData("0", "EUR", false, 1)]
    [InlineData("-1", "EUR", false, 1)]
    [InlineData("1000000000.01", "EUR", false, 1)]
    [InlineData("10.5", "JPY", false, 1)]
    [InlineData("1.234", "BHD", false, 0)]
    [InlineData("-25.00", "EUR", true, 0)]
    [InlineData("0", "EUR", true, 1)]
    [InlineData("-1000000001", "EUR", true, 1)]
    public void Amount_problems_cover_sign_bound_and_minor_units(string amount, string currency, bool signed, int problems)
    {
        var found = MdfMoney.AmountProblems(M(amount), currency, "amount", signed).ToList();

        found.Should().HaveCount(problems);
        found.All(p => p.StartsWith("amount ", StringComparison.Ordinal)).Should().BeTrue("messages name the field");
    }
}
