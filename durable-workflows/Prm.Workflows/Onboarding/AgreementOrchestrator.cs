using Microsoft.DurableTask;
using Prm.Core.Common;
using Prm.Core.Onboarding;

namespace Prm.Workflows.Onboarding;

/// <summary>Input of the agreement wait: the partner and its deadlines (fixed at approval).</summary>
public sealed record AgreementWait(string PartnerId, DateTimeOffset FirstReminderAt, DateTimeOffset SecondReminderAt, DateTimeOffset ExpiresAt)
{
    public const string AcceptedEvent = "accepted";

    public static string InstanceId(string partnerId) => "agreement-" + partnerId;
}

/// <summary>Input of an agreement step.</summary>
public sealed record AgreementWaitStep(string PartnerId, AgreementStep Step, DateTimeOffset ExpiresAt);

/// <summary>Waits for the agreement to be accepted: reminders to the partner admin, then expiry (partner AgreementExpired).</summary>
public sealed class AgreementOrchestrator : TaskOrchestrator<AgreementWait, string>
{
    private static readonly TaskOptions Retry = ActivityRetry.Default;

    public override Task<string> RunAsync(TaskOrchestrationContext context, AgreementWait input) =>
        DeadlineRace.RunAsync(
            context,
            context.WaitForExternalEvent<string>(AgreementWait.AcceptedEvent),
            [(input.FirstReminderAt, AgreementStep.Remind), (input.SecondReminderAt, AgreementStep.Remind), (input.ExpiresAt, AgreementStep.Expire)],
            step => context.CallActivityAsync<StepOutcome>(nameof(AgreementStepActivity), new AgreementWaitStep(input.PartnerId, step, input.ExpiresAt), Retry),
            "expired");
}

/// <summary>Runs one agreement step (idempotent at the service: nothing happens once the partner is no longer pending).</summary>
public sealed class AgreementStepActivity(IAgreementSteps agreements) : TaskActivity<AgreementWaitStep, StepOutcome>
{
    public override Task<StepOutcome> RunAsync(TaskActivityContext context, AgreementWaitStep input) => ExecuteAsync(input, CancellationToken.None);

    public Task<StepOutcome> ExecuteAsync(AgreementWaitStep input, CancellationToken ct) =>
        StepMetrics.Counted("agreement", input.Step.ToString(), agreements.RunAgreementStepAsync(input.PartnerId, input.Step, input.ExpiresAt, ct));
}
