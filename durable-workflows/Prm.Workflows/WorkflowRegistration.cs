using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Workflows.Deals;
using Prm.Workflows.Invitations;
using Prm.Workflows.Onboarding;

namespace Prm.Workflows;

/// <summary>Registers what the workflows need and what starts them, for every host.</summary>
public static class WorkflowRegistration
{
    public static IServiceCollection AddPrmWorkflows(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(configuration.GetSection(WorkflowOptions.SectionName).Get<WorkflowOptions>() ?? new WorkflowOptions());
        services.AddSingleton<DurableClientAccessor>();
        services.AddSingleton<IInvitationWorkflows, InvitationWorkflows>();
        services.AddSingleton<IOutboxProjection, InvitationWorkflowProjection>();
        services.AddTransient<SendInvitationReminderActivity>();
        services.AddSingleton<IOutboxProjection, ApplicationWorkflowProjection>();
        services.AddTransient<ApplicationReviewStepActivity>();
        services.AddTransient<AgreementStepActivity>();
        services.AddTransient<ChecklistReminderActivity>();
        services.AddSingleton<IOutboxProjection, DealWorkflowProjection>();
        services.AddTransient<DealStepActivity>();
        services.AddTransient<DealStateActivity>();
        services.AddSingleton<IOutboxProjection, Mdf.MdfWorkflowProjection>();
        services.AddTransient<Mdf.MdfStepActivity>();
        return services;
    }
}
