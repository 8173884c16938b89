using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Portal;
using Prm.Storage;

namespace Prm.Functions.Portal;

/// <summary>The portal home as one module: its service and storage adapter (it reads the other modules' ports).</summary>
public static class PortalModule
{
    public static IServiceCollection AddPortal(this IServiceCollection services)
    {
        services.AddSingleton<PortalHome>();
        services.AddPortalStorage();
        return services;
    }
}
