using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Outbox;
using Prm.Core.Settings;
using Prm.Core.Tiers;
using Prm.Storage;
using Prm.Workflows;

namespace Prm.Functions.Tiers;

/// <summary>Tiers as one module: its settings section, FX rates, evaluation, projection, storage adapter and workflows.</summary>
public static class TiersModule
{
    public static IServiceCollection AddTiers(this IServiceCollection services, IConfiguration configuration)
    {
        var defaults = configuration.GetSection(TierSettings.ConfigurationSection).Get<TierSettings>() ?? new TierSettings();
        // Configuration may shorten the durations; the tiers are the demo program's unless an admin saves others.
        if (defaults.Tiers.Count == 0) defaults = defaults with { Tiers = TierSettings.DemoTiers() };
        services.AddSingleton<ISettingsSection>(_ => TierSettings.Section(defaults));
        services.AddSingleton<FxRates>();
        services.AddSingleton<TierNotices>();
        services.AddSingleton<TierEvaluations>();
        services.AddSingleton<TierCommands>();
        services.AddSingleton<TierDowngrades>();
        services.AddSingleton<IDowngradeSteps>(sp => sp.GetRequiredService<TierDowngrades>());
        services.AddSingleton<INightlyEvaluation>(sp => sp.GetRequiredService<TierDowngrades>());
        services.AddSingleton<IOutboxProjection, TierProjection>();
        services.AddTierStorage();
        services.AddTierWorkflows();
        return services;
    }
}
