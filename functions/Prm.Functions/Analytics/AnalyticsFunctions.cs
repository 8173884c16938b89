using System.Globalization;
using System.Text;
using CsvHelper;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Prm.Core.Analytics;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;
using Prm.Workflows.Analytics;

namespace Prm.Functions.Analytics;

/// <summary>Channel KPIs: the program table, a partner's table, the facts behind a number (each also as text/csv), and the rebuild.</summary>
public sealed class AnalyticsFunctions(AnalyticsQueries queries, TimeProvider clock)
{
    private const string TableText = "from and to (yyyy-MM-dd, both inclusive, the program's local days), period day | month | quarter (fiscal) | fiscalYear (none: one row for the whole range). " +
        "Each row: registrations submitted/approved/rejected, approval rate and median decision hours, pipeline (approved registrations in protection at the period's last day, by currency), won/lost, win rate, won revenue by currency, " +
        "leads offered/accepted/declined/expired, acceptance rate, median hours to accept, converted and conversion rate, POS lines and revenue sourced (the reseller registered the customer) and influenced, certifications earned, the activation funnel (partners onboarded, activated, with a first deal, median hours from activation to first deal; partner applications submitted/approved/rejected), MDF paid against attributed won value (claims paid and MDF paid by currency, won registrations naming an MDF request and their won revenue by currency, and the return on spend per currency paid), and the number of partners in the group. Reads bucket rows only. With Accept: text/csv the table comes as CSV.";

    [Function("GetProgramAnalytics")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("Program KPIs", TableText + " groupBy partner (default) | region | tier | channelManager | productLine. Admins see every partner, channel managers the partners they own; admins also get one row per period with group applications (partner applications have no partner yet: the funnel's first step).",
        Response = typeof(KpiTable), AlsoCsv = true, Query = ["from", "to", "groupBy", "period"])]
    public async Task<IActionResult> Program([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "analytics/program")] HttpRequest req, CancellationToken ct)
    {
        var table = await queries.ProgramAsync(req.Caller(), req.Query("from"), req.Query("to"), req.Query("groupBy"), req.Query("period"), ct);
        return WantsCsv(req) ? Csv(KpiCsv.Table(table)) : Api.Ok(table);
    }

    [Function("GetPartnerAnalytics")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("A partner's KPIs", TableText + " The partner's members, its channel manager and admins; anyone else 404.",
        Response = typeof(KpiTable), AlsoCsv = true, Query = ["from", "to", "period"])]
    public async Task<IActionResult> Partner([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "analytics/partners/{partnerId}")] HttpRequest req, string partnerId, CancellationToken ct)
    {
        var table = await queries.PartnerAsync(req.Caller(), partnerId, req.Query("from"), req.Query("to"), req.Query("period"), ct);
        return WantsCsv(req) ? Csv(KpiCsv.Table(table)) : Api.Ok(table);
    }

    [Function("GetAnalyticsRows")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("The records behind a number", "metric (registrationsSubmitted, registrationsApproved, registrationsRejected, won, lost, protectionEnded, leadsOffered, leadsAccepted, leadsDeclined, leadsExpired, leadsConverted, posSourced, posInfluenced, certificationsEarned, partnersOnboarded, partnersActivated, partnersFirstDeal, applicationsSubmitted, applicationsApproved, applicationsRejected, mdfPaid, mdfAttributedWon), partnerId, from and to: the facts of that kind in the range, in day order, each naming its record (deals/{id}, leads/{id}, partner-applications/{id}, mdf/requests/{id}, pos/batches/{id}, partners/{id}, awards/{id}), paged. Who may read the partner's KPIs; anyone else 404. The application metrics are program-wide: admins only, without partnerId (400 naming partnerId with one, 403 for others). With Accept: text/csv the page comes as CSV.",
        Response = typeof(ListResponse<KpiFactRow>), AlsoCsv = true, Query = ["metric", "from", "to", "partnerId", "limit", "cursor"])]
    public async Task<IActionResult> Rows([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "analytics/rows")] HttpRequest req, CancellationToken ct)
    {
        var page = await queries.RowsAsync(req.Caller(), req.Query("metric"), req.Query("from"), req.Query("to"), req.Query("partnerId"), req.Paging(), ct);
        return WantsCsv(req) ? Csv(KpiCsv.Rows(page.Items)) : Api.Page(page);
    }

    [Function("RebuildAnalytics")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Rebuild the KPI buckets", "Starts the rebuild as a durable workflow and answers 202 with its status (GET /api/analytics/rebuild follows it). Step by step (the partner applications, then limit partners per step, default 50) it recomputes each record's facts from the records (applications, the partner record, deal registrations, leads, MDF requests, certification awards, POS batches), sums them and corrects every bucket row that differs from the sum. A rebuild already running is answered as it is; a failed or terminated one continues from the page it was on; otherwise a new one starts. Admins.",
        Response = typeof(KpiRebuildStatus), Status = 202, Query = ["limit"])]
    public async Task<IActionResult> Rebuild([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "analytics/rebuild")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct) =>
        Api.Accepted(await KpiRebuildWorkflow.StartAsync(durable, req.Caller(), RebuildLimit(req), clock, ct), "/api/analytics/rebuild");

    [Function("GetAnalyticsRebuild")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("The KPI rebuild's status", "status pending | running | completed | failed | terminated, the phase (applications, partners) and cursor it is at, steps done, applications, partners and records recomputed, bucket rows checked and corrected (0 when the live counters were right), when it started and completed, and the failure. 404 when no rebuild ran. Admins.",
        Response = typeof(KpiRebuildStatus), Errors = [404])]
    public async Task<IActionResult> RebuildStatus([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "analytics/rebuild")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct) =>
        Api.Ok(await KpiRebuildWorkflow.GetAsync(durable, req.Caller(), ct));

    private static int? RebuildLimit(HttpRequest req)
    {
        var text = req.Query("limit");
        if (text is null) return null;
        return int.TryParse(text, System.Globalization.NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
            : throw new ValidationFailedException("limit", $"limit must be a whole number 1-{PageRequest.MaxLimit}.");
    }

    private static bool WantsCsv(HttpRequest req) =>
        req.Headers.Accept.Any(a => a is not null && a.Contains("text/csv", StringComparison.OrdinalIgnoreCase));

    private static IActionResult Csv(string text) => new ContentApiResult(StatusCodes.Status200OK, text, "text/csv; charset=utf-8");
}

/// <summary>The KPI tables as CSV (CsvHelper): one line per row, money per currency in its own column.</summary>
public static class KpiCsv
{
    public static string Table(KpiTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var pipeline = table.Rows.SelectMany(r => r.Metrics.Pipeline.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var won = table.Rows.SelectMany(r => r.Metrics.WonRevenue.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var posSourced = table.Rows.SelectMany(r => r.Metrics.PosSourcedRevenue.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var posInfluenced = table.Rows.SelectMany(r => r.Metrics.PosInfluencedRevenue.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var mdfPaid = table.Rows.SelectMany(r => r.Metrics.MdfPaid.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var mdfWon = table.Rows.SelectMany(r => r.Metrics.MdfAttributedWonRevenue.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return Write(csv =>
        {
            string[] header =
            [
                "period", "from", "to", "group", "groupName", "partners", "registrationsSubmitted", "registrationsApproved", "registrationsRejected", "approvalRate", "medianDecisionHours",
                .. pipeline.Select(c => "pipeline." + c), "won", "lost", "winRate", .. won.Select(c => "wonRevenue." + c),
                "leadsOffered", "leadsAccepted", "leadsDeclined", "leadsExpired", "leadAcceptanceRate", "medianAcceptHours", "leadsConverted", "leadConversionRate",
                "posSourcedLines", .. posSourced.Select(c => "posSourcedRevenue." + c), "posInfluencedLines", .. posInfluenced.Select(c => "posInfluencedRevenue." + c),
                "certificationsEarned", "partnersOnboarded", "partnersActivated", "partnersFirstDeal", "medianActivationToFirstDealHours",
                "applicationsSubmitted", "applicationsApproved", "applicationsRejected",
                "mdfClaimsPaid", .. mdfPaid.Select(c => "mdfPaid." + c), "mdfAttributedDealsWon", .. mdfWon.Select(c => "mdfAttributedWonRevenue." + c), .. mdfPaid.Select(c => "mdfReturnOnSpend." + c),
            ];
            foreach (var h in header) csv.WriteField(h);
            csv.NextRecord();
            foreach (var r in table.Rows)
            {
                var m = r.Metrics;
                object?[] fields =
                [
                    r.Period, AnalyticsCalendar.Iso(r.From), AnalyticsCalendar.Iso(r.To), r.Group, r.GroupName, m.Partners, m.RegistrationsSubmitted, m.RegistrationsApproved, m.RegistrationsRejected, m.ApprovalRate, m.MedianDecisionHours,
                    .. pipeline.Select(c => (object?)m.Pipeline.GetValueOrDefault(c)), m.Won, m.Lost, m.WinRate, .. won.Select(c => (object?)m.WonRevenue.GetValueOrDefault(c)),
                    m.LeadsOffered, m.LeadsAccepted, m.LeadsDeclined, m.LeadsExpired, m.LeadAcceptanceRate, m.MedianAcceptHours, m.LeadsConverted, m.LeadConversionRate,
                    m.PosSourcedLines, .. posSourced.Select(c => (object?)m.PosSourcedRevenue.GetValueOrDefault(c)), m.PosInfluencedLines, .. posInfluenced.Select(c => (object?)m.PosInfluencedRevenue.GetValueOrDefault(c)),
                    m.CertificationsEarned, m.PartnersOnboarded, m.PartnersActivated, m.PartnersFirstDeal, m.MedianActivationToFirstDealHours,
                    m.ApplicationsSubmitted, m.ApplicationsApproved, m.ApplicationsRejected,
                    m.MdfClaimsPaid, .. mdfPaid.Select(c => (object?)m.MdfPaid.GetValueOrDefault(c)), m.MdfAttributedDealsWon, .. mdfWon.Select(c => (object?)m.MdfAttributedWonRevenue.GetValueOrDefault(c)),
                    .. mdfPaid.Select(c => m.MdfReturnOnSpend.TryGetValue(c, out var r) ? (object?)r : null),
                ];
                foreach (var f in fields) csv.WriteField(Format(f));
                csv.NextRecord();
            }
        });
    }

    public static string Rows(IReadOnlyList<KpiFactRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return Write(csv =>
        {
            foreach (var h in new[] { "metric", "date", "record", "productLine", "amount", "currency", "hours" }) csv.WriteField(h);
            csv.NextRecord();
            foreach (var r in rows)
            {
                foreach (var f in new object?[] { r.Metric, AnalyticsCalendar.Iso(r.Date), r.Record, r.ProductLine, r.Amount, r.Currency, r.Hours }) csv.WriteField(Format(f));
                csv.NextRecord();
            }
        });
    }

    private static string Format(object? value) => value switch
    {
        null => "",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string Write(Action<CsvWriter> write)
    {
        var text = new StringBuilder();
        using (var writer = new StringWriter(text, CultureInfo.InvariantCulture))
        using (var csv = new CsvWriter(writer, CultureInfo.InvariantCulture))
        {
            write(csv);
        }
        return text.ToString();
    }
}
