using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Leads;

/// <summary>
/// Loads leads as <see cref="LeadAccess"/> allows and commits transitions: the lead with its timeline entry, events and emails in one
/// transaction (its own partition), re-deciding on a fresh copy when someone committed meanwhile (the ETag decides who won).
/// </summary>
public sealed class LeadCommits(ILeadStore store, LeadNotices notices, TimeProvider clock)
{
    /// <summary>A lead the caller may read, or 404 (also for a malformed id, without a storage read); 403 when the caller may read it but not do <paramref name="operation"/>.</summary>
    public async Task<Versioned<Lead>> LoadAsync(Caller caller, string leadId, LeadOperation operation, CancellationToken ct)
    {
        if (!LeadIds.LooksLike(leadId)) throw new NotFoundException("Lead");
        if (caller.PartnerId is null && !caller.IsVendor && !caller.IsIntegration) throw new NotFoundException("Lead");
        var found = await store.GetAsync(leadId, ct) ?? throw new NotFoundException("Lead");
        Check(caller, operation, found.Value);
        return found;
    }

    public static void Check(Caller caller, LeadOperation operation, Lead lead)
    {
        if (!LeadAccess.Allows(caller, LeadOperation.Read, lead)) throw new NotFoundException("Lead");
        if (!LeadAccess.Allows(caller, operation, lead))
        {
            throw new ForbiddenException(operation switch
            {
                LeadOperation.Work => "Only the partner's admins and the assigned rep work this lead.",
                LeadOperation.Assign => "Only the partner's admins assign leads.",
                LeadOperation.Steer => "Only program admins and channel managers steer leads.",
                _ => "This lead's offer is not yours to answer.",
            });
        }
    }

    /// <summary>Loads, applies <paramref name="transition"/> (async: it may route) and commits; on a lost race reloads, checks access again and re-decides.</summary>
    public Task<Versioned<Lead>> TransitionAsync(Caller caller, string leadId, LeadOperation operation, Func<Lead, DateTimeOffset, Task<LeadChange>> transition, CancellationToken ct) =>
        ReadDecideCommit.RunAsync(async _ =>
        {
            var found = await LoadAsync(caller, leadId, operation, ct);
            var now = clock.GetUtcNow();
            var change = await transition(found.Value, now);
            var etag = await CommitAsync(caller, found, change, now, ct);
            return new Versioned<Lead>(change.Lead, etag);
        }, ct: ct);

    /// <summary>Commits <paramref name="change"/> of <paramref name="found"/> (If-Match its ETag; 412 when stale).</summary>
    public async Task<string> CommitAsync(Caller caller, Versioned<Lead> found, LeadChange change, DateTimeOffset now, CancellationToken ct)
    {
        var lead = change.Lead with { UpdatedAt = now };
        var outbox = await notices.OutboxAsync(lead, change, now, ct);
        return await store.UpdateAsync(lead, found.ETag, new ChangeSet([Entry(caller, now, change.Action, lead.Id, Diff.Between(found.Value.Snapshot(), lead.Snapshot()), change.Note)], outbox), ct);
    }

    public static AuditEntry Entry(Caller caller, DateTimeOffset now, string action, string leadId, IReadOnlyList<FieldChange> changes, string? note = null) =>
        new(Ids.New("aud"), now, caller.UserId, caller.DisplayName, action, "lead", leadId, changes, note);
}
