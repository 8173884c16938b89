using Microsoft.DurableTask;
using Prm.Workflows.Deals;
using Prm.Workflows.Invitations;
using Prm.Workflows.Mdf;
using Prm.Workflows.Onboarding;

namespace Prm.Workflows;

/// <summary>Every orchestrator and activity, registered once for every host (the local host's worker and the tests).</summary>
public static class WorkflowRegistry
{
    public static readonly IReadOnlyList<Type> Orchestrators = [typeof(InvitationFollowUpOrchestrator), typeof(ApplicationReviewOrchestrator), typeof(AgreementOrchestrator), typeof(OnboardingChecklistOrchestrator), typeof(DealOrchestrator), typeof(MdfRequestOrchestrator), typeof(MdfClaimReviewOrchestrator)];

    public static readonly IReadOnlyList<Type> Activities = [typeof(SendInvitationReminderActivity), typeof(ApplicationReviewStepActivity), typeof(AgreementStepActivity), typeof(ChecklistReminderActivity), typeof(DealStepActivity), typeof(DealStateActivity), typeof(MdfStepActivity)];

    public static void Register(DurableTaskRegistry registry)
    {
        registry.AddOrchestrator<InvitationFollowUpOrchestrator>();
        registry.AddActivity<SendInvitationReminderActivity>();
        registry.AddOrchestrator<ApplicationReviewOrchestrator>();
        registry.AddActivity<ApplicationReviewStepActivity>();
        registry.AddOrchestrator<AgreementOrchestrator>();
        registry.AddActivity<AgreementStepActivity>();
        registry.AddOrchestrator<OnboardingChecklistOrchestrator>();
        registry.AddActivity<ChecklistReminderActivity>();
        registry.AddOrchestrator<DealOrchestrator>();
        registry.AddActivity<DealStepActivity>();
        registry.AddActivity<DealStateActivity>();
        registry.AddOrchestrator<MdfRequestOrchestrator>();
        registry.AddOrchestrator<MdfClaimReviewOrchestrator>();
        registry.AddActivity<MdfStepActivity>();
    }
}
