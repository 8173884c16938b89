using Microsoft.DurableTask;
using Prm.Workflows.Analytics;
using Prm.Workflows.Deals;
using Prm.Workflows.Incentives;
using Prm.Workflows.Invitations;
using Prm.Workflows.Leads;
using Prm.Workflows.Mdf;
using Prm.Workflows.Onboarding;
using Prm.Workflows.Plans;
using Prm.Workflows.Tiers;
using Prm.Workflows.Training;

namespace Prm.Workflows;

/// <summary>Every orchestrator and activity, registered once for every host (the local host's worker and the tests).</summary>
public static class WorkflowRegistry
{
    /// <summary>Every orchestrator: the one list the hosts, the Functions wrappers' test and <see cref="Register"/> read.</summary>
    public static readonly IReadOnlyList<Type> Orchestrators = [typeof(InvitationFollowUpOrchestrator), typeof(ApplicationReviewOrchestrator), typeof(AgreementOrchestrator), typeof(OnboardingChecklistOrchestrator), typeof(DealOrchestrator), typeof(MdfRequestOrchestrator), typeof(MdfClaimReviewOrchestrator), typeof(LeadOrchestrator), typeof(AwardOrchestrator), typeof(TierDowngradeOrchestrator), typeof(TierNightlyOrchestrator), typeof(IncentiveCloseOrchestrator), typeof(PlanReviewOrchestrator), typeof(Notifications.DigestOrchestrator), typeof(KpiRebuildOrchestrator)];

    /// <summary>Every activity (registered for dependency injection and with the worker from here).</summary>
    public static readonly IReadOnlyList<Type> Activities = [typeof(SendInvitationReminderActivity), typeof(ApplicationReviewStepActivity), typeof(ApplicationStateActivity), typeof(AgreementStepActivity), typeof(ChecklistReminderActivity), typeof(DealStepActivity), typeof(DealStateActivity), typeof(MdfStepActivity), typeof(MdfStateActivity), typeof(LeadStepActivity), typeof(LeadStateActivity), typeof(AwardStepActivity), typeof(AwardStateActivity), typeof(TierDowngradeStepActivity), typeof(TierNightlyPageActivity), typeof(TierEvaluateBatchActivity), typeof(IncentiveCloseStepActivity), typeof(PlanStepActivity), typeof(PlanScheduleActivity), typeof(Notifications.DigestStepActivity), typeof(KpiRebuildStepActivity)];

    /// <summary>Registers every orchestrator and activity of the lists above (function name = class name).</summary>
    public static void Register(DurableTaskRegistry registry)
    {
        foreach (var orchestrator in Orchestrators) registry.AddOrchestrator(orchestrator);
        foreach (var activity in Activities) registry.AddActivity(activity);
    }
}
