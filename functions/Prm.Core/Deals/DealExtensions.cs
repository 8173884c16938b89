using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Settings;

namespace Prm.Core.Deals;

/// <summary>
/// The partner asks for a longer protection of an approved registration; the channel manager (or an admin) decides through the API or the
/// emailed link. Approval moves the protection end, and with it the running expiry timer. At most the program's number of extensions.
/// </summary>
public sealed class DealExtensions(DealCommits commits, ProgramSettings settings)
{
    public async Task<Versioned<DealDto>> RequestAsync(Caller caller, string dealId, ExtensionRequestBody? body, CancellationToken ct)
    {
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        var rules = await settings.GetAsync<DealSettings>(DealSettings.SectionName, ct);
        var errors = new Dictionary<string, string[]>();
        if (body.Days is not { } days || days < 1 || days > rules.MaxExtensionDays) errors["days"] = [$"days must be 1 to {rules.MaxExtensionDays}."];
        if (string.IsNullOrWhiteSpace(body.Reason) || body.Reason.Length > 2000) errors["reason"] = ["reason is required (at most 2000 characters)."];
        if (errors.Count > 0) throw new ValidationFailedException(errors);
        return await commits.TransitionAsync(caller, dealId, DealOperation.Change, (deal, now) =>
            deal.RequestExtension(new DealExtension(Ids.New("ext"), body.Days!.Value, body.Reason!.Trim(), caller.UserId, caller.DisplayName, now, "Pending"), rules), ct);
    }

    public Task<Versioned<DealDto>> DecideAsync(Caller caller, string dealId, string extensionId, ExtensionDecisionRequest? body, CancellationToken ct)
    {
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        var decision = body.Decision?.Trim();
        if (decision is not ("approve" or "reject")) throw new ValidationFailedException("decision", "decision must be approve or reject.");
        if (decision == "reject" && string.IsNullOrWhiteSpace(body.Reason)) throw new ValidationFailedException("reason", "reason is required to reject: the partner is told why.");
        if (body.Reason?.Length > 2000) throw new ValidationFailedException("reason", "reason takes at most 2000 characters.");
        return commits.TransitionAsync(caller, dealId, DealOperation.Decide, (deal, now) =>
            deal.DecideExtension(extensionId, new DealDecision(decision, body.Reason?.Trim(), caller.UserId, caller.DisplayName, now)), ct);
    }
}
