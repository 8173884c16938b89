using System.Globalization;
using Prm.Core.Common;
using Prm.Core.Identity;

namespace Prm.Core.Leads;

/// <summary>Who an email of a lead transition goes to.</summary>
public enum LeadAudience
{
    /// <summary>The admins of the partner named by the notice (offers, reminders, recalls): never customer data.</summary>
    PartnerAdmins,

    /// <summary>The rep the lead is assigned to.</summary>
    AssignedRep,

    /// <summary>The channel manager of the partner named by the notice, or the program admins when it has none.</summary>
    ChannelManager,
}

/// <summary>An email a transition causes: template, audience, the partner it concerns and the reason it speaks of.</summary>
public sealed record LeadNotice(string Template, LeadAudience To, string? PartnerId, string? Reason = null);

/// <summary>An integration event a transition causes (type from <see cref="LeadEvents"/>), with the partner and reason it concerns.</summary>
public sealed record LeadRaised(string Type, string? PartnerId = null, string? Reason = null);

/// <summary>What a transition did: the new state, the timeline action and note, the events and emails it causes, in commit order.</summary>
public sealed record LeadChange(Lead Lead, string Action, IReadOnlyList<LeadRaised> Events, IReadOnlyList<LeadNotice> Notices, string? Note = null);

/// <summary>Accepting an offer whose deadline passed (410).</summary>
public sealed class OfferExpiredException(DateTimeOffset expiredAt) : PrmException("Offer expired.", $"This offer expired at {expiredAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC and was routed on.")
{
    public DateTimeOffset ExpiredAt { get; } = expiredAt;
}

/// <summary>
/// The life of a lead: New → Offered → Accepted → Contacted / Qualified → Converted | Disqualified | ClosedLost; an offer that is
/// declined, expires or a lead that is recalled is routed again (excluding that partner) or goes to the VendorPool; VendorOnly leads are
/// never offered. Each transition checks the status in one place and returns a <see cref="LeadChange"/>.
/// </summary>
public sealed partial record Lead
{
    /// <summary>Applies a routing decision: an offer to the picked partner (Offered) or the vendor pool (VendorPool, its channel manager told).</summary>
    public LeadChange Route(RoutingDecision decision, LeadSettings s, DateTimeOffset now, string action, IReadOnlyList<LeadRaised> before, IReadOnlyList<LeadNotice> noticesBefore, string? note = null)
    {
        if (Status is LeadStatus.VendorOnly) throw new ConflictException("This lead has no consent to be shared; it stays with the vendor.", "consentToShare");
        if (PendingOffer is not null) throw new ConflictException("The lead has a pending offer; withdraw it (reroute) first.", "status");
        if (decision.Partner is not { } p)
        {
            var pooled = this with { Status = LeadStatus.VendorPool, PoolReason = decision.PoolReason, PartnerId = null, PartnerName = null, AssignedTo = null, AssignedToName = null, UpdatedAt = now,
                History = [.. History, new LeadNote("routing", "Vendor pool: " + decision.PoolReason + ". " + string.Join("; ", decision.Trace.RulesEvaluated), Caller.System.DisplayName, now)] };
            var lastPartner = Offers.LastOrDefault()?.PartnerId;
            return new LeadChange(pooled, action, before, [.. noticesBefore, new LeadNotice("lead-pool", LeadAudience.ChannelManager, lastPartner, decision.PoolReason)], note ?? "vendor pool: " + decision.PoolReason);
        }
        var offer = new LeadOffer
        {
            Id = Ids.New("lof"), PartnerId = p.PartnerId, PartnerName = p.Name, ChannelManagerId = p.ChannelManagerId, Status = OfferStatus.Pending, Hop = Hops + 1,
            OfferedAt = now, ExpiresAt = now + s.AcceptWindow, Trace = decision.Trace,
            AssignedByName = decision.Trace.Action == "assigned" ? decision.Trace.RulesEvaluated[0] : null,
        };
        var offered = this with { Status = LeadStatus.Offered, Offers = [.. Offers, offer], PoolReason = null, PartnerId = null, PartnerName = null, AssignedTo = null, AssignedToName = null,
            AcceptedAt = null, ConvertBy = null, RecallAt = null, UpdatedAt = now };
        return new LeadChange(offered, action, [.. before, new LeadRaised(LeadEvents.Offered, p.PartnerId)], [.. noticesBefore, new LeadNotice("lead-offered", LeadAudience.PartnerAdmins, p.PartnerId)], note ?? "offered to " + p.Name);
    }

    /// <summary>The partner first reads its pending offer (recorded once).</summary>
    public Lead? Opened(string partnerId, DateTimeOffset now)
    {
        var pending = PendingOffer;
        if (pending is null || pending.PartnerId != partnerId || pending.OpenedAt is not null) return null;
        return WithOffer(pending with { OpenedAt = now }) with { UpdatedAt = now };
    }

    /// <summary>A member of the offered partner accepts: 410 when the deadline passed, 409 when already answered. A rep who accepts works it.</summary>
    public LeadChange Accept(Caller caller, LeadSettings s, DateTimeOffset now)
    {
        var offer = OfferOf(caller.PartnerId);
        if (offer.Status == OfferStatus.Expired || (offer.Status == OfferStatus.Pending && now >= offer.ExpiresAt)) throw new OfferExpiredException(offer.ExpiresAt);
        if (offer.Status != OfferStatus.Pending) throw new ConflictException($"This offer was {offer.Status.ToString().ToLowerInvariant()} by {offer.DecidedByName ?? "the program"} at {offer.DecidedAt?.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}.", "offer");
        var accepted = WithOffer(offer with { Status = OfferStatus.Accepted, DecidedAt = now, DecidedBy = caller.UserId, DecidedByName = caller.DisplayName, OpenedAt = offer.OpenedAt ?? now }) with
        {
            Status = LeadStatus.Accepted, PartnerId = offer.PartnerId, PartnerName = offer.PartnerName, AcceptedAt = now, ConvertBy = now + s.ConversionWindow, RecallAt = now + s.ConversionWindow + s.RecallGrace,
            AssignedTo = caller.PartnerRole == PartnerRole.PartnerUser ? caller.UserId : null, AssignedToName = caller.PartnerRole == PartnerRole.PartnerUser ? caller.DisplayName : null, UpdatedAt = now,
        };
        return new LeadChange(accepted, LeadEvents.Accepted, [new LeadRaised(LeadEvents.Accepted, offer.PartnerId)], [], "accepted by " + caller.DisplayName);
    }

    /// <summary>A member of the offered partner declines with a reason. The use case routes the lead on (or to vendor review for badData/duplicate).</summary>
    public LeadChange Decline(Caller caller, DeclineReason reason, string? note, DateTimeOffset now)
    {
        var offer = OfferOf(caller.PartnerId);
        if (offer.Status != OfferStatus.Pending) throw new ConflictException($"This offer is {offer.Status.ToString().ToLowerInvariant()} already.", "offer");
        var declined = WithOffer(offer with { Status = OfferStatus.Declined, DecidedAt = now, DecidedBy = caller.UserId, DecidedByName = caller.DisplayName, DeclineReason = reason, DeclineNote = note }) with
        {
            Status = LeadStatus.New, UpdatedAt = now,
        };
        return new LeadChange(declined, LeadEvents.Declined, [new LeadRaised(LeadEvents.Declined, offer.PartnerId, Text.Camel(reason))], [], $"declined ({Text.Camel(reason)}) by {caller.DisplayName}" + (note is null ? "" : ": " + note));
    }

    /// <summary>A declined offer with badData or duplicate: the vendor reviews the lead instead of routing it on.</summary>
    public LeadChange ToReview(LeadChange declined, DeclineReason reason, DateTimeOffset now) =>
        declined with
        {
            Lead = declined.Lead with { Status = LeadStatus.VendorPool, PoolReason = "review:" + Text.Camel(reason), UpdatedAt = now },
            Notices = [.. declined.Notices, new LeadNotice("lead-pool", LeadAudience.ChannelManager, declined.Events[0].PartnerId, "review:" + Text.Camel(reason))],
        };

    /// <summary>The accept deadline of <paramref name="offerId"/> passed: the offer expires (the use case routes the lead on). Null when it was answered.</summary>
    public LeadChange? ExpireOffer(string offerId, DateTimeOffset now)
    {
        var offer = Offers.FirstOrDefault(o => o.Id == offerId);
        if (offer is null || offer.Status != OfferStatus.Pending) return null;
        var expired = WithOffer(offer with { Status = OfferStatus.Expired, DecidedAt = now, DecidedByName = Caller.System.DisplayName }) with { Status = LeadStatus.New, UpdatedAt = now };
        return new LeadChange(expired, LeadEvents.Expired, [new LeadRaised(LeadEvents.Expired, offer.PartnerId)], [], "offer to " + offer.PartnerName + " expired");
    }

    /// <summary>The reason of the automatic recall (the conversion clock ran out): it counts against the partner, a vendor's recall does not.</summary>
    public const string AutomaticRecallReason = "no conversion or status update before the conversion deadline";

    /// <summary>
    /// Recalls a worked lead from its partner (the conversion clock ran out, or the vendor recalls it): the use case routes it on.
    /// <paramref name="strike"/>: the automatic recall counts against the partner.
    /// </summary>
    public LeadChange Recall(string byName, string reason, DateTimeOffset now)
    {
        if (!IsWorked) throw new ConflictException($"A {Status} lead cannot be recalled; only Accepted, Contacted and Qualified ones can.", "status");
        var offer = AcceptedOffer!;
        var recalled = WithOffer(offer with { RecalledAt = now }) with
        {
            Status = LeadStatus.Recalled, PartnerId = null, PartnerName = null, AssignedTo = null, AssignedToName = null, AcceptedAt = null, ConvertBy = null, RecallAt = null, UpdatedAt = now,
            History = [.. History, new LeadNote("recalled", reason, byName, now)],
        };
        return new LeadChange(recalled, LeadEvents.Recalled, [new LeadRaised(LeadEvents.Recalled, offer.PartnerId, reason)], [new LeadNotice("lead-recalled", LeadAudience.PartnerAdmins, offer.PartnerId, reason)], "recalled from " + offer.PartnerName + ": " + reason);
    }

    /// <summary>The vendor withdraws the pending offer (reroute, direct assignment): no strike against the partner, which is excluded from this lead.</summary>
    public LeadChange Withdraw(string byName, DateTimeOffset now)
    {
        var offer = PendingOffer ?? throw new ConflictException($"The lead has no pending offer to withdraw (it is {Status}).", "status");
        var withdrawn = WithOffer(offer with { Status = OfferStatus.Withdrawn, DecidedAt = now, DecidedByName = byName }) with { Status = LeadStatus.New, UpdatedAt = now };
        return new LeadChange(withdrawn, "lead.withdrawn", [], [], "offer to " + offer.PartnerName + " withdrawn by " + byName);
    }

    /// <summary>A partner admin assigns the lead to a rep of the company.</summary>
    public LeadChange Assign(string userId, string userName, DateTimeOffset now)
    {
        RequireWorked("assigned");
        var assigned = this with { AssignedTo = userId, AssignedToName = userName, UpdatedAt = now };
        return new LeadChange(assigned, LeadEvents.Assigned, [new LeadRaised(LeadEvents.Assigned, PartnerId)], [new LeadNotice("lead-assigned", LeadAudience.AssignedRep, PartnerId)], "assigned to " + userName);
    }

    /// <summary>The holding partner updates the status: Contacted or Qualified restart the conversion clock; Disqualified (reason) and ClosedLost end the lead.</summary>
    public LeadChange UpdateStatus(Caller caller, LeadStatus status, string? reason, LeadSettings s, DateTimeOffset now)
    {
        RequireWorked("updated");
        if (status is not (LeadStatus.Contacted or LeadStatus.Qualified or LeadStatus.Disqualified or LeadStatus.ClosedLost))
            throw new ValidationFailedException("status", "status must be Contacted, Qualified, Disqualified or ClosedLost.");
        if (status == LeadStatus.Disqualified && string.IsNullOrWhiteSpace(reason)) throw new ValidationFailedException("reason", "reason is required to disqualify a lead.");
        var closing = status is LeadStatus.Disqualified or LeadStatus.ClosedLost;
        var updated = this with
        {
            Status = status, CloseReason = closing ? reason : CloseReason, UpdatedAt = now,
            ConvertBy = closing ? null : now + s.ConversionWindow, RecallAt = closing ? null : now + s.ConversionWindow + s.RecallGrace,
            History = [.. History, new LeadNote("status", status + (reason is null ? "" : ": " + reason), caller.DisplayName, now)],
        };
        return new LeadChange(updated, "lead." + Text.Camel(status), closing ? [new LeadRaised(LeadEvents.Closed, PartnerId, Text.Camel(status))] : [], [], reason);
    }

    /// <summary>The holding partner converted the lead into the deal registration <paramref name="dealId"/> (409 when converted before).</summary>
    public LeadChange Convert(string dealId, string byName, DateTimeOffset now)
    {
        if (Status == LeadStatus.Converted) throw new ConflictException($"This lead was converted already, into the deal registration {DealId}.", "status");
        RequireWorked("converted");
        var converted = this with { Status = LeadStatus.Converted, DealId = dealId, ConvertBy = null, RecallAt = null, UpdatedAt = now, History = [.. History, new LeadNote("converted", dealId, byName, now)] };
        return new LeadChange(converted, LeadEvents.Converted, [new LeadRaised(LeadEvents.Converted, PartnerId)], [], "converted into " + dealId);
    }

    /// <summary>The same contact at the same domain came in again within the merge window: recorded on the open lead's timeline.</summary>
    public LeadChange Merge(string byName, string? externalId, string? notes, DateTimeOffset now)
    {
        var merged = this with
        {
            Notes = notes is null ? Notes : string.IsNullOrEmpty(Notes) ? notes : (Notes + "\n" + notes)[..Math.Min(4000, Notes.Length + 1 + notes.Length)],
            UpdatedAt = now, History = [.. History, new LeadNote("merged", "The same contact came in again" + (externalId is null ? "" : " (externalId " + externalId + ")"), byName, now)],
        };
        return new LeadChange(merged, "lead.merged", [], [], "merged a new intake of the same contact");
    }

    /// <summary>
    /// A deadline step of the workflow: <paramref name="cycle"/> is the offer id (offer reminders, expiry) or the conversion deadline's
    /// instant (conversion reminder, recall). Closed when the lead moved on; DoneAlready when it ran for this cycle before.
    /// </summary>
    public (StepOutcome Result, LeadChange? Change) RunReminder(LeadStep step, string cycle, DateTimeOffset now)
    {
        var key = Text.Camel(step) + "|" + cycle;
        if (StepsDone.Contains(key)) return (StepOutcome.DoneAlready, null);
        switch (step)
        {
            case LeadStep.OfferReminder:
            {
                var offer = PendingOffer;
                if (offer is null || offer.Id != cycle.Split('#')[0]) return (StepOutcome.Closed, null);
                var reminded = this with { StepsDone = [.. StepsDone, key] };
                return (StepOutcome.Done, new LeadChange(reminded, "lead.offerReminder", [], [new LeadNotice("lead-offer-reminder", LeadAudience.PartnerAdmins, offer.PartnerId)]));
            }
            case LeadStep.ConversionReminder:
            {
                if (!IsWorked || ConvertBy is not { } by || Stamp(by) != cycle) return (StepOutcome.Closed, null);
                var reminded = this with { StepsDone = [.. StepsDone, key] };
                var to = AssignedTo is not null ? LeadAudience.AssignedRep : LeadAudience.PartnerAdmins;
                return (StepOutcome.Done, new LeadChange(reminded, "lead.conversionReminder", [], [new LeadNotice("lead-conversion-reminder", to, PartnerId)]));
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(step), step, "Expiry and recall route the lead; see LeadDeadlines.");
        }
    }

    /// <summary>The cycle stamp of an instant.</summary>
    public static string Stamp(DateTimeOffset at) => at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private LeadOffer OfferOf(string? partnerId) =>
        Offers.LastOrDefault(o => o.PartnerId == partnerId) ?? throw new NotFoundException("Lead");

    private Lead WithOffer(LeadOffer offer) => this with { Offers = Offers.Select(o => o.Id == offer.Id ? offer : o).ToList() };

    private void RequireWorked(string what)
    {
        if (!IsWorked) throw new ConflictException($"A {Status} lead cannot be {what}; only Accepted, Contacted and Qualified ones can.", "status");
    }
}
