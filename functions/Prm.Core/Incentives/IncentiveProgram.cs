using System.Globalization;
using System.Text.Json.Serialization;
using Prm.Core.Common;
using Prm.Core.Mdf;
using Prm.Core.Partners;

namespace Prm.Core.Incentives;

/// <summary>A rebate (slabs on the period's won deal value) or a SPIF (a fixed amount per qualifying won deal).</summary>
public enum IncentiveType { Rebate, Spif }

/// <summary>Retrospective: the reached slab's rate applies to the whole period. Prospective: each slab's rate applies to its band.</summary>
public enum RebateMethod { Retrospective, Prospective }

/// <summary>Who a SPIF pays: the partner, or the person who registered the deal.</summary>
public enum SpifPayee { Partner, RegisteringPerson }

/// <summary>Which partners and deals a program counts: empty lists mean all.</summary>
public sealed record IncentiveEligibility(IReadOnlyList<string> Tiers, IReadOnlyList<string> Regions, IReadOnlyList<string> ProductLines)
{
    public static IncentiveEligibility All { get; } = new([], [], []);

    /// <summary>True when the partner's tier and region and one of the deal's product lines are admitted.</summary>
    public bool Admits(string tier, string region, IEnumerable<string> products) =>
        (Tiers.Count == 0 || Tiers.Contains(tier, StringComparer.OrdinalIgnoreCase))
        && (Regions.Count == 0 || Regions.Contains(region, StringComparer.OrdinalIgnoreCase))
        && (ProductLines.Count == 0 || products.Any(p => ProductLines.Contains(p, StringComparer.Ordinal)));
}

/// <summary>A rebate's terms: the slabs, how they apply, and the cap of a period's rebate (program currency).</summary>
public sealed record RebateTerms(IReadOnlyList<RebateSlab> Slabs, string Method, decimal? Cap)
{
    [JsonIgnore]
    public RebateMethod MethodValue => Text.ParseEnum<RebateMethod>(Method) ?? RebateMethod.Retrospective;
}

/// <summary>A SPIF's terms: the amount per qualifying won deal, the product lines, minimum value (program currency) and the close-date window; the payee.</summary>
public sealed record SpifTerms(decimal Amount, IReadOnlyList<string> ProductLines, decimal MinValue, DateOnly From, DateOnly To, string Payee)
{
    [JsonIgnore]
    public SpifPayee PayeeValue => Text.ParseEnum<SpifPayee>(Payee) ?? SpifPayee.Partner;
}

/// <summary>
/// An incentive program (admins): one version of it. Every change is a new version; the ledger records the version each movement was
/// computed with, so a period recomputes from its source events and the versions.
/// </summary>
public sealed record IncentiveProgram
{
    public required string Id { get; init; }
    public required int Version { get; init; }
    public required string Name { get; init; }
    public required string Type { get; init; }
    public required string Period { get; init; }

    /// <summary>The currency the program pays in; deals in other currencies count through the FX table at their close month's rates.</summary>
    public required string Currency { get; init; }
    public required IncentiveEligibility Eligibility { get; init; }

    /// <summary>What the program counts: won deal value (POS revenue joins when the analytics module provides it).</summary>
    public string Basis { get; init; } = IncentiveProgramRules.WonDealValue;
    public RebateTerms? Rebate { get; init; }
    public SpifTerms? Spif { get; init; }

    /// <summary>Days after a period's end in which transactions dated in it still count in it; the period closes then.</summary>
    public int CutoffGraceDays { get; init; }

    /// <summary>A payout above this amount (program currency) needs a second approval by another admin; null: never.</summary>
    public decimal? SecondApprovalAbove { get; init; }

    /// <summary>Deals closed from this day on count (and until <see cref="EndsOn"/>, inclusive, when set).</summary>
    public required DateOnly StartsOn { get; init; }
    public DateOnly? EndsOn { get; init; }

    /// <summary>An inactive program accrues nothing new; reversals and closes of what it accrued go on.</summary>
    public bool Active { get; init; } = true;
    public required string UpdatedBy { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    [JsonIgnore]
    public IncentiveType TypeValue => Text.ParseEnum<IncentiveType>(Type) ?? IncentiveType.Rebate;

    [JsonIgnore]
    public IncentivePeriodKind PeriodKind => Text.ParseEnum<IncentivePeriodKind>(Period) ?? IncentivePeriodKind.Quarterly;

    /// <summary>The period text of this program, or null when the text is not one.</summary>
    public IncentivePeriod? ParsePeriod(string? text) => IncentivePeriods.Parse(PeriodKind, text);

    public IncentivePeriod PeriodOf(DateOnly day) => IncentivePeriods.Containing(PeriodKind, day);

    public DateTimeOffset CutoffOf(IncentivePeriod period) => IncentivePeriods.CutoffOf(period, CutoffGraceDays);

    /// <summary>True when a deal closed on <paramref name="closeDate"/> lies in the program's run.</summary>
    public bool Runs(DateOnly closeDate) => closeDate >= StartsOn && (EndsOn is not { } end || closeDate <= end);
}

/// <summary>POST/PUT /incentive-programs: the program's terms. Money amounts are in the program's currency.</summary>
public sealed record IncentiveProgramRequest(
    string? Name, string? Type, string? Period, string? Currency, EligibilityInput? Eligibility, string? Basis, RebateInput? Rebate, SpifInput? Spif,
    int? CutoffGraceDays, decimal? SecondApprovalAbove, string? StartsOn, string? EndsOn, bool? Active);

public sealed record EligibilityInput(IReadOnlyList<string>? Tiers, IReadOnlyList<string>? Regions, IReadOnlyList<string>? ProductLines);

public sealed record SlabInput(decimal? From, decimal? To, decimal? Rate);

public sealed record RebateInput(IReadOnlyList<SlabInput?>? Slabs, string? Method, decimal? Cap);

public sealed record SpifInput(decimal? Amount, IReadOnlyList<string>? ProductLines, decimal? MinValue, string? From, string? To, string? Payee);

/// <summary>The program input rules: one place, every refusal naming its field (400 for the shape, 422 for the rules of money and slabs).</summary>
public static class IncentiveProgramRules
{
    public const string WonDealValue = "wonDealValue";
    public const decimal MaxMoney = 1_000_000_000_000m;
    public const int MaxSlabs = 20;
    public const int MaxGraceDays = 365;

    /// <summary>
    /// Builds version <paramref name="version"/> of the program from the request, or throws <see cref="ValidationFailedException"/> naming
    /// every failing field. <paramref name="productLines"/> are the catalog's ids; <paramref name="hasRate"/> tells whether the FX table has a
    /// rate for a currency (the program currency always has one).
    /// </summary>
    public static IncentiveProgram Build(string id, int version, IncentiveProgramRequest? body, IReadOnlyCollection<string> productLines, Func<string, bool> hasRate,
        string byName, DateTimeOffset now)
    {
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        var shape = new Dictionary<string, string[]>();
        var rules = new Dictionary<string, string[]>();
        void Shape(string field, string message) => shape.TryAdd(field, [message]);
        void Rule(string field, string message) => rules.TryAdd(field, [message]);

        var name = body.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 200) Shape("name", "name is required (at most 200 characters).");
        var type = Text.ParseEnum<IncentiveType>(body.Type);
        if (type is null) Shape("type", "type is rebate or spif.");
        var period = Text.ParseEnum<IncentivePeriodKind>(body.Period);
        if (period is null) Shape("period", "period is monthly, quarterly or annual.");
        var currency = body.Currency?.Trim();
        if (!Currencies.IsKnown(currency)) Shape("currency", "currency is an ISO 4217 code the program accepts, e.g. EUR.");
        else if (!hasRate(currency!)) Rule("currency", $"currency {currency}: the FX table has no rate for it this month; add it with PUT /api/fx-rates/{{yyyy-MM}} first.");
        var basis = body.Basis?.Trim() ?? WonDealValue;
        if (basis != WonDealValue) Shape("basis", "basis is wonDealValue (POS revenue is not available yet).");
        var grace = body.CutoffGraceDays ?? 5;
        if (grace is < 0 or > MaxGraceDays) Rule("cutoffGraceDays", $"cutoffGraceDays is 0 to {MaxGraceDays}.");
        var startsOn = MdfRules.ParseDate(body.StartsOn);
        if (body.StartsOn is null || startsOn is null) Shape("startsOn", "startsOn is a date such as 2026-10-01.");
        var endsOn = MdfRules.ParseDate(body.EndsOn);
        if (body.EndsOn is not null && endsOn is null) Shape("endsOn", "endsOn is a date such as 2027-09-30.");
        else if (endsOn is { } e && startsOn is { } s && e < s) Rule("endsOn", "endsOn is on or after startsOn.");
        if (startsOn is { Year: < IncentivePeriods.MinYear or > IncentivePeriods.MaxYear }) Shape("startsOn", "startsOn is in 2000 to 2100.");
        if (endsOn is { Year: < IncentivePeriods.MinYear or > IncentivePeriods.MaxYear }) Shape("endsOn", "endsOn is in 2000 to 2100.");

        var eligibility = Eligibility(body.Eligibility, productLines, Shape);
        var cur = Currencies.IsKnown(currency) ? currency! : "EUR";
        if (body.SecondApprovalAbove is { } above) MoneyRule("secondApprovalAbove", above, cur, Rule, allowZero: true);

        RebateTerms? rebate = null;
        SpifTerms? spif = null;
        if (type == IncentiveType.Rebate)
        {
            if (body.Spif is not null) Shape("spif", "A rebate program has no spif terms.");
            rebate = Rebate(body.Rebate, cur, Shape, Rule);
        }
        else if (type == IncentiveType.Spif)
        {
            if (body.Rebate is not null) Shape("rebate", "A SPIF program has no rebate terms.");
            spif = Spif(body.Spif, cur, productLines, Shape, Rule);
        }
        if (shape.Count > 0) throw new ValidationFailedException(shape, string.Join(" ", shape.Select(f => f.Value[0])));
        if (rules.Count > 0) throw new ValidationFailedException(rules, string.Join(" ", rules.Select(f => f.Value[0])), unprocessable: true);
        return new IncentiveProgram
        {
            Id = id, Version = version, Name = name!, Type = Text.Camel(type!.Value), Period = Text.Camel(period!.Value), Currency = currency!,
            Eligibility = eligibility!, Basis = basis, Rebate = rebate, Spif = spif, CutoffGraceDays = grace, SecondApprovalAbove = body.SecondApprovalAbove,
            StartsOn = startsOn!.Value, EndsOn = endsOn, Active = body.Active ?? true, UpdatedBy = byName, UpdatedAt = now,
        };
    }

    private static IncentiveEligibility? Eligibility(EligibilityInput? input, IReadOnlyCollection<string> productLines, Action<string, string> shape)
    {
        if (input is null) return IncentiveEligibility.All;
        var tiers = new List<string>();
        foreach (var (t, i) in (input.Tiers ?? []).Select((t, i) => (t, i)))
        {
            if (Text.ParseEnum<PartnerTier>(t) is { } tier) tiers.Add(Text.Camel(tier));
            else shape($"eligibility.tiers[{i}]", "A tier is one of: " + string.Join(", ", Enum.GetValues<PartnerTier>().Select(x => Text.Camel(x))) + ".");
        }
        var regions = new List<string>();
        foreach (var (r, i) in (input.Regions ?? []).Select((r, i) => (r, i)))
        {
            if (string.IsNullOrWhiteSpace(r) || r.Length > 40) shape($"eligibility.regions[{i}]", "A region is 1 to 40 characters, e.g. emea.");
            else regions.Add(r.Trim().ToLowerInvariant());
        }
        var lines = new List<string>();
        foreach (var (l, i) in (input.ProductLines ?? []).Select((l, i) => (l, i)))
        {
            if (l is null || !productLines.Contains(l)) shape($"eligibility.productLines[{i}]", $"'{l}' is not a product line of the catalog.");
            else lines.Add(l);
        }
        if (tiers.Count + regions.Count + lines.Count > 100) shape("eligibility", "eligibility lists at most 100 values.");
        return new IncentiveEligibility(tiers.Distinct().ToList(), regions.Distinct().ToList(), lines.Distinct().ToList());
    }

    private static RebateTerms? Rebate(RebateInput? input, string currency, Action<string, string> shape, Action<string, string> rule)
    {
        if (input is null) { shape("rebate", "A rebate program has rebate terms: slabs, method, cap."); return null; }
        var method = Text.ParseEnum<RebateMethod>(input.Method);
        if (method is null) shape("rebate.method", "method is retrospective or prospective.");
        if (input.Slabs is null || input.Slabs.Count == 0) { shape("rebate.slabs", "slabs lists 1 to 20 slabs { from, to, rate }."); return null; }
        if (input.Slabs.Count > MaxSlabs) { rule("rebate.slabs", $"slabs lists at most {MaxSlabs} slabs."); return null; }
        var slabs = new List<RebateSlab>();
        for (var i = 0; i < input.Slabs.Count; i++)
        {
            var at = $"rebate.slabs[{i}]";
            var s = input.Slabs[i];
            if (s?.From is not { } from || s.Rate is not { } rate) { shape(at, "A slab is { from, to, rate } with from and rate given."); return null; }
            var last = i == input.Slabs.Count - 1;
            if (rate is < 0 or > 100) rule($"{at}.rate", $"{at}.rate is a percentage from 0 to 100.");
            else if (decimal.Round(rate, 4) != rate) rule($"{at}.rate", $"{at}.rate has at most 4 decimals.");
            MoneyRule($"{at}.from", from, currency, rule, allowZero: true);
            if (s.To is { } to) MoneyRule($"{at}.to", to, currency, rule, allowZero: true);
            if (last && s.To is not null) rule($"{at}.to", $"{at}.to is left out: the last slab has no upper end (use cap to limit the rebate).");
            if (!last && s.To is null) rule($"{at}.to", $"{at}.to is required: only the last slab is open-ended.");
            if (s.To is { } top && top <= from) rule($"{at}.to", $"{at}.to is above its from ({Num(from)}).");
            if (i > 0 && input.Slabs[i - 1] is { From: { } prevFrom } prev)
            {
                if (from < prevFrom) rule($"{at}.from", $"Slabs are listed in ascending order: {at}.from ({Num(from)}) is below rebate.slabs[{i - 1}].from ({Num(prevFrom)}).");
                else if (prev.To is { } prevTo && from < prevTo) rule($"{at}.from", $"{at} overlaps rebate.slabs[{i - 1}], which runs to {Num(prevTo)}: {at}.from is {Num(from)}.");
                else if (prev.To is { } end && from > end) rule($"{at}.from", $"{at}.from ({Num(from)}) leaves a gap after rebate.slabs[{i - 1}], which ends at {Num(end)}: slabs are contiguous.");
            }
            slabs.Add(new RebateSlab(from, s.To, rate));
        }
        if (input.Cap is { } cap) MoneyRule("rebate.cap", cap, currency, rule, allowZero: false);
        return method is null ? null : new RebateTerms(slabs, Text.Camel(method.Value), input.Cap);
    }

    private static SpifTerms? Spif(SpifInput? input, string currency, IReadOnlyCollection<string> productLines, Action<string, string> shape, Action<string, string> rule)
    {
        if (input is null) { shape("spif", "A SPIF program has spif terms: amount, productLines, minValue, from, to, payee."); return null; }
        if (input.Amount is not { } amount) shape("spif.amount", "amount is the fixed amount per qualifying won deal.");
        else MoneyRule("spif.amount", amount, currency, rule, allowZero: false);
        var minValue = input.MinValue ?? 0m;
        MoneyRule("spif.minValue", minValue, currency, rule, allowZero: true);
        var lines = new List<string>();
        foreach (var (l, i) in (input.ProductLines ?? []).Select((l, i) => (l, i)))
        {
            if (l is null || !productLines.Contains(l)) shape($"spif.productLines[{i}]", $"'{l}' is not a product line of the catalog.");
            else lines.Add(l);
        }
        var from = MdfRules.ParseDate(input.From);
        var to = MdfRules.ParseDate(input.To);
        if (from is null) shape("spif.from", "from is the first close date that counts, e.g. 2026-10-01.");
        if (to is null) shape("spif.to", "to is the last close date that counts, e.g. 2026-12-31.");
        if (from is { } f && to is { } t && t < f) rule("spif.to", "spif.to is on or after spif.from.");
        var payee = Text.ParseEnum<SpifPayee>(input.Payee ?? "partner");
        if (payee is null) shape("spif.payee", "payee is partner or registeringPerson.");
        return input.Amount is null || from is null || to is null || payee is null ? null
            : new SpifTerms(input.Amount.Value, lines.Distinct().ToList(), minValue, from.Value, to.Value, Text.Camel(payee.Value));
    }

    private static void MoneyRule(string field, decimal value, string currency, Action<string, string> rule, bool allowZero)
    {
        if (allowZero ? value < 0 : value <= 0) rule(field, $"{field} is {(allowZero ? "0 or more" : "above 0")}.");
        else if (value > MaxMoney) rule(field, $"{field} is at most 1,000,000,000,000.");
        else if (!MdfMoney.FitsMinorUnits(value, currency)) rule(field, $"{field} has at most {Currencies.MinorUnits(currency)} decimals in {currency}.");
    }

    private static string Num(decimal d) => d.ToString("#,0.##", CultureInfo.InvariantCulture);
}
