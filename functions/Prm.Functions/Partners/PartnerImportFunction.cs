using Microsoft.DurableTask.Client;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Prm.Core.Identity;
using Prm.Core.Partners;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;

namespace Prm.Functions.Partners;

/// <summary>Bulk import of partners and users from CSV.</summary>
public sealed class PartnerImportFunction(PartnerImport import)
{
    /// <summary>Imports are larger than ordinary bodies: 10,000 rows fit well within 16 MiB.</summary>
    public const long MaxCsvBytes = 16 * 1024 * 1024;

    [Function("ImportPartners")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Import partners from CSV", "text/csv with a header row (" + PartnerImport.Columns + "); one row per partner user, partners grouped by domain. dryRun=true reports row by row and writes nothing; a real run is idempotent by partner domain. Body limit 16 MiB.",
        RequestContentType = "text/csv", Response = typeof(ImportReport), Query = ["dryRun"])]
    public async Task<IActionResult> Import([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "partners/import")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var dryRun = req.Flag("dryRun");
        var bytes = await ApiJson.ReadBytesAsync(req, MaxCsvBytes, ct, "text/csv");
        using var stream = new MemoryStream(bytes, writable: false);
        var report = await import.RunAsync(req.Caller(), stream, dryRun, ct);
        return Api.Ok(report);
    }
}
