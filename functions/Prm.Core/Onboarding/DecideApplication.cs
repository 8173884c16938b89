using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Notifications;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Onboarding;

/// <summary>
/// The assignee (or an admin) decides an application, through the API or an emailed decision link: approve (the partner is created,
/// AgreementPending, with the applicant invited as its first partner admin — see <see cref="PartnerFromApplication"/> for the order),
/// reject (final, the applicant is told why), or request information (the applicant gets a single-use link to answer until the info
/// deadline; the review starts again with the answer).
/// </summary>
public sealed class DecideApplication(ApplicationCommits commits, PartnerFromApplication partners, ProgramSettings settings, ProgramOptions program, TimeProvider clock, EmailComposer? composer = null)
{
    /// <summary>Portal links come from the one accessor (the branding's portal address, else configuration).</summary>
    private readonly EmailComposer emails = composer ?? new EmailComposer(null, program);

    public async Task<Versioned<ApplicationDto>> DecideAsync(Caller caller, string applicationId, ApplicationDecisionRequest? body, CancellationToken ct)
    {
        // The rules and the application are independent reads: side by side.
        var rulesRead = settings.GetAsync<OnboardingSettings>(OnboardingSettings.SectionName, ct);
        var loaded = await commits.LoadAsync(caller, applicationId, ApplicationOperation.Decide, ct);
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        var decision = body.Decision?.Trim();
        if (decision is not ("approve" or "reject" or "requestInfo")) throw new ValidationFailedException("decision", "decision must be approve, reject or requestInfo.");
        var tier = Text.ParseEnum<PartnerTier>(body.Tier);
        if (body.Tier is not null && tier is null) throw new ValidationFailedException("tier", "tier must be one of: " + string.Join(", ", Enum.GetValues<PartnerTier>().Select(t => Text.Camel(t))) + ".");
        if (decision == "reject" && string.IsNullOrWhiteSpace(body.Reason)) throw new ValidationFailedException("reason", "reason is required to reject: the applicant is told why.");
        if (decision == "requestInfo" && string.IsNullOrWhiteSpace(body.Reason)) throw new ValidationFailedException("reason", "reason is required to request information: it is the question the applicant answers.");
        if (body.Reason?.Length > 2000) throw new ValidationFailedException("reason", "reason takes at most 2000 characters.");
        var reason = body.Reason?.Trim();
        var rules = await rulesRead;

        // A request for information carries a single-use secret: only its hash is stored, the applicant's email has the link.
        var secret = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var links = decision == "requestInfo"
            ? new ApplicantLinks(AnswerUrl: emails.PortalUrl($"/applications/{applicationId}/info?token={Uri.EscapeDataString(applicationId + "." + secret)}"))
            : null;

        var reserved = false;
        Versioned<PartnerApplication> committed;
        try
        {
            // A review step (reminder, escalation) or another decision may write the application meanwhile: the decision is decided
            // again on the fresh copy, so of concurrent decisions exactly one commits and the others are refused as already decided.
            committed = await ReadDecideCommit.RunAsync(async attempt =>
            {
                var found = attempt == 1 ? loaded : await commits.ReloadAsync(applicationId, ct);
                var now = clock.GetUtcNow();
                var record = new ApplicationDecision(decision, reason, caller.UserId, caller.DisplayName, now);
                var change = decision switch
                {
                    "approve" => found.Value.Approve(record, tier ?? PartnerTier.Registered),
                    "reject" => found.Value.Reject(record),
                    _ => found.Value.RequestInfo(record, InvitationCodes.Hash(secret), now + rules.InfoAnswerWithin),
                };
                if (decision == "approve" && !reserved)
                {
                    // What would refuse the partner refuses the approval while the application is still open; then its keys are held for it.
                    // The check (reads) and the reservation (key rows) run side by side; a refused check gives the reservation back (below).
                    var check = partners.CheckAsync(found.Value, tier ?? PartnerTier.Registered, ct);
                    var reserve = partners.ReserveAsync(found.Value, ct);
                    try
                    {
                        await Task.WhenAll(check, reserve);
                    }
                    finally
                    {
                        reserved = reserve.IsCompletedSuccessfully;
                    }
                }
                var etag = await commits.CommitAsync(caller, found, change, now, links, ct);
                return new Versioned<PartnerApplication>(change.Application, etag);
            }, ct: ct);
        }
        catch when (reserved)
        {
            // This approval did not commit: unless another approval of the application did, nothing may keep the partner's keys.
            try
            {
                await partners.ReleaseUnlessApprovedAsync(applicationId, CancellationToken.None);
            }
            catch (Exception)
            {
                // The caller hears why the approval failed; the reservation goes back with the decision that ends the application
                // (ApplicationPartnerProjection), or serves the next approval of it.
            }
            throw;
        }
        if (decision == "approve")
        {
            try
            {
                await partners.EnsureCreatedAsync(committed.Value, ct, justApproved: true);
            }
            catch (Exception) when (!ct.IsCancellationRequested)
            {
                // The approval is committed; its outbox event (application.approved) creates the partner when this attempt could not.
            }
        }
        return new Versioned<ApplicationDto>(ApplicationDto.From(committed.Value), committed.ETag);
    }
}
