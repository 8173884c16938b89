using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Partners;
using Prm.Workflows.Deals;
using Prm.Workflows.Incentives;
using Prm.Workflows.Tiers;
using Prm.Workflows.Training;
using Prm.Workflows.Invitations;
using Prm.Workflows.Mdf;
using Prm.Workflows.Leads;
using Prm.Workflows.Onboarding;
using Prm.Workflows.Plans;
using Prm.Workflows.Analytics;

namespace Prm.Functions.Workflows;

/// <summary>
/// The Functions entry points of the class-based orchestrators and activities (the source generator is not available, so the
/// wrappers are written by hand; a test keeps their names equal to the class names).
/// </summary>
public sealed class WorkflowFunctions(IServiceProvider services)
{
    [Function(nameof(InvitationFollowUpOrchestrator))]
    public Task<string> InvitationFollowUp([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new InvitationFollowUpOrchestrator().RunAsync(context, context.GetInput<InvitationFollowUp>()!);

    [Function(nameof(SendInvitationReminderActivity))]
    public Task<InvitationReminderOutcome> SendInvitationReminder([ActivityTrigger] InvitationFollowUp input, CancellationToken ct) =>
        services.GetRequiredService<SendInvitationReminderActivity>().ExecuteAsync(input, ct);

    [Function(nameof(ApplicationReviewOrchestrator))]
    public Task<string> ApplicationReview([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new ApplicationReviewOrchestrator().RunAsync(context, context.GetInput<ApplicationReview>()!);

    [Function(nameof(ApplicationReviewStepActivity))]
    public Task<Prm.Core.Common.StepOutcome> ApplicationReviewStep([ActivityTrigger] ApplicationReviewStep input, CancellationToken ct) =>
        services.GetRequiredService<ApplicationReviewStepActivity>().ExecuteAsync(input, ct);

    [Function(nameof(ApplicationStateActivity))]
    public Task<Prm.Core.Onboarding.ApplicationWorkflowState?> ApplicationState([ActivityTrigger] string applicationId, CancellationToken ct) =>
        services.GetRequiredService<ApplicationStateActivity>().ExecuteAsync(applicationId, ct);

    [Function(nameof(AgreementOrchestrator))]
    public Task<string> Agreement([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new AgreementOrchestrator().RunAsync(context, context.GetInput<AgreementWait>()!);

    [Function(nameof(AgreementStepActivity))]
    public Task<Prm.Core.Common.StepOutcome> AgreementStep([ActivityTrigger] AgreementWaitStep input, CancellationToken ct) =>
        services.GetRequiredService<AgreementStepActivity>().ExecuteAsync(input, ct);

    [Function(nameof(OnboardingChecklistOrchestrator))]
    public Task<string> OnboardingChecklist([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new OnboardingChecklistOrchestrator().RunAsync(context, context.GetInput<ChecklistFollowUp>()!);

    [Function(nameof(ChecklistReminderActivity))]
    public Task<Prm.Core.Common.StepOutcome> ChecklistReminder([ActivityTrigger] ChecklistReminder input, CancellationToken ct) =>
        services.GetRequiredService<ChecklistReminderActivity>().ExecuteAsync(input, ct);

    [Function(nameof(DealOrchestrator))]
    public Task<string> Deal([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new DealOrchestrator().RunAsync(context, context.GetInput<DealWorkflow>()!);

    [Function(nameof(DealStepActivity))]
    public Task<Prm.Core.Common.StepOutcome> DealStep([ActivityTrigger] DealWorkflowStep input, CancellationToken ct) =>
        services.GetRequiredService<DealStepActivity>().ExecuteAsync(input, ct);

    [Function(nameof(DealStateActivity))]
    public Task<Prm.Core.Deals.DealWorkflowState?> DealState([ActivityTrigger] string dealId, CancellationToken ct) =>
        services.GetRequiredService<DealStateActivity>().ExecuteAsync(dealId, ct);

    [Function(nameof(MdfRequestOrchestrator))]
    public Task<string> MdfRequest([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new MdfRequestOrchestrator().RunAsync(context, context.GetInput<MdfRequestWorkflow>()!);

    [Function(nameof(MdfClaimReviewOrchestrator))]
    public Task<string> MdfClaimReview([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new MdfClaimReviewOrchestrator().RunAsync(context, context.GetInput<MdfClaimReview>()!);

    [Function(nameof(LeadOrchestrator))]
    public Task<string> Lead([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new LeadOrchestrator().RunAsync(context, context.GetInput<LeadWorkflow>()!);

    [Function(nameof(LeadStepActivity))]
    public Task<Prm.Core.Common.StepOutcome> LeadStep([ActivityTrigger] LeadWorkflowStep input, CancellationToken ct) =>
        services.GetRequiredService<LeadStepActivity>().ExecuteAsync(input, ct);

    [Function(nameof(LeadStateActivity))]
    public Task<Prm.Core.Leads.LeadWorkflowState?> LeadState([ActivityTrigger] string leadId, CancellationToken ct) =>
        services.GetRequiredService<LeadStateActivity>().ExecuteAsync(leadId, ct);

    [Function(nameof(MdfStepActivity))]
    public Task<Prm.Core.Common.StepOutcome> MdfStep([ActivityTrigger] Prm.Core.Mdf.MdfStep input, CancellationToken ct) =>
        services.GetRequiredService<MdfStepActivity>().ExecuteAsync(input, ct);

    [Function(nameof(MdfStateActivity))]
    public Task<Prm.Core.Mdf.MdfWorkflowState?> MdfState([ActivityTrigger] string requestId, CancellationToken ct) =>
        services.GetRequiredService<MdfStateActivity>().ExecuteAsync(requestId, ct);

    [Function(nameof(AwardOrchestrator))]
    public Task<string> Award([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new AwardOrchestrator().RunAsync(context, context.GetInput<AwardWorkflow>()!);

    [Function(nameof(AwardStepActivity))]
    public Task<Prm.Core.Common.StepOutcome> AwardStep([ActivityTrigger] AwardWorkflowStep input, CancellationToken ct) =>
        services.GetRequiredService<AwardStepActivity>().ExecuteAsync(input, ct);

    [Function(nameof(AwardStateActivity))]
    public Task<Prm.Core.Training.AwardWorkflowState?> AwardState([ActivityTrigger] string awardId, CancellationToken ct) =>
        services.GetRequiredService<AwardStateActivity>().ExecuteAsync(awardId, ct);

    [Function(nameof(TierDowngradeOrchestrator))]
    public Task<string> TierDowngrade([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new TierDowngradeOrchestrator().RunAsync(context, context.GetInput<TierDowngradeWorkflow>()!);

    [Function(nameof(TierDowngradeStepActivity))]
    public Task<Prm.Core.Common.StepOutcome> TierDowngradeStep([ActivityTrigger] TierDowngradeStep input, CancellationToken ct) =>
        services.GetRequiredService<TierDowngradeStepActivity>().ExecuteAsync(input, ct);

    [Function(nameof(TierNightlyOrchestrator))]
    public Task<TierNightlySummary> TierNightly([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new TierNightlyOrchestrator().RunAsync(context, context.GetInput<TierNightly>()!);

    [Function(nameof(TierNightlyPageActivity))]
    public Task<Prm.Core.Common.Page<string>> TierNightlyPage([ActivityTrigger] TierNightlyPage input, CancellationToken ct) =>
        services.GetRequiredService<TierNightlyPageActivity>().ExecuteAsync(input, ct);

    [Function(nameof(TierEvaluateBatchActivity))]
    public Task<Prm.Core.Tiers.NightlyBatchResult> TierEvaluateBatch([ActivityTrigger] IReadOnlyList<string> input, CancellationToken ct) =>
        services.GetRequiredService<TierEvaluateBatchActivity>().ExecuteAsync(input, ct);

    [Function(nameof(KpiRebuildOrchestrator))]
    public Task<KpiRebuildProgress> KpiRebuild([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new KpiRebuildOrchestrator().RunAsync(context, context.GetInput<KpiRebuildProgress>()!);

    [Function(nameof(KpiRebuildStepActivity))]
    public Task<Prm.Core.Analytics.KpiRebuildReport> KpiRebuildStep([ActivityTrigger] KpiRebuildStep input, CancellationToken ct) =>
        services.GetRequiredService<KpiRebuildStepActivity>().ExecuteAsync(input, ct);

    [Function(nameof(IncentiveCloseOrchestrator))]
    public Task<Prm.Core.Incentives.CloseResult> IncentiveClose([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new IncentiveCloseOrchestrator().RunAsync(context, context.GetInput<IncentiveClose>()!);

    [Function(nameof(IncentiveCloseStepActivity))]
    public Task<Prm.Core.Incentives.CloseResult> IncentiveCloseStep([ActivityTrigger] IncentiveCloseStep input, CancellationToken ct) =>
        services.GetRequiredService<IncentiveCloseStepActivity>().ExecuteAsync(input, ct);

    [Function(nameof(PlanReviewOrchestrator))]
    public Task<string> PlanReview([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new PlanReviewOrchestrator().RunAsync(context, context.GetInput<PlanWorkflow>()!);

    [Function(nameof(PlanStepActivity))]
    public Task<Prm.Core.Common.StepOutcome> PlanStep([ActivityTrigger] PlanWorkflowStep input, CancellationToken ct) =>
        services.GetRequiredService<PlanStepActivity>().ExecuteAsync(input, ct);

    [Function(nameof(PlanScheduleActivity))]
    public Task<List<Prm.Core.Plans.PlanDeadline>?> PlanSchedule([ActivityTrigger] string planId, CancellationToken ct) =>
        services.GetRequiredService<PlanScheduleActivity>().ExecuteAsync(planId, ct);

    [Function(nameof(Prm.Workflows.Notifications.DigestOrchestrator))]
    public Task<string> Digest([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new Prm.Workflows.Notifications.DigestOrchestrator().RunAsync(context, context.GetInput<Prm.Core.Notifications.DigestWorkflow>()!);

    [Function(nameof(Prm.Workflows.Notifications.DigestStepActivity))]
    public Task<Prm.Core.Notifications.DigestNext> DigestStep([ActivityTrigger] Prm.Core.Notifications.DigestWorkflow input, CancellationToken ct) =>
        services.GetRequiredService<Prm.Workflows.Notifications.DigestStepActivity>().ExecuteAsync(input, ct);
}
