using Prm.Core.Common;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Onboarding;

/// <summary>
/// The applicant's side, without an account: the status link from the receipt, and the answer to a request for information through the
/// single-use token from the question's email (the review starts again with fresh deadlines; the reviewers get the answer with new links).
/// </summary>
public sealed class ApplicationInfo(IApplicationStore store, ApplicationCommits commits, ProgramSettings settings, TimeProvider clock)
{
    /// <summary>What the applicant sees through the status link; a wrong token is 404.</summary>
    public async Task<ApplicationStatusDto> StatusAsync(string applicationId, string? token, CancellationToken ct)
    {
        var parts = token?.Split('.');
        if (parts is not { Length: 2 } || parts[0] != applicationId || !Ids.LooksLike(applicationId, "app")) throw new NotFoundException("Application");
        var found = await store.GetAsync(applicationId, ct);
        if (found is null || !found.Value.HasStatusSecret(parts[1])) throw new NotFoundException("Application");
        var a = found.Value;
        return new ApplicationStatusDto(a.Id, a.Status.ToString(), a.Company.LegalName, a.SubmittedAt, a.Status == ApplicationStatus.Rejected ? a.Decisions.LastOrDefault()?.Reason : null,
            a.Status == ApplicationStatus.InfoRequested ? a.InfoRequest : null, a.Status == ApplicationStatus.InfoRequested ? a.InfoDueAt : null);
    }

    /// <summary>
    /// The applicant answers a request for information with the single-use token from the email. A wrong or used token is 404, an
    /// application that no longer waits for an answer 409, past the due time 410.
    /// </summary>
    public async Task<ApplicationStatusDto> AnswerAsync(string applicationId, ApplicationInfoAnswer? body, CancellationToken ct)
    {
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        if (string.IsNullOrWhiteSpace(body.Answer)) throw new ValidationFailedException("answer", "answer is required.");
        if (body.Answer.Length > 5000) throw new ValidationFailedException("answer", "answer takes at most 5000 characters.");
        var parts = body.Token?.Split('.');
        if (parts is not { Length: 2 } || parts[0] != applicationId || !Ids.LooksLike(applicationId, "app")) throw new NotFoundException("Request for information");
        var rules = await settings.GetAsync<OnboardingSettings>(OnboardingSettings.SectionName, ct);
        // A review step (reminder) may write the application meanwhile: the answer is checked and applied again on the fresh copy.
        return await ReadDecideCommit.RunAsync(async _ =>
        {
            var found = await store.GetAsync(applicationId, ct);
            if (found is null || found.Value.InfoTokenHash is not { } hash || !InvitationCodes.Matches(parts[1], hash)) throw new NotFoundException("Request for information");
            var now = clock.GetUtcNow();
            var change = found.Value.AnswerInfo(body.Answer.Trim(), now, rules.ReviewDeadlinesFrom(now));
            await commits.CommitAsync(ApplicationCommits.ApplicantOf(found.Value), found, change, now, null, ct);
            var a = change.Application;
            return new ApplicationStatusDto(a.Id, a.Status.ToString(), a.Company.LegalName, a.SubmittedAt, null, null, null);
        }, ct: ct);
    }
}
