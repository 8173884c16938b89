using Microsoft.DurableTask;
using Prm.Workflows.Invitations;

namespace Prm.Workflows;

/// <summary>Every orchestrator and activity, registered once for every host (the local host's worker and the tests).</summary>
public static class WorkflowRegistry
{
    public static readonly IReadOnlyList<Type> Orchestrators = [typeof(InvitationFollowUpOrchestrator)];

    public static readonly IReadOnlyList<Type> Activities = [typeof(SendInvitationReminderActivity)];

    public static void Register(DurableTaskRegistry registry)
    {
        registry.AddOrchestrator<InvitationFollowUpOrchestrator>();
        registry.AddActivity<SendInvitationReminderActivity>();
    }
}
