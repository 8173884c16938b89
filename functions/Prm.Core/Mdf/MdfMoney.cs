using System.Globalization;
using Prm.Core.Common;

namespace Prm.Core.Mdf;

/// <summary>Two amounts in different currencies were combined; a programming or data error, never rounded away.</summary>
public sealed class CurrencyMismatchException(string expected, string actual)
    : PrmException("Currency mismatch.", $"Expected an amount in {expected}, got {actual}.")
{
    /// <summary>The currency the operation works in.</summary>
    public string Expected { get; } = expected;

    /// <summary>The currency that was offered.</summary>
    public string Actual { get; } = actual;
}

/// <summary>Decimal money arithmetic for MDF: same-currency guards, percentages rounded half-even, input bounds.</summary>
public static class MdfMoney
{
    /// <summary>Largest amount a budget, request, claim or payout may carry (in currency units).</summary>
    public const decimal MaxAmount = 1_000_000_000m;

    /// <summary>a + b. Throws <see cref="CurrencyMismatchException"/> when the currencies differ.</summary>
    public static Money Add(Money a, Money b)
    {
        RequireSameCurrency(a, b);
        return new Money(a.Amount + b.Amount, a.Currency);
    }

    /// <summary>a - b (may be negative). Throws <see cref="CurrencyMismatchException"/> when the currencies differ.</summary>
    public static Money Subtract(Money a, Money b)
    {
        RequireSameCurrency(a, b);
        return new Money(a.Amount - b.Amount, a.Currency);
    }

    /// <summary>Sum of the amounts, all in <paramref name="currency"/>; zero for none.</summary>
    public static Money Sum(IEnumerable<Money> amounts, string currency)
    {
        ArgumentNullException.ThrowIfNull(amounts);
        var total = 0m;
        foreach (var amount in amounts)
        {
            if (!string.Equals(amount.Currency, currency, StringComparison.Ordinal)) throw new CurrencyMismatchException(currency, amount.Currency);
            total += amount.Amount;
        }
        return new Money(total, currency);
    }

    /// <summary>Throws <see cref="CurrencyMismatchException"/> unless both amounts are in the same currency.</summary>
    public static void RequireSameCurrency(Money a, Money b)
    {
        if (!string.Equals(a.Currency, b.Currency, StringComparison.Ordinal)) throw new CurrencyMismatchException(a.Currency, b.Currency);
    }

    /// <summary>
    /// <paramref name="percent"/> % of <paramref name="amount"/>, rounded to the currency's minor unit half-even
    /// (e.g. 12.5 % of 0.20 EUR = 0.025 → 0.02 EUR). The product is exact in decimal before the single rounding.
    /// </summary>
    public static Money Percentage(Money amount, decimal percent) => new Money(amount.Amount * percent / 100m, amount.Currency).Round();

    /// <summary>
    /// Co-op accrual: <paramref name="percent"/> % of the total won deal value of the previous period, rounded once
    /// half-even. All values must be in <paramref name="currency"/> (conversion is the caller's job).
    /// </summary>
    public static Money CoopAccrual(decimal percent, IEnumerable<Money> wonDealValues, string currency) =>
        Percentage(Sum(wonDealValues, currency), percent);

    /// <summary>True when the amount has no digits below the currency's minor unit (10.50 and 10.500 EUR yes, 10.505 no).</summary>
    public static bool FitsMinorUnits(decimal amount, string currency) =>
        decimal.Round(amount, Currencies.MinorUnits(currency), MidpointRounding.ToEven) == amount;

    /// <summary>
    /// Problems with an amount given as input, as messages naming <paramref name="field"/>; empty when it is valid.
    /// Valid means: a known currency, no digits below the minor unit, a magnitude of at most <see cref="MaxAmount"/>,
    /// and greater than zero (or, when <paramref name="signed"/>, anything but zero).
    /// </summary>
    public static IEnumerable<string> AmountProblems(decimal amount, string currency, string field, bool signed = false)
    {
        if (signed ? amount == 0 : amount <= 0) yield return field + (signed ? " must not be zero." : " must be greater than 0.");
        if (Math.Abs(amount) > MaxAmount) yield return field + " must not exceed " + MaxAmount.ToString("N0", CultureInfo.InvariantCulture) + ".";
        if (Currencies.IsKnown(currency) && !FitsMinorUnits(amount, currency))
            yield return field + " takes at most " + Currencies.MinorUnits(currency).ToString(CultureInfo.InvariantCulture) + " decimals in " + currency + ".";
    }
}
