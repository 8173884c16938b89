using System.Text.Json.Serialization;
using Prm.Core.Audit;
using Prm.Core.Common;

namespace Prm.Core.Plans;

/// <summary>
/// Where a joint business plan stands: Draft (vendor staff only), Proposed (the partner sees it and comments), Accepted (a partner admin
/// accepted it: locked), Active (its fiscal year runs), Closed (after the year, or closed by vendor staff). See docs/rules.md.
/// </summary>
public enum PlanStatus { Draft, Proposed, Accepted, Active, Closed }

/// <summary>What an objective measures; every kind but <see cref="Custom"/> is computed from the KPI buckets of the partner.</summary>
public enum ObjectiveKind { Revenue, WonDeals, Registrations, CertifiedPeople, LeadsAccepted, Custom }

/// <summary>Where an initiative stands.</summary>
public enum InitiativeStatus { Open, Done, Dropped }

/// <summary>One objective of a plan: its kind, a name, the target of each fiscal quarter (Q1..Q4), a weight 1-100 and, for revenue, the currency.</summary>
public sealed record PlanObjective(string Id, string Kind, string Name, IReadOnlyList<decimal> Targets, int Weight, string? Currency)
{
    [JsonIgnore]
    public ObjectiveKind KindValue => Text.ParseEnum<ObjectiveKind>(Kind) ?? ObjectiveKind.Custom;
}

/// <summary>One initiative of a plan: what will be done, by whom, by when, where it stands, and optionally the MDF request that funds it.</summary>
public sealed record PlanInitiative(string Id, string Title, string Owner, DateOnly DueDate, string Status, string? MdfRequestId);

/// <summary>A comment on a plan (the partner's people and vendor staff), on the version it was written about.</summary>
public sealed record PlanComment(string Id, DateTimeOffset At, string ById, string ByName, string Text, int Version);

/// <summary>A quarterly review: the notes and decisions recorded for a quarter, by whom and when.</summary>
public sealed record PlanReview(int Quarter, string Notes, IReadOnlyList<string> Decisions, string ById, string ByName, DateTimeOffset RecordedAt);

/// <summary>What the review workflow did for a quarter (so each step runs once): the agenda sent, the reminder sent.</summary>
public sealed record PlanReviewMarks(int Quarter, DateTimeOffset? AgendaSentAt, DateTimeOffset? ReminderSentAt);

/// <summary>A value the channel manager recorded for a custom objective's quarter (the quarter's actual so far), with its evidence.</summary>
public sealed record CustomValue(string ObjectiveId, int Quarter, decimal Value, string Evidence, string ById, string ByName, DateTimeOffset RecordedAt);

/// <summary>
/// A joint business plan of one partner for one fiscal year. <see cref="Version"/> counts the versions of its content (objectives,
/// initiatives, title); <see cref="AcceptedVersion"/> is the last one a partner admin accepted.
/// </summary>
public sealed partial record BusinessPlan
{
    public required string Id { get; init; }
    public required string PartnerId { get; init; }
    public required string PartnerName { get; init; }
    public required int FiscalYear { get; init; }
    public required string Status { get; init; }
    public required int Version { get; init; }
    public int? AcceptedVersion { get; init; }
    public required string Title { get; init; }
    public required IReadOnlyList<PlanObjective> Objectives { get; init; }
    public required IReadOnlyList<PlanInitiative> Initiatives { get; init; }
    public IReadOnlyList<PlanComment> Comments { get; init; } = [];
    public IReadOnlyList<PlanReview> Reviews { get; init; } = [];
    public IReadOnlyList<CustomValue> CustomValues { get; init; } = [];
    public IReadOnlyList<PlanReviewMarks> ReviewMarks { get; init; } = [];
    public required string CreatedBy { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? ProposedAt { get; init; }
    public DateTimeOffset? AcceptedAt { get; init; }
    public string? AcceptedBy { get; init; }

    /// <summary>When the plan was first accepted: quarters that ended before it get no review.</summary>
    public DateTimeOffset? FirstAcceptedAt { get; init; }
    public DateTimeOffset? ActivatedAt { get; init; }
    public DateTimeOffset? ClosedAt { get; init; }

    [JsonIgnore]
    public PlanStatus StatusValue => Enum.TryParse<PlanStatus>(Status, out var s) ? s : PlanStatus.Draft;

    /// <summary>Accepted or Active: the content changes only through a new version.</summary>
    [JsonIgnore]
    public bool IsLocked => StatusValue is PlanStatus.Accepted or PlanStatus.Active;
}

/// <summary>An immutable version of a plan's content, with what changed against the version before it (empty for version 1).</summary>
public sealed record PlanVersion(string PlanId, int Version, string Title, IReadOnlyList<PlanObjective> Objectives, IReadOnlyList<PlanInitiative> Initiatives,
    IReadOnlyList<FieldChange> Changes, string? Reason, string CreatedBy, DateTimeOffset CreatedAt);

/// <summary>POST /plans: the partner, the fiscal year and the plan's content.</summary>
public sealed record CreatePlanRequest(string? PartnerId, int? FiscalYear, string? Title, IReadOnlyList<ObjectiveInput?>? Objectives, IReadOnlyList<InitiativeInput?>? Initiatives);

/// <summary>
/// PATCH /plans/{id} and POST /plans/{id}/versions: the content to change (a list given replaces the whole list; an item keeps its id to
/// stay the same objective or initiative). <see cref="Reason"/> explains a new version.
/// </summary>
public sealed record PlanChangeRequest(string? Title, IReadOnlyList<ObjectiveInput?>? Objectives, IReadOnlyList<InitiativeInput?>? Initiatives, string? Reason);

/// <summary>An objective as sent: id (to keep an existing one), kind, name, four quarterly targets, weight, currency (revenue).</summary>
public sealed record ObjectiveInput(string? Id, string? Kind, string? Name, IReadOnlyList<decimal?>? Targets, int? Weight, string? Currency);

/// <summary>An initiative as sent: id (to keep an existing one), title, owner, dueDate (yyyy-MM-dd), status, mdfRequestId.</summary>
public sealed record InitiativeInput(string? Id, string? Title, string? Owner, string? DueDate, string? Status, string? MdfRequestId);

/// <summary>POST /plans/{id}/comments.</summary>
public sealed record PlanCommentRequest(string? Text);

/// <summary>POST /plans/{id}/reviews: the quarter (1-4), the notes and the decisions of its review.</summary>
public sealed record PlanReviewRequest(int? Quarter, string? Notes, IReadOnlyList<string?>? Decisions);

/// <summary>POST /plans/{id}/values: a custom objective's actual so far in a quarter, with its evidence.</summary>
public sealed record CustomValueRequest(string? ObjectiveId, int? Quarter, decimal? Value, string? Evidence);

/// <summary>Whether an objective is on track in a quarter (see <see cref="PlanRules.Track"/>); notStarted before the quarter begins.</summary>
public enum TrackStatus { NotStarted, OnTrack, OffTrack }

/// <summary>An objective's quarter: the target, the actual so far, the share of the quarter elapsed, what the rule expects now, and the verdict.</summary>
public sealed record QuarterProgress(int Quarter, DateOnly From, DateOnly To, decimal Target, decimal Actual, decimal ElapsedShare, decimal Expected, string Status);

/// <summary>An objective with its actuals per quarter and for the year.</summary>
public sealed record ObjectiveProgress(string ObjectiveId, string Kind, string Name, int Weight, string? Currency, IReadOnlyList<QuarterProgress> Quarters, decimal YearTarget, decimal YearActual);

/// <summary>GET /plans/{id}: the plan, the day its actuals are computed for (program time zone), and each objective's progress.</summary>
public sealed record PlanView(BusinessPlan Plan, DateOnly AsOf, IReadOnlyList<ObjectiveProgress> Progress);

/// <summary>A plan in a list: no comments, reviews or values.</summary>
public sealed record PlanSummary(string Id, string PartnerId, string PartnerName, int FiscalYear, string Status, int Version, int? AcceptedVersion, string Title,
    int Objectives, int Initiatives, DateTimeOffset UpdatedAt)
{
    public static PlanSummary From(BusinessPlan p)
    {
        ArgumentNullException.ThrowIfNull(p);
        return new(p.Id, p.PartnerId, p.PartnerName, p.FiscalYear, p.Status, p.Version, p.AcceptedVersion, p.Title, p.Objectives.Count, p.Initiatives.Count, p.UpdatedAt);
    }
}

/// <summary>Plan ids carry their partner (like deal ids), so a plan is read from its partner's partition without an index.</summary>
public static class PlanIds
{
    private const string Prefix = "jbp_";

    /// <summary>"jbp_" + the partner id's 32 hex digits + 8 random hex digits.</summary>
    public static string New(string partnerId)
    {
        ArgumentNullException.ThrowIfNull(partnerId);
        return Prefix + partnerId[4..] + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
    }

    /// <summary>The partner id a plan id belongs to, or null when the text is not a plan id.</summary>
    public static string? PartnerOf(string? planId) =>
        planId is { Length: 4 + 32 + 8 } && planId.StartsWith(Prefix, StringComparison.Ordinal) && planId.AsSpan(4).IndexOfAnyExcept("0123456789abcdef") < 0
            ? "ptn_" + planId[4..36] : null;
}
