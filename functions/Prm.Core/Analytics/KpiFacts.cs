using System.Globalization;
using Prm.Core.Deals;
using Prm.Core.Leads;

namespace Prm.Core.Analytics;

/// <summary>
/// One fact a record contributes to the KPIs: what happened (<see cref="Metric"/>), on which local day, under which product line, with its
/// amount and currency (money facts) and its duration in hours (decision and acceptance times). <see cref="Key"/> tells facts of the same
/// subject apart (a lead offered twice to one partner).
/// </summary>
/// <see cref="Count"/> is how many events the fact stands for (POS lines of a day are one fact).
public sealed record KpiFact(string Metric, DateOnly Day, string ProductLine, string SubjectId, string Key, decimal Amount = 0, string? Currency = null, double? Hours = null, int Count = 1);

/// <summary>The fact kinds (the metric names of GET /api/analytics/rows).</summary>
public static class KpiMetrics
{
    public const string Submitted = "registrationsSubmitted";
    public const string Approved = "registrationsApproved";
    public const string Rejected = "registrationsRejected";
    public const string Won = "won";
    public const string Lost = "lost";
    public const string ProtectionEnded = "protectionEnded";
    public const string LeadOffered = "leadsOffered";
    public const string LeadAccepted = "leadsAccepted";
    public const string LeadDeclined = "leadsDeclined";
    public const string LeadExpired = "leadsExpired";
    public const string LeadConverted = "leadsConverted";

    /// <summary>Certifications earned by the partner's people (earning day; a revoked award leaves).</summary>
    public const string CertificationsEarned = "certificationsEarned";

    /// <summary>Activation funnel: the partner was created (an approved application or an admin).</summary>
    public const string PartnersOnboarded = "partnersOnboarded";

    /// <summary>Activation funnel: the partner became active (agreement accepted; created active: its creation).</summary>
    public const string PartnersActivated = "partnersActivated";

    /// <summary>Activation funnel: the partner's first deal registration (with the hours from activation).</summary>
    public const string PartnersFirstDeal = "partnersFirstDeal";

    /// <summary>POS lines whose end customer is registered (active or won) by the reseller: partner-sourced revenue.</summary>
    public const string PosSourced = "posSourced";

    /// <summary>Other POS lines of a matched reseller: partner-influenced revenue.</summary>
    public const string PosInfluenced = "posInfluenced";

    /// <summary>Activation funnel, first step: a partner application submitted (program-wide, kept in the <see cref="KpiRows.Applications"/> partition).</summary>
    public const string ApplicationsSubmitted = "applicationsSubmitted";

    /// <summary>Activation funnel: an application approved (its approval day).</summary>
    public const string ApplicationsApproved = "applicationsApproved";

    /// <summary>An application rejected (its rejection day).</summary>
    public const string ApplicationsRejected = "applicationsRejected";

    /// <summary>MDF paid to the partner: a claim's approved amount on its payment day.</summary>
    public const string MdfPaid = "mdfPaid";

    /// <summary>Won value attributed to MDF: a won registration that names an MDF request of the partner (close date, won amount).</summary>
    public const string MdfAttributedWon = "mdfAttributedWon";

    /// <summary>Every fact kind, in the order the documentation lists them.</summary>
    public static readonly IReadOnlyList<string> All = [Submitted, Approved, Rejected, Won, Lost, ProtectionEnded, LeadOffered, LeadAccepted, LeadDeclined, LeadExpired, LeadConverted, PosSourced, PosInfluenced, CertificationsEarned, PartnersOnboarded, PartnersActivated, PartnersFirstDeal, ApplicationsSubmitted, ApplicationsApproved, ApplicationsRejected, MdfPaid, MdfAttributedWon];

    /// <summary>The fact kinds kept program-wide (partner applications have no partner yet): read without a partnerId, admins only.</summary>
    public static readonly IReadOnlyList<string> ProgramWide = [ApplicationsSubmitted, ApplicationsApproved, ApplicationsRejected];

    /// <summary>Product line of a record that names none.</summary>
    public const string NoProductLine = "none";
}

/// <summary>
/// The one place that says what a deal registration or a lead contributes to the KPIs, computed from the whole record (so a redelivered or
/// late event gives the same facts, and the rebuild computes exactly what the projection keeps):
/// <list type="bullet">
/// <item>registration submitted on its submission day; approved on its approval day (with the hours from submission: the decision time,
/// and its estimated value entering the pipeline); rejected on the day of the last rejection (with the decision time);</item>
/// <item>won on its close date (the outcome's amount, else the estimated value), lost on the day the outcome was recorded;</item>
/// <item>an approved registration leaves the pipeline (protectionEnded) when it is won or lost (day recorded), withdrawn, or expired (the
/// end of its protection);</item>
/// <item>a lead: for each partner it was offered to, offered on the offer's day, accepted/declined/expired on the day decided (acceptance
/// with the hours from the offer), converted on the day of conversion for the partner holding it.</item>
/// </list>
/// A registration counts under its first product line, a lead under its first product line (or "none").
/// </summary>
public static class KpiFactRules
{
    /// <summary>Upper edges (hours) of the duration histogram kept in each bucket; the last bin is open.</summary>
    public static readonly IReadOnlyList<double> HourEdges = [1, 2, 4, 8, 12, 24, 48, 72, 96, 120, 168, 336, 720];

    /// <summary>The histogram bin of a duration: "le1", "le2", ... or "gt720".</summary>
    public static string Bin(double hours)
    {
        foreach (var edge in HourEdges)
        {
            if (hours <= edge) return "le" + edge.ToString(CultureInfo.InvariantCulture);
        }
        return "gt" + HourEdges[^1].ToString(CultureInfo.InvariantCulture);
    }

    public static IReadOnlyList<KpiFact> OfDeal(DealDto deal, AnalyticsCalendar calendar)
    {
        ArgumentNullException.ThrowIfNull(deal);
        ArgumentNullException.ThrowIfNull(calendar);
        var facts = new List<KpiFact>();
        if (deal.Status == nameof(DealStatus.Draft) || deal.SubmittedAt is not { } submitted) return facts;
        var line = deal.Products.FirstOrDefault() ?? KpiMetrics.NoProductLine;
        KpiFact Fact(string metric, DateTimeOffset at, decimal amount = 0, string? currency = null, double? hours = null) =>
            new(metric, calendar.DayOf(at), line, deal.Id, "", amount, currency, hours);
        facts.Add(Fact(KpiMetrics.Submitted, submitted));
        if (deal.ApprovedAt is { } approved)
        {
            facts.Add(Fact(KpiMetrics.Approved, approved, deal.EstimatedValue.Amount, deal.EstimatedValue.Currency, Hours(submitted, approved)));
        }
        else if (deal.Status == nameof(DealStatus.Rejected) && deal.Decisions.LastOrDefault(d => d.Decision == "reject") is { } rejection)
        {
            facts.Add(Fact(KpiMetrics.Rejected, rejection.DecidedAt, hours: Hours(submitted, rejection.DecidedAt)));
        }
        if (deal.Outcome is { } outcome && deal.Status is nameof(DealStatus.Won) or nameof(DealStatus.Lost))
        {
            if (deal.Status == nameof(DealStatus.Won))
            {
                var amount = outcome.Amount ?? deal.EstimatedValue;
                var day = outcome.CloseDate ?? calendar.DayOf(outcome.RecordedAt);
                facts.Add(new KpiFact(KpiMetrics.Won, day, line, deal.Id, "", amount.Amount, amount.Currency));
                // Attribution to MDF: the registration names a fund request of its partner (RegisterDeal checks it; a converted lead keeps its campaign's).
                if (!string.IsNullOrEmpty(deal.MdfRequestId)) facts.Add(new KpiFact(KpiMetrics.MdfAttributedWon, day, line, deal.Id, "", amount.Amount, amount.Currency));
            }
            else
            {
                facts.Add(Fact(KpiMetrics.Lost, outcome.RecordedAt));
            }
        }
        if (deal.ApprovedAt is not null)
        {
            DateTimeOffset? ended = deal.Status switch
            {
                nameof(DealStatus.Won) or nameof(DealStatus.Lost) => deal.Outcome?.RecordedAt ?? deal.UpdatedAt,
                nameof(DealStatus.Withdrawn) => deal.Decisions.LastOrDefault(d => d.Decision == "withdraw")?.DecidedAt ?? deal.UpdatedAt,
                nameof(DealStatus.Expired) => deal.ProtectedUntil ?? deal.UpdatedAt,
                _ => null,
            };
            if (ended is { } end) facts.Add(Fact(KpiMetrics.ProtectionEnded, end, deal.EstimatedValue.Amount, deal.EstimatedValue.Currency));
        }
        return facts;
    }

    /// <summary>The facts of a lead, per partner it concerns (every partner it was offered to, and the partner holding it).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<KpiFact>> OfLead(LeadDto lead, AnalyticsCalendar calendar)
    {
        ArgumentNullException.ThrowIfNull(lead);
        ArgumentNullException.ThrowIfNull(calendar);
        var line = lead.ProductLines.FirstOrDefault() ?? KpiMetrics.NoProductLine;
        var byPartner = new Dictionary<string, List<KpiFact>>(StringComparer.Ordinal);
        List<KpiFact> For(string partnerId) => byPartner.TryGetValue(partnerId, out var list) ? list : byPartner[partnerId] = [];
        foreach (var offer in lead.Offers)
        {
            var facts = For(offer.PartnerId);
            facts.Add(new KpiFact(KpiMetrics.LeadOffered, calendar.DayOf(offer.OfferedAt), line, lead.Id, offer.Id));
            switch (offer.Status)
            {
                case nameof(OfferStatus.Accepted) when offer.DecidedAt is { } at:
                    facts.Add(new KpiFact(KpiMetrics.LeadAccepted, calendar.DayOf(at), line, lead.Id, offer.Id, Hours: Hours(offer.OfferedAt, at)));
                    break;
                case nameof(OfferStatus.Declined):
                    facts.Add(new KpiFact(KpiMetrics.LeadDeclined, calendar.DayOf(offer.DecidedAt ?? offer.ExpiresAt), line, lead.Id, offer.Id));
                    break;
                case nameof(OfferStatus.Expired):
                    facts.Add(new KpiFact(KpiMetrics.LeadExpired, calendar.DayOf(offer.DecidedAt ?? offer.ExpiresAt), line, lead.Id, offer.Id));
                    break;
            }
        }
        if (lead.Status == nameof(LeadStatus.Converted) && lead.PartnerId is { } holder)
        {
            var at = lead.History.LastOrDefault(n => n.Action == "converted")?.At ?? lead.UpdatedAt;
            For(holder).Add(new KpiFact(KpiMetrics.LeadConverted, calendar.DayOf(at), line, lead.Id, ""));
        }
        return byPartner.ToDictionary(e => e.Key, e => (IReadOnlyList<KpiFact>)e.Value, StringComparer.Ordinal);
    }

    /// <summary>
    /// The activation funnel of a partner: onboarded on its creation day, activated when its agreement was accepted (or on creation when
    /// it was created Active without one), first deal on its first registration (with the hours from activation).
    /// <paramref name="firstDeal"/> stands in while the partner record does not yet carry its first registration.
    /// </summary>
    /// <summary>
    /// Whether an event leaves the partner's funnel contribution as it is, so the projection need not touch it: a registration
    /// (<c>deal.submitted</c>) after the one the record already carries as its first. Only the first registration is a funnel fact, and the
    /// record's first registration was applied from its own event, earlier in the partner's order; a redelivery of that event is not left alone.
    /// </summary>
    public static bool LeavesFunnelAlone(string eventType, DateTimeOffset occurredAt, Partners.Partner partner)
    {
        ArgumentNullException.ThrowIfNull(partner);
        return eventType == Deals.DealEvents.Submitted && partner.FirstDealRegisteredAt is { } first && first < occurredAt;
    }

    public static IReadOnlyList<KpiFact> OfPartner(Partners.Partner partner, AnalyticsCalendar calendar, DateTimeOffset? firstDeal = null)
    {
        ArgumentNullException.ThrowIfNull(partner);
        ArgumentNullException.ThrowIfNull(calendar);
        var facts = new List<KpiFact> { new(KpiMetrics.PartnersOnboarded, calendar.DayOf(partner.CreatedAt), KpiMetrics.NoProductLine, partner.Id, "") };
        var activated = partner.AgreementAcceptedAt ?? (partner.Status == Partners.PartnerStatus.Active ? partner.CreatedAt : null);
        if (activated is { } a) facts.Add(new KpiFact(KpiMetrics.PartnersActivated, calendar.DayOf(a), KpiMetrics.NoProductLine, partner.Id, ""));
        if ((partner.FirstDealRegisteredAt ?? firstDeal) is { } first)
        {
            facts.Add(new KpiFact(KpiMetrics.PartnersFirstDeal, calendar.DayOf(first), KpiMetrics.NoProductLine, partner.Id, "", Hours: activated is { } from ? Hours(from, first) : null));
        }
        return facts;
    }

    /// <summary>A certification counts on the day it was earned, under no product line; a revoked one counts nothing.</summary>
    public static IReadOnlyList<KpiFact> OfAward(Training.TrainingEvents.AwardData award, AnalyticsCalendar calendar)
    {
        ArgumentNullException.ThrowIfNull(award);
        ArgumentNullException.ThrowIfNull(calendar);
        return award.Status == "Revoked" ? [] : [new KpiFact(KpiMetrics.CertificationsEarned, calendar.DayOf(award.EarnedAt), KpiMetrics.NoProductLine, award.AwardId, "")];
    }

    /// <summary>The same rule read from the award record (the rebuild).</summary>
    public static IReadOnlyList<KpiFact> OfAward(Training.Award award, AnalyticsCalendar calendar)
    {
        ArgumentNullException.ThrowIfNull(award);
        ArgumentNullException.ThrowIfNull(calendar);
        return award.Status == Training.AwardStatus.Revoked ? [] : [new KpiFact(KpiMetrics.CertificationsEarned, calendar.DayOf(award.EarnedAt), KpiMetrics.NoProductLine, award.Id, "")];
    }

    /// <summary>
    /// The funnel's first step, program-wide: an application counts as submitted on its submission day, approved or rejected on the day of
    /// that decision (the last "approve" or "reject"); an application still under review, with information requested or expired only as submitted.
    /// </summary>
    public static IReadOnlyList<KpiFact> OfApplication(Onboarding.PartnerApplication application, AnalyticsCalendar calendar)
    {
        ArgumentNullException.ThrowIfNull(application);
        ArgumentNullException.ThrowIfNull(calendar);
        var facts = new List<KpiFact> { new(KpiMetrics.ApplicationsSubmitted, calendar.DayOf(application.SubmittedAt), KpiMetrics.NoProductLine, application.Id, "") };
        var (metric, decision) = application.Status switch
        {
            Onboarding.ApplicationStatus.Approved => (KpiMetrics.ApplicationsApproved, "approve"),
            Onboarding.ApplicationStatus.Rejected => (KpiMetrics.ApplicationsRejected, "reject"),
            _ => ((string?)null, (string?)null),
        };
        if (metric is not null && application.Decisions.LastOrDefault(d => d.Decision == decision) is { } decided)
        {
            facts.Add(new KpiFact(metric, calendar.DayOf(decided.DecidedAt), KpiMetrics.NoProductLine, application.Id, ""));
        }
        return facts;
    }

    /// <summary>MDF paid: a paid claim counts its approved amount (what the ledger pays) on its payment day (paidOn, a calendar day).</summary>
    public static IReadOnlyList<KpiFact> OfFundRequest(Mdf.FundRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Claim is not { Status: Mdf.MdfClaimStatus.Paid, ApprovedAmount: { } paid, PaidOn: { } paidOn }
            || !DateOnly.TryParseExact(paidOn, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return [];
        }
        return [new KpiFact(KpiMetrics.MdfPaid, day, KpiMetrics.NoProductLine, request.Id, "", paid.Amount, paid.Currency)];
    }

    /// <summary>
    /// The counters a fact adds to its buckets, keyed "{productLine}|{counter}": a count per fact kind, money per kind and currency
    /// ("won:EUR", "pipeline:EUR" which protectionEnded takes back out), and one histogram bin per duration ("decisionHours:le24").
    /// </summary>
    public static IEnumerable<KeyValuePair<string, decimal>> Counters(KpiFact fact)
    {
        ArgumentNullException.ThrowIfNull(fact);
        var p = fact.ProductLine + "|";
        if (fact.Metric != KpiMetrics.ProtectionEnded) yield return new(p + fact.Metric, fact.Count);
        switch (fact.Metric)
        {
            case KpiMetrics.Approved:
                yield return new(p + "pipeline:" + fact.Currency, fact.Amount);
                break;
            case KpiMetrics.ProtectionEnded:
                yield return new(p + "pipeline:" + fact.Currency, -fact.Amount);
                break;
            case KpiMetrics.Won:
                yield return new(p + "wonRevenue:" + fact.Currency, fact.Amount);
                break;
            case KpiMetrics.PosSourced or KpiMetrics.PosInfluenced:
                yield return new(p + fact.Metric + "Revenue:" + fact.Currency, fact.Amount);
                break;
            case KpiMetrics.MdfPaid or KpiMetrics.MdfAttributedWon:
                yield return new(p + fact.Metric + ":" + fact.Currency, fact.Amount);
                break;
        }
        if (fact.Hours is { } hours)
        {
            var histogram = fact.Metric switch
            {
                KpiMetrics.LeadAccepted => "acceptHours:",
                KpiMetrics.PartnersFirstDeal => "activationHours:",
                _ => "decisionHours:",
            };
            yield return new(p + histogram + Bin(hours), 1);
        }
    }

    /// <summary>The change to each bucket row when a subject's facts go from <paramref name="before"/> to <paramref name="after"/> (zero changes left out).</summary>
    public static Dictionary<string, Dictionary<string, decimal>> Delta(IEnumerable<KpiFact> before, IEnumerable<KpiFact> after)
    {
        var rows = new Dictionary<string, Dictionary<string, decimal>>(StringComparer.Ordinal);
        void Add(KpiFact fact, int sign)
        {
            foreach (var row in AnalyticsCalendar.RowsOf(fact.Day))
            {
                var counters = rows.TryGetValue(row, out var c) ? c : rows[row] = new Dictionary<string, decimal>(StringComparer.Ordinal);
                foreach (var (key, value) in Counters(fact)) counters[key] = counters.GetValueOrDefault(key) + sign * value;
            }
        }
        foreach (var fact in before) Add(fact, -1);
        foreach (var fact in after) Add(fact, +1);
        foreach (var (row, counters) in rows.ToList())
        {
            foreach (var key in counters.Where(c => c.Value == 0).Select(c => c.Key).ToList()) counters.Remove(key);
            if (counters.Count == 0) rows.Remove(row);
        }
        return rows;
    }

    /// <summary>Adds <paramref name="delta"/> to <paramref name="counters"/>, dropping counters that reach zero.</summary>
    public static Dictionary<string, decimal> Add(IReadOnlyDictionary<string, decimal>? counters, IReadOnlyDictionary<string, decimal> delta, int sign = 1)
    {
        ArgumentNullException.ThrowIfNull(delta);
        var next = counters is null ? new Dictionary<string, decimal>(StringComparer.Ordinal) : new Dictionary<string, decimal>(counters, StringComparer.Ordinal);
        foreach (var (key, value) in delta)
        {
            var sum = next.GetValueOrDefault(key) + sign * value;
            if (sum == 0) next.Remove(key);
            else next[key] = sum;
        }
        return next;
    }

    /// <summary>The row key of a fact (drill-down): metric, day, subject and the fact's own key, so a range of days of one metric is one row range.</summary>
    public static string FactRow(KpiFact fact)
    {
        ArgumentNullException.ThrowIfNull(fact);
        return "f|" + fact.Metric + "|" + fact.Day.ToString("yyyyMMdd", CultureInfo.InvariantCulture) + "|" + fact.SubjectId + "|" + fact.Key;
    }

    private static double Hours(DateTimeOffset from, DateTimeOffset to) => Math.Max(0, Math.Round((to - from).TotalHours, 2));
}
