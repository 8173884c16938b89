using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Outbox;
using Prm.Core.Settings;
using Prm.Core.Training;
using Prm.Storage;
using Prm.Workflows;

namespace Prm.Functions.Training;

/// <summary>Training and certification as one module: its settings section, use cases, projections, storage adapter and award workflow.</summary>
public static class TrainingModule
{
    public static IServiceCollection AddTraining(this IServiceCollection services, IConfiguration configuration)
    {
        var defaults = configuration.GetSection(TrainingSettings.ConfigurationSection).Get<TrainingSettings>() ?? new TrainingSettings();
        services.AddSingleton<ISettingsSection>(_ => TrainingSettings.Section(defaults));
        services.AddSingleton<TrainingNotices>();
        services.AddSingleton<TrainingCommits>();
        services.AddSingleton<CourseCatalog>();
        services.AddSingleton<TakeExam>();
        services.AddSingleton<Certifications>();
        services.AddSingleton<CertificationQueries>();
        services.AddSingleton<XapiStatements>();
        services.AddSingleton<AwardDeadlines>();
        services.AddSingleton<IAwardSteps>(sp => sp.GetRequiredService<AwardDeadlines>());
        services.AddSingleton<IOutboxProjection, CertificationGapProjection>();
        services.AddSingleton<IOutboxProjection, CourseStatsProjection>();
        services.AddSingleton<IOutboxProjection, AwardInvalidationProjection>();
        services.AddTrainingStorage();
        services.AddTrainingWorkflows();
        return services;
    }
}
