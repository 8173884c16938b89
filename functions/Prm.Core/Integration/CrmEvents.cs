using System.Text.RegularExpressions;
using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Core.Identity;
using Prm.Core.Mdf;
using Prm.Core.Partners;

namespace Prm.Core.Integration;

/// <summary>Settings of CRM events in (section "Crm").</summary>
public sealed class CrmOptions
{
    public const string SectionName = "Crm";

    /// <summary>Stages (case and spaces ignored) that mean won or lost, besides the data's isWon/isClosed flags.</summary>
    public IReadOnlyList<string> WonStages { get; set; } = ["closedwon", "won", "closed won"];

    public IReadOnlyList<string> LostStages { get; set; } = ["closedlost", "lost", "closed lost"];

    /// <summary>A received event whose first processing is still running after this long (seconds) may be taken over by a redelivery.</summary>
    public int ProcessingLeaseSeconds { get; set; } = 60;
}

/// <summary>Body of POST /api/integrations/crm/events.</summary>
/// <param name="Id">The sender's event id: a redelivery with the same id is applied once.</param>
/// <param name="Kind">opportunity.stageChanged, opportunity.linked or account.ownerChanged.</param>
/// <param name="System">The CRM: salesforce, hubspot, dynamics (or another lower-case name).</param>
/// <param name="ExternalId">The CRM record's id (an opportunity, or an account for account.ownerChanged).</param>
/// <param name="Version">The record's version at the sender (e.g. a sequence or SystemModstamp ticks); without it, occurredAt orders.</param>
public sealed record CrmEventRequest(string? Id, string? Kind, string? System, string? ExternalId, long? Version, string? OccurredAt, CrmEventData? Data);

/// <summary>What a CRM event carries.</summary>
/// <param name="Stage">The opportunity's stage (Closed Won / Closed Lost end the registration).</param>
/// <param name="DealId">opportunity.linked: the registration the opportunity belongs to.</param>
/// <param name="PartnerId">account.ownerChanged may name the partner to link the account to at the same time.</param>
/// <param name="OwnerEmail">account.ownerChanged: the channel manager who owns the partner account now.</param>
public sealed record CrmEventData(string? Stage, bool? IsWon, bool? IsClosed, MoneyInput? Amount, string? CloseDate, string? Reason, string? DealId, string? PartnerId, string? OwnerEmail);

/// <summary>What became of a CRM event.</summary>
/// <param name="Status">applied, duplicate (this id was received before: nothing done again), stale (older than what was applied: recorded, ignored), parked (unknown external id: kept for review, 202), or noChange.</param>
public sealed record CrmEventResult(string EventId, string Status, string? RecordType, string? RecordId, string? Detail);

/// <summary>Body of PUT /api/deals/{dealId}/external-ids/{system}.</summary>
public sealed record ExternalIdRequest(string? ExternalId);

/// <summary>An external id of a record in a system.</summary>
public sealed record ExternalIdDto(string RecordType, string RecordId, string System, string ExternalId, DateTimeOffset LinkedAt, string LinkedBy);

/// <summary>A CRM event kept for review (unknown external id).</summary>
public sealed record ParkedCrmEvent(string EventId, string System, string Kind, string ExternalId, DateTimeOffset ReceivedAt, string Reason, string Body);

/// <summary>The last version applied to a record, for ordering.</summary>
public sealed record CrmRecordState(long Version, string EventId, string ETag);

/// <summary>Storage port of CRM events in: received event ids, per-record versions, parked events, external ids (key rows, point reads).</summary>
public interface ICrmInbox
{
    /// <summary>Claims the sender's event id; returns the earlier result when it was processed before, or "busy" while another request processes it.</summary>
    Task<(bool Claimed, CrmEventResult? Earlier)> ClaimAsync(string system, string eventId, TimeSpan lease, CancellationToken ct);

    Task CompleteAsync(string system, string eventId, CrmEventResult result, CancellationToken ct);

    /// <summary>Gives the claim back after a failure, so the sender's retry is processed.</summary>
    Task ReleaseAsync(string system, string eventId, CancellationToken ct);

    Task<CrmRecordState?> RecordAsync(string system, string kind, string externalId, CancellationToken ct);

    /// <summary>Stores the version now applied; false when another event changed the record meanwhile (ETag).</summary>
    Task<bool> SaveRecordAsync(string system, string kind, string externalId, long version, string eventId, string? etag, CancellationToken ct);

    Task ParkAsync(ParkedCrmEvent parked, CancellationToken ct);

    Task<Page<ParkedCrmEvent>> ParkedAsync(PageRequest page, CancellationToken ct);

    /// <summary>The record an external id points to (a point read), or null.</summary>
    Task<ExternalIdDto?> FindAsync(string recordType, string system, string externalId, CancellationToken ct);

    /// <summary>Points the external id at the record (replacing the record's previous id in that system); false when the id belongs to another record.</summary>
    Task<bool> LinkAsync(ExternalIdDto link, CancellationToken ct);

    Task<IReadOnlyList<ExternalIdDto>> OfRecordAsync(string recordType, string recordId, CancellationToken ct);
}

/// <summary>External ids of deals and partners per system, looked up by point reads.</summary>
public sealed partial class ExternalIds(ICrmInbox inbox, IDealStore deals, IPartnerStore partners, TimeProvider clock)
{
    [GeneratedRegex("^[a-z][a-z0-9-]{1,39}$")]
    private static partial Regex SystemName();

    public static string ValidSystem(string? system) =>
        system is not null && SystemName().IsMatch(system) ? system : throw new ValidationFailedException("system", "system must be a lower-case name such as salesforce, hubspot or dynamics (2 to 40 of a-z, 0-9, -).");

    public static string ValidExternalId(string? externalId) =>
        string.IsNullOrWhiteSpace(externalId) || externalId.Length > 200 || externalId.Any(char.IsControl)
            ? throw new ValidationFailedException("externalId", "externalId is required (at most 200 characters).")
            : externalId.Trim();

    /// <summary>Sets the deal's id in the system (vendor staff and integration apps).</summary>
    public async Task<ExternalIdDto> LinkDealAsync(Caller caller, string dealId, string? system, ExternalIdRequest? body, CancellationToken ct)
    {
        await RequireDealAsync(caller, dealId, ct);
        var sys = ValidSystem(system);
        var externalId = ValidExternalId(body?.ExternalId);
        return await LinkAsync("deal", dealId, sys, externalId, caller.DisplayName, ct);
    }

    /// <summary>The deal exists and the caller may see it (integration apps all; a channel manager the deals of partners it owns): 404 otherwise.</summary>
    private async Task RequireDealAsync(Caller caller, string dealId, CancellationToken ct)
    {
        if (!(caller.IsVendor || caller.IsIntegration) || caller.PartnerId is not null) throw new ForbiddenException("Only vendor staff and integration apps use external ids.");
        var deal = dealId.Length > 200 ? null : await deals.GetAsync(dealId, ct);
        if (deal is null) throw new NotFoundException("The deal");
        if (!caller.IsVendor) return;
        var owner = DealAccess.NeedsPartnerOwner(caller) ? (await partners.GetAsync(deal.Value.PartnerId, ct))?.Value.ChannelManagerId : null;
        if (!DealAccess.Allows(caller, DealOperation.Read, deal.Value, owner)) throw new NotFoundException("The deal");
    }

    public async Task<IReadOnlyList<ExternalIdDto>> OfDealAsync(Caller caller, string dealId, CancellationToken ct)
    {
        await RequireDealAsync(caller, dealId, ct);
        return await inbox.OfRecordAsync("deal", dealId, ct);
    }

    internal async Task<ExternalIdDto> LinkAsync(string recordType, string recordId, string system, string externalId, string by, CancellationToken ct)
    {
        var link = new ExternalIdDto(recordType, recordId, system, externalId, clock.GetUtcNow(), by);
        if (!await inbox.LinkAsync(link, ct)) throw new ConflictException($"The {system} id {externalId} already belongs to another {recordType}.", "externalId");
        return link;
    }
}

/// <summary>The kinds of CRM events PrmFunctions accepts (incoming, so not part of the outgoing event catalog).</summary>
public static class CrmKinds
{
    public const string StageChanged = "opportunity.stageChanged";
    public const string Linked = "opportunity.linked";
    public const string OwnerChanged = "account.ownerChanged";
    public static readonly IReadOnlyList<string> All = [StageChanged, Linked, OwnerChanged];
}

/// <summary>
/// CRM events in: applied once per sender event id, in the sender's order per record (an older version after a newer one is recorded and
/// ignored; an equal version from another event is applied, so a timestamp tie never drops an update), unknown external ids parked for review.
/// A won or lost stage sets the deal's outcome through the deal outcome use case; a link attaches the external id; an owner change moves the
/// partner to that channel manager.
/// </summary>
public sealed class CrmEvents(ICrmInbox inbox, ExternalIds externalIds, DealOutcomes outcomes, IDealStore deals, PartnerDirectory partners, IStaffStore staff,
    CrmOptions options, TimeProvider clock)
{
    private const string StageChanged = CrmKinds.StageChanged;
    private const string Linked = CrmKinds.Linked;
    private const string OwnerChanged = CrmKinds.OwnerChanged;
    private static readonly IReadOnlyList<string> Kinds = CrmKinds.All;

    public async Task<(CrmEventResult Result, bool Accepted)> ReceiveAsync(Caller caller, CrmEventRequest? body, CancellationToken ct)
    {
        if (!caller.IsIntegration || caller.PartnerId is not null) throw new ForbiddenException("CRM events come from integration apps (app role Prm.Integration).");
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(body.Id) || body.Id.Length > 200 || body.Id.Any(char.IsControl)) errors["id"] = ["id (the sender's event id) is required, at most 200 characters."];
        if (body.Kind is null || !Kinds.Contains(body.Kind)) errors["kind"] = [$"kind must be one of {string.Join(", ", Kinds)}."];
        if (body.System is null || !Regex.IsMatch(body.System, "^[a-z][a-z0-9-]{1,39}$")) errors["system"] = ["system must be a lower-case name such as salesforce, hubspot or dynamics."];
        if (string.IsNullOrWhiteSpace(body.ExternalId) || body.ExternalId.Length > 200) errors["externalId"] = ["externalId (the CRM record's id) is required."];
        DateTimeOffset? occurredAt = null;
        if (body.OccurredAt is not null)
        {
            if (DateTimeOffset.TryParse(body.OccurredAt, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at)) occurredAt = at;
            else errors["occurredAt"] = ["occurredAt must be an ISO 8601 date-time."];
        }
        if (body.Version is null && occurredAt is null) errors["version"] = ["version or occurredAt is required: events of a record are applied in that order."];
        if (body.Version is < 0) errors["version"] = ["version must not be negative."];
        if (errors.Count > 0) throw new ValidationFailedException(errors);
        var id = body.Id!.Trim();
        var system = body.System!;
        var kind = body.Kind!;
        var externalId = body.ExternalId!.Trim();
        var version = body.Version ?? occurredAt!.Value.UtcTicks;

        var (claimed, earlier) = await inbox.ClaimAsync(system, id, TimeSpan.FromSeconds(options.ProcessingLeaseSeconds), ct);
        if (!claimed)
        {
            if (earlier is null) throw new ConflictException("This event is being processed by another request; retry shortly.");
            return (earlier with { Status = "duplicate", Detail = $"Received before ({earlier.Status}); nothing was done again." }, false);
        }
        try
        {
            var result = await ApplyAsync(caller, id, system, kind, externalId, version, body, ct);
            await inbox.CompleteAsync(system, id, result, ct);
            return (result, result.Status == "parked");
        }
        catch
        {
            await inbox.ReleaseAsync(system, id, CancellationToken.None);
            throw;
        }
    }

    private async Task<CrmEventResult> ApplyAsync(Caller caller, string id, string system, string kind, string externalId, long version, CrmEventRequest body, CancellationToken ct)
    {
        var recordType = kind == OwnerChanged ? "partner" : "deal";
        // A link names the record itself; the others find it by the external id (a point read).
        string? recordId;
        if (kind == Linked)
        {
            recordId = body.Data?.DealId;
            if (string.IsNullOrWhiteSpace(recordId)) throw new ValidationFailedException("data.dealId", "data.dealId (the registration to link) is required.");
            if (recordId.Length > 200 || await deals.GetAsync(recordId, ct) is null)
                return await ParkAsync(id, system, kind, externalId, body, $"data.dealId {recordId} is not a registration.");
        }
        else if (kind == OwnerChanged && body.Data?.PartnerId is { Length: > 0 } partnerId)
        {
            recordId = partnerId;
        }
        else
        {
            recordId = (await inbox.FindAsync(recordType, system, externalId, ct))?.RecordId;
            if (recordId is null) return await ParkAsync(id, system, kind, externalId, body, $"No {recordType} has the {system} id {externalId}.");
        }

        var state = await inbox.RecordAsync(system, kind == OwnerChanged ? "account" : "opportunity", externalId, ct);
        if (state is not null && version < state.Version)
        {
            return new CrmEventResult(id, "stale", recordType, recordId, $"Version {version} is older than the applied version {state.Version} (event {state.EventId}): recorded and ignored.");
        }
        var actor = Caller.System with { UserId = caller.UserId, DisplayName = $"{caller.DisplayName} ({system})" };
        string status = "applied";
        string? detail = null;
        switch (kind)
        {
            case Linked:
                await externalIds.LinkAsync("deal", recordId, system, externalId, actor.DisplayName, ct);
                detail = $"The registration is linked to {system} opportunity {externalId}.";
                break;
            case StageChanged:
                (status, detail) = await StageAsync(actor, recordId, body.Data, ct);
                break;
            case OwnerChanged:
                (status, detail) = await OwnerAsync(actor, recordId, system, externalId, body.Data, ct);
                break;
        }
        if (!await inbox.SaveRecordAsync(system, kind == OwnerChanged ? "account" : "opportunity", externalId, version, id, state?.ETag, ct))
        {
            throw new ConflictException("Another event of this record was applied at the same moment; send this one again.");
        }
        return new CrmEventResult(id, status, recordType, recordId, detail);
    }

    private async Task<(string, string)> StageAsync(Caller actor, string dealId, CrmEventData? data, CancellationToken ct)
    {
        var stage = Normalize(data?.Stage);
        var won = data?.IsWon == true || options.WonStages.Select(Normalize).Contains(stage);
        var lost = !won && (options.LostStages.Select(Normalize).Contains(stage) || (data?.IsClosed == true && data.IsWon == false));
        if (!won && !lost) return ("noChange", $"Stage {data?.Stage ?? "(none)"} is not a closed stage: the registration is unchanged.");
        var deal = await deals.GetAsync(dealId, ct) ?? throw new NotFoundException("The deal");
        if (deal.Value.Outcome is not null) return ("noChange", $"The registration already has the outcome {deal.Value.Outcome.Result}.");
        var request = won
            ? new DealOutcomeRequest("won", data?.Amount ?? new MoneyInput(deal.Value.EstimatedValue.Amount, deal.Value.EstimatedValue.Currency),
                data?.CloseDate ?? clock.GetUtcNow().ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), data?.Reason)
            : new DealOutcomeRequest("lost", null, null, string.IsNullOrWhiteSpace(data?.Reason) ? $"Closed lost in the CRM (stage {data?.Stage})." : data.Reason);
        await outcomes.RecordAsync(actor, dealId, request, ct);
        return ("applied", won ? "The registration is won." : "The registration is lost.");
    }

    private async Task<(string, string)> OwnerAsync(Caller actor, string partnerId, string system, string externalId, CrmEventData? data, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(data?.OwnerEmail)) throw new ValidationFailedException("data.ownerEmail", "data.ownerEmail (the new owning channel manager) is required.");
        var manager = await staff.FindByEmailAsync(data.OwnerEmail.Trim(), ct);
        if (manager is null || !manager.Roles.Contains(AppRoles.ChannelManager))
            throw new ValidationFailedException("data.ownerEmail", $"{data.OwnerEmail} is not a channel manager of the program.", unprocessable: true);
        var current = await partners.GetAsync(actor, partnerId, ct);
        if (data.PartnerId is not null) await externalIds.LinkAsync("partner", partnerId, system, externalId, actor.DisplayName, ct);
        if (current.Value.ChannelManagerId == manager.Id) return ("noChange", $"{manager.DisplayName} owns the partner already.");
        await partners.PatchAsync(actor, partnerId, current.ETag, new PatchPartnerRequest(null, null, null, null, null, null, null, null, null, null, manager.Id), ct);
        return ("applied", $"{manager.DisplayName} owns the partner now.");
    }

    private async Task<CrmEventResult> ParkAsync(string id, string system, string kind, string externalId, CrmEventRequest body, string reason)
    {
        await inbox.ParkAsync(new ParkedCrmEvent(id, system, kind, externalId, clock.GetUtcNow(), reason,
            System.Text.Json.JsonSerializer.Serialize(body, Outbox.OutboxJson.Options)), CancellationToken.None);
        return new CrmEventResult(id, "parked", null, null, reason + " The event is kept for review (GET /api/integrations/crm/parked).");
    }

    /// <summary>Parked events, newest first (admins).</summary>
    public Task<Page<ParkedCrmEvent>> ParkedAsync(Caller caller, PageRequest page, CancellationToken ct) =>
        caller.IsAdmin ? inbox.ParkedAsync(page, ct) : throw new ForbiddenException("Only program admins review parked CRM events.");

    private static string Normalize(string? stage) => (stage ?? "").Replace(" ", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();
}
