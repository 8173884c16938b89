using Prm.Core.Common;

namespace Prm.Core.Training;

/// <summary>The workflow steps of an award, each at its deadline.</summary>
public enum AwardStepKind { Remind, Grace, Expire }

/// <summary>An award after a transition, with the events it causes (type, extra data) and whether the person and partner admins get a notice.</summary>
public sealed record AwardChange(Award Award, string Action, IReadOnlyList<string> Events, string? EmailTemplate, string? Note = null);

/// <summary>The renewal rule with its exact boundaries.</summary>
public static class RenewalRules
{
    /// <summary>
    /// Whether a completion at <paramref name="completedAt"/> renews <paramref name="award"/>: from <c>windowDaysBefore</c> days before the
    /// expiry (inclusive) until the end of grace (exclusive: the last day of grace renews, the day after does not). Before the window
    /// nothing changes (renewing early costs nothing, but only inside the window); after grace the full path starts again.
    /// </summary>
    public static bool InWindow(Award award, CertificationDefinition definition, CertificationCalendar calendar, DateTimeOffset completedAt) =>
        award.Status is not (AwardStatus.Revoked or AwardStatus.Expired)
        && completedAt >= award.ExpiresAt - calendar.Days(definition.Renewal.WindowDaysBefore)
        && completedAt < award.GraceEndsAt;
}

public static class AwardTransitions
{
    /// <summary>A new award for a completed path.</summary>
    public static AwardChange Earn(CertificationDefinition definition, PersonFacts person, IReadOnlyList<string> basedOn, CertificationCalendar calendar, DateTimeOffset now)
    {
        var expires = calendar.AddMonths(now, definition.ValidityMonths);
        var award = new Award
        {
            Id = TrainingIds.NewAward(person.UserId),
            Number = TrainingIds.Number(now),
            VerificationCode = TrainingIds.NewVerificationCode(),
            UserId = person.UserId,
            PersonName = person.DisplayName,
            PersonEmail = person.Email,
            PartnerId = person.PartnerId,
            DefinitionId = definition.Id,
            CertificationName = definition.Name,
            Track = definition.Track,
            Level = definition.Level,
            EarnedAt = now,
            ExpiresAt = expires,
            GraceEndsAt = expires + calendar.Days(definition.GraceDays),
            BasedOn = basedOn,
        };
        return new AwardChange(award, "certification.earned", [TrainingEvents.CertificationEarned], "certification-earned");
    }

    /// <summary>Renewal: the new expiry is the old expiry plus the validity (renewing early costs nothing).</summary>
    public static AwardChange Renew(this Award award, CertificationDefinition definition, CertificationCalendar calendar, DateTimeOffset now)
    {
        if (!RenewalRules.InWindow(award, definition, calendar, now))
            throw new ConflictException("The award is outside its renewal window.");
        var expires = calendar.AddMonths(award.ExpiresAt, definition.ValidityMonths);
        return new AwardChange(award with
        {
            ExpiresAt = expires,
            GraceEndsAt = expires + calendar.Days(definition.GraceDays),
            Status = AwardStatus.Renewed,
            Renewals = award.Renewals + 1,
            RenewedAt = now,
        }, "certification.renewed", [TrainingEvents.CertificationRenewed], "certification-renewed");
    }

    /// <summary>
    /// A course version invalidated the version of <paramref name="courseId"/> the award rests on: the award expires at <paramref name="from"/>
    /// (it enters Grace then, with the definition's grace, and its holder gets a notice now) unless the holder passes the new version, which
    /// restores the expiry it had (<see cref="Requalify(Award, IReadOnlyDictionary{string, int}, DateTimeOffset)"/>). Null when nothing changes:
    /// not resting on an older version, revoked or expired, or ending by then anyway. Idempotent: a second delivery finds the mark.
    /// </summary>
    public static AwardChange? Invalidate(this Award award, string courseId, int version, DateTimeOffset from, CertificationDefinition? definition, CertificationCalendar calendar, string note)
    {
        if (award.Status is AwardStatus.Revoked or AwardStatus.Expired) return null;
        if (award.VersionOf(courseId) is not { } rests || rests >= version) return null;
        var mark = $"{courseId}@{version}";
        if (award.Requalify.Contains(mark) || award.ExpiresAt <= from) return null;
        return new AwardChange(award with
        {
            ExpiresBeforeInvalidation = award.ExpiresBeforeInvalidation ?? award.ExpiresAt,
            ExpiresAt = from,
            GraceEndsAt = from + calendar.Days(definition?.GraceDays ?? 30),
            Requalify = [.. award.Requalify.Where(r => !r.StartsWith(courseId + "@", StringComparison.Ordinal)), mark],
        }, "certification.invalidated", [TrainingEvents.CertificationInvalidated], "certification-invalidated", note);
    }

    /// <summary>
    /// Requalification: the holder passed every course version <see cref="Award.Requalify"/> names (<paramref name="passed"/>: course id to
    /// the version passed) before the end of grace; the award gets back the expiry it had and rests on the new versions. Null when some are missing.
    /// </summary>
    public static AwardChange? Requalify(this Award award, IReadOnlyDictionary<string, int> passed, DateTimeOffset now)
    {
        if (award.Requalify.Count == 0 || !award.IsValidAt(now)) return null;
        foreach (var mark in award.Requalify)
        {
            var parts = mark.Split('@');
            if (!passed.TryGetValue(parts[0], out var v) || v < int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)) return null;
        }
        var expires = award.ExpiresBeforeInvalidation ?? award.ExpiresAt;
        var grace = award.GraceEndsAt - award.ExpiresAt;
        var basedOn = award.BasedOn.Select(b => b.Split('@')[0] is var c && passed.TryGetValue(c, out var v) ? $"{c}@{v}" : b).ToList();
        return new AwardChange(award with
        {
            ExpiresAt = expires,
            GraceEndsAt = expires + grace,
            ExpiresBeforeInvalidation = null,
            Requalify = [],
            BasedOn = basedOn,
            Status = award.Renewals > 0 ? AwardStatus.Renewed : AwardStatus.Active,
        }, "certification.requalified", [TrainingEvents.CertificationRequalified], "certification-requalified");
    }

    /// <summary>Revocation (admin with a reason, or a voided completion it rested on); final.</summary>
    public static AwardChange Revoke(this Award award, string reason, DateTimeOffset now)
    {
        if (award.Status == AwardStatus.Revoked) throw new ConflictException($"The award was revoked at {award.RevokedAt:yyyy-MM-dd HH:mm} UTC: {award.RevokedReason}");
        return new AwardChange(award with { Status = AwardStatus.Revoked, RevokedAt = now, RevokedReason = reason }, "certification.revoked", [TrainingEvents.CertificationRevoked], "certification-revoked", reason);
    }

    /// <summary>
    /// A deadline of the award's workflow. <paramref name="cycle"/> is the expiry the step was scheduled for: a step of an expiry that
    /// renewal moved is skipped; a step already done for the cycle does nothing; a revoked or expired award closes the workflow.
    /// </summary>
    public static (StepOutcome Outcome, AwardChange? Change) Step(this Award award, AwardStepKind kind, int daysBefore, DateTimeOffset cycle, DateTimeOffset now)
    {
        if (award.Status is AwardStatus.Revoked or AwardStatus.Expired) return (StepOutcome.Closed, null);
        if (award.ExpiresAt != cycle) return (StepOutcome.Skipped, null);
        var stamp = kind == AwardStepKind.Remind ? $"remind:{daysBefore}@{cycle:O}" : $"{kind.ToString().ToLowerInvariant()}@{cycle:O}";
        if (award.StepsDone.Contains(stamp)) return (StepOutcome.DoneAlready, null);
        var done = award.StepsDone.Append(stamp).TakeLast(20).ToList();
        return kind switch
        {
            AwardStepKind.Remind => (StepOutcome.Done, new AwardChange(award with { Status = AwardStatus.ExpiringSoon, StepsDone = done }, "certification.reminded",
                award.Status == AwardStatus.ExpiringSoon ? [] : [TrainingEvents.CertificationExpiringSoon], "certification-reminder", $"{daysBefore} days before expiry")),
            AwardStepKind.Grace => (StepOutcome.Done, new AwardChange(award with { Status = AwardStatus.Grace, StepsDone = done }, "certification.grace", [], "certification-grace")),
            _ => (StepOutcome.Done, new AwardChange(award with { Status = AwardStatus.Expired, StepsDone = done }, "certification.expired", [TrainingEvents.CertificationExpired], "certification-expired")),
        };
    }
}

/// <summary>Who a person is, as the partner directory says now.</summary>
public sealed record PersonFacts(string UserId, string Email, string DisplayName, string? PartnerId);
