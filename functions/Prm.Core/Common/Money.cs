using System.Globalization;

namespace Prm.Core.Common;

/// <summary>An amount of money in an ISO 4217 currency. Decimal, never floating point.</summary>
public readonly record struct Money(decimal Amount, string Currency)
{
    /// <summary>Rounds to the currency's minor unit, half-even (banker's rounding).</summary>
    public Money Round() => new(Math.Round(Amount, Currencies.MinorUnits(Currency), MidpointRounding.ToEven), Currency);

    public override string ToString() =>
        Round().Amount.ToString("0." + new string('0', Currencies.MinorUnits(Currency)), CultureInfo.InvariantCulture).TrimEnd('.') + " " + Currency;
}

/// <summary>The ISO 4217 currencies the program accepts, with their minor units.</summary>
public static class Currencies
{
    private static readonly Dictionary<string, int> Known = new(StringComparer.Ordinal)
    {
        ["EUR"] = 2, ["USD"] = 2, ["GBP"] = 2, ["CHF"] = 2, ["SEK"] = 2, ["NOK"] = 2, ["DKK"] = 2, ["PLN"] = 2,
        ["CZK"] = 2, ["HUF"] = 2, ["CAD"] = 2, ["AUD"] = 2, ["NZD"] = 2, ["SGD"] = 2, ["HKD"] = 2, ["CNY"] = 2,
        ["INR"] = 2, ["BRL"] = 2, ["MXN"] = 2, ["ZAR"] = 2, ["AED"] = 2, ["SAR"] = 2, ["ILS"] = 2, ["TRY"] = 2,
        ["JPY"] = 0, ["KRW"] = 0, ["CLP"] = 0, ["ISK"] = 0, ["BHD"] = 3, ["KWD"] = 3, ["OMR"] = 3, ["TND"] = 3,
    };

    public static bool IsKnown(string? code) => code is not null && Known.ContainsKey(code);

    public static int MinorUnits(string code) => Known.TryGetValue(code, out var units) ? units : 2;
}
