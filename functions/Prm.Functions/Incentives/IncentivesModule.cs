using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Incentives;
using Prm.Core.Outbox;
using Prm.Storage;
using Prm.Workflows;

namespace Prm.Functions.Incentives;

/// <summary>Incentives as one module: programs, the ledger and its projection from the deal events, period close, payouts, storage and workflow.</summary>
public static class IncentivesModule
{
    public static IServiceCollection AddIncentives(this IServiceCollection services)
    {
        services.AddSingleton<IncentivePrograms>();
        services.AddSingleton<IncentiveLedgers>();
        services.AddSingleton<IncentiveQueries>();
        services.AddSingleton<IncentiveAdjustments>();
        services.AddSingleton<IncentiveCloses>();
        services.AddSingleton<IIncentiveCloseSteps>(sp => sp.GetRequiredService<IncentiveCloses>());
        services.AddSingleton<Payouts>();
        services.AddSingleton<IOutboxProjection, IncentiveProjection>();
        services.AddIncentiveStorage();
        services.AddIncentiveWorkflows();
        return services;
    }
}
