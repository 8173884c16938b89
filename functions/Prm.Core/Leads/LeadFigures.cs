using Prm.Core.Common;

namespace Prm.Core.Leads;

/// <summary>An answered or expired offer within the acceptance-rate window.</summary>
public sealed record OfferOutcome(string OfferId, DateTimeOffset At, bool Accepted);

/// <summary>An expired or recalled offer that counts against the partner.</summary>
public sealed record Strike(string OfferId, DateTimeOffset At);

/// <summary>
/// A partner's lead figures, kept from lead events (at least once: an event id applied before changes nothing): counters, the open leads
/// (capacity), offers per day (daily cap), the outcomes of the rate window (acceptance rate), times to accept, the strikes and the pause.
/// The routing index entry of the partner is derived from it (<see cref="ToEntry"/>).
/// </summary>
public sealed record LeadPartnerFigures
{
    public required string PartnerId { get; init; }
    public int Offers { get; init; }
    public int Accepted { get; init; }
    public int Declined { get; init; }
    public int Expired { get; init; }
    public int Recalled { get; init; }
    public int Converted { get; init; }
    public List<string> OpenLeadIds { get; init; } = [];
    public string? Day { get; init; }
    public int OfferedOnDay { get; init; }
    public DateTimeOffset? LastOfferedAt { get; init; }
    public List<OfferOutcome> Outcomes { get; init; } = [];
    public List<double> HoursToAccept { get; init; } = [];
    public List<Strike> Strikes { get; init; } = [];
    public DateTimeOffset? PausedUntil { get; init; }
    public List<string> Seen { get; init; } = [];

    /// <summary>The partner's routing weight (0 never receives leads) and holiday end: its lead routing profile, set through the API.</summary>
    public double Weight { get; init; } = 1;
    public DateTimeOffset? HolidayUntil { get; init; }

    /// <summary>
    /// Counts the profile's saves: the profile's ETag is made from it, not from the row's, so the offer figures that the lead events
    /// keep in the same row do not turn a client's ETag stale.
    /// </summary>
    public int ProfileVersion { get; init; }

    /// <summary>The profile's ETag: "defaults" while never saved, then one per save.</summary>
    public string ProfileETag => ProfileVersion == 0 ? NeverSavedProfileETag : $"\"profile-{ProfileVersion}\"";

    /// <summary>The ETag of a profile never saved (If-Match with it saves the first version).</summary>
    public const string NeverSavedProfileETag = "\"defaults\"";

    /// <summary>Applied event ids kept for idempotency (redeliveries come soon after the first delivery).</summary>
    public const int SeenKept = 200;

    public static LeadPartnerFigures Empty(string partnerId) => new() { PartnerId = partnerId };

    /// <summary>
    /// Applies one lead event concerning this partner (<paramref name="type"/>, the lead after it, the event id and time). Returns the new
    /// figures and whether the partner got paused now (3 strikes within the window, settings).
    /// </summary>
    /// <param name="reason">The event's reason: a recall counts as a strike only when automatic (<see cref="Lead.AutomaticRecallReason"/>).</param>
    public (LeadPartnerFigures Figures, bool PausedNow) Apply(string eventId, string type, LeadDto lead, DateTimeOffset at, LeadSettings s, string? reason = null)
    {
        if (Seen.Contains(eventId)) return (this, false);
        var f = this with { Seen = [.. Seen.TakeLast(SeenKept - 1), eventId] };
        var offer = lead.Offers.LastOrDefault(o => o.PartnerId == PartnerId);
        var rateFrom = at - TimeSpan.FromDays(s.AcceptanceRateDays);
        var outcomes = f.Outcomes.Where(o => o.At >= rateFrom).ToList();
        void Outcome(bool accepted)
        {
            if (offer is not null && outcomes.All(o => o.OfferId != offer.Id)) outcomes.Add(new OfferOutcome(offer.Id, at, accepted));
        }
        switch (type)
        {
            case LeadEvents.Offered:
                var day = LeadRouting.DayOf(at);
                f = f with { Offers = f.Offers + 1, Day = day, OfferedOnDay = f.Day == day ? f.OfferedOnDay + 1 : 1, LastOfferedAt = at };
                break;
            case LeadEvents.Accepted:
                Outcome(true);
                var hours = offer?.DecidedAt is { } d ? (d - offer.OfferedAt).TotalHours : (double?)null;
                f = f with { Accepted = f.Accepted + 1, HoursToAccept = hours is { } h ? [.. f.HoursToAccept.TakeLast(199), Math.Round(h, 4)] : f.HoursToAccept };
                break;
            case LeadEvents.Declined:
                Outcome(false);
                f = f with { Declined = f.Declined + 1 };
                break;
            case LeadEvents.Expired:
                Outcome(false);
                f = f with { Expired = f.Expired + 1 };
                break;
            case LeadEvents.Recalled:
                f = f with { Recalled = f.Recalled + 1 };
                break;
            case LeadEvents.Converted:
                f = f with { Converted = f.Converted + 1 };
                break;
        }
        f = f with { Outcomes = outcomes.TakeLast(1000).ToList() };
        var paused = false;
        var strike = type == LeadEvents.Expired || (type == LeadEvents.Recalled && reason == Lead.AutomaticRecallReason);
        if (strike && offer is not null)
        {
            var windowFrom = at - s.PauseWindow;
            var strikes = f.Strikes.Where(x => x.At >= windowFrom).ToList();
            if (strikes.All(x => x.OfferId != offer.Id)) strikes.Add(new Strike(offer.Id, at));
            f = f with { Strikes = strikes };
            if (strikes.Count >= s.PauseAfterStrikes && !(f.PausedUntil > at))
            {
                f = f with { PausedUntil = at + s.PauseFor, Strikes = [] };
                paused = true;
            }
        }
        return (f.WithOpen(lead), paused);
    }

    /// <summary>Keeps the open-lead set in step with the lead: open while offered to this partner or worked by it.</summary>
    public LeadPartnerFigures WithOpen(LeadDto lead)
    {
        var open = lead.Offers.LastOrDefault(o => o.PartnerId == PartnerId) is { } o
            && ((o.Status == nameof(OfferStatus.Pending)) || (lead.PartnerId == PartnerId && lead.Status is nameof(LeadStatus.Accepted) or nameof(LeadStatus.Contacted) or nameof(LeadStatus.Qualified)));
        var has = OpenLeadIds.Contains(lead.Id);
        if (open == has) return this;
        return this with { OpenLeadIds = open ? [.. OpenLeadIds, lead.Id] : OpenLeadIds.Where(id => id != lead.Id).ToList() };
    }

    /// <summary>The routing figures of the partner's index entry.</summary>
    public RoutingEntry ToEntry(RoutingEntry entry, DateTimeOffset now, LeadSettings s)
    {
        var rateFrom = now - TimeSpan.FromDays(s.AcceptanceRateDays);
        var recent = Outcomes.Where(o => o.At >= rateFrom).ToList();
        return entry with
        {
            Weight = Weight, HolidayUntil = HolidayUntil, OpenLeads = OpenLeadIds.Count, Day = Day, OfferedOnDay = OfferedOnDay, LastOfferedAt = LastOfferedAt, PausedUntil = PausedUntil,
            RateOffers = recent.Count, RateAccepted = recent.Count(o => o.Accepted),
        };
    }

    public LeadStats ToStats(DateTimeOffset now)
    {
        var answered = Accepted + Declined + Expired;
        double? median = null;
        if (HoursToAccept.Count > 0)
        {
            var sorted = HoursToAccept.Order().ToList();
            median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
        }
        return new LeadStats(PartnerId, Offers, Accepted, Declined, Expired, Recalled, Converted,
            answered == 0 ? null : Math.Round((double)Accepted / answered, 4), median is null ? null : Math.Round(median.Value, 2),
            Accepted == 0 ? null : Math.Round((double)Converted / Accepted, 4), OpenLeadIds.Count, PausedUntil > now ? PausedUntil : null, Strikes.Count);
    }
}
