using Prm.Core.Common;
using Prm.Core.Outbox;

namespace Prm.Core.Onboarding;

/// <summary>Integration events of onboarding.</summary>
public static class ApplicationEvents
{
    public const string Submitted = "application.submitted";
    public const string Approved = "application.approved";
    public const string Rejected = "application.rejected";
    public const string Expired = "application.expired";
    public const string InfoRequested = "application.infoRequested";
    public const string InfoAnswered = "application.infoAnswered";

    public sealed record ApplicationData(string ApplicationId, string Status, string LegalName, string Domain, string? AssigneeId, string? PartnerId, ReviewDeadlines Deadlines, string? Reason, DateTimeOffset? InfoDueAt = null);

    public static IntegrationEvent Create(string type, PartnerApplication a, DateTimeOffset at, string? reason = null) =>
        IntegrationEvent.Create(Ids.New("evt"), type, at, $"partner-applications/{a.Id}", a.PartnerId, Correlation.Id,
            new ApplicationData(a.Id, a.Status.ToString(), a.Company.LegalName, a.Company.Domain, a.AssigneeId, a.PartnerId, a.Deadlines, reason, a.Status == ApplicationStatus.InfoRequested ? a.InfoDueAt : null));
}
