using System.Text.Json;
using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Core.Tiers;

namespace Prm.Core.Incentives;

/// <summary>
/// The accrual ledger as a projection of the deal events from the outbox: a deal won, lost or whose outcome changed is one input to the
/// partner's ledger of every program (one that counts it now, or one that counted it before). The input carries the facts it was decided
/// on (the deal as the event saw it, the partner's tier and region, the FX rates of the close month, the periods closing), so a recompute
/// from the stored inputs reproduces the ledger. Exact under redelivery: the event id is the input's key, applied once.
/// </summary>
public sealed class IncentiveProjection(IncentiveLedgers ledgers, IncentivePrograms programs, IPartnerStore partners, FxRates fx) : IOutboxProjection
{
    /// <summary>The deal events that move money: won, lost, an outcome changed.</summary>
    public static bool Moves(string type) => type is DealEvents.Won or DealEvents.Lost or DealEvents.OutcomeChanged;

    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (!Moves(e.Type) || e.PartnerId is not { } partnerId) return;
        var data = e.Data.Deserialize<DealEvents.DealData>(OutboxJson.Options)!;
        if (!data.Latest) return;
        var all = await programs.AllAsync(ct);
        if (all.Count == 0) return;
        var partner = (await partners.GetAsync(partnerId, ct))?.Value;
        if (partner is null) return;
        var deal = data.Deal;
        var month = deal.Outcome?.CloseDate is { } close ? TierRules.Month(close) : null;
        var table = month is null ? null : await fx.TableAsync([month], ct);
        try
        {
            foreach (var program in all)
            {
                await ledgers.RunAsync(partnerId, program.Id, "evt:" + e.Id, deal.Id, async view =>
                {
                    var facts = Facts(deal, partner, view.Program, table, month);
                    var known = view.State.Deals.TryGetValue(deal.Id, out var prior) && (prior.Period is not null || prior.AwaitingFx is not null);
                    if (!known && IncentiveLedgerRules.Qualify(view.Program, facts).Value is null && !IncentiveLedgerRules.AwaitsRate(view.Program, facts)) return null; // never counted, and not now either
                    var dated = facts.CloseDate is { } d ? view.Program.PeriodOf(d).Text : view.Program.PeriodOf(DateOnly.FromDateTime(e.OccurredAt.UtcDateTime)).Text;
                    var closing = await ledgers.ClosedPeriodsAsync(program.Id, dated, ct);
                    return new IncentiveInput(InputKinds.Deal, "evt:" + e.Id, e.OccurredAt, view.Program.Version, "PrmFunctions", facts, closing);
                }, null, ct);
            }
        }
        catch (PreconditionFailedException ex)
        {
            // Contended past the retries: delivered again shortly (the event id keeps it exact).
            throw new TransientDeliveryException("The partner's incentive ledger stayed contended.", TimeSpan.FromSeconds(2), ex);
        }
    }

    /// <summary>The deal as a source event of the ledger: what was won, when it was dated and recorded, by whom, and the FX rates of its close month.</summary>
    public static DealFacts Facts(DealDto deal, Partner partner, IncentiveProgram program, FxTable? table, string? month)
    {
        var won = deal.Status == nameof(DealStatus.Won) ? deal.Outcome?.Amount : null;
        var dealRate = won is { } w && month is not null ? table?.Rate(month, w.Currency) : null;
        var programRate = month is not null ? table?.Rate(month, program.Currency) : null;
        return new DealFacts(deal.Id, deal.RegistrationNumber, deal.Customer.CompanyName, deal.Status, won, deal.Outcome?.CloseDate, deal.Outcome?.RecordedAt, deal.Products,
            deal.SubmittedBy, deal.SubmittedByName, Text.Camel(partner.Tier), partner.Region, dealRate, programRate, month);
    }
}
