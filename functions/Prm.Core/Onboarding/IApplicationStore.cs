using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Partners;

namespace Prm.Core.Onboarding;

/// <summary>Storage port of partner applications (a partition per application, an index for the vetting queue).</summary>
public interface IApplicationStore
{
    Task<string> CreateAsync(PartnerApplication application, ChangeSet changes, CancellationToken ct);

    Task<Versioned<PartnerApplication>?> GetAsync(string applicationId, CancellationToken ct);

    /// <summary>Replaces the application if its ETag still matches (412 otherwise); returns the new ETag.</summary>
    Task<string> UpdateAsync(PartnerApplication application, string etag, ChangeSet changes, CancellationToken ct);

    /// <summary>The vetting queue, newest first: all, or one assignee's; optionally one status.</summary>
    Task<Page<PartnerApplication>> ListAsync(string? assigneeId, ApplicationStatus? status, PageRequest page, CancellationToken ct);

    Task<Page<AuditEntry>> TimelineAsync(string applicationId, PageRequest page, CancellationToken ct);

    /// <summary>Counts one more attempt for a rate-limit key in the current window and returns the count.</summary>
    Task<int> CountAttemptAsync(string key, CancellationToken ct);

    /// <summary>The open application holding this company domain, if any.</summary>
    Task<string?> FindOpenByDomainAsync(string domain, CancellationToken ct);
}
