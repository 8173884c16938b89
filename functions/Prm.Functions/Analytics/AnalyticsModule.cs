using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Analytics;
using Prm.Core.Outbox;
using Prm.Storage;

namespace Prm.Functions.Analytics;

/// <summary>Channel KPIs as one module: the calendar (time zone from configuration "Analytics"), the projection, the reads and the rebuild.</summary>
public static class AnalyticsModule
{
    public static IServiceCollection AddAnalytics(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(AnalyticsOptions.Section).Get<AnalyticsOptions>() ?? new AnalyticsOptions();
        services.AddSingleton(AnalyticsCalendar.From(options));
        services.AddSingleton<AnalyticsQueries>();
        services.AddSingleton<KpiRebuild>();
        services.AddSingleton<Prm.Core.Pos.PosImport>();
        services.AddSingleton<IOutboxProjection, KpiProjection>();
        services.AddAnalyticsStorage();
        return services;
    }
}
