using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Content;
using Prm.Core.Settings;
using Prm.Storage;

namespace Prm.Functions.Content;

/// <summary>The content library as one module: its settings section, use cases, the sweep and the storage adapters.</summary>
public static class ContentModule
{
    public static IServiceCollection AddContent(this IServiceCollection services, IConfiguration configuration)
    {
        // One settings type: defaults in code, configuration may override them at start, admins at run time (settings API).
        var defaults = configuration.GetSection(ContentSettings.ConfigurationSection).Get<ContentSettings>() ?? new ContentSettings();
        services.AddSingleton<ISettingsSection>(_ => ContentSettings.Section(defaults));
        services.AddSingleton<AssetCommits>();
        services.AddSingleton<ManageAssets>();
        services.AddSingleton<AssetQueries>();
        services.AddSingleton<AssetDownloads>();
        services.AddSingleton<CoBrandedCopies>();
        services.AddSingleton<PartnerLogos>();
        services.AddSingleton<SupersedeDigest>();
        services.AddSingleton<Prm.Core.Outbox.IOutboxProjection>(sp => sp.GetRequiredService<SupersedeDigest>());
        services.AddSingleton<ContentSweep>();
        services.AddContentStorage();
        return services;
    }
}
