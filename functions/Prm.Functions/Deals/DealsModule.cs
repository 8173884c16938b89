using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Deals;
using Prm.Core.Outbox;
using Prm.Core.Settings;
using Prm.Storage;
using Prm.Workflows;

namespace Prm.Functions.Deals;

/// <summary>
/// Deal registration as one module: its settings section, use cases, storage adapters and workflow projection. A new module copies this
/// file and adds one line to <see cref="AppRegistration"/>.
/// </summary>
public static class DealsModule
{
    public static IServiceCollection AddDeals(this IServiceCollection services, IConfiguration configuration)
    {
        // One settings type: defaults in code, configuration may override them at start, admins at run time (settings API).
        var defaults = configuration.GetSection(DealSettings.ConfigurationSection).Get<DealSettings>() ?? new DealSettings();
        services.AddSingleton<ISettingsSection>(_ => DealSettings.Section(defaults));
        services.AddSingleton<ProductLines>();
        services.AddSingleton<HouseAccounts>();
        services.AddSingleton<DealPartners>();
        services.AddSingleton<DealNotices>();
        services.AddSingleton<DealCommits>();
        services.AddSingleton<RegisterDeal>();
        services.AddSingleton<DecideDeal>();
        services.AddSingleton<DealExtensions>();
        services.AddSingleton<DealOutcomes>();
        services.AddSingleton<DealQueries>();
        services.AddSingleton<DealDeadlines>();
        services.AddSingleton<IDealSteps>(sp => sp.GetRequiredService<DealDeadlines>());
        services.AddSingleton<IOutboxProjection, DealPartnerCacheProjection>();
        services.AddSingleton<Prm.Core.Approvals.IDecisionSubject, DealDecisionLinks>();
        services.AddDealStorage();
        services.AddDealWorkflows();
        return services;
    }
}
