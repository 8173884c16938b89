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
        services.AddSingleton<IWorkflowClientContext>(sp => sp.GetRequiredService<DurableClientAccessor>());
        services.AddSingleton<IInvitationWorkflows, InvitationWorkflows>();
        services.AddSingleton<IOutboxProjection, InvitationWorkflowProjection>();
        services.AddSingleton<Operations.WorkflowOperations>();
        // Activities are resolved per call; every one of them is in the one list of the registry.
        foreach (var activity in WorkflowRegistry.Activities) services.AddTransient(activity);
        return services;
    }

    /// <summary>What starts and follows the onboarding workflows (review, agreement wait, checklist reminders): the projection from the outbox.</summary>
    public static IServiceCollection AddOnboardingWorkflows(this IServiceCollection services) =>
        services.AddSingleton<IOutboxProjection, ApplicationWorkflowProjection>();

    /// <summary>What starts and follows the deal workflows: the projection from the outbox (the activities are in <see cref="WorkflowRegistry"/>).</summary>
    public static IServiceCollection AddDealWorkflows(this IServiceCollection services) =>
        services.AddSingleton<IOutboxProjection, DealWorkflowProjection>();

    /// <summary>What starts and follows the MDF workflows: the projection from the outbox (the activities are in <see cref="WorkflowRegistry"/>).</summary>
    public static IServiceCollection AddMdfWorkflows(this IServiceCollection services) =>
        services.AddSingleton<IOutboxProjection, Mdf.MdfWorkflowProjection>();

    /// <summary>What starts and follows the lead workflows: the projection from the outbox (the activities are in <see cref="WorkflowRegistry"/>).</summary>
    public static IServiceCollection AddLeadWorkflows(this IServiceCollection services) =>
        services.AddSingleton<IOutboxProjection, Leads.LeadWorkflowProjection>();

    /// <summary>What starts and follows the award workflows: the projection from the outbox (the activities are in <see cref="WorkflowRegistry"/>).</summary>
    public static IServiceCollection AddTrainingWorkflows(this IServiceCollection services) =>
        services.AddSingleton<IOutboxProjection, Training.AwardWorkflowProjection>();

    /// <summary>What starts and follows the tier downgrade workflows: the projection from the outbox (the activities are in <see cref="WorkflowRegistry"/>).</summary>
    public static IServiceCollection AddTierWorkflows(this IServiceCollection services) =>
        services.AddSingleton<IOutboxProjection, Tiers.TierWorkflowProjection>();

    /// <summary>What starts and wakes the incentive period-close workflows: the projection from the outbox (the activities are in <see cref="WorkflowRegistry"/>).</summary>
    public static IServiceCollection AddIncentiveWorkflows(this IServiceCollection services) =>
        services.AddSingleton<IOutboxProjection, Incentives.IncentiveWorkflowProjection>();

    /// <summary>What starts the digest workflows (one per person and cadence): the projection from the outbox.</summary>
    public static IServiceCollection AddDigestWorkflows(this IServiceCollection services) =>
        services.AddSingleton<IOutboxProjection, Notifications.DigestWorkflowProjection>();

    /// <summary>What starts the plan workflows (activation, quarterly reviews, close): the projection from the outbox (the activities are in <see cref="WorkflowRegistry"/>).</summary>
    public static IServiceCollection AddPlanWorkflows(this IServiceCollection services) =>
        services.AddSingleton<IOutboxProjection, Plans.PlanWorkflowProjection>();
}
