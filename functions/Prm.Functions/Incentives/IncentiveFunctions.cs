using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Incentives;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;

namespace Prm.Functions.Incentives;

/// <summary>Incentive programs (admins, versioned) and the close of their periods.</summary>
public sealed class IncentiveProgramFunctions(IncentivePrograms programs, IncentiveCloses closes)
{
    [Function("CreateIncentiveProgram")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Create an incentive program", "type rebate (slabs [{ from, to, rate }] contiguous and ascending, the last open-ended, rate 0-100; method retrospective or prospective; cap) or spif (amount per qualifying won deal, productLines, minValue, from/to close dates, payee partner or registeringPerson); period monthly, quarterly or annual; currency (the program currency, or one with an FX rate this month); eligibility by tiers, regions, productLines; cutoffGraceDays (transactions dated in a period and recorded by its end + grace count in it, later ones in the next open period; the period closes then); secondApprovalAbove (payouts above it need a second admin); startsOn, endsOn. Overlapping, unordered or gapped slabs, a rate outside 0-100 and a currency without FX rates are 422 naming the field. Version 1.",
        Request = typeof(IncentiveProgramRequest), Response = typeof(IncentiveProgram), Status = 201)]
    public async Task<IActionResult> Create([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "incentive-programs")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var created = await programs.CreateAsync(req.Caller(), await ApiJson.ReadAsync<IncentiveProgramRequest>(req, ct), ct);
        return Api.Created(created.Value, $"/api/incentive-programs/{created.Value.Id}", created.ETag);
    }

    [Function("ListIncentivePrograms")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("List incentive programs", "Every program's current version, by name.", Response = typeof(ListResponse<IncentiveProgram>))]
    public async Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "incentive-programs")] HttpRequest req, CancellationToken ct) =>
        Api.Page(new Page<IncentiveProgram>(await programs.ListAsync(req.Caller(), ct), null));

    [Function("GetIncentiveProgram")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("Read an incentive program", "The current version with its ETag, or ?version=n (each change of the terms is a new version; the ledger names the version of every movement).",
        Response = typeof(IncentiveProgram), Query = ["version"])]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "incentive-programs/{programId}")] HttpRequest req, string programId, CancellationToken ct)
    {
        int? version = null;
        if (req.Query("version") is { } text)
        {
            if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) || v < 1)
                throw new ValidationFailedException("version", "version is a whole number from 1.");
            version = v;
        }
        return Api.Versioned(await programs.GetAsync(req.Caller(), programId, version, ct));
    }

    [Function("UpdateIncentiveProgram")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Change an incentive program", "The whole program as for creating it; a new version (type, period and currency never change). What was accrued stays as it was computed; new movements and the close use the new version. If-Match required.",
        Request = typeof(IncentiveProgramRequest), Response = typeof(IncentiveProgram), IfMatch = true)]
    public async Task<IActionResult> Update([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "incentive-programs/{programId}")] HttpRequest req, [DurableClient] DurableTaskClient durable, string programId, CancellationToken ct) =>
        Api.Versioned(await programs.UpdateAsync(req.Caller(), programId, req.IfMatch(), await ApiJson.ReadAsync<IncentiveProgramRequest>(req, ct), ct));

    [Function("GetIncentivePeriod")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("A program's period", "Open, Closing or Closed; its cutoff (end + cutoffGraceDays, when it closes by itself); after the close the partners and the totals.", Response = typeof(PeriodDto))]
    public async Task<IActionResult> Period([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "incentive-programs/{programId}/periods/{period}")] HttpRequest req, string programId, string period, CancellationToken ct) =>
        Api.Ok(await closes.GetAsync(req.Caller(), programId, period, ct));

    [Function("CloseIncentivePeriod")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Close a period now", "Begins the close of an ended period before its cutoff: from now no transaction joins it (later ones go to the next period); the period's close workflow computes every partner's final amount and statement at once. 409 before the period ends and when its close began already (of two concurrent closes one runs).",
        Response = typeof(PeriodDto), Status = 202)]
    public async Task<IActionResult> Close([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "incentive-programs/{programId}/periods/{period}/close")] HttpRequest req, [DurableClient] DurableTaskClient durable, string programId, string period, CancellationToken ct) =>
        Api.Accepted(await closes.RequestCloseAsync(req.Caller(), programId, period, ct), $"/api/incentive-programs/{programId}/periods/{period}");
}

/// <summary>A partner's incentives: balances, a period's ledger and statement, adjustments, payouts and the tax form.</summary>
public sealed class PartnerIncentiveFunctions(IncentiveQueries queries, IncentiveAdjustments adjustments, Payouts payouts, IncentiveLedgers ledgers)
{
    [Function("ListPartnerIncentives")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("A partner's incentive balances", "Per program and period: counted won value, accrued, reversed, rerated, carried (reversals of deals of closed periods), adjusted, paid, earned, payable, the final amount once closed. The partner's members, its channel manager, admins; another partner's is 404.",
        Response = typeof(ListResponse<IncentiveBalanceDto>))]
    public async Task<IActionResult> Balances([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partners/{partnerId}/incentives")] HttpRequest req, string partnerId, CancellationToken ct) =>
        Api.Page(new Page<IncentiveBalanceDto>(await queries.BalancesAsync(req.Caller(), partnerId, ct), null));

    [Function("GetIncentiveLedger")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("A partner's ledger of a period", "The balance and the append-only entries (accrued, reversed, rerated, adjusted, paid) in sequence, each with its deal, amount, rate, the counted value after it and the program version. The partner's members, its channel manager, admins; another partner's is 404.",
        Response = typeof(IncentiveLedgerDto))]
    public async Task<IActionResult> Ledger([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partners/{partnerId}/incentives/{programId}/periods/{period}/ledger")] HttpRequest req, string partnerId, string programId, string period, CancellationToken ct) =>
        Api.Ok(await queries.LedgerAsync(req.Caller(), partnerId, programId, period, ct));

    [Function("GetIncentiveStatement")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("A partner's statement of a period", "The terms (type, method, version), counted value, final amount, totals, what each payee earned and one line per ledger entry tracing to its deal (registration number, customer, close date, amount, FX rate, counted value, rate). Open periods show the accruals so far (status Open). Another partner's is 404.",
        Response = typeof(StatementDto))]
    public async Task<IActionResult> Statement([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partners/{partnerId}/incentives/{programId}/periods/{period}/statement")] HttpRequest req, string partnerId, string programId, string period, CancellationToken ct) =>
        Api.Ok(await queries.StatementAsync(req.Caller(), partnerId, programId, period, ct));

    [Function("GetIncentiveStatementCsv")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("A partner's statement as CSV", "text/csv with a header row (" + IncentiveQueries.CsvColumns + "): one row per ledger entry with its deal; the amount column adds up to the payable balance (payments are negative). Another partner's is 404.",
        ResponseContentType = "text/csv")]
    public async Task<IActionResult> StatementCsv([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partners/{partnerId}/incentives/{programId}/periods/{period}/statement.csv")] HttpRequest req, string partnerId, string programId, string period, CancellationToken ct)
    {
        var (csv, fileName) = await queries.StatementCsvAsync(req.Caller(), partnerId, programId, period, ct);
        return new BytesApiResult(StatusCodes.Status200OK, System.Text.Encoding.UTF8.GetBytes(csv), "text/csv; charset=utf-8", fileName);
    }

    [Function("RecomputeIncentiveLedger")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Recompute a partner's ledger", "Admins: folds the ledger's stored inputs (deal events, closes, adjustments, payments) with the program versions they name and compares the result with the stored entries and balances — matches is true when the ledger is exactly what its source events make. Reads only. Partner users and channel managers 403; another partner's is 404.",
        Response = typeof(RecomputeDto))]
    public async Task<IActionResult> Recompute([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partners/{partnerId}/incentives/{programId}/recompute")] HttpRequest req, string partnerId, string programId, CancellationToken ct) =>
        Api.Ok(await queries.RecomputeAsync(req.Caller(), partnerId, programId, ledgers, ct));

    [Function("AdjustIncentiveLedger")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Adjust a partner's ledger", "Admins: { period, amount { amount, currency }, reason } — a signed adjusted entry of an open period (a closed or closing one is 409), never an overwrite. Partner users and channel managers 403; another partner's is 404.",
        Request = typeof(AdjustmentRequest), Response = typeof(IncentiveLedgerDto))]
    public async Task<IActionResult> Adjust([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "partners/{partnerId}/incentives/{programId}/adjustments")] HttpRequest req, [DurableClient] DurableTaskClient durable, string partnerId, string programId, CancellationToken ct) =>
        Api.Ok(await adjustments.AdjustAsync(req.Caller(), partnerId, programId, await ApiJson.ReadAsync<AdjustmentRequest>(req, ct), ct));

    [Function("ListPayouts")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("A partner's payouts", "Newest first: Draft, Approved, Paid, with approvals and payment reference. The partner's members, its channel manager, admins; another partner's is 404.",
        Response = typeof(ListResponse<Payout>))]
    public async Task<IActionResult> ListPayouts([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partners/{partnerId}/payouts")] HttpRequest req, string partnerId, CancellationToken ct) =>
        Api.Page(new Page<Payout>(await payouts.ListAsync(req.Caller(), partnerId, ct), null));

    [Function("CreatePayout")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Draft a payout", "The partner's channel manager or an admin: { programId, period, amount } of a closed period (409 otherwise); amount (program currency) defaults to what is payable and may not exceed the accrued balance less other open payouts (422 naming amount). Partner users 403.",
        Request = typeof(CreatePayoutRequest), Response = typeof(Payout), Status = 201)]
    public async Task<IActionResult> CreatePayout([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "partners/{partnerId}/payouts")] HttpRequest req, [DurableClient] DurableTaskClient durable, string partnerId, CancellationToken ct)
    {
        var created = await payouts.CreateAsync(req.Caller(), partnerId, await ApiJson.ReadAsync<CreatePayoutRequest>(req, ct), ct);
        return Api.Created(created.Value, $"/api/partners/{partnerId}/payouts/{created.Value.Id}", created.ETag);
    }

    [Function("GetPayout")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Read a payout", "The payout with its ETag. Another partner's is 404.", Response = typeof(Payout))]
    public async Task<IActionResult> GetPayout([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partners/{partnerId}/payouts/{payoutId}")] HttpRequest req, string partnerId, string payoutId, CancellationToken ct) =>
        Api.Versioned(await payouts.GetAsync(req.Caller(), partnerId, payoutId, ct));

    [Function("ApprovePayout")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Approve a payout", "The partner's channel manager or an admin; above the program's secondApprovalAbove the first approval leaves it Draft and a second, different admin approves it. Refused above the accrued balance (422 amount) and, for a US partner without a tax form on file whose payouts of the year would pass 600 USD, 422 naming taxFormOnFile. 409 once approved or paid.",
        Response = typeof(Payout))]
    public async Task<IActionResult> ApprovePayout([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "partners/{partnerId}/payouts/{payoutId}/approve")] HttpRequest req, [DurableClient] DurableTaskClient durable, string partnerId, string payoutId, CancellationToken ct) =>
        Api.Versioned(await payouts.ApproveAsync(req.Caller(), partnerId, payoutId, ct));

    [Function("PayPayout")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Record a payout paid", "Admins: { paymentReference, paidOn } of an Approved payout: the ledger's paid entry and the payout (Paid, final) in one transaction. Paying twice is 409; never above the payable balance.",
        Request = typeof(PayPayoutRequest), Response = typeof(Payout))]
    public async Task<IActionResult> PayPayout([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "partners/{partnerId}/payouts/{payoutId}/pay")] HttpRequest req, [DurableClient] DurableTaskClient durable, string partnerId, string payoutId, CancellationToken ct) =>
        Api.Versioned(await payouts.PayAsync(req.Caller(), partnerId, payoutId, await ApiJson.ReadAsync<PayPayoutRequest>(req, ct), ct));

    [Function("GetTaxForm")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Whether a partner's tax form is on file", "The partner-level flag US payout approvals check (payouts over 600 USD a year). The partner's members, its channel manager, admins.", Response = typeof(TaxForm))]
    public async Task<IActionResult> GetTaxForm([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partners/{partnerId}/tax-form")] HttpRequest req, string partnerId, CancellationToken ct) =>
        Api.Ok(await payouts.TaxFormAsync(req.Caller(), partnerId, ct));

    [Function("SetTaxForm")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Record a partner's tax form", "Admins: { onFile, formType (required when on file, e.g. W-9), reference }; on the partner's timeline of incentives. Partner users and channel managers 403.",
        Request = typeof(TaxFormRequest), Response = typeof(TaxForm))]
    public async Task<IActionResult> SetTaxForm([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "partners/{partnerId}/tax-form")] HttpRequest req, [DurableClient] DurableTaskClient durable, string partnerId, CancellationToken ct) =>
        Api.Ok(await payouts.SetTaxFormAsync(req.Caller(), partnerId, await ApiJson.ReadAsync<TaxFormRequest>(req, ct), ct));
}
