using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;
using Prm.Core.Analytics;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Deals;
using Prm.Core.Identity;
using Prm.Core.Notifications;
using Prm.Core.Outbox;
using Prm.Core.Partners;

namespace Prm.Core.Pos;

/// <summary>
/// POS import (POST /api/pos/batches): a distributor's CSV of sell-through lines. Each line is validated, its reseller matched to a
/// partner (id, domain or exact name; else a similar name by the deal conflict check's name similarity; else unmatched), its end customer
/// matched to an active or won registration (the reseller's, another partner's, none) through the conflict index, and flagged as a
/// duplicate when its (reporter, invoiceNo, line) was imported already or repeats in the file. A dry run writes nothing. A commit stores
/// the lines, claims the keys, replaces the reporter's batch of the same period (superseded; its KPI contributions reversed), counts POS
/// revenue into the KPIs (sourced when the reseller registered the customer, influenced otherwise) and emails the reseller's channel
/// manager the lines whose customer another partner registered.
/// </summary>
public sealed class PosImport(IPosStore store, IPartnerStore partners, IStaffStore staff, IDealStore deals, IKpiStore kpis,
    EmailComposer emails, TimeProvider clock)
{
    public const int MaxLines = 100_000;
    public const long MaxBytes = 16 * 1024 * 1024;
    public const string Columns = "reporter, invoiceNo, line, date, productLine (or sku), quantity, unitPrice, currency, customerName, customerDomain, customerCountry, reseller";
    private static readonly string[] Required = ["reporter", "invoiceno", "line", "date", "quantity", "unitprice", "currency", "reseller"];

    /// <summary>Lines of one partner a conflict email lists at most.</summary>
    private const int MailLines = 25;

    public async Task<PosBatchReport> RunAsync(Caller caller, byte[] csv, bool commit, CancellationToken ct, bool xlsx = false)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(csv);
        if (!caller.IsAdmin && !caller.IsIntegration) throw new ForbiddenException("POS batches are imported by admins and integration clients.");
        if (csv.LongLength > MaxBytes) throw new ValidationFailedException("body", $"A POS file may have at most {MaxBytes} bytes (16 MiB).");
        var rows = xlsx ? ParseXlsx(csv) : Parse(csv);
        var reporter = rows.Select(r => r.Reporter).FirstOrDefault(r => !string.IsNullOrWhiteSpace(r))?.Trim();
        var reporterKey = reporter?.ToLowerInvariant();

        var directory = await AllPartnersAsync(ct);
        var keys = reporterKey is null ? new Dictionary<string, string>() : await store.KeysAsync(reporterKey, ct);
        var batches = new Dictionary<string, PosBatch?>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var customers = new Dictionary<string, IReadOnlyList<IndexedCustomer>>(StringComparer.Ordinal);
        var dates = rows.Where(r => r.Date is not null).Select(r => r.Date!.Value).ToList();
        var period = dates.Count == 0 ? null : Period(dates.Min(), dates.Max());
        var current = reporterKey is null || period is null ? null : await store.CurrentAsync(reporterKey, period, ct);

        // The end customers' candidates, side by side: each distinct customer is one conflict-index look-up (storage latency bound).
        var normalized = rows.Select(r => r.Errors.Count > 0 ? null : CustomerNormalizer.Normalize(r.CustomerName, r.CustomerDomain, r.CustomerCountry)).ToArray();
        await LoadCandidatesAsync(normalized, customers, ct);

        var report = new List<PosLineReport>();
        var stored = new List<PosStoredLine>();
        for (var index = 0; index < rows.Count; index++)
        {
            var row = rows[index];
            var errors = new Dictionary<string, string>(row.Errors, StringComparer.Ordinal);
            if (row.Reporter is not null && reporterKey is not null && row.Reporter.Trim().ToLowerInvariant() != reporterKey) errors["reporter"] = "A batch holds the lines of one reporter: " + reporter + ".";
            if (errors.Count > 0)
            {
                report.Add(new PosLineReport(row.Number, "rejected", errors, row.InvoiceNo, row.InvoiceLine, row.Date, null, null, false, null, row.Currency));
                continue;
            }
            var reseller = MatchReseller(row.Reseller!, directory);
            var customer = normalized[index] is { } endCustomer
                ? MatchCustomer(endCustomer, reseller.PartnerId, customers.GetValueOrDefault(CustomerKey(endCustomer)!) ?? [])
                : new PosCustomerMatch("none", null, null);
            var key = row.InvoiceNo!.Trim() + "|" + row.InvoiceLine!.Value.ToString(CultureInfo.InvariantCulture);
            var duplicate = !seen.Add(key);
            if (!duplicate && keys.TryGetValue(key, out var holder) && holder != current?.BatchId)
            {
                if (!batches.TryGetValue(holder, out var batch)) batches[holder] = batch = (await store.GetBatchAsync(holder, ct))?.Value;
                duplicate = batch is { Status: "Committed" };
            }
            var amount = Math.Round(row.Quantity!.Value * row.UnitPrice!.Value, Currencies.MinorUnits(row.Currency!), MidpointRounding.ToEven);
            report.Add(new PosLineReport(row.Number, "accepted", errors, row.InvoiceNo, row.InvoiceLine, row.Date, reseller, customer, duplicate, amount, row.Currency));
            stored.Add(new PosStoredLine(row.Number, row.InvoiceNo!.Trim(), row.InvoiceLine.Value, row.Date!.Value, row.ProductLine!, row.Quantity.Value, row.UnitPrice.Value, row.Currency!,
                row.CustomerName, row.CustomerDomain, row.CustomerCountry, reseller.PartnerId, reseller.Kind, customer.Kind, customer.DealId, duplicate));
        }
        var accepted = report.Count(r => r.Status == "accepted");
        var conflicts = report.Count(r => r.Customer?.Kind == "otherPartner");
        if (!commit)
        {
            return new PosBatchReport(null, false, reporter, period, report.Count, accepted, report.Count - accepted, report.Count(r => r.Duplicate), conflicts, null, report);
        }
        var rejected = report.Where(r => r.Status == "rejected").ToList();
        if (rejected.Count > 0)
        {
            throw new ValidationFailedException(rejected.Take(100).SelectMany(r => r.Errors.Select(e => (Key: $"line {r.Line}.{e.Key}", e.Value)))
                .ToDictionary(e => e.Key, e => new[] { e.Value }), $"{rejected.Count} line(s) are rejected; a batch is committed only when every line is accepted (send it with commit=false for the report).");
        }
        if (reporterKey is null || period is null) throw new ValidationFailedException("body", "The file has no lines.");
        return await CommitAsync(caller, reporter!, reporterKey, period, current, stored, report, directory, ct);
    }

    /// <summary>
    /// A committed batch with a page of its lines (admins and integration clients, like the import; anyone else 403); a batch that was
    /// never committed (a dry run has no id) or a malformed id is 404. <see cref="PosBatchDetails.Duplicates"/> counts the page's duplicate lines.
    /// </summary>
    public async Task<Versioned<PosBatchDetails>> GetAsync(Caller caller, string batchId, PageRequest page, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (!caller.IsAdmin && !caller.IsIntegration) throw new ForbiddenException("POS batches are read by admins and integration clients.");
        var found = (Ids.LooksLike(batchId, "pos") ? await store.GetBatchAsync(batchId, ct) : null) ?? throw new NotFoundException("POS batch");
        var lines = await store.LinesAsync(batchId, page, ct);
        return new Versioned<PosBatchDetails>(new PosBatchDetails(found.Value, lines.Items.Count(l => l.Duplicate), lines.Items, lines.NextCursor), found.ETag);
    }

    private async Task<PosBatchReport> CommitAsync(Caller caller, string reporter, string reporterKey, string period, (string BatchId, string ETag)? current,
        List<PosStoredLine> lines, List<PosLineReport> report, IReadOnlyList<Partner> directory, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var batchId = Ids.New("pos");
        var counted = lines.Where(l => !l.Duplicate && l.PartnerId is not null).ToList();
        var factsByPartner = FactsOf(batchId, lines);
        var subjects = factsByPartner.Keys.Select(k => k.Item1 + "|" + k.Day.ToString("yyyyMMdd", CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal).ToList();
        var batch = new PosBatch(batchId, reporter, period, "Committed", lines.Count, counted.Count, now, caller.UserId, subjects);
        var superseded = current is { } c ? await store.GetBatchAsync(c.BatchId, ct) : null;

        await store.SaveLinesAsync(batchId, reporterKey, lines, ct);
        var outbox = await ConflictMailsAsync(batchId, reporter, lines, directory, now, ct);
        await store.CommitAsync(batch, superseded, current?.ETag, new ChangeSet([], outbox), ct);

        var version = now.UtcTicks;
        foreach (var ((partnerId, day), facts) in factsByPartner)
        {
            await kpis.ApplyAsync(partnerId, Subject(batchId, day), version, facts, ct);
        }
        foreach (var subject in superseded?.Value.Subjects ?? [])
        {
            var parts = subject.Split('|');
            await kpis.ApplyAsync(parts[0], Subject(superseded!.Value.Id, DateOnly.ParseExact(parts[1], "yyyyMMdd", CultureInfo.InvariantCulture)), version, [], ct);
        }
        return new PosBatchReport(batchId, true, reporter, period, report.Count, report.Count, 0, report.Count(r => r.Duplicate), report.Count(r => r.Customer?.Kind == "otherPartner"),
            superseded?.Value.Id, report);
    }

    /// <summary>
    /// The KPI facts of a committed batch's lines, per reseller partner and day: the counted lines (matched reseller, not a duplicate),
    /// sourced when the reseller registered the end customer, else influenced, by product line and currency, with the line count.
    /// </summary>
    public static IReadOnlyDictionary<(string PartnerId, DateOnly Day), IReadOnlyList<KpiFact>> FactsOf(string batchId, IEnumerable<PosStoredLine> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        return lines.Where(l => !l.Duplicate && l.PartnerId is not null)
            .GroupBy(l => (l.PartnerId!, l.Date))
            .ToDictionary(g => g.Key, g => (IReadOnlyList<KpiFact>)g
                .GroupBy(l => (Metric: l.CustomerMatch == "reseller" ? KpiMetrics.PosSourced : KpiMetrics.PosInfluenced, l.ProductLine, l.Currency))
                .Select(x => new KpiFact(x.Key.Metric, g.Key.Date, x.Key.ProductLine, batchId, SafeKey(x.Key.ProductLine) + ":" + x.Key.Currency,
                    x.Sum(l => Math.Round(l.Quantity * l.UnitPrice, Currencies.MinorUnits(l.Currency), MidpointRounding.ToEven)), x.Key.Currency, Count: x.Count()))
                .OrderBy(f => f.Metric, StringComparer.Ordinal).ThenBy(f => f.Key, StringComparer.Ordinal).ToList());
    }

    /// <summary>The KPI contribution of a batch's lines of one partner and day.</summary>
    public static string Subject(string batchId, DateOnly day) => batchId + ":" + day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    /// <summary>A batch's period: the month of its lines ("2026-10"), or the first and last month ("2026-10..2026-11").</summary>
    public static string Period(DateOnly first, DateOnly last)
    {
        var a = first.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        var b = last.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        return a == b ? a : a + ".." + b;
    }

    /// <summary>The reseller's partner: its id, its domain or its name exactly; else the most similar name at or above the conflict check's similar-name threshold.</summary>
    public static PosResellerMatch MatchReseller(string reseller, IReadOnlyList<Partner> directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var value = reseller.Trim();
        if (directory.FirstOrDefault(p => p.Id == value) is { } byId) return new("exact", byId.Id, byId.Name, 1);
        if (!value.Contains(' ', StringComparison.Ordinal) && value.Contains('.', StringComparison.Ordinal) && CustomerNormalizer.RegistrableDomain(value) is { } domain
            && directory.FirstOrDefault(p => string.Equals(CustomerNormalizer.RegistrableDomain(p.Domain), domain, StringComparison.OrdinalIgnoreCase)) is { } byDomain)
        {
            return new("exact", byDomain.Id, byDomain.Name, 1);
        }
        var key = CustomerNormalizer.CompanyNameKey(value);
        if (key is null) return new("unmatched", null, null, null);
        var rules = ConflictRules.Default;
        (Partner? Partner, double Score) best = (null, 0);
        foreach (var p in directory)
        {
            if (CustomerNormalizer.CompanyNameKey(p.Name) is not { } other) continue;
            var result = NameSimilarity.Compare(key, other, rules);
            if (result.Exact) return new("exact", p.Id, p.Name, 1);
            if (result.Similarity > best.Score) best = (p, result.Similarity);
        }
        return best.Partner is { } found && best.Score >= rules.SimilarNameSimilarity
            ? new("fuzzy", found.Id, found.Name, Math.Round(best.Score, 3))
            : new("unmatched", null, null, best.Partner is null ? null : Math.Round(best.Score, 3));
    }

    /// <summary>Picks the end customer's registration among the conflict index's candidates: the reseller's first, else another partner's.</summary>
    public static PosCustomerMatch MatchCustomer(NormalizedCustomer? customer, string? resellerId, IReadOnlyList<IndexedCustomer> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        if (customer is null) return new("none", null, null);
        var rules = ConflictRules.Default;
        bool Same(IndexedCustomer c) =>
            (customer.Domain is not null && string.Equals(c.Domain, customer.Domain, StringComparison.OrdinalIgnoreCase))
            || (customer.NameKey is not null && c.NameKey is not null && (c.NameKey == customer.NameKey || NameSimilarity.Compare(customer.NameKey, c.NameKey, rules).Similarity >= rules.StrongNameSimilarity));
        var matches = candidates.Where(c => c.Kind == "deal" && c.Status is nameof(DealStatus.Approved) or nameof(DealStatus.Won) && Same(c)).ToList();
        if (resellerId is not null && matches.FirstOrDefault(m => m.PartnerId == resellerId) is { } own) return new("reseller", own.Id, own.PartnerId);
        return matches.FirstOrDefault() is { } other ? new("otherPartner", other.Id, other.PartnerId) : new("none", null, null);
    }

    /// <summary>End-customer look-ups in flight at once (each a query of the conflict index).</summary>
    public const int MatchParallelism = 16;

    private static string? CustomerKey(NormalizedCustomer? customer) => customer is null ? null : customer.Domain + "|" + customer.NameKey;

    /// <summary>Reads the conflict index's candidates of every distinct end customer, <see cref="MatchParallelism"/> at a time.</summary>
    private async Task LoadCandidatesAsync(IReadOnlyList<NormalizedCustomer?> normalized, Dictionary<string, IReadOnlyList<IndexedCustomer>> cache, CancellationToken ct)
    {
        var wanted = new Dictionary<string, NormalizedCustomer>(StringComparer.Ordinal);
        foreach (var customer in normalized)
        {
            if (CustomerKey(customer) is { } key) wanted.TryAdd(key, customer!);
        }
        var found = new System.Collections.Concurrent.ConcurrentDictionary<string, IReadOnlyList<IndexedCustomer>>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(wanted, new ParallelOptions { MaxDegreeOfParallelism = MatchParallelism, CancellationToken = ct }, async (entry, token) =>
            found[entry.Key] = await deals.CandidatesAsync(entry.Value.Domain, entry.Value.BlockingKeys, token));
        foreach (var (key, candidates) in found) cache[key] = candidates;
    }

    private async Task<List<OutboxMessage>> ConflictMailsAsync(string batchId, string reporter, List<PosStoredLine> lines, IReadOnlyList<Partner> directory, DateTimeOffset now, CancellationToken ct)
    {
        var outbox = new List<OutboxMessage>();
        foreach (var group in lines.Where(l => l.CustomerMatch == "otherPartner" && l.PartnerId is not null).GroupBy(l => l.PartnerId!))
        {
            var partner = directory.FirstOrDefault(p => p.Id == group.Key);
            if (partner?.ChannelManagerId is not { } managerId || await staff.GetAsync(managerId, ct) is not { } manager) continue;
            var list = string.Join("\n", group.Take(MailLines).Select(l => $"- line {l.Line}: invoice {l.InvoiceNo}/{l.InvoiceLine} of {Iso(l.Date)}, {l.CustomerName ?? l.CustomerDomain}, registered as {l.MatchedDealId}"));
            var message = emails.Compose("pos-conflict", manager.Email, manager.DisplayName, new
            {
                userName = manager.DisplayName,
                partnerName = partner.Name,
                reporter,
                count = group.Count(),
                lineList = list,
                batchUrl = emails.PortalUrl($"/pos/batches/{batchId}"),
            });
            outbox.Add(OutboxMessage.ForEmail(Ids.New("msg"), message, now, partner.Id, Correlation.Id));
            if (outbox.Count >= 90) break; // one transaction with the batch rows
        }
        return outbox;
    }

    private async Task<List<Partner>> AllPartnersAsync(CancellationToken ct)
    {
        var list = new List<Partner>();
        string? cursor = null;
        do
        {
            var page = await partners.ListAsync(new PartnerQuery(null, null, null, null, null), new PageRequest(PageRequest.MaxLimit, cursor), ct);
            list.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return list;
    }

    private static string Iso(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string SafeKey(string text) => new(text.Select(ch => ch is '/' or '\\' or '#' or '?' or '|' || char.IsControl(ch) ? '-' : ch).ToArray());

    /// <summary>A parsed CSV line and what is wrong with it, by field.</summary>
    internal sealed record PosRow(int Number, string? Reporter, string? InvoiceNo, int? InvoiceLine, DateOnly? Date, string? ProductLine, decimal? Quantity, decimal? UnitPrice,
        string? Currency, string? CustomerName, string? CustomerDomain, string? CustomerCountry, string? Reseller, Dictionary<string, string> Errors);

    /// <summary>The content type of an XLSX upload (the same columns as the CSV).</summary>
    public const string XlsxContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    private static string Key(string header) => header.Trim().Replace(" ", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();

    /// <summary>The header's columns by key (lower case, no spaces or underscores); 400 naming "header" when a required one is missing.</summary>
    private static HashSet<string> CheckHeader(IEnumerable<string> columns)
    {
        var header = columns.Select(Key).ToHashSet(StringComparer.Ordinal);
        var missing = Required.Where(c => !header.Contains(c)).ToList();
        if (!header.Contains("productline") && !header.Contains("sku")) missing.Add("productLine or sku");
        if (missing.Count > 0) throw new ValidationFailedException("header", $"The header lacks the column(s) {string.Join(", ", missing)}; expected: {Columns}.");
        return header;
    }

    private static void CheckCount(List<PosRow> rows, int number)
    {
        if (rows.Count >= MaxLines) throw new ValidationFailedException("body", $"A POS file may have at most {MaxLines} lines; line {number} is one more.");
    }

    /// <summary>Reads the CSV: a header with the required columns (400 naming "header"), at most <see cref="MaxLines"/> lines (400 naming "body"), each line validated by field.</summary>
    internal static List<PosRow> Parse(byte[] csv)
    {
        var config = new CsvConfiguration(CultureInfo.InvariantCulture) { PrepareHeaderForMatch = a => Key(a.Header), HeaderValidated = null, MissingFieldFound = null, TrimOptions = TrimOptions.Trim, BadDataFound = null };
        using var reader = new StreamReader(new MemoryStream(csv));
        using var parser = new CsvReader(reader, config);
        var rows = new List<PosRow>();
        try
        {
            if (!parser.Read() || !parser.ReadHeader()) throw new ValidationFailedException("header", $"The file is empty; expected a header row with: {Columns}.");
            var header = CheckHeader(parser.HeaderRecord!);
            string? Field(string name) => header.Contains(name) && parser.TryGetField(name, out string? v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
            while (parser.Read())
            {
                var number = parser.Parser.Row;
                CheckCount(rows, number);
                rows.Add(Row(number, Field));
            }
        }
        catch (CsvHelperException ex)
        {
            throw new ValidationFailedException("body", $"The CSV could not be read near line {ex.Context?.Parser?.Row}: {ex.Message.Split('\n')[0]}");
        }
        return rows;
    }

    /// <summary>
    /// Reads an XLSX workbook (MiniExcel, streaming): the first sheet, its first row the header with the CSV's columns, the same limits and
    /// checks per line; a line's number is its spreadsheet row. Numbers are read as the cell holds them, a date cell as its day; a file
    /// that is no workbook is 400 naming "body".
    /// </summary>
    internal static List<PosRow> ParseXlsx(byte[] xlsx)
    {
        // An XLSX is a ZIP package: anything else is refused before the reader sees it.
        if (xlsx.Length < 4 || xlsx[0] != 0x50 || xlsx[1] != 0x4B || xlsx[2] != 0x03 || xlsx[3] != 0x04)
        {
            throw new ValidationFailedException("body", "The file is not an XLSX workbook (expected a ZIP package).");
        }
        var rows = new List<PosRow>();
        try
        {
            using var stream = new MemoryStream(xlsx, writable: false);
            var columns = MiniExcelLibs.MiniExcel.GetColumns(stream, useHeaderRow: true, excelType: MiniExcelLibs.ExcelType.XLSX)?.ToList() ?? [];
            if (columns.Count == 0) throw new ValidationFailedException("header", $"The workbook is empty; expected a header row with: {Columns}.");
            var header = CheckHeader(columns);
            var names = columns.ToDictionary(c => c, Key, StringComparer.Ordinal);
            stream.Position = 0;
            var number = 1;
            foreach (IDictionary<string, object?> cells in MiniExcelLibs.MiniExcel.Query(stream, useHeaderRow: true, excelType: MiniExcelLibs.ExcelType.XLSX))
            {
                number++;
                var values = new Dictionary<string, string?>(StringComparer.Ordinal);
                foreach (var (column, value) in cells)
                {
                    if (names.TryGetValue(column, out var key)) values[key] = CellText(value);
                }
                if (values.Values.All(string.IsNullOrWhiteSpace)) continue; // an empty row (formatting only)
                CheckCount(rows, number);
                rows.Add(Row(number, name => header.Contains(name) && values.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null));
            }
        }
        catch (ValidationFailedException)
        {
            throw;
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or System.Xml.XmlException or InvalidOperationException or FormatException or NotSupportedException or ArgumentException or KeyNotFoundException or InvalidCastException)
        {
            throw new ValidationFailedException("body", $"The workbook could not be read: {ex.Message.Split('\n')[0]}");
        }
        return rows;
    }

    /// <summary>A cell as the CSV would hold it: text as is, a number in invariant notation without exponent, a date cell as yyyy-MM-dd.</summary>
    private static string? CellText(object? value) => value switch
    {
        null => null,
        string text => text,
        DateTime day => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        double d when Math.Abs(d) < 7.9e27 => ((decimal)d).ToString(CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    /// <summary>One line checked field by field (<paramref name="read"/>: a column's trimmed value by key, null when empty).</summary>
    private static PosRow Row(int number, Func<string, string?> read)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        string? Text(string name, string field, int max)
        {
            var v = read(name);
            if (v is null) errors[field] = field + " is required.";
            else if (v.Length > max) errors[field] = $"{field} may have at most {max} characters.";
            else if (v.Any(char.IsControl)) errors[field] = field + " may not hold control characters.";
            return v;
        }
        decimal? Number(string name, string field)
        {
            var v = read(name);
            if (v is null) { errors[field] = field + " is required."; return null; }
            if (!decimal.TryParse(v, NumberStyles.Number, CultureInfo.InvariantCulture, out var d) || d > 1_000_000_000m || d < -1_000_000_000m) { errors[field] = field + " must be a number (e.g. 12.50)."; return null; }
            if (d < 0) { errors[field] = field + " must not be negative."; return null; }
            return d;
        }
        var reporter = Text("reporter", "reporter", 100);
        var invoice = Text("invoiceno", "invoiceNo", 100);
        int? line = null;
        var lineText = read("line");
        if (lineText is null) errors["line"] = "line is required.";
        else if (int.TryParse(lineText, NumberStyles.None, CultureInfo.InvariantCulture, out var l) && l >= 1) line = l;
        else errors["line"] = "line must be a whole number from 1.";
        DateOnly? date = null;
        var dateText = read("date");
        if (dateText is null) errors["date"] = "date is required.";
        else if (DateOnly.TryParseExact(dateText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) && d.Year is >= 2000 and < 2100) date = d;
        else errors["date"] = "date must be a day (yyyy-MM-dd).";
        var product = read("productline") ?? read("sku");
        if (product is null) errors["productLine"] = "productLine (or sku) is required.";
        else if (product.Length > 64) errors["productLine"] = "productLine may have at most 64 characters.";
        var quantity = Number("quantity", "quantity");
        var price = Number("unitprice", "unitPrice");
        var currency = read("currency")?.ToUpperInvariant();
        if (currency is null) errors["currency"] = "currency is required.";
        else if (!Currencies.IsKnown(currency)) errors["currency"] = $"currency '{currency}' is not a known ISO 4217 code.";
        var reseller = Text("reseller", "reseller", 200);
        var name = read("customername");
        var domain = read("customerdomain");
        var country = read("customercountry")?.ToUpperInvariant();
        if (country is not null && !Prm.Core.Common.Text.IsCountryCode(country)) errors["customerCountry"] = "customerCountry must be an ISO 3166-1 alpha-2 code.";
        if (name is { Length: > 200 }) errors["customerName"] = "customerName may have at most 200 characters.";
        return new PosRow(number, reporter, invoice, line, date, product, quantity, price, currency, name, domain, country, reseller, errors);
    }
}
