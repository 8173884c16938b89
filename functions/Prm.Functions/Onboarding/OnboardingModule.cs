using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Approvals;
using Prm.Core.Onboarding;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Core.Settings;
using Prm.Storage;
using Prm.Workflows;

namespace Prm.Functions.Onboarding;

/// <summary>
/// Onboarding as one module (from "become a partner" to an active partner): its settings section, use cases, decision-link subjects,
/// storage adapters and workflow projection. <see cref="AppRegistration"/> adds it in one line.
/// </summary>
public static class OnboardingModule
{
    public static IServiceCollection AddOnboarding(this IServiceCollection services, IConfiguration configuration)
    {
        // One settings type: defaults in code, configuration may override them at start, admins at run time (settings API).
        var defaults = Defaults(configuration);
        services.AddSingleton<ISettingsSection>(sp => OnboardingSettings.Section(defaults, sp.GetRequiredService<IStaffStore>(), sp.GetRequiredService<IAgreementDocuments>()));
        services.AddSingleton(configuration.GetSection(SubmissionLimits.SectionName).Get<SubmissionLimits>() ?? new SubmissionLimits());
        services.AddSingleton<ApplicationNotices>();
        services.AddSingleton<ApplicationCommits>();
        services.AddSingleton<SubmitApplication>();
        services.AddSingleton<DecideApplication>();
        services.AddSingleton<ApplicationInfo>();
        services.AddSingleton<ApplicationQueries>();
        services.AddSingleton<ApplicationDeadlines>();
        services.AddSingleton<IApplicationReviewSteps>(sp => sp.GetRequiredService<ApplicationDeadlines>());
        services.AddSingleton<PartnerAgreements>();
        services.AddSingleton<IAgreementSteps>(sp => sp.GetRequiredService<PartnerAgreements>());
        services.AddSingleton<PartnerFromApplication>();
        // Before the workflow projection: an approval's partner exists before its agreement wait starts.
        services.AddSingleton<IOutboxProjection, ApplicationPartnerProjection>();
        services.AddSingleton<IDecisionSubject, ApplicationDecisionLinks>();
        services.AddSingleton<IDecisionSubject, AgreementDecisionLinks>();
        services.AddOnboardingStorage(configuration);
        services.AddOnboardingWorkflows();
        return services;
    }

    /// <summary>
    /// The defaults of <see cref="OnboardingSettings"/>: its initializers, overridden at start by the configuration sections that always
    /// held them — "Onboarding" (fit rules, checklist reminders), "Review" (review and information deadlines) and "Agreement"
    /// (FirstReminderAfter, SecondReminderAfter, ExpiresAfter; CurrentVersion, the seeded document, is the default agreement version).
    /// </summary>
    private static OnboardingSettings Defaults(IConfiguration configuration)
    {
        var defaults = configuration.GetSection(OnboardingSettings.ConfigurationSection).Get<OnboardingSettings>() ?? new OnboardingSettings();
        configuration.GetSection(OnboardingSettings.ReviewConfigurationSection).Bind(defaults);
        var agreement = configuration.GetSection(OnboardingSettings.AgreementConfigurationSection);
        return defaults with
        {
            AgreementVersion = agreement.GetValue(nameof(AgreementOptions.CurrentVersion), defaults.AgreementVersion)!,
            AgreementFirstReminderAfter = agreement.GetValue("FirstReminderAfter", defaults.AgreementFirstReminderAfter),
            AgreementSecondReminderAfter = agreement.GetValue("SecondReminderAfter", defaults.AgreementSecondReminderAfter),
            AgreementExpiresAfter = agreement.GetValue("ExpiresAfter", defaults.AgreementExpiresAfter),
        };
    }
}
