using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Approvals;
using Prm.Core.Mdf;
using Prm.Core.Settings;
using Prm.Storage;
using Prm.Workflows;

namespace Prm.Functions.Mdf;

/// <summary>MDF and co-op funds as one module: its settings section, use cases, storage adapters, workflow projection and decision links.</summary>
public static class MdfModule
{
    public static IServiceCollection AddMdf(this IServiceCollection services, IConfiguration configuration)
    {
        // One settings type: defaults in code, configuration may override them at start, admins at run time (settings API).
        var defaults = configuration.GetSection(MdfSettings.ConfigurationSection).Get<MdfSettings>() ?? new MdfSettings();
        services.AddSingleton<ISettingsSection>(_ => MdfSettings.Section(defaults));
        services.AddSingleton<MdfNotices>();
        services.AddSingleton<MdfCommits>();
        services.AddSingleton<Budgets>();
        services.AddSingleton<FundRequests>();
        services.AddSingleton<Claims>();
        services.AddSingleton<MdfReturns>();
        services.AddSingleton<MdfDeadlines>();
        services.AddSingleton<IMdfWorkflowSteps>(sp => sp.GetRequiredService<MdfDeadlines>());
        services.AddSingleton<IDecisionSubject, MdfDecisionLinks>();
        services.AddMdfStorage();
        services.AddMdfWorkflows();
        return services;
    }
}
