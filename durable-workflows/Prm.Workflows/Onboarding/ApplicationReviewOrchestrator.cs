using Microsoft.DurableTask;
using Prm.Core.Onboarding;

namespace Prm.Workflows.Onboarding;

/// <summary>Input of the review: the application and its deadlines (fixed at submission, and again when the applicant answers a request for information).</summary>
public sealed record ApplicationReview(string ApplicationId, DateTimeOffset RemindAt, DateTimeOffset EscalateAt, DateTimeOffset ExpiresAt)
{
    public const string DecidedEvent = "decided";
    public const string AnsweredEvent = "answered";

    public static string InstanceId(string applicationId) => "application-" + applicationId;
}

/// <summary>A decision reaching the review: the new status, and for a request for information when the answer is due.</summary>
public sealed record ReviewSignal(string Status, DateTimeOffset? InfoDueAt = null);

/// <summary>Input of a review step.</summary>
public sealed record ApplicationReviewStep(string ApplicationId, ReviewStep Step);

/// <summary>
/// Races the decision against the review deadlines: a reminder to the assignee, then an escalation to the admins, then expiry.
/// The decision (from the API) arrives as an external event; the timer that lost is cancelled. A request for information waits
/// for the applicant's answer (racing its own deadline and a decision) and then starts the review again (ContinueAsNew) with the
/// deadlines the answer set; no answer in time expires the application.
/// </summary>
public sealed class ApplicationReviewOrchestrator : TaskOrchestrator<ApplicationReview, string>
{
    private static readonly TaskOptions Retry = ActivityRetry.Default;

    public override async Task<string> RunAsync(TaskOrchestrationContext context, ApplicationReview input)
    {
        var decided = context.WaitForExternalEvent<ReviewSignal>(ApplicationReview.DecidedEvent);
        var outcome = await DeadlineRace.RunAsync(
            context,
            StatusOf(decided),
            [(input.RemindAt, ReviewStep.Remind), (input.EscalateAt, ReviewStep.Escalate), (input.ExpiresAt, ReviewStep.Expire)],
            step => Step(context, input.ApplicationId, step),
            "expired");
        if (outcome != nameof(ApplicationStatus.InfoRequested)) return outcome;

        var infoDueAt = decided.Result.InfoDueAt ?? context.CurrentUtcDateTime.AddDays(14);
        var answered = context.WaitForExternalEvent<ApplicationReview>(ApplicationReview.AnsweredEvent);
        var decidedMeanwhile = context.WaitForExternalEvent<ReviewSignal>(ApplicationReview.DecidedEvent);
        using var cancel = new CancellationTokenSource();
        var timer = context.CreateTimer(infoDueAt.UtcDateTime, cancel.Token);
        var first = await Task.WhenAny(answered, decidedMeanwhile, timer);
        if (first == answered)
        {
            cancel.Cancel();
            context.ContinueAsNew(answered.Result with { ApplicationId = input.ApplicationId });
            return "infoAnswered";
        }
        if (first == decidedMeanwhile)
        {
            cancel.Cancel();
            return decidedMeanwhile.Result.Status;
        }
        return await Step(context, input.ApplicationId, ReviewStep.Expire) == "closed" ? "closed" : "expired";
    }

    private static async Task<string> StatusOf(Task<ReviewSignal> signal) => (await signal).Status;

    private static Task<string> Step(TaskOrchestrationContext context, string applicationId, ReviewStep step) =>
        context.CallActivityAsync<string>(nameof(ApplicationReviewStepActivity), new ApplicationReviewStep(applicationId, step), Retry);
}

/// <summary>Runs one review step through the application service (idempotent: a retried step sends nothing twice).</summary>
public sealed class ApplicationReviewStepActivity(IApplicationReviewSteps applications) : TaskActivity<ApplicationReviewStep, string>
{
    public override Task<string> RunAsync(TaskActivityContext context, ApplicationReviewStep input) => ExecuteAsync(input, CancellationToken.None);

    public Task<string> ExecuteAsync(ApplicationReviewStep input, CancellationToken ct) => applications.RunReviewStepAsync(input.ApplicationId, input.Step, ct);
}
