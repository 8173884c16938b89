using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Mdf;

namespace Prm.Core.Leads;

/// <summary>One row of a lead spreadsheet (product lines separated by ';').</summary>
public sealed class LeadImportRow
{
    public string? CompanyName { get; set; }
    public string? Domain { get; set; }
    public string? Country { get; set; }
    public string? Region { get; set; }
    public string? PostalCode { get; set; }
    public string? Industry { get; set; }
    public string? SizeBand { get; set; }
    public string? ContactName { get; set; }
    public string? ContactEmail { get; set; }
    public string? Phone { get; set; }
    public string? JobTitle { get; set; }
    public string? ProductLines { get; set; }
    public string? Campaign { get; set; }
    public string? Channel { get; set; }
    public string? Grade { get; set; }
    public string? Amount { get; set; }
    public string? Currency { get; set; }
    public string? Notes { get; set; }
    public string? ExternalId { get; set; }
    public string? ConsentToShare { get; set; }
}

/// <summary>What happened to one row (created, updated, merged, rejected; a dry run says what would happen: create, update, reject).</summary>
public sealed record LeadImportRowResult(int Line, string? ExternalId, string? LeadId, string Outcome, IReadOnlyList<string> Reasons);

public sealed record LeadImportReport(bool DryRun, int Rows, int Created, int Updated, int Rejected, IReadOnlyList<LeadImportRowResult> Results);

/// <summary>
/// Imports leads from CSV (admins): every row is validated as an intake (the same rules and messages); a dry run reports row by row and
/// writes nothing; a real run takes each valid row through the intake (routing included), idempotent by externalId.
/// </summary>
public sealed class LeadImport(CaptureLead capture, ILeadStore store, Deals.ProductLines productLines)
{
    public const int MaxRows = 5_000;
    public const string Columns = "companyName,domain,country,region,postalCode,industry,sizeBand,contactName,contactEmail,phone,jobTitle,productLines,campaign,channel,grade,amount,currency,notes,externalId,consentToShare";

    public async Task<LeadImportReport> RunAsync(Caller caller, Stream csv, bool dryRun, CancellationToken ct)
    {
        if (!caller.IsAdmin) throw new ForbiddenException("Only program admins import leads.");
        var rows = Read(csv);
        var known = (await productLines.AllAsync(ct)).Where(l => l.Active).Select(l => l.Id).ToHashSet(StringComparer.Ordinal);
        var results = new List<LeadImportRowResult>();
        foreach (var (line, row) in rows)
        {
            var (request, reasons) = ToRequest(row);
            if (request is not null)
            {
                var failures = new CreateLeadValidator().Validate(request).Errors.Select(e => $"{Field(e.PropertyName)}: {e.ErrorMessage}").ToList();
                reasons.AddRange(failures);
                foreach (var line2 in request.ProductLines ?? []) if (!known.Contains(line2)) reasons.Add($"productLines: '{line2}' is not an active product line.");
            }
            if (reasons.Count > 0)
            {
                results.Add(new LeadImportRowResult(line, row.ExternalId, null, "rejected", reasons));
                continue;
            }
            var externalId = request!.ExternalId?.Trim();
            if (dryRun)
            {
                var existing = externalId is null ? null : await store.FindKeyAsync(CaptureLead.ExternalKey, externalId, ct);
                results.Add(new LeadImportRowResult(line, externalId, existing?.LeadId, existing is null ? "create" : "update", []));
                continue;
            }
            try
            {
                var (result, created) = await capture.IntakeAsync(caller, request, ct);
                results.Add(new LeadImportRowResult(line, externalId, result.Lead.Id, created ? "created" : result.Outcome == "merged" ? "merged" : "updated", []));
            }
            catch (ValidationFailedException ex)
            {
                results.Add(new LeadImportRowResult(line, externalId, null, "rejected", ex.Errors.Select(e => $"{e.Key}: {e.Value[0]}").ToList()));
            }
            catch (Exception ex) when (ex is not PrmException && !ct.IsCancellationRequested)
            {
                // Rows are imported one after another, each its own commit: the rows before this one are kept. Say so, rather than the
                // single request's "nothing was changed".
                var kept = results.Count(r => r.Outcome != "rejected");
                throw new OperationInterruptedException(
                    $"The import stopped at line {line}. The {kept} rows imported before it are kept; line {line} may or may not have been imported, " +
                    $"the rows after it were not. Send the file again from line {line}: a row with an externalId updates its lead instead of adding one.", ex);
            }
        }
        return new LeadImportReport(dryRun, rows.Count, results.Count(r => r.Outcome is "created" or "create"), results.Count(r => r.Outcome is "updated" or "update" or "merged"),
            results.Count(r => r.Outcome == "rejected"), results);
    }

    private static string Field(string property) => property.Length == 0 ? "row" : char.ToLowerInvariant(property[0]) + property[1..];

    private static (CreateLeadRequest? Request, List<string> Reasons) ToRequest(LeadImportRow r)
    {
        var reasons = new List<string>();
        bool? consent = r.ConsentToShare?.Trim().ToLowerInvariant() switch
        {
            "true" or "yes" or "1" => true,
            "false" or "no" or "0" => false,
            null or "" => null,
            _ => null,
        };
        if (consent is null) reasons.Add("consentToShare: must be true or false.");
        decimal? amount = null;
        if (!string.IsNullOrWhiteSpace(r.Amount))
        {
            if (decimal.TryParse(r.Amount, NumberStyles.Number, CultureInfo.InvariantCulture, out var a) && a is >= 0 and <= 1_000_000_000m) amount = a;
            else reasons.Add("amount: must be a number from 0 to 1,000,000,000 such as 25000.00.");
        }
        var lines = (r.ProductLines ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        static string? N(string? v) => string.IsNullOrWhiteSpace(v) ? null : v.Trim();
        var request = new CreateLeadRequest(
            new LeadCompanyInput(N(r.CompanyName), N(r.Domain), N(r.Country), N(r.Region), N(r.PostalCode), N(r.Industry), N(r.SizeBand)),
            new LeadContactInput(N(r.ContactName), N(r.ContactEmail), N(r.Phone), N(r.JobTitle)),
            lines, N(r.Campaign) is null && N(r.Channel) is null ? null : new LeadSourceInput(N(r.Campaign), N(r.Channel)),
            N(r.Grade), amount is null && N(r.Currency) is null ? null : new MoneyInput(amount, N(r.Currency)), N(r.Notes), N(r.ExternalId), consent);
        return (request, reasons);
    }

    private static List<(int Line, LeadImportRow Row)> Read(Stream csv) => CsvRows.Read<LeadImportRow>(csv, Columns, ["companyname", "country", "contactname", "contactemail", "productlines", "consenttoshare"], MaxRows);
}
