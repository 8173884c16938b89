using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Onboarding;

/// <summary>
/// Loads applications as <see cref="ApplicationAccess"/> allows and commits transitions: the application with its timeline entry, events
/// and emails in one transaction, guarded by the ETag of the copy the transition was decided on.
/// </summary>
public sealed class ApplicationCommits(IApplicationStore store, ApplicationNotices notices)
{
    /// <summary>An application the caller may read, or 404 (also without a storage read for non-vendors and ids that cannot be one); 403 when readable but not <paramref name="operation"/>.</summary>
    public async Task<Versioned<PartnerApplication>> LoadAsync(Caller caller, string applicationId, ApplicationOperation operation, CancellationToken ct)
    {
        if (!ApplicationAccess.MayAddress(caller) || !Ids.LooksLike(applicationId, "app")) throw new NotFoundException("Application");
        var found = await store.GetAsync(applicationId, ct);
        if (found is null || !ApplicationAccess.Allows(caller, ApplicationOperation.Read, found.Value)) throw new NotFoundException("Application");
        if (!ApplicationAccess.Allows(caller, operation, found.Value)) throw new ForbiddenException("Only the assigned channel manager and program admins decide applications.");
        return found;
    }

    /// <summary>The application as stored now (a retry after a lost race), 404 when it is gone.</summary>
    public async Task<Versioned<PartnerApplication>> ReloadAsync(string applicationId, CancellationToken ct) =>
        await store.GetAsync(applicationId, ct) ?? throw new NotFoundException("Application");

    /// <summary>Stores a new application (<see cref="PartnerApplication.Submitted"/>) with its timeline entry, events and emails.</summary>
    /// <param name="staffList">All staff, read by the caller beside its other reads (the reviewers come from it).</param>
    public async Task CreateAsync(ApplicationChange change, DateTimeOffset now, ApplicantLinks applicant, CancellationToken ct, IReadOnlyList<StaffMember>? staffList = null)
    {
        var a = change.Application;
        // The reviewers' decision links' rows are written beside the outbox pointers, both before the transaction.
        var linkWrites = new List<Task>();
        var outbox = await notices.OutboxAsync(change, now, applicant, ct, staffList, linkWrites);
        var audit = Entry(ApplicantOf(a), now, change.Action, a.Id, Diff.Between(null, a.Snapshot()), change.Note);
        await store.CreateAsync(a, new ChangeSet([audit], outbox), ct, Task.WhenAll(linkWrites));
    }

    /// <summary>Commits <paramref name="change"/> of <paramref name="found"/> (If-Match its ETag; 412 when someone committed meanwhile). Returns the new ETag.</summary>
    /// <param name="alongside">Checks and writes that must succeed before the transaction; they run beside the decision links' rows and the outbox pointers.</param>
    /// <param name="committed">Completed when the transaction committed (failed when it did not), before the index and key row updates that follow it.</param>
    /// <param name="staffList">All staff, when the caller read them already (the reviewers come from it).</param>
    public async Task<string> CommitAsync(Caller actor, Versioned<PartnerApplication> found, ApplicationChange change, DateTimeOffset now, ApplicantLinks? applicant, CancellationToken ct,
        Task? alongside = null, TaskCompletionSource? committed = null, IReadOnlyList<StaffMember>? staffList = null)
    {
        try
        {
            var a = change.Application;
            var linkWrites = new List<Task>();
            var outbox = await notices.OutboxAsync(change, now, applicant, ct, staffList, linkWrites);
            var audit = Entry(actor, now, change.Action, a.Id, Diff.Between(found.Value.Snapshot(), a.Snapshot()), change.Note);
            if (alongside is not null) linkWrites.Add(alongside);
            var etag = await store.UpdateAsync(a, found.ETag, new ChangeSet([audit], outbox), ct, Task.WhenAll(linkWrites), committed);
            // The store completes it right after its transaction; a store that does not must not leave a waiting partner hanging.
            committed?.TrySetResult();
            return etag;
        }
        catch (Exception ex)
        {
            // Whatever failed before the transaction (or in it) means no commit.
            committed?.TrySetException(ex);
            throw;
        }
    }

    /// <summary>The applicant as the actor of the timeline (the public form, the answer to a request for information).</summary>
    public static Caller ApplicantOf(PartnerApplication a) => new("applicant", a.Applicant.Email, a.Applicant.Name, [], null, null);

    private static AuditEntry Entry(Caller actor, DateTimeOffset now, string action, string applicationId, IReadOnlyList<FieldChange> changes, string? note) =>
        new(Ids.New("aud"), now, actor.UserId, actor.DisplayName, action, "application", applicationId, changes, note);
}
