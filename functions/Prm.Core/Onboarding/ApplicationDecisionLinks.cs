using Prm.Core.Approvals;

namespace Prm.Core.Onboarding;

/// <summary>Decision links of onboarding: the review of a partner application (approve, reject, request information).</summary>
public sealed class ApplicationDecisionLinks(ApplicationQueries applications, DecideApplication decide, DecisionPages pages) : IDecisionSubject
{
    /// <summary>The kind of decision link of an application review.</summary>
    public const string Kind = "applicationReview";

    public IReadOnlyList<string> Kinds => [Kind];

    public async Task<DecisionView> ViewAsync(DecisionLink link, CancellationToken ct)
    {
        var application = (await applications.GetAsync(DecisionLinks.RecipientOf(link), link.SubjectId, ct)).Value;
        var decided = application.Decisions.LastOrDefault(d => d.Decision is "approve" or "reject");
        string? closed = null;
        if (decided is not null || application.Status is not (nameof(ApplicationStatus.UnderReview) or nameof(ApplicationStatus.InfoRequested)))
        {
            closed = decided is null
                ? application.Status == nameof(ApplicationStatus.Expired) ? "This application expired: nobody decided it before the review deadline." : $"This application is {application.Status}."
                : $"Already decided by {decided.DecidedByName} at {DecisionPages.Format(decided.DecidedAt)}: {decided.Decision}.";
        }
        return new DecisionView(closed, (message, decidable) => Render(message, application, decidable), decided is null && application.Status == nameof(ApplicationStatus.Expired));
    }

    public async Task<DecisionDone> DecideAsync(DecisionLink link, string decision, string? reason, DecisionContext context, CancellationToken ct)
    {
        var result = (await decide.DecideAsync(DecisionLinks.RecipientOf(link), link.SubjectId, new ApplicationDecisionRequest(decision, reason, null), ct)).Value;
        var message = decision switch
        {
            "approve" => $"Approved. {result.Company.LegalName} becomes a partner; {result.Applicant.Name} is invited as its partner admin.",
            "reject" => $"Rejected. {result.Applicant.Name} is told the reason.",
            _ => $"Information requested. {result.Applicant.Name} gets your question by email; you get the answer with a new link.",
        };
        return new DecisionDone(decision switch { "approve" => "approved", "reject" => "rejected", _ => "information requested" }, Render(message, result, null));
    }

    private string Render(string? message, ApplicationDto application, DecisionLink? decidable) => pages.Render(new
    {
        title = $"Partner application: {application.Company.LegalName}",
        message,
        application,
        submittedAt = DecisionPages.Format(application.SubmittedAt),
        fitReasons = string.Join("; ", application.Screening.FitReasons),
        flags = application.Screening.Flags,
        matches = application.Screening.DuplicateMatches,
        canDecide = decidable is not null,
        canRequestInfo = decidable?.Decisions.Contains("requestInfo") == true && application.Status == nameof(ApplicationStatus.UnderReview),
        recipientName = decidable?.RecipientName,
        expiresAt = decidable is { } open ? DecisionPages.Format(open.ExpiresAt) : null,
    });
}
