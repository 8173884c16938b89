using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;

namespace Prm.Core.Onboarding;

/// <summary>Reading applications as <see cref="ApplicationAccess"/> allows: the vetting queue, one application, its timeline.</summary>
public sealed class ApplicationQueries(IApplicationStore store, ApplicationCommits commits)
{
    /// <summary>The vetting queue, newest first: channel managers see what is assigned to them, admins everything (or one assignee's).</summary>
    public async Task<Page<ApplicationDto>> ListAsync(Caller caller, string? status, string? assigneeId, PageRequest page, CancellationToken ct)
    {
        if (!ApplicationAccess.MayAddress(caller)) throw new ForbiddenException("Only program admins and channel managers review applications.");
        var statusValue = Text.ParseEnum<ApplicationStatus>(status);
        if (status is not null && statusValue is null) throw new ValidationFailedException("status", "status must be one of: " + string.Join(", ", Enum.GetNames<ApplicationStatus>()) + ".");
        var scope = ApplicationAccess.ListScope(caller, assigneeId);
        if (!scope.Allowed) throw new ForbiddenException("Channel managers see the applications assigned to them.");
        var result = await store.ListAsync(scope.AssigneeId, statusValue, page, ct);
        return result.Map(ApplicationDto.From);
    }

    public async Task<Versioned<ApplicationDto>> GetAsync(Caller caller, string applicationId, CancellationToken ct)
    {
        var found = await commits.LoadAsync(caller, applicationId, ApplicationOperation.Read, ct);
        return new Versioned<ApplicationDto>(ApplicationDto.From(found.Value), found.ETag);
    }

    /// <summary>Submission, reminders, escalation, requests for information and answers, the decision, expiry: who, what, when.</summary>
    public async Task<Page<AuditEntry>> TimelineAsync(Caller caller, string applicationId, PageRequest page, CancellationToken ct)
    {
        await commits.LoadAsync(caller, applicationId, ApplicationOperation.Read, ct);
        return await store.TimelineAsync(applicationId, page, ct);
    }
}
