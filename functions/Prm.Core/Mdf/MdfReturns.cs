using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Settings;

namespace Prm.Core.Mdf;

/// <summary>Return on MDF: leads and deals attributed to funded activities (through the deals' mdfRequestId) against the money paid.</summary>
public sealed class MdfReturns(IMdfStore store, IMdfAttribution attribution, MdfCommits commits, ProgramSettings settings, ProgramOptions program)
{
    public async Task<MdfRoiDto> RequestAsync(Caller caller, string requestId, CancellationToken ct)
    {
        var r = (await commits.LoadAsync(caller, requestId, "mdr", ct)).Request;
        var paid = r.Claim?.Status == MdfClaimStatus.Paid ? r.Claim.ApprovedAmount!.Value : new Money(0m, r.RequestedAmount.Currency);
        var deals = await attribution.DealsForRequestAsync(r.PartnerId, r.Id, paid.Currency, ct);
        var roi = MdfRoi.Compute(paid, r.Claim?.ActualLeads ?? 0, deals);
        return new MdfRoiDto(r.Id, r.PartnerId, r.Period, roi.Paid, roi.Leads, roi.RegisteredDeals, roi.PipelineValue, roi.WonValue, roi.CostPerLead, roi.ReturnOnSpend, 1);
    }

    /// <summary>ROI of a partner's budget in a period (one currency: the budget's; with several currencies, pass the currency's budget period).</summary>
    public async Task<MdfRoiDto> PeriodAsync(Caller caller, string? partnerId, string? period, CancellationToken ct)
    {
        partnerId ??= caller.PartnerId ?? throw new ValidationFailedException("partnerId", "partnerId is required.");
        if (string.IsNullOrEmpty(period)) throw new ValidationFailedException("period", "period is required.");
        var text = (await settings.GetAsync<MdfSettings>(MdfSettings.SectionName, ct)).Calendar().Parse(period).Text;
        await commits.LoadPartnerAsync(caller, partnerId, "partnerId", ct, notFound: true);
        var budgets = await store.ListBudgetsAsync(partnerId, text, ct);
        var currency = budgets.FirstOrDefault()?.Budget.Currency ?? program.ProgramCurrency;
        var paid = new Money(0m, currency);
        var leads = 0;
        var deals = new List<AttributedDeal>();
        var count = 0;
        foreach (var b in budgets.Where(b => b.Budget.Currency == currency))
        {
            foreach (var r in await store.RequestsOfBudgetAsync(b.Budget.Id, ct))
            {
                if (r.Status is not (FundRequestStatus.Approved or FundRequestStatus.Closed or FundRequestStatus.Expired)) continue;
                count++;
                if (r.Claim?.Status == MdfClaimStatus.Paid) paid = MdfMoney.Add(paid, r.Claim.ApprovedAmount!.Value);
                leads += r.Claim?.ActualLeads ?? 0;
                deals.AddRange(await attribution.DealsForRequestAsync(r.PartnerId, r.Id, currency, ct));
            }
        }
        var roi = MdfRoi.Compute(paid, leads, deals);
        return new MdfRoiDto(null, partnerId, text, roi.Paid, roi.Leads, roi.RegisteredDeals, roi.PipelineValue, roi.WonValue, roi.CostPerLead, roi.ReturnOnSpend, count);
    }
}
