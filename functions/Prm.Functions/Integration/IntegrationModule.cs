using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Prm.Core.Integration;
using Prm.Core.Outbox;
using Prm.Storage.Integration;

namespace Prm.Functions.Integration;

/// <summary>Integration as one module: webhooks (subscriptions, fan-out from the outbox, delivery) and CRM events in.</summary>
public static class IntegrationModule
{
    public static IServiceCollection AddIntegration(this IServiceCollection services, IConfiguration configuration)
    {
        var configured = configuration.GetSection(WebhookOptions.SectionName).Get<WebhookOptions>() ?? new WebhookOptions();
        var loopbackSetting = configuration[$"{WebhookOptions.SectionName}:{nameof(WebhookOptions.AllowLoopback)}"];
        services.AddSingleton(sp =>
        {
            // Loopback targets (http://127.0.0.1, localhost) only in Development, where they are allowed unless switched off; never elsewhere.
            var development = sp.GetService<IHostEnvironment>()?.IsDevelopment() ?? false;
            configured.AllowLoopback = development && (loopbackSetting is null || configured.AllowLoopback);
            return configured;
        });
        services.AddSingleton<WebhookQueue>();
        services.AddSingleton<Webhooks>();
        services.AddSingleton<IOutboxProjection, WebhookFanOut>();
        services.AddSingleton<WebhookDeliverer>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDeliverer>());
        services.AddSingleton(configuration.GetSection(CrmOptions.SectionName).Get<CrmOptions>() ?? new CrmOptions());
        services.AddSingleton<ICrmInbox, TableCrmInbox>();
        services.AddSingleton<CrmEvents>();
        services.AddSingleton<ExternalIds>();
        return services;
    }
}
