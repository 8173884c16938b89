using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Outbox;

namespace Prm.Core.Plans;

/// <summary>The integration events of joint business plans.</summary>
[EventPayload(typeof(PlanData))]
public static class PlanEvents
{
    [EventPayload(typeof(PlanData), Summary = "Vendor staff created a plan for a partner's fiscal year (Draft: the partner does not see it yet).")]
    public const string Created = "plan.created";

    [EventPayload(typeof(PlanData), Summary = "A Draft or Proposed plan's content changed, or a locked plan's initiatives moved (status only).")]
    public const string Updated = "plan.updated";

    [EventPayload(typeof(PlanData), Summary = "A plan was proposed to the partner: its people see it and may comment; a partner admin accepts it.")]
    public const string Proposed = "plan.proposed";

    [EventPayload(typeof(PlanData), Summary = "A partner admin accepted the plan's current version: it is locked (Accepted, or Active when its fiscal year has begun).")]
    public const string Accepted = "plan.accepted";

    [EventPayload(typeof(PlanData), Summary = "An accepted plan's fiscal year began: the plan is Active.")]
    public const string Activated = "plan.activated";

    [EventPayload(typeof(VersionData), Summary = "A locked plan got a new version (with the field changes against the version before it); it is Proposed until a partner admin accepts it.")]
    public const string Versioned = "plan.versioned";

    [EventPayload(typeof(PlanData), Summary = "The plan was closed: its fiscal year ended, or vendor staff closed it.")]
    public const string Closed = "plan.closed";

    [EventPayload(typeof(CommentData), Summary = "Someone commented on a plan.")]
    public const string Commented = "plan.commented";

    [EventPayload(typeof(ReviewDueData), Summary = "A quarter's review is due (before the quarter ends): the agenda (the off-track objectives) went to the channel manager and the partner admins.")]
    public const string ReviewDue = "plan.reviewDue";

    [EventPayload(typeof(ReviewDueData), Summary = "A quarter ended without a recorded review: the channel manager was reminded.")]
    public const string ReviewOverdue = "plan.reviewOverdue";

    [EventPayload(typeof(ReviewData), Summary = "The notes and decisions of a quarter's review were recorded on the plan.")]
    public const string ReviewRecorded = "plan.reviewRecorded";

    [EventPayload(typeof(ValueData), Summary = "The channel manager recorded a custom objective's value for a quarter, with its evidence.")]
    public const string ValueRecorded = "plan.valueRecorded";

    /// <summary>A plan as a whole: partner, fiscal year, status, version, the accepted version, title.</summary>
    public sealed record PlanData(string PlanId, string PartnerId, string PartnerName, int FiscalYear, string Status, int Version, int? AcceptedVersion, string Title);

    /// <summary>A new version and what changed against the one before it.</summary>
    public sealed record VersionData(string PlanId, string PartnerId, int FiscalYear, string Status, int Version, int? AcceptedVersion, string? Reason, IReadOnlyList<FieldChange> Changes);

    /// <summary>A comment: who wrote it on which version.</summary>
    public sealed record CommentData(string PlanId, string PartnerId, string CommentId, string ById, string ByName, int Version, string Text);

    /// <summary>An objective off track in the quarter: target, actual so far, and what the rule expects by now.</summary>
    public sealed record AgendaItem(string ObjectiveId, string Kind, string Name, decimal Target, decimal Actual, decimal Expected, string? Currency);

    /// <summary>A quarter's review that is due or overdue, with the objectives off track (the agenda).</summary>
    public sealed record ReviewDueData(string PlanId, string PartnerId, int FiscalYear, int Quarter, DateOnly QuarterEnds, IReadOnlyList<AgendaItem> OffTrack);

    /// <summary>A recorded review.</summary>
    public sealed record ReviewData(string PlanId, string PartnerId, int FiscalYear, int Quarter, string Notes, IReadOnlyList<string> Decisions, string ById);

    /// <summary>A recorded custom value.</summary>
    public sealed record ValueData(string PlanId, string PartnerId, string ObjectiveId, int Quarter, decimal Value, string Evidence, string ById);

    public static IntegrationEvent Of(string type, BusinessPlan p, DateTimeOffset at) =>
        IntegrationEvent.Create(Ids.New("evt"), type, at, Subject(p), p.PartnerId, Correlation.Id,
            new PlanData(p.Id, p.PartnerId, p.PartnerName, p.FiscalYear, p.Status, p.Version, p.AcceptedVersion, p.Title));

    public static IntegrationEvent Create<T>(string type, BusinessPlan p, DateTimeOffset at, T data) =>
        IntegrationEvent.Create(Ids.New("evt"), type, at, Subject(p), p.PartnerId, Correlation.Id, data);

    private static string Subject(BusinessPlan p) => $"partners/{p.PartnerId}/plans/{p.Id}";
}
