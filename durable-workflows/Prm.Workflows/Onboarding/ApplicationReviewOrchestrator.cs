using Microsoft.DurableTask;
using Prm.Core.Onboarding;

namespace Prm.Workflows.Onboarding;

/// <summary>Input of the review: the application and its deadlines (fixed at submission).</summary>
public sealed record ApplicationReview(string ApplicationId, DateTimeOffset RemindAt, DateTimeOffset EscalateAt, DateTimeOffset ExpiresAt)
{
    public const string DecidedEvent = "decided";

    public static string InstanceId(string applicationId) => "application-" + applicationId;
}

/// <summary>Input of a review step.</summary>
public sealed record ApplicationReviewStep(string ApplicationId, ReviewStep Step);

/// <summary>
/// Races the decision against the review deadlines: a reminder to the assignee, then an escalation to the admins, then expiry.
/// The decision (from the API) arrives as an external event; the timer that lost is cancelled.
/// </summary>
public sealed class ApplicationReviewOrchestrator : TaskOrchestrator<ApplicationReview, string>
{
    private static readonly TaskOptions Retry = TaskOptions.FromRetryPolicy(new RetryPolicy(5, TimeSpan.FromSeconds(5), 2, TimeSpan.FromMinutes(5)));

    public override Task<string> RunAsync(TaskOrchestrationContext context, ApplicationReview input) =>
        DeadlineRace.RunAsync(
            context,
            context.WaitForExternalEvent<string>(ApplicationReview.DecidedEvent),
            [(input.RemindAt, ReviewStep.Remind), (input.EscalateAt, ReviewStep.Escalate), (input.ExpiresAt, ReviewStep.Expire)],
            step => context.CallActivityAsync<string>(nameof(ApplicationReviewStepActivity), new ApplicationReviewStep(input.ApplicationId, step), Retry),
            "expired");
}

/// <summary>Runs one review step through the application service (idempotent: a retried step sends nothing twice).</summary>
public sealed class ApplicationReviewStepActivity(IApplicationReviewSteps applications) : TaskActivity<ApplicationReviewStep, string>
{
    public override Task<string> RunAsync(TaskActivityContext context, ApplicationReviewStep input) => ExecuteAsync(input, CancellationToken.None);

    public Task<string> ExecuteAsync(ApplicationReviewStep input, CancellationToken ct) => applications.RunReviewStepAsync(input.ApplicationId, input.Step, ct);
}
