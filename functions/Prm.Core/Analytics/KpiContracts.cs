using Prm.Core.Common;

namespace Prm.Core.Analytics;

/// <summary>A bucket row as stored: its counters ("{productLine}|{counter}") and, for the all-time row, the last day any fact fell on.</summary>
public sealed record KpiBucket(IReadOnlyDictionary<string, decimal> Counters, DateOnly? LastDay = null);

/// <summary>What a rebuild step did: partners and records it went through, bucket rows it compared with the live ones and corrected.</summary>
public sealed record KpiRebuildReport(int Partners, int Records, int BucketsChecked, int BucketsCorrected, string? NextCursor);

/// <summary>Storage port of the KPIs: per partner, the facts of each record, the fact rows (drill-down) and the day/month/year/all-time buckets.</summary>
public interface IKpiStore
{
    /// <summary>
    /// Makes <paramref name="facts"/> the contribution of the record <paramref name="subjectKey"/> to the partner's KPIs: the buckets change by
    /// the difference from the stored contribution, in one transaction with it and the fact rows. Exact under redelivery (the same facts
    /// change nothing) and under late delivery (a contribution stored from a newer <paramref name="version"/> is kept).
    /// </summary>
    /// <param name="likelyChanged">
    /// The caller expects the facts to differ from the stored ones (a deal's submission or decision): the buckets the facts touch are then
    /// read side by side with the contribution instead of after it. Only what is read changes, never what is written.
    /// </param>
    /// <param name="likelyNew">
    /// The caller expects no contribution of the record stored yet (a registration's first submission): the store may then insert it
    /// without reading it, from buckets it remembers, and reads as usual when the insert is refused. Only what is read changes.
    /// </param>
    /// <exception cref="PreconditionFailedException">When the partner's buckets stayed contended past the retries.</exception>
    Task ApplyAsync(string partnerId, string subjectKey, long version, IReadOnlyList<KpiFact> facts, CancellationToken ct, bool likelyChanged = false, bool likelyNew = false);

    /// <summary>Point reads of bucket rows (rows that do not exist are absent).</summary>
    Task<IReadOnlyDictionary<string, KpiBucket>> ReadAsync(string partnerId, IReadOnlyCollection<string> rows, CancellationToken ct);

    /// <summary>The facts of one kind between two days (both inclusive), in day order.</summary>
    Task<Page<KpiFact>> FactsAsync(string partnerId, string metric, DateOnly from, DateOnly to, PageRequest page, CancellationToken ct);

    /// <summary>The subject keys of every contribution stored in the partition (the rebuild recomputes each from its record).</summary>
    Task<IReadOnlyList<string>> SubjectsAsync(string partnerId, CancellationToken ct);

    /// <summary>Sums the stored contributions of the partner and corrects every bucket row that differs; returns rows compared and corrected.</summary>
    Task<(int Checked, int Corrected)> RecountAsync(string partnerId, CancellationToken ct);
}

/// <summary>The figures of one row of a KPI table. Rates are 0..1 (null without a denominator); medians are in hours (see docs/rules.md).</summary>
public sealed record KpiValues(
    int Partners,
    long RegistrationsSubmitted, long RegistrationsApproved, long RegistrationsRejected, double? ApprovalRate, double? MedianDecisionHours,
    IReadOnlyDictionary<string, decimal> Pipeline,
    long Won, long Lost, double? WinRate, IReadOnlyDictionary<string, decimal> WonRevenue,
    long LeadsOffered, long LeadsAccepted, long LeadsDeclined, long LeadsExpired, double? LeadAcceptanceRate, double? MedianAcceptHours,
    long LeadsConverted, double? LeadConversionRate,
    long PosSourcedLines, IReadOnlyDictionary<string, decimal> PosSourcedRevenue, long PosInfluencedLines, IReadOnlyDictionary<string, decimal> PosInfluencedRevenue,
    long CertificationsEarned, long PartnersOnboarded, long PartnersActivated, long PartnersFirstDeal, double? MedianActivationToFirstDealHours,
    long ApplicationsSubmitted, long ApplicationsApproved, long ApplicationsRejected,
    long MdfClaimsPaid, IReadOnlyDictionary<string, decimal> MdfPaid, long MdfAttributedDealsWon, IReadOnlyDictionary<string, decimal> MdfAttributedWonRevenue,
    IReadOnlyDictionary<string, decimal> MdfReturnOnSpend);

/// <summary>One row of a KPI table: a period and a group (a partner, region, tier, channel manager or product line).</summary>
public sealed record KpiRow(string Period, DateOnly From, DateOnly To, string Group, string? GroupName, KpiValues Metrics);

/// <summary>A KPI table (GET /api/analytics/program and /api/analytics/partners/{partnerId}).</summary>
public sealed record KpiTable(DateOnly From, DateOnly To, string GroupBy, string Period, string TimeZone, IReadOnlyList<KpiRow> Rows);

/// <summary>A fact behind a number (GET /api/analytics/rows): the record (deals/{id}, leads/{id}, partner-applications/{id}, mdf/requests/{id}, ...), its day, product line, amount and duration.</summary>
public sealed record KpiFactRow(string Metric, DateOnly Date, string Record, string ProductLine, decimal? Amount, string? Currency, double? Hours)
{
    public static KpiFactRow From(KpiFact f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var kind = f.SubjectId.StartsWith("lead", StringComparison.Ordinal) ? "leads/"
            : f.SubjectId.StartsWith("app", StringComparison.Ordinal) ? "partner-applications/"
            : f.SubjectId.StartsWith("mdr", StringComparison.Ordinal) ? "mdf/requests/"
            : f.SubjectId.StartsWith("pos", StringComparison.Ordinal) ? "pos/batches/"
            : f.SubjectId.StartsWith("ptn", StringComparison.Ordinal) ? "partners/"
            : f.SubjectId.StartsWith("deal", StringComparison.Ordinal) ? "deals/" : "awards/";
        return new(f.Metric, f.Day, kind + f.SubjectId, f.ProductLine, f.Currency is null ? null : f.Amount, f.Currency, f.Hours);
    }
}
