using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Identity.Web;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Notifications;
using Prm.Core.Partners;
using Prm.Functions.Content;
using Prm.Functions.Deals;
using Prm.Functions.Http;
using Prm.Functions.Leads;
using Prm.Functions.Mdf;
using Prm.Functions.Onboarding;
using Prm.Functions.Tiers;
using Prm.Functions.Training;
using Prm.Storage;
using Prm.Workflows;

namespace Prm.Functions;

/// <summary>Registers the application: identity, core services, adapters. Both hosts (Functions, local host) call this.</summary>
public static class AppRegistration
{
    public const string AzureAdSection = "AzureAd";

    public static IServiceCollection AddPrmApplication(this IServiceCollection services, IConfiguration configuration)
    {
        var program = configuration.GetSection(ProgramOptions.SectionName).Get<ProgramOptions>() ?? new ProgramOptions();
        services.AddSingleton(program);
        services.AddSingleton(configuration.GetSection(ForwardingOptions.SectionName).Get<ForwardingOptions>() ?? new ForwardingOptions());
        services.AddSingleton(TimeProvider.System);

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddMicrosoftIdentityWebApi(configuration.GetSection(AzureAdSection));
        // A rejected token is logged once per interval at Information (anonymous callers could otherwise flood the log with errors).
        services.AddSingleton<RejectedTokenLog>();
        services.AddSingleton<Microsoft.Extensions.Options.IPostConfigureOptions<JwtBearerOptions>, RejectedTokenLogSetup>();
        services.AddLogging(logging =>
        {
            foreach (var category in RejectedTokenLog.NoisyCategories) logging.AddFilter(category, Microsoft.Extensions.Logging.LogLevel.Warning);
            logging.AddFilter("Microsoft.IdentityModel.LoggingExtensions.IdentityLoggerAdapter", Microsoft.Extensions.Logging.LogLevel.None);
        });

        services.AddSingleton(sp => new MembershipCache(sp.GetRequiredService<TimeProvider>(), TimeSpan.FromSeconds(program.MembershipCacheSeconds)));
        services.AddSingleton<CallerResolver>();
        services.AddSingleton<IdempotentCreates>();
        services.AddSingleton<RequestGate>();
        services.AddSingleton<EmailComposer>();
        Branding.BrandingModule.AddBranding(services, configuration);
        services.AddSingleton<PartnerDirectory>();
        services.AddSingleton<IChecklistReminders>(sp => sp.GetRequiredService<PartnerDirectory>());
        services.AddSingleton<PartnerTeam>();
        services.AddSingleton<IInvitationReminders>(sp => sp.GetRequiredService<PartnerTeam>());
        services.AddSingleton<PartnerImport>();
        services.AddSingleton<InvitationAcceptance>();
        services.AddSingleton<Prm.Core.Outbox.IOutboxProjection, OnboardingChecklistProjection>();
        services.AddSingleton<Prm.Core.Settings.ProgramSettings>();
        services.AddSingleton<Prm.Core.Approvals.DecisionLinks>();
        services.AddSingleton<Prm.Core.Approvals.DecisionPages>();
        services.AddSingleton<Prm.Core.Approvals.DecisionLinkRouter>();
        services.AddOnboarding(configuration);
        services.AddDeals(configuration);
        services.AddMdf(configuration);
        services.AddContent(configuration);
        services.AddLeads(configuration);
        services.AddTraining(configuration);
        Integration.IntegrationModule.AddIntegration(services, configuration);
        // After deals and training: the tier projection reads the counters their projections keep.
        services.AddTiers(configuration);
        Analytics.AnalyticsModule.AddAnalytics(services, configuration);
        // After deals: the incentive projection turns the deal events into ledger inputs.
        Incentives.IncentivesModule.AddIncentives(services);
        Portal.PortalModule.AddPortal(services);
        Plans.PlansModule.AddPlans(services, configuration);
        // After analytics: a person without a time zone of their own follows the program's (the analytics calendar's).
        Notifications.NotificationsModule.AddNotifications(services, configuration);
        services.AddPrmStorage(configuration);
        services.AddPrmWorkflows(configuration);
        return services;
    }
}
