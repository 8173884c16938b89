using Prm.Core.Common;

namespace Prm.Core.Training;

/// <summary>
/// When a person's path is complete: after a course is passed or completed, each certification that names it either is earned (every
/// required course done, after the end of any lapsed award's grace: after grace the full path starts again), or renews a valid award
/// (every renewal course done inside the renewal window), or nothing happens (a retake never re-dates an award).
/// </summary>
public static class CertificationPaths
{
    public static IReadOnlyList<(AwardChange Change, string? ETag)> Evaluate(string completedCourseId, IReadOnlyList<Enrollment> enrollments, IReadOnlyList<Versioned<Award>> awards,
        IReadOnlyList<CertificationDefinition> definitions, PersonFacts person, CertificationCalendar calendar, DateTimeOffset now)
    {
        var done = enrollments.Where(e => e.IsDone && e.LastPassedAt is not null).ToDictionary(e => e.CourseId, StringComparer.Ordinal);
        var changes = new List<(AwardChange, string?)>();
        foreach (var d in definitions)
        {
            var renewalCourses = d.Renewal.RequiredCourses.Count > 0 ? d.Renewal.RequiredCourses : d.RequiredCourses;
            if (!d.RequiredCourses.Contains(completedCourseId) && !renewalCourses.Contains(completedCourseId)
                && !awards.Any(a => a.Value.DefinitionId == d.Id && a.Value.Requalify.Any(r => r.StartsWith(completedCourseId + "@", StringComparison.Ordinal)))) continue;
            var mine = awards.Where(a => a.Value.DefinitionId == d.Id).OrderByDescending(a => a.Value.EarnedAt).ToList();
            var live = mine.FirstOrDefault(a => a.Value.IsValidAt(now));
            if (live is not null && live.Value.Requalify.Count > 0)
            {
                // An invalidated award: passing the new course versions restores it (the renewal window does not apply).
                if (live.Value.Requalify.Any(r => r.StartsWith(completedCourseId + "@", StringComparison.Ordinal))
                    && live.Value.Requalify(done.ToDictionary(p => p.Key, p => p.Value.CourseVersion, StringComparer.Ordinal), now) is { } requalified)
                {
                    changes.Add((requalified, live.ETag));
                }
                continue;
            }
            if (live is not null)
            {
                var windowStart = live.Value.ExpiresAt - calendar.Days(d.Renewal.WindowDaysBefore);
                if (renewalCourses.Contains(completedCourseId) && RenewalRules.InWindow(live.Value, d, calendar, now)
                    && renewalCourses.All(c => done.TryGetValue(c, out var e) && e.LastPassedAt >= windowStart))
                {
                    changes.Add((live.Value.Renew(d, calendar, now), live.ETag));
                }
                continue;
            }
            var lapsedEnd = mine.Where(a => a.Value.Status != AwardStatus.Revoked).Select(a => a.Value.GraceEndsAt).DefaultIfEmpty(DateTimeOffset.MinValue).Max();
            if (d.RequiredCourses.All(c => done.TryGetValue(c, out var e) && e.LastPassedAt >= lapsedEnd))
            {
                var basedOn = d.RequiredCourses.Select(c => $"{c}@{done[c].CourseVersion}").ToList();
                changes.Add((AwardTransitions.Earn(d, person, basedOn, calendar, now), null));
            }
        }
        return changes;
    }
}
