using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Leads;
using Prm.Core.Settings;
using Prm.Storage;
using Prm.Workflows;

namespace Prm.Functions.Leads;

/// <summary>Lead distribution as one module: its settings section, use cases, storage adapters and workflow projection.</summary>
public static class LeadsModule
{
    public static IServiceCollection AddLeads(this IServiceCollection services, IConfiguration configuration)
    {
        // One settings type: defaults in code, configuration may override them at start, admins at run time (settings API).
        var defaults = configuration.GetSection(LeadSettings.ConfigurationSection).Get<LeadSettings>() ?? new LeadSettings();
        services.AddSingleton<ISettingsSection>(_ => LeadSettings.Section(defaults));
        services.AddSingleton<LeadNotices>();
        services.AddSingleton<LeadCommits>();
        services.AddSingleton<LeadRouter>();
        services.AddSingleton<CaptureLead>();
        services.AddSingleton<WorkLead>();
        services.AddSingleton<LeadQueries>();
        services.AddSingleton<LeadImport>();
        services.AddSingleton<LeadDeadlines>();
        services.AddSingleton<ILeadSteps>(sp => sp.GetRequiredService<LeadDeadlines>());
        services.AddLeadStorage();
        services.AddLeadWorkflows();
        return services;
    }
}
