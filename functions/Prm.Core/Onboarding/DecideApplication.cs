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
        // The rules and the application are independent reads: side by side. An approval's partner also needs the staff (its channel
        // manager is checked before the commit): read beside them too (a refused approval wasted that read, nothing was written).
        var rulesRead = settings.GetAsync<OnboardingSettings>(OnboardingSettings.SectionName, ct);
        var staffRead = body?.Decision?.Trim() == "approve" ? partners.StaffAsync(ct) : null;
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
        var staffList = staffRead is null ? null : await staffRead;

        // A request for information carries a single-use secret: only its hash is stored, the applicant's email has the link.
        var secret = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var links = decision == "requestInfo"
            ? new ApplicantLinks(AnswerUrl: emails.PortalUrl($"/applications/{applicationId}/info?token={Uri.EscapeDataString(applicationId + "." + secret)}"))
            : null;

        var reserved = false;
        // An approval's partner is created beside its commit (see PartnerFromApplication): its transaction waits for the approval's.
        Task? creating = null;
        Versioned<PartnerApplication> committed;
        try
        {
            // A review step (reminder, escalation) or another decision may write the application meanwhile: the decision is decided
            // again on the fresh copy, so of concurrent decisions exactly one commits and the others are refused as already decided.
            committed = await ReadDecideCommit.RunAsync(async attempt =>
            {
                // A creation of an earlier attempt ended with its approval's failed commit; it is done before the next one starts.
                if (creating is not null) await Quietly(creating);
                creating = null;
                var found = attempt == 1 ? loaded : await commits.ReloadAsync(applicationId, ct);
                var now = clock.GetUtcNow();
                var record = new ApplicationDecision(decision, reason, caller.UserId, caller.DisplayName, now);
                var change = decision switch
                {
                    "approve" => found.Value.Approve(record, tier ?? PartnerTier.Registered),
                    "reject" => found.Value.Reject(record),
                    _ => found.Value.RequestInfo(record, InvitationCodes.Hash(secret), now + rules.InfoAnswerWithin),
                };
                Task? guard = null;
                if (decision == "approve" && !reserved)
                {
                    // What would refuse the partner refuses the approval while the application is still open; then its keys are held for it.
                    // The check and the reservation (key rows) run side by side with the outbox pointers, all before the transaction; a
                    // refused check gives the reservation back (below).
                    guard = ReserveAsync(partners.CheckAsync(found.Value, tier ?? PartnerTier.Registered, ct, staffList), partners.ReserveAsync(found.Value, ct), held => reserved = held);
                }
                else if (decision == "approve" && staffList is not null)
                {
                    // A retry after a 412 (the application changed, e.g. reassigned): the keys are held already, the partner is checked
                    // again against the fresh copy (in memory: the staff were read once).
                    guard = partners.CheckAsync(found.Value, tier ?? PartnerTier.Registered, ct, staffList);
                }
                TaskCompletionSource? transaction = null;
                if (decision == "approve")
                {
                    transaction = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    creating = CreatePartnerAsync(guard, transaction.Task, change.Application, staffList, ct);
                }
                try
                {
                    var etag = await commits.CommitAsync(caller, found, change, now, links, ct, alongside: guard, committed: transaction, staffList: staffList);
                    return new Versioned<PartnerApplication>(change.Application, etag);
                }
                catch
                {
                    // The reservation's outcome is known before the failure is handled (it may still run when the commit failed first).
                    transaction?.TrySetCanceled(CancellationToken.None);
                    if (guard is not null) await Quietly(guard);
                    throw;
                }
            }, ct: ct);
        }
        catch when (reserved)
        {
            // This approval did not commit: unless another approval of the application did, nothing may keep the partner's keys. The
            // creation beside it ended first (it claims a reserved key only when missing, and never gives keys back itself).
            if (creating is not null) await Quietly(creating);
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
        // The approval is committed; when its partner could not be created here, its outbox event (application.approved) creates it.
        if (creating is not null) await creating;
        return new Versioned<ApplicationDto>(ApplicationDto.From(committed.Value), committed.ETag);
    }

    /// <summary>The check and the reservation side by side; <paramref name="held"/> learns whether the keys were reserved, whatever the outcome.</summary>
    private static async Task ReserveAsync(Task check, Task reserve, Action<bool> held)
    {
        try
        {
            await Task.WhenAll(check, reserve);
        }
        finally
        {
            held(reserve.IsCompletedSuccessfully);
        }
    }

    /// <summary>
    /// Creates the approved partner once its keys are held (<paramref name="guard"/>), its transaction following the approval's
    /// (<paramref name="transaction"/>). Never throws but for cancellation: a failed approval has nothing to create, and an approval whose
    /// partner could not be created here has it created by its outbox event.
    /// </summary>
    private async Task CreatePartnerAsync(Task? guard, Task transaction, PartnerApplication approved, IReadOnlyList<StaffMember>? staffList, CancellationToken ct)
    {
        try
        {
            if (guard is not null) await guard;
            await partners.EnsureCreatedAsync(approved, ct, justApproved: true, approval: transaction, staffList: staffList);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
        }
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception)
        {
            // Only its end matters here; its failure is handled where it is reported.
        }
    }
}
