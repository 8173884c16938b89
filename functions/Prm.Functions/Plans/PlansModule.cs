using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Plans;
using Prm.Core.Settings;
using Prm.Storage;
using Prm.Workflows;

namespace Prm.Functions.Plans;

/// <summary>Joint business plans as one module: the "plans" settings section, the use cases, actuals, notices, storage and the review workflow.</summary>
public static class PlansModule
{
    public static IServiceCollection AddPlans(this IServiceCollection services, IConfiguration configuration)
    {
        var defaults = configuration.GetSection(PlanSettings.ConfigurationSection).Get<PlanSettings>() ?? new PlanSettings();
        PlanSettings.Validate(defaults);
        services.AddSingleton<ISettingsSection>(_ => PlanSettings.Section(defaults));
        services.AddSingleton<PlanActuals>();
        services.AddSingleton<PlanNotices>();
        services.AddSingleton<BusinessPlans>();
        services.AddSingleton<PlanDeadlines>();
        services.AddSingleton<IPlanSteps>(sp => sp.GetRequiredService<PlanDeadlines>());
        services.AddPlanStorage();
        services.AddPlanWorkflows();
        return services;
    }
}
