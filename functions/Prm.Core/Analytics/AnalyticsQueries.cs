using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Mdf;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Analytics;

/// <summary>What a KPI table is grouped by.</summary>
public enum KpiGroupBy { Partner, Region, Tier, ChannelManager, ProductLine }

/// <summary>
/// The KPI reads: the program table (admins: every partner; channel managers: the partners they own), a partner's table (its members, its
/// channel manager, admins; anyone else 404) and the facts behind a number. A table reads bucket rows only (point reads, the fewest whole
/// years/months/days that cover each period), so its cost grows with partners and periods, never with the number of records.
/// </summary>
public sealed class AnalyticsQueries(IKpiStore store, IPartnerStore partners, ProgramSettings settings, AnalyticsCalendar calendar)
{
    /// <summary>The group of the program table's row of partner applications (admins).</summary>
    public const string ApplicationsGroup = "applications";

    /// <summary>Point reads in flight at once per table.</summary>
    private const int Parallel = 16;

    public async Task<KpiTable> ProgramAsync(Caller caller, string? from, string? to, string? groupBy, string? period, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var group = ParseGroupBy(groupBy);
        var kind = ParsePeriod(period);
        var (f, t) = AnalyticsCalendar.Range(from, to);
        if (!caller.IsVendor) throw new ForbiddenException("The program's KPIs are for admins and channel managers.");
        var visible = await ListPartnersAsync(caller.IsAdmin ? null : caller.UserId, ct);
        return await TableAsync(visible, f, t, group, kind, ct, withApplications: caller.IsAdmin);
    }

    public async Task<KpiTable> PartnerAsync(Caller caller, string partnerId, string? from, string? to, string? period, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var partner = (await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct)).Value;
        var kind = ParsePeriod(period);
        var (f, t) = AnalyticsCalendar.Range(from, to);
        return await TableAsync([partner], f, t, KpiGroupBy.Partner, kind, ct);
    }

    public async Task<Page<KpiFactRow>> RowsAsync(Caller caller, string? metric, string? from, string? to, string? partnerId, PageRequest page, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (metric is not null && KpiMetrics.ProgramWide.Contains(metric, StringComparer.Ordinal))
        {
            // Applications have no partner yet: program-wide facts, the admins' (the program table shows them to admins only).
            if (!caller.IsAdmin) throw new ForbiddenException("Partner applications are counted program-wide; admins read them.");
            if (partnerId is not null) throw new ValidationFailedException("partnerId", $"{metric} is counted program-wide; leave partnerId out.");
            var (af, at) = AnalyticsCalendar.Range(from, to);
            return (await store.FactsAsync(KpiRows.Applications, metric, af, at, page, ct)).Map(KpiFactRow.From);
        }
        if (partnerId is null) throw new ValidationFailedException("partnerId", "partnerId is required: the facts are kept per partner.");
        await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct);
        if (metric is null || !KpiMetrics.All.Contains(metric, StringComparer.Ordinal))
        {
            throw new ValidationFailedException("metric", "metric must be one of: " + string.Join(", ", KpiMetrics.All) + ".");
        }
        var (f, t) = AnalyticsCalendar.Range(from, to);
        return (await store.FactsAsync(partnerId, metric, f, t, page, ct)).Map(KpiFactRow.From);
    }

    public static KpiGroupBy ParseGroupBy(string? text) =>
        text is null ? KpiGroupBy.Partner
        : Text.ParseEnum<KpiGroupBy>(text) is { } g && char.IsLower(text[0]) ? g
        : throw new ValidationFailedException("groupBy", "groupBy must be one of: partner, region, tier, channelManager, productLine.");

    public static KpiPeriod ParsePeriod(string? text) =>
        text is null ? KpiPeriod.Total
        : Text.ParseEnum<KpiPeriod>(text) is { } p && p != KpiPeriod.Total && char.IsLower(text[0]) ? p
        : throw new ValidationFailedException("period", "period must be one of: day, month, quarter, fiscalYear (none: one row for the whole range).");

    private async Task<List<Partner>> ListPartnersAsync(string? channelManagerId, CancellationToken ct)
    {
        var list = new List<Partner>();
        string? cursor = null;
        do
        {
            var page = await partners.ListAsync(new PartnerQuery(channelManagerId, null, null, null, null), new PageRequest(PageRequest.MaxLimit, cursor), ct);
            list.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return list;
    }

    private async Task<KpiTable> TableAsync(IReadOnlyList<Partner> visible, DateOnly from, DateOnly to, KpiGroupBy groupBy, KpiPeriod period, CancellationToken ct, bool withApplications = false)
    {
        var fiscal = (await settings.GetAsync<MdfSettings>(MdfSettings.SectionName, ct)).Calendar();
        var slices = AnalyticsCalendar.Slices(from, to, period, fiscal);
        // Round 1: the all-time row (its last day bounds what lies after a period) and the rows that cover each period.
        var flowRows = slices.ToDictionary(s => s, s => AnalyticsCalendar.Cover(s.From, s.To));
        var first = flowRows.Values.SelectMany(r => r).Append(KpiRows.Total).ToHashSet(StringComparer.Ordinal);
        var read = await ReadAllAsync(visible, _ => first, ct);
        // Round 2: the pipeline at the end of each period is the all-time sum minus what came after that day.
        var afterRows = visible.ToDictionary(p => p.Id, p =>
        {
            var last = read[p.Id].GetValueOrDefault(KpiRows.Total)?.LastDay;
            return slices.ToDictionary(s => s, s => last is { } l && l > s.To ? AnalyticsCalendar.Cover(s.To.AddDays(1), l) : (IReadOnlyList<string>)[]);
        }, StringComparer.Ordinal);
        var second = await ReadAllAsync(visible, p => afterRows[p.Id].Values.SelectMany(r => r).Where(r => !read[p.Id].ContainsKey(r)).ToHashSet(StringComparer.Ordinal), ct);
        // The funnel's first step: partner applications are program-wide (no partner yet), one more row per period for admins.
        var applications = withApplications
            ? await store.ReadAsync(KpiRows.Applications, flowRows.Values.SelectMany(r => r).ToHashSet(StringComparer.Ordinal), ct)
            : null;

        var rows = new List<KpiRow>();
        foreach (var slice in slices)
        {
            var groups = new SortedDictionary<string, (string? Name, HashSet<string> Partners, Dictionary<string, decimal> Flows, Dictionary<string, decimal> Stock)>(StringComparer.Ordinal);
            foreach (var partner in visible)
            {
                var buckets = read[partner.Id];
                var more = second[partner.Id];
                KpiBucket? Row(string key) => buckets.GetValueOrDefault(key) ?? more.GetValueOrDefault(key);
                var flows = Sum(flowRows[slice].Select(Row));
                var stock = KpiFactRules.Add(Row(KpiRows.Total)?.Counters, Sum(afterRows[partner.Id][slice].Select(Row)), sign: -1);
                if (groupBy == KpiGroupBy.ProductLine)
                {
                    foreach (var line in KpiFigures.Lines(flows).Concat(KpiFigures.Lines(stock).Where(l => KpiFigures.Line(stock, l).Any(c => c.Key.StartsWith("pipeline:", StringComparison.Ordinal)))).Distinct(StringComparer.Ordinal))
                    {
                        Add(line, null, partner.Id, KpiFigures.Line(flows, line), KpiFigures.Line(stock, line));
                    }
                }
                else
                {
                    var (key, name) = groupBy switch
                    {
                        KpiGroupBy.Partner => (partner.Id, partner.Name),
                        KpiGroupBy.Region => (partner.Region, (string?)null),
                        KpiGroupBy.Tier => (Text.Camel(partner.Tier), null),
                        _ => (partner.ChannelManagerId ?? "none", null),
                    };
                    Add(key, name, partner.Id, KpiFigures.Line(flows, null), KpiFigures.Line(stock, null));
                }
            }
            foreach (var (key, g) in groups)
            {
                var stockOnly = g.Stock.Where(s => s.Key.StartsWith("pipeline:", StringComparison.Ordinal)).ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal);
                rows.Add(new KpiRow(slice.Key, slice.From, slice.To, key, g.Name, KpiFigures.Values(g.Partners.Count, g.Flows, stockOnly)));
            }
            if (applications is not null)
            {
                var flows = KpiFigures.Line(Sum(flowRows[slice].Select(r => applications.GetValueOrDefault(r))), null);
                rows.Add(new KpiRow(slice.Key, slice.From, slice.To, ApplicationsGroup, "Partner applications (no partner yet)", KpiFigures.Values(0, flows, new Dictionary<string, decimal>(StringComparer.Ordinal))));
            }

            void Add(string key, string? name, string partnerId, Dictionary<string, decimal> flows, Dictionary<string, decimal> stock)
            {
                if (!groups.TryGetValue(key, out var g)) groups[key] = g = (name, new HashSet<string>(StringComparer.Ordinal), new Dictionary<string, decimal>(StringComparer.Ordinal), new Dictionary<string, decimal>(StringComparer.Ordinal));
                g.Partners.Add(partnerId);
                foreach (var (k, v) in flows) g.Flows[k] = g.Flows.GetValueOrDefault(k) + v;
                foreach (var (k, v) in stock) g.Stock[k] = g.Stock.GetValueOrDefault(k) + v;
            }
        }
        return new KpiTable(from, to, Text.Camel(groupBy), Text.Camel(period), calendar.Zone.Id, rows);
    }

    private static Dictionary<string, decimal> Sum(IEnumerable<KpiBucket?> buckets)
    {
        var sum = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var bucket in buckets)
        {
            if (bucket is null) continue;
            foreach (var (k, v) in bucket.Counters) sum[k] = sum.GetValueOrDefault(k) + v;
        }
        return sum;
    }

    private async Task<Dictionary<string, IReadOnlyDictionary<string, KpiBucket>>> ReadAllAsync(IReadOnlyList<Partner> visible, Func<Partner, IReadOnlyCollection<string>> rows, CancellationToken ct)
    {
        using var gate = new SemaphoreSlim(Parallel);
        var reads = visible.Select(async p =>
        {
            await gate.WaitAsync(ct);
            try
            {
                var wanted = rows(p);
                return (p.Id, wanted.Count == 0 ? new Dictionary<string, KpiBucket>() : await store.ReadAsync(p.Id, wanted, ct));
            }
            finally
            {
                gate.Release();
            }
        });
        return (await Task.WhenAll(reads)).ToDictionary(r => r.Id, r => r.Item2, StringComparer.Ordinal);
    }
}
