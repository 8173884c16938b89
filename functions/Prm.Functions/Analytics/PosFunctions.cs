using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Prm.Core.Identity;
using Prm.Core.Pos;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;

namespace Prm.Functions.Analytics;

/// <summary>POS import: a distributor's sell-through CSV, reported line by line (dry run) or committed.</summary>
public sealed class PosFunctions(PosImport import)
{
    [Function("ImportPosBatch")]
    [Access(AccessPolicy.VendorOrIntegration)]
    [ApiOperation("Import a POS batch", "text/csv with a header row (" + PosImport.Columns + "), or an XLSX workbook (" + PosImport.XlsxContentType + ": the first sheet, its first row the same header, a line's number its spreadsheet row), at most 100,000 lines and 16 MiB. Admins and integration clients (Prm.Integration); channel managers get 403. " +
        "Dry run by default: per line accepted or rejected (errors by field), the reseller matched exactly (partner id, domain or name), fuzzily (similar name) or unmatched, the end customer matched to an approved or won registration of that partner (reseller), of another partner (otherPartner) or none, and a duplicate flag ((reporter, invoiceNo, line) imported before or repeated). " +
        "commit=true stores a batch whose lines are all accepted (400 naming each rejected line's field otherwise): duplicates count once, a batch of the same reporter and period replaces the previous one (superseded, its KPI contributions reversed), POS revenue enters the KPIs (sourced/influenced), and lines on another partner's registration are emailed to the reseller's channel manager.",
        RequestContentType = "text/csv," + PosImport.XlsxContentType, Response = typeof(PosBatchReport), Query = ["commit"])]
    public async Task<IActionResult> Import([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "pos/batches")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var commit = req.Flag("commit");
        var bytes = await ApiJson.ReadBytesAsync(req, PosImport.MaxBytes, ct, "text/csv", PosImport.XlsxContentType);
        var xlsx = string.Equals(req.ContentType?.Split(';')[0].Trim(), PosImport.XlsxContentType, StringComparison.OrdinalIgnoreCase);
        return Api.Ok(await import.RunAsync(req.Caller(), bytes, commit, ct, xlsx));
    }

    [Function("GetPosBatch")]
    [Access(AccessPolicy.VendorOrIntegration)]
    [ApiOperation("Read a POS batch", "A committed batch (ETag): reporter, period, status Committed or Superseded (supersededBy: the batch of the same reporter and period that replaced it), lines, counted lines, when and by whom; and a page of its stored lines in file order (?limit, ?cursor) with each line's reseller and customer match, matched deal and duplicate flag (duplicates: on the page). Admins and integration clients; channel managers 403; an unknown id (a dry run has none) 404.",
        Response = typeof(PosBatchDetails), Query = ["limit", "cursor"])]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "pos/batches/{batchId}")] HttpRequest req, string batchId, CancellationToken ct) =>
        Api.Versioned(await import.GetAsync(req.Caller(), batchId, req.Paging(), ct));
}
