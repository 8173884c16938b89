namespace Prm.Core.Analytics;

/// <summary>Turns summed bucket counters into the figures of a KPI row (rates, medians from the histograms, money per currency).</summary>
public static class KpiFigures
{
    /// <summary>Counters of one product line ("{line}|{counter}") by line, or of every line together when <paramref name="line"/> is null.</summary>
    public static Dictionary<string, decimal> Line(IReadOnlyDictionary<string, decimal> counters, string? line)
    {
        ArgumentNullException.ThrowIfNull(counters);
        var result = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var (key, value) in counters)
        {
            var bar = key.IndexOf('|', StringComparison.Ordinal);
            if (bar < 0) continue;
            if (line is not null && !key.AsSpan(0, bar).SequenceEqual(line)) continue;
            var counter = key[(bar + 1)..];
            result[counter] = result.GetValueOrDefault(counter) + value;
        }
        return result;
    }

    /// <summary>The product lines that have counters.</summary>
    public static IEnumerable<string> Lines(IReadOnlyDictionary<string, decimal> counters) =>
        counters.Keys.Select(k => k.Split('|')[0]).Distinct(StringComparer.Ordinal);

    /// <summary>The figures of a row: <paramref name="flows"/> summed over the period, <paramref name="stock"/> summed up to its last day (the pipeline).</summary>
    public static KpiValues Values(int partners, IReadOnlyDictionary<string, decimal> flows, IReadOnlyDictionary<string, decimal> stock)
    {
        ArgumentNullException.ThrowIfNull(flows);
        ArgumentNullException.ThrowIfNull(stock);
        long N(string metric) => (long)flows.GetValueOrDefault(metric);
        var submitted = N(KpiMetrics.Submitted);
        var approved = N(KpiMetrics.Approved);
        var rejected = N(KpiMetrics.Rejected);
        var won = N(KpiMetrics.Won);
        var lost = N(KpiMetrics.Lost);
        var accepted = N(KpiMetrics.LeadAccepted);
        var declined = N(KpiMetrics.LeadDeclined);
        var expired = N(KpiMetrics.LeadExpired);
        var converted = N(KpiMetrics.LeadConverted);
        var paid = Money(flows, KpiMetrics.MdfPaid + ":");
        var attributed = Money(flows, KpiMetrics.MdfAttributedWon + ":");
        return new KpiValues(partners,
            submitted, approved, rejected, Rate(approved, approved + rejected), Median(flows, "decisionHours:"),
            Money(stock, "pipeline:"),
            won, lost, Rate(won, won + lost), Money(flows, "wonRevenue:"),
            N(KpiMetrics.LeadOffered), accepted, declined, expired, Rate(accepted, accepted + declined + expired), Median(flows, "acceptHours:"),
            converted, Rate(converted, accepted),
            N(KpiMetrics.PosSourced), Money(flows, KpiMetrics.PosSourced + "Revenue:"), N(KpiMetrics.PosInfluenced), Money(flows, KpiMetrics.PosInfluenced + "Revenue:"),
            N(KpiMetrics.CertificationsEarned), N(KpiMetrics.PartnersOnboarded), N(KpiMetrics.PartnersActivated), N(KpiMetrics.PartnersFirstDeal), Median(flows, "activationHours:"),
            N(KpiMetrics.ApplicationsSubmitted), N(KpiMetrics.ApplicationsApproved), N(KpiMetrics.ApplicationsRejected),
            N(KpiMetrics.MdfPaid), paid, N(KpiMetrics.MdfAttributedWon), attributed, ReturnOnSpend(paid, attributed));
    }

    /// <summary>
    /// MDF paid against attributed won value, per currency paid: attributed won / paid, rounded half-even to <see cref="Mdf.MdfRoi.RatioDecimals"/>
    /// (the MDF ROI's ratio); a currency with nothing paid has no ratio. Currencies are never converted.
    /// </summary>
    public static IReadOnlyDictionary<string, decimal> ReturnOnSpend(IReadOnlyDictionary<string, decimal> paid, IReadOnlyDictionary<string, decimal> attributedWon)
    {
        ArgumentNullException.ThrowIfNull(paid);
        ArgumentNullException.ThrowIfNull(attributedWon);
        return paid.Where(p => p.Value > 0).ToDictionary(p => p.Key,
            p => Math.Round(attributedWon.GetValueOrDefault(p.Key) / p.Value, Mdf.MdfRoi.RatioDecimals, MidpointRounding.ToEven), StringComparer.Ordinal);
    }

    /// <summary>A share rounded to 4 decimals, null without a denominator.</summary>
    public static double? Rate(long part, long whole) => whole <= 0 ? null : Math.Round((double)part / whole, 4);

    /// <summary>
    /// The median of a duration histogram: the upper edge of the bin that holds the middle observation (the lower middle one for an even
    /// count), so "at most this many hours"; the open last bin reports its lower edge. Null without observations.
    /// </summary>
    public static double? Median(IReadOnlyDictionary<string, decimal> counters, string histogram)
    {
        ArgumentNullException.ThrowIfNull(counters);
        var bins = KpiFactRules.HourEdges.Select(e => (Edge: e, Count: (long)counters.GetValueOrDefault(histogram + "le" + e.ToString(System.Globalization.CultureInfo.InvariantCulture)))).ToList();
        var open = (long)counters.GetValueOrDefault(histogram + "gt" + KpiFactRules.HourEdges[^1].ToString(System.Globalization.CultureInfo.InvariantCulture));
        var total = bins.Sum(b => b.Count) + open;
        if (total == 0) return null;
        var middle = (total + 1) / 2;
        long seen = 0;
        foreach (var (edge, count) in bins)
        {
            seen += count;
            if (seen >= middle) return edge;
        }
        return KpiFactRules.HourEdges[^1];
    }

    private static IReadOnlyDictionary<string, decimal> Money(IReadOnlyDictionary<string, decimal> counters, string prefix) =>
        counters.Where(c => c.Key.StartsWith(prefix, StringComparison.Ordinal) && c.Value != 0)
            .OrderBy(c => c.Key, StringComparer.Ordinal)
            .ToDictionary(c => c.Key[prefix.Length..], c => c.Value, StringComparer.Ordinal);
}
