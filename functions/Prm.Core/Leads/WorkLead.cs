using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Core.Identity;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Leads;

/// <summary>
/// What partners do with an offered lead — accept (410 after the deadline; two members at once: the ETag lets one win), decline with a
/// reason (routed on, or to vendor review for badData/duplicate), assign to a rep, update the status, convert into a deal registration —
/// and what the vendor does: assign to a named partner (rules overridden, recorded), recall, reroute.
/// </summary>
public sealed class WorkLead(LeadCommits commits, LeadRouter router, IPartnerStore partners, RegisterDeal deals, ProgramSettings settings)
{
    public async Task<Versioned<Lead>> AcceptAsync(Caller caller, string leadId, CancellationToken ct)
    {
        var s = await Settings(ct);
        return await commits.TransitionAsync(caller, leadId, LeadOperation.Answer, (lead, now) => Task.FromResult(lead.Accept(caller, s, now)), ct);
    }

    public async Task<Versioned<Lead>> DeclineAsync(Caller caller, string leadId, DeclineLeadRequest? body, CancellationToken ct)
    {
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        if (string.IsNullOrWhiteSpace(body.Reason)) throw new ValidationFailedException("reason", "reason is required: notMyTerritory, noCapacity, notAFit, badData or duplicate.");
        if (Text.ParseEnum<DeclineReason>(body.Reason.Trim()) is not { } reason) throw new ValidationFailedException("reason", "reason must be notMyTerritory, noCapacity, notAFit, badData or duplicate.");
        if (body.Note?.Length > 2000) throw new ValidationFailedException("note", "note takes at most 2000 characters.");
        var s = await Settings(ct);
        return await commits.TransitionAsync(caller, leadId, LeadOperation.Answer, async (lead, now) =>
        {
            var declined = lead.Decline(caller, reason, body.Note?.Trim(), now);
            if (reason is DeclineReason.BadData or DeclineReason.Duplicate) return lead.ToReview(declined, reason, now);
            return declined.Lead.Route(await router.DecideAsync(declined.Lead, s, now, ct), s, now, declined.Action, declined.Events, declined.Notices, declined.Note);
        }, ct);
    }

    public async Task<Versioned<Lead>> AssignAsync(Caller caller, string leadId, AssignLeadRequest? body, CancellationToken ct)
    {
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        if (string.IsNullOrWhiteSpace(body.UserId)) throw new ValidationFailedException("userId", "userId is required: a user of your company.");
        var userId = body.UserId.Trim();
        return await commits.TransitionAsync(caller, leadId, LeadOperation.Assign, async (lead, now) =>
        {
            var user = Ids.LooksLike(userId, "usr") ? await partners.GetUserAsync(lead.PartnerId!, userId, ct) : null;
            if (user is null) throw new ValidationFailedException("userId", "userId must be a user of your company (see GET /api/partners/{partnerId}/users).", unprocessable: true);
            return lead.Assign(user.Value.Id, user.Value.DisplayName, now);
        }, ct);
    }

    public async Task<Versioned<Lead>> StatusAsync(Caller caller, string leadId, LeadStatusRequest? body, CancellationToken ct)
    {
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        if (Text.ParseEnum<LeadStatus>(body.Status?.Trim()) is not { } status || status is not (LeadStatus.Contacted or LeadStatus.Qualified or LeadStatus.Disqualified or LeadStatus.ClosedLost))
            throw new ValidationFailedException("status", "status must be Contacted, Qualified, Disqualified or ClosedLost.");
        if (body.Reason?.Length > 2000) throw new ValidationFailedException("reason", "reason takes at most 2000 characters.");
        var s = await Settings(ct);
        return await commits.TransitionAsync(caller, leadId, LeadOperation.Work, (lead, now) => Task.FromResult(lead.UpdateStatus(caller, status, body.Reason?.Trim(), s, now)), ct);
    }

    /// <summary>
    /// Converts the lead into a deal registration through the deal use case (prefilled from the lead; the MDF request of its campaign kept),
    /// then links both ways. The deal's Idempotency-Key is the lead's, so a retry after a failure between the two commits finds the same deal.
    /// </summary>
    public async Task<(Versioned<Lead> Lead, DealDto Deal)> ConvertAsync(Caller caller, string leadId, ConvertLeadRequest? body, CancellationToken ct)
    {
        var found = await commits.LoadAsync(caller, leadId, LeadOperation.Work, ct);
        var lead = found.Value;
        if (lead.Status == LeadStatus.Converted) throw new ConflictException($"This lead was converted already, into the deal registration {lead.DealId}.", "status");
        if (!lead.IsWorked) throw new ConflictException($"A {lead.Status} lead cannot be converted; only Accepted, Contacted and Qualified ones can.", "status");
        var close = body?.ExpectedCloseDate ?? DateOnly.FromDateTime(DateTime.UtcNow.AddDays(90)).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var value = body?.EstimatedValue ?? (lead.EstimatedValue is { } v ? new Mdf.MoneyInput(v.Amount, v.Currency) : null);
        if (value is null) throw new ValidationFailedException("estimatedValue", "estimatedValue is required: the lead has none.", unprocessable: true);
        var campaign = lead.Source?.Campaign;
        var mdf = Ids.LooksLike(campaign, "mdr") ? campaign : null;
        var notes = string.Join("\n", new[] { $"Converted from lead {lead.Id}.", campaign is not null && mdf is null ? "Campaign: " + campaign : null, body?.Notes }.Where(n => n is not null));
        var request = new RegisterDealRequest(new DealCustomerInput(lead.Company.Name, lead.Company.Domain ?? lead.Contact.Email, lead.Company.Country, lead.Contact.Name, lead.Contact.Email),
            lead.ProductLines, value, close, notes, mdf, false);
        var (deal, _) = await deals.RegisterAsync(caller, request, "lead:" + lead.Id, ct, leadId: lead.Id);
        var converted = await commits.TransitionAsync(caller, leadId, LeadOperation.Work, (l, now) => Task.FromResult(l.Convert(deal.Value.Id, caller.DisplayName, now)), ct);
        return (converted, deal.Value);
    }

    /// <summary>Vendor: assign the lead to a named partner (rules overridden; a pending offer is withdrawn; the trace records who).</summary>
    public async Task<Versioned<Lead>> AssignToPartnerAsync(Caller caller, string leadId, VendorLeadRequest? body, CancellationToken ct)
    {
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        if (!Ids.LooksLike(body.PartnerId?.Trim(), "ptn")) throw new ValidationFailedException("partnerId", "partnerId is required: an Active partner's id.");
        var s = await Settings(ct);
        await commits.LoadAsync(caller, leadId, LeadOperation.Steer, ct); // an unknown lead is 404 before the partner is looked at
        var entry = await router.EntryAsync(body.PartnerId!.Trim(), ct) ?? throw new ValidationFailedException("partnerId", "partnerId must be an Active partner.", unprocessable: true);
        return await commits.TransitionAsync(caller, leadId, LeadOperation.Steer, (lead, now) =>
        {
            if (lead.IsWorked || lead.Status is LeadStatus.Converted or LeadStatus.Disqualified or LeadStatus.ClosedLost)
                throw new ConflictException($"A {lead.Status} lead is not assigned; recall it first.", "status");
            var withdrawn = lead.PendingOffer is null ? new LeadChange(lead, "lead.assignedToPartner", [], []) : lead.Withdraw(caller.DisplayName, now);
            var decision = new RoutingDecision(entry, LeadRouting.Assigned(entry, caller.DisplayName, now), null);
            return Task.FromResult(withdrawn.Lead.Route(decision, s, now, "lead.assignedToPartner", withdrawn.Events, withdrawn.Notices, "assigned to " + entry.Name + " by " + caller.DisplayName + (body.Reason is null ? "" : ": " + body.Reason)));
        }, ct);
    }

    /// <summary>Vendor: recall a worked lead from its partner and route it on (a vendor recall is no strike against the partner).</summary>
    public async Task<Versioned<Lead>> RecallAsync(Caller caller, string leadId, VendorLeadRequest? body, CancellationToken ct)
    {
        if (body?.Reason?.Length > 2000) throw new ValidationFailedException("reason", "reason takes at most 2000 characters.");
        var s = await Settings(ct);
        return await commits.TransitionAsync(caller, leadId, LeadOperation.Steer, async (lead, now) =>
        {
            var recalled = lead.Recall(caller.DisplayName, body?.Reason?.Trim() ?? "recalled by the vendor", now);
            return recalled.Lead.Route(await router.DecideAsync(recalled.Lead, s, now, ct), s, now, recalled.Action, recalled.Events, recalled.Notices, recalled.Note);
        }, ct);
    }

    /// <summary>Vendor: route the lead again by the rules — a pending offer is withdrawn (that partner excluded); a pooled lead is routed afresh.</summary>
    public async Task<Versioned<Lead>> RerouteAsync(Caller caller, string leadId, VendorLeadRequest? body, CancellationToken ct)
    {
        if (body?.Reason?.Length > 2000) throw new ValidationFailedException("reason", "reason takes at most 2000 characters.");
        var s = await Settings(ct);
        return await commits.TransitionAsync(caller, leadId, LeadOperation.Steer, async (lead, now) =>
        {
            if (lead.Status is not (LeadStatus.Offered or LeadStatus.VendorPool or LeadStatus.New or LeadStatus.Recalled))
                throw new ConflictException($"A {lead.Status} lead is not rerouted; recall it first.", "status");
            var start = lead.PendingOffer is null ? new LeadChange(lead, "lead.rerouted", [], []) : lead.Withdraw(caller.DisplayName, now);
            // A vendor reroute starts the hop count afresh for a pooled lead: the vendor decided to try the partners again.
            var fresh = start.Lead.Status == LeadStatus.VendorPool ? start.Lead with { Status = LeadStatus.New } : start.Lead;
            var decision = await router.DecideAsync(fresh, s with { MaxHops = Math.Max(s.MaxHops, fresh.Hops + 1) }, now, ct);
            return fresh.Route(decision, s, now, "lead.rerouted", start.Events, start.Notices, "rerouted by " + caller.DisplayName + (body?.Reason is null ? "" : ": " + body.Reason));
        }, ct);
    }

    private Task<LeadSettings> Settings(CancellationToken ct) => settings.GetAsync<LeadSettings>(LeadSettings.SectionName, ct);
}
