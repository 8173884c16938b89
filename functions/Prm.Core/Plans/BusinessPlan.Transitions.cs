using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;

namespace Prm.Core.Plans;

/// <summary>Who an email of a plan goes to, and why.</summary>
public enum PlanNoticeKind { Proposed, Accepted, Versioned, ReviewDue, ReviewReminder }

/// <summary>An email a transition asks for (the recipients are resolved by <see cref="PlanNotices"/>); the quarter and agenda of review notices.</summary>
public sealed record PlanNotice(PlanNoticeKind Kind, int? Quarter = null, IReadOnlyList<PlanEvents.AgendaItem>? Agenda = null);

/// <summary>
/// What a transition did: the plan after it, the timeline action with the changed fields, the events (type and payload maker), a new
/// immutable version to store, and the email to send. <see cref="None"/> is a transition that changed nothing (a repeated step).
/// </summary>
public sealed record PlanChange(BusinessPlan Updated, string Action, IReadOnlyList<FieldChange> Changes, IReadOnlyList<Func<DateTimeOffset, Outbox.IntegrationEvent>> Events,
    PlanVersion? NewVersion = null, PlanNotice? Notice = null)
{
    public bool None => Events.Count == 0 && NewVersion is null && Changes.Count == 0;
}

/// <summary>The transitions of a plan: each checks the status, returns the plan after it with its events, or refuses with 409 naming the problem.</summary>
public sealed partial record BusinessPlan
{
    /// <summary>
    /// Changes the content. Draft and Proposed plans take it in place; a locked plan (Accepted, Active) takes only initiatives' status
    /// moves (<see cref="PlanRules.IsProgressOnly"/>) and refuses anything else with 409 (a new version is the way); Closed refuses all.
    /// </summary>
    public PlanChange Edit(string title, IReadOnlyList<PlanObjective> objectives, IReadOnlyList<PlanInitiative> initiatives, DateTimeOffset now)
    {
        var changes = PlanRules.Changes(this, title, objectives, initiatives);
        if (StatusValue == PlanStatus.Closed) throw new ConflictException("The plan is Closed: it changes no more.", "status");
        if (changes.Count == 0) return new PlanChange(this, "plan.updated", [], []);
        if (IsLocked && !PlanRules.IsProgressOnly(changes))
        {
            var field = changes.First(c => !(c.Field.StartsWith("initiatives.", StringComparison.Ordinal) && c.Field.EndsWith(".status", StringComparison.Ordinal))).Field.Split('.')[0];
            throw new ConflictException($"The plan is {Status} (version {Version} accepted by the partner) and locked: changing its {field} needs a new version — " +
                $"POST /api/plans/{Id}/versions with the changes; the partner accepts the new version again.", field);
        }
        var updated = this with { Title = title, Objectives = objectives, Initiatives = initiatives, UpdatedAt = now };
        return new PlanChange(updated, "plan.updated", changes, [at => PlanEvents.Of(PlanEvents.Updated, updated, at)]);
    }

    /// <summary>A new version of a locked plan: the content changes, the version counts up with its diff, and the plan is Proposed until accepted again.</summary>
    public PlanChange NewVersion(string title, IReadOnlyList<PlanObjective> objectives, IReadOnlyList<PlanInitiative> initiatives, string? reason, Caller by, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(by);
        if (!IsLocked)
        {
            throw new ConflictException(StatusValue == PlanStatus.Closed
                ? "The plan is Closed: it gets no new version."
                : $"The plan is {Status}: it is not locked yet, so PATCH /api/plans/{Id} changes it in place; new versions are for accepted plans.", "status");
        }
        var changes = PlanRules.Changes(this, title, objectives, initiatives);
        if (changes.Count == 0) throw new ValidationFailedException("objectives", "The new version changes nothing: send the objectives, initiatives or title that change.", unprocessable: true);
        var trimmed = reason?.Trim();
        if (trimmed is { Length: > PlanRules.MaxCommentLength }) throw new ValidationFailedException("reason", $"reason is at most {PlanRules.MaxCommentLength} characters.");
        var updated = this with
        {
            Title = title,
            Objectives = objectives,
            Initiatives = initiatives,
            Version = Version + 1,
            Status = nameof(PlanStatus.Proposed),
            ProposedAt = now,
            UpdatedAt = now,
        };
        var version = new PlanVersion(Id, updated.Version, title, objectives, initiatives, changes, string.IsNullOrEmpty(trimmed) ? null : trimmed, by.DisplayName, now);
        return new PlanChange(updated, "plan.versioned", [new FieldChange("version", Version.ToString(System.Globalization.CultureInfo.InvariantCulture), updated.Version.ToString(System.Globalization.CultureInfo.InvariantCulture)), .. changes],
            [at => PlanEvents.Create(PlanEvents.Versioned, updated, at, new PlanEvents.VersionData(Id, PartnerId, FiscalYear, updated.Status, updated.Version, AcceptedVersion, version.Reason, changes))],
            version, new PlanNotice(PlanNoticeKind.Versioned));
    }

    /// <summary>Draft to Proposed: the partner's people see the plan from now on.</summary>
    public PlanChange Propose(DateTimeOffset now)
    {
        if (StatusValue != PlanStatus.Draft) throw new ConflictException($"The plan is {Status}: only a Draft plan is proposed (a locked plan's changes are proposed as a new version).", "status");
        var updated = this with { Status = nameof(PlanStatus.Proposed), ProposedAt = now, UpdatedAt = now };
        return new PlanChange(updated, "plan.proposed", [Moved(updated)], [at => PlanEvents.Of(PlanEvents.Proposed, updated, at)], Notice: new PlanNotice(PlanNoticeKind.Proposed));
    }

    /// <summary>
    /// A partner admin accepts the proposed version: the plan is locked — Active when its fiscal year has begun
    /// (<paramref name="yearBegun"/>), Accepted until then.
    /// </summary>
    public PlanChange Accept(Caller by, bool yearBegun, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(by);
        if (StatusValue != PlanStatus.Proposed) throw new ConflictException($"The plan is {Status}: only a Proposed plan is accepted.", "status");
        var status = yearBegun ? PlanStatus.Active : PlanStatus.Accepted;
        var updated = this with
        {
            Status = status.ToString(),
            AcceptedVersion = Version,
            AcceptedAt = now,
            AcceptedBy = by.DisplayName,
            FirstAcceptedAt = FirstAcceptedAt ?? now,
            ActivatedAt = status == PlanStatus.Active ? ActivatedAt ?? now : ActivatedAt,
            UpdatedAt = now,
        };
        var events = new List<Func<DateTimeOffset, Outbox.IntegrationEvent>> { at => PlanEvents.Of(PlanEvents.Accepted, updated, at) };
        if (status == PlanStatus.Active && ActivatedAt is null) events.Add(at => PlanEvents.Of(PlanEvents.Activated, updated, at));
        return new PlanChange(updated, "plan.accepted", [Moved(updated), new FieldChange("acceptedVersion", AcceptedVersion?.ToString(System.Globalization.CultureInfo.InvariantCulture), Version.ToString(System.Globalization.CultureInfo.InvariantCulture))],
            events, Notice: new PlanNotice(PlanNoticeKind.Accepted));
    }

    /// <summary>The fiscal year began: an Accepted plan becomes Active (the workflow's step; any other status is left as it is).</summary>
    public PlanChange Activate(DateTimeOffset now)
    {
        if (StatusValue != PlanStatus.Accepted) return new PlanChange(this, "plan.activated", [], []);
        var updated = this with { Status = nameof(PlanStatus.Active), ActivatedAt = now, UpdatedAt = now };
        return new PlanChange(updated, "plan.activated", [Moved(updated)], [at => PlanEvents.Of(PlanEvents.Activated, updated, at)]);
    }

    /// <summary>Closes the plan (its year ended, or vendor staff close it); closing a Closed plan is 409 for a person, nothing for the workflow.</summary>
    public PlanChange Close(DateTimeOffset now, bool byWorkflow)
    {
        if (StatusValue == PlanStatus.Closed)
        {
            return byWorkflow ? new PlanChange(this, "plan.closed", [], []) : throw new ConflictException("The plan is Closed already.", "status");
        }
        var updated = this with { Status = nameof(PlanStatus.Closed), ClosedAt = now, UpdatedAt = now };
        return new PlanChange(updated, "plan.closed", [Moved(updated)], [at => PlanEvents.Of(PlanEvents.Closed, updated, at)]);
    }

    /// <summary>A comment (the partner's people once it is proposed; vendor staff always), on the current version; not on a Closed plan.</summary>
    public PlanChange Comment(Caller by, string? text, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(by);
        var t = text?.Trim();
        if (string.IsNullOrEmpty(t) || t.Length > PlanRules.MaxCommentLength) throw new ValidationFailedException("text", $"text is required (at most {PlanRules.MaxCommentLength} characters).");
        if (StatusValue == PlanStatus.Closed) throw new ConflictException("The plan is Closed: it takes no more comments.", "status");
        if (Comments.Count >= PlanRules.MaxComments) throw new ConflictException($"The plan holds {PlanRules.MaxComments} comments, the most it keeps.", "text");
        var comment = new PlanComment(Ids.New("cmt"), now, by.UserId, by.DisplayName, t, Version);
        var updated = this with { Comments = [.. Comments, comment], UpdatedAt = now };
        return new PlanChange(updated, "plan.commented", [new FieldChange("comment", null, comment.Id)],
            [at => PlanEvents.Create(PlanEvents.Commented, updated, at, new PlanEvents.CommentData(Id, PartnerId, comment.Id, by.UserId, by.DisplayName, Version, t))]);
    }

    /// <summary>
    /// Records (or replaces) the review of a quarter: the plan was accepted once, the quarter has begun (<paramref name="quarterBegun"/>),
    /// notes are required, at most <see cref="PlanRules.MaxDecisions"/> decisions.
    /// </summary>
    public PlanChange RecordReview(Caller by, int? quarter, string? notes, IReadOnlyList<string?>? decisions, Func<int, bool> quarterBegun, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(by);
        ArgumentNullException.ThrowIfNull(quarterBegun);
        if (quarter is not (>= 1 and <= 4)) throw new ValidationFailedException("quarter", "quarter is 1 to 4 (the fiscal quarter).");
        var n = notes?.Trim();
        if (string.IsNullOrEmpty(n) || n.Length > PlanRules.MaxNotesLength) throw new ValidationFailedException("notes", $"notes is required (at most {PlanRules.MaxNotesLength} characters).");
        var list = new List<string>();
        if (decisions is { Count: > PlanRules.MaxDecisions }) throw new ValidationFailedException("decisions", $"decisions holds at most {PlanRules.MaxDecisions} entries.", unprocessable: true);
        for (var i = 0; i < (decisions?.Count ?? 0); i++)
        {
            var d = decisions![i]?.Trim();
            if (string.IsNullOrEmpty(d) || d.Length > PlanRules.MaxShortText) throw new ValidationFailedException($"decisions[{i}]", $"decisions[{i}] is a text of 1 to {PlanRules.MaxShortText} characters.");
            list.Add(d);
        }
        if (AcceptedVersion is null) throw new ConflictException($"The plan is {Status} and was never accepted: quarterly reviews begin once the partner accepts it.", "status");
        if (!quarterBegun(quarter.Value)) throw new ValidationFailedException("quarter", $"Q{quarter} of FY{FiscalYear} has not begun: its review cannot be recorded yet.", unprocessable: true);
        var review = new PlanReview(quarter.Value, n, list, by.UserId, by.DisplayName, now);
        var updated = this with { Reviews = [.. Reviews.Where(r => r.Quarter != quarter.Value), review], UpdatedAt = now };
        return new PlanChange(updated, "plan.reviewRecorded", [new FieldChange($"reviews.q{quarter}", Reviews.Any(r => r.Quarter == quarter) ? "recorded" : null, "recorded")],
            [at => PlanEvents.Create(PlanEvents.ReviewRecorded, updated, at, new PlanEvents.ReviewData(Id, PartnerId, FiscalYear, quarter.Value, n, list, by.UserId))]);
    }

    /// <summary>Records a custom objective's value for a quarter (the quarter's actual so far; a later value replaces it), with its evidence.</summary>
    public PlanChange RecordValue(Caller by, CustomValueRequest? body, Func<int, bool> quarterBegun, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(by);
        ArgumentNullException.ThrowIfNull(quarterBegun);
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        if (body.Quarter is not (>= 1 and <= 4)) throw new ValidationFailedException("quarter", "quarter is 1 to 4 (the fiscal quarter).");
        if (body.Value is null) throw new ValidationFailedException("value", "value is required: the quarter's actual so far.");
        var evidence = body.Evidence?.Trim();
        if (string.IsNullOrEmpty(evidence) || evidence.Length > PlanRules.MaxShortText) throw new ValidationFailedException("evidence", $"evidence is required (at most {PlanRules.MaxShortText} characters): where the value comes from.");
        var objective = Objectives.FirstOrDefault(o => o.Id == body.ObjectiveId)
            ?? throw new ValidationFailedException("objectiveId", "objectiveId names no objective of this plan.", unprocessable: true);
        if (objective.KindValue != ObjectiveKind.Custom) throw new ValidationFailedException("objectiveId", $"The objective is {objective.Kind}: its actuals come from the records, only custom objectives take recorded values.", unprocessable: true);
        if (body.Value < 0 || body.Value > PlanRules.MaxTarget) throw new ValidationFailedException("value", "value must be 0 to 1,000,000,000,000.", unprocessable: true);
        if (AcceptedVersion is null) throw new ConflictException($"The plan is {Status} and was never accepted: values are recorded once the partner accepts it.", "status");
        if (StatusValue == PlanStatus.Closed) throw new ConflictException("The plan is Closed: it takes no more values.", "status");
        if (!quarterBegun(body.Quarter.Value)) throw new ValidationFailedException("quarter", $"Q{body.Quarter} of FY{FiscalYear} has not begun.", unprocessable: true);
        var value = new CustomValue(objective.Id, body.Quarter.Value, body.Value.Value, evidence, by.UserId, by.DisplayName, now);
        var before = CustomValues.FirstOrDefault(v => v.ObjectiveId == objective.Id && v.Quarter == value.Quarter);
        var updated = this with { CustomValues = [.. CustomValues.Where(v => v != before), value], UpdatedAt = now };
        return new PlanChange(updated, "plan.valueRecorded",
            [new FieldChange($"values.{objective.Id}.q{value.Quarter}", before?.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), value.Value.ToString(System.Globalization.CultureInfo.InvariantCulture))],
            [at => PlanEvents.Create(PlanEvents.ValueRecorded, updated, at, new PlanEvents.ValueData(Id, PartnerId, objective.Id, value.Quarter, value.Value, evidence, by.UserId))]);
    }

    /// <summary>The review workflow sent a quarter's agenda (once per quarter: a repeated step changes nothing).</summary>
    public PlanChange MarkAgenda(int quarter, PlanEvents.ReviewDueData agenda, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(agenda);
        var marks = Marks(quarter);
        if (marks.AgendaSentAt is not null) return new PlanChange(this, "plan.reviewDue", [], []);
        var updated = this with { ReviewMarks = [.. ReviewMarks.Where(m => m.Quarter != quarter), marks with { AgendaSentAt = now }] };
        return new PlanChange(updated, "plan.reviewDue", [new FieldChange($"reviews.q{quarter}", null, "due")],
            [at => PlanEvents.Create(PlanEvents.ReviewDue, updated, at, agenda)], Notice: new PlanNotice(PlanNoticeKind.ReviewDue, quarter, agenda.OffTrack));
    }

    /// <summary>The review workflow reminded the channel manager of a quarter's unrecorded review (once; nothing when it was recorded).</summary>
    public PlanChange MarkReminder(int quarter, PlanEvents.ReviewDueData agenda, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(agenda);
        var marks = Marks(quarter);
        if (marks.ReminderSentAt is not null || Reviews.Any(r => r.Quarter == quarter)) return new PlanChange(this, "plan.reviewOverdue", [], []);
        var updated = this with { ReviewMarks = [.. ReviewMarks.Where(m => m.Quarter != quarter), marks with { ReminderSentAt = now }] };
        return new PlanChange(updated, "plan.reviewOverdue", [new FieldChange($"reviews.q{quarter}", "due", "overdue")],
            [at => PlanEvents.Create(PlanEvents.ReviewOverdue, updated, at, agenda)], Notice: new PlanNotice(PlanNoticeKind.ReviewReminder, quarter, agenda.OffTrack));
    }

    /// <summary>What the review workflow did for a quarter so far.</summary>
    public PlanReviewMarks Marks(int quarter) => ReviewMarks.FirstOrDefault(m => m.Quarter == quarter) ?? new PlanReviewMarks(quarter, null, null);

    private FieldChange Moved(BusinessPlan updated) => new("status", Status, updated.Status);
}
