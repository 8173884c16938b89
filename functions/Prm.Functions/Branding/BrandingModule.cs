using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Branding;
using Prm.Core.Settings;

namespace Prm.Functions.Branding;

/// <summary>The branding as one module: its settings section, the brand templates read, the logo and its storage.</summary>
public static class BrandingModule
{
    public static IServiceCollection AddBranding(this IServiceCollection services, IConfiguration configuration)
    {
        var defaults = configuration.GetSection(BrandingSettings.ConfigurationSection).Get<BrandingSettings>() ?? new BrandingSettings();
        // The section checks a logo against the stored one through the storage port (not ProgramLogos, which needs the settings).
        services.AddSingleton<ISettingsSection>(sp =>
        {
            var stored = sp.GetRequiredService<IProgramLogo>();
            return BrandingSettings.Section(defaults, async (logo, ct) => (await stored.GetAsync(ct))?.Sha256 == logo.Sha256);
        });
        services.AddSingleton<BrandSource>();
        services.AddSingleton<ProgramLogos>();
        services.AddSingleton<IProgramLogo, Prm.Storage.Branding.BlobProgramLogo>();
        return services;
    }
}
