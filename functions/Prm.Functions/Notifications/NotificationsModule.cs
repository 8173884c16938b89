using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Analytics;
using Prm.Core.Notifications;
using Prm.Core.Outbox;
using Prm.Core.Settings;
using Prm.Workflows;

namespace Prm.Functions.Notifications;

/// <summary>
/// Notifications as one module: the settings section (defaults from configuration section "Notifications", so tests shorten the digest
/// periods), the person's preferences, the gate every email passes at delivery, unsubscribe links, digests and their workflow.
/// </summary>
public static class NotificationsModule
{
    public static IServiceCollection AddNotifications(this IServiceCollection services, IConfiguration configuration)
    {
        var defaults = configuration.GetSection(NotificationSettings.ConfigurationSection).Get<NotificationSettings>() ?? new NotificationSettings();
        services.AddSingleton<ISettingsSection>(_ => NotificationSettings.Section(defaults));
        services.AddSingleton(sp => new ProgramTimeZone(sp.GetRequiredService<AnalyticsCalendar>().Zone.Id));
        services.AddSingleton<NoticePages>();
        services.AddSingleton<MyNotifications>();
        services.AddSingleton<Unsubscribes>();
        services.AddSingleton<Digests>();
        services.AddSingleton<IEmailGate, NotificationGate>();
        services.AddDigestWorkflows();
        return services;
    }
}
