using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Prm.Core.Identity;
using Prm.Core.Privacy;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;
using Prm.Storage.Privacy;

namespace Prm.Functions.Platform;

/// <summary>A person's personal data (admins): export it, erase it by pseudonymization (docs/privacy.md).</summary>
public sealed class PrivacyFunctions(PersonalData people)
{
    [Function("ExportPersonalData")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Export a person's personal data", "Admins. Every stored row that holds the email (any field, JSON bodies included) or references the user it is registered to — partner user and identity rows, staff, deals (contact or registered by them), leads (contact), partner applications, MDF, training (attempts, awards, statements), timelines (audit entries they made or that name them), outbox rows, the event log and webhook deliveries — as JSON, with the erasure when there was one and what the search does not cover. A malformed email is 400 naming email.",
        Response = typeof(PersonalDataExport))]
    public async Task<IActionResult> Export([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "people/{email}/export")] HttpRequest req, string email, CancellationToken ct) =>
        Api.Ok(await people.ExportAsync(req.Caller(), email, ct));

    [Function("ErasePersonalData")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Erase a person's personal data", "Admins. Pseudonymizes every row the export finds: the email becomes anon_…@erased.invalid and names the stable pseudonym anon_… (an HMAC of the email), phones and job titles next to the email are cleared; audit entries keep their who as that pseudonym; ids, amounts, counters, statuses and dates stay. Rows keyed by the email (its key row, rate-limit counters, the lead-contact look-up) are deleted. The erasure is recorded under the pseudonym. 404 when nothing of the email is stored and it was never erased; 409 for your own email. Optional body { reason }.",
        Request = typeof(EraseRequest), Response = typeof(ErasureResult), Errors = [404, 409])]
    public async Task<IActionResult> Erase([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "people/{email}/erase")] HttpRequest req, [DurableClient] DurableTaskClient durable, string email, CancellationToken ct) =>
        Api.Ok(await people.EraseAsync(req.Caller(), email, await ApiJson.ReadAsync<EraseRequest>(req, ct), ct));
}
