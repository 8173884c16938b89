using System.Globalization;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;

namespace Prm.Core.Tiers;

/// <summary>
/// The admin-maintained table of monthly FX rates deals in other currencies count through. A month is read per evaluation from a
/// per-instance cache (a save on this instance applies at once); a rate the table lacks is reported as a gap, never guessed.
/// </summary>
public sealed class FxRates(ITierStore store, ProgramOptions program, TimeProvider clock)
{
    private readonly RefreshingCache<string, FxMonth?> cache = new(clock, TimeSpan.FromSeconds(program.SettingsCacheSeconds));

    /// <summary>Parses "yyyy-MM" (years 2000-2100); anything else is a 404 (the month is part of the route).</summary>
    public static string ParseMonth(string? month) =>
        month is { Length: 7 } && DateTime.TryParseExact(month, "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) && d.Year is >= 2000 and <= 2100
            ? month : throw new NotFoundException("FX month (yyyy-MM)");

    public async Task<Versioned<FxMonthDto>> GetAsync(string month, CancellationToken ct)
    {
        var found = await store.GetFxMonthAsync(ParseMonth(month), ct) ?? throw new NotFoundException($"FX rates of {month}");
        return new Versioned<FxMonthDto>(FxMonthDto.From(found.Value), found.ETag);
    }

    /// <summary>Creates a month (no If-Match) or replaces it (If-Match: the ETag from GET). Rates are per unit of each currency, in the program currency.</summary>
    public async Task<Versioned<FxMonthDto>> PutAsync(Caller caller, string month, string? ifMatch, FxRatesRequest? body, CancellationToken ct)
    {
        if (!caller.IsAdmin) throw new ForbiddenException("Only program admins maintain FX rates.");
        month = ParseMonth(month);
        if (body?.Rates is null) throw new ValidationFailedException("rates", "rates is an object of currency codes to rates, e.g. { \"USD\": 0.92 }.");
        var problems = new List<string>();
        if (body.Rates.Count is 0 or > 100) problems.Add("rates holds 1 to 100 currencies.");
        foreach (var (currency, rate) in body.Rates)
        {
            if (!Currencies.IsKnown(currency)) problems.Add($"{currency}: not an ISO 4217 currency the program accepts.");
            else if (currency == program.ProgramCurrency) problems.Add($"{currency}: the program currency (its rate is 1).");
            else if (rate <= 0 || rate > 1_000_000m) problems.Add($"{currency}: a rate is above 0 and at most 1,000,000.");
            else if (decimal.Round(rate, 10) != rate) problems.Add($"{currency}: a rate has at most 10 decimals.");
        }
        // One field (rates) naming each currency: field names are not case-preserving, currency codes are.
        if (problems.Count > 0) throw new ValidationFailedException(new Dictionary<string, string[]> { ["rates"] = [.. problems] }, string.Join(" ", problems));
        var value = new FxMonth(month, program.ProgramCurrency, body.Rates.OrderBy(r => r.Key, StringComparer.Ordinal).ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal), caller.DisplayName, clock.GetUtcNow());
        if (string.IsNullOrEmpty(ifMatch) && await store.GetFxMonthAsync(month, ct) is not null)
            throw new PreconditionFailedException($"The rates of {month} exist; send If-Match with the ETag from GET to replace them.", required: true);
        var etag = await store.SaveFxMonthAsync(value, string.IsNullOrEmpty(ifMatch) ? null : ifMatch, ct);
        cache.Set(month, value);
        return new Versioned<FxMonthDto>(FxMonthDto.From(value), etag);
    }

    /// <summary>The rates of the given months (cached per instance).</summary>
    public async Task<FxTable> TableAsync(IEnumerable<string> months, CancellationToken ct)
    {
        var loaded = await Task.WhenAll(months.Select(async m => (Month: m, Value: await cache.GetAsync(m, async token => (await store.GetFxMonthAsync(m, token))?.Value, ct))));
        return new FxTable(program.ProgramCurrency, loaded.Where(l => l.Value is not null).ToDictionary(l => l.Month, l => l.Value!.Rates, StringComparer.Ordinal));
    }
}
