using Prm.Core.Common;

namespace Prm.Core.Training;

/// <summary>Course and certification input: every field checked (ranges before arithmetic), failures named by their JSON path.</summary>
public static class TrainingInput
{
    private static readonly System.Text.RegularExpressions.Regex Slug = new("^[a-z0-9][a-z0-9-]{0,39}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    public static CourseContent Course(CourseRequest? body, TrainingSettings settings)
    {
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        var errors = new Dictionary<string, string[]>();
        void Fail(string field, string message) => errors.TryAdd(field, [message]);
        if (string.IsNullOrWhiteSpace(body.Title) || body.Title.Length > 200) Fail("title", "title is required, at most 200 characters.");
        if (body.Description is { Length: > 4000 }) Fail("description", "description takes at most 4000 characters.");
        var lines = body.ProductLines ?? [];
        if (lines.Count > 20) Fail("productLines", "productLines holds at most 20 ids.");
        for (var i = 0; i < lines.Count; i++) if (lines[i] is null || !Slug.IsMatch(lines[i])) Fail($"productLines[{i}]", "productLines holds product line ids (lower-case slugs).");
        var track = Text.ParseEnum<CourseTrack>(body.Track);
        if (track is null) Fail("track", "track must be one of: sales, presales, technical.");
        var modules = new List<CourseModule>();
        var mods = body.Modules ?? [];
        if (mods.Count > 100) Fail("modules", "modules holds at most 100 modules.");
        for (var i = 0; i < mods.Count && i < 100; i++)
        {
            var m = mods[i];
            if (m is null) { Fail($"modules[{i}]", "A module is an object."); continue; }
            if (string.IsNullOrWhiteSpace(m.Title) || m.Title.Length > 200) Fail($"modules[{i}].title", "title is required, at most 200 characters.");
            var kind = Text.ParseEnum<ModuleKind>(m.Kind);
            switch (kind)
            {
                case ModuleKind.Text when string.IsNullOrWhiteSpace(m.Body) || m.Body.Length > 20000: Fail($"modules[{i}].body", "A text module needs body (at most 20000 characters)."); break;
                case ModuleKind.Video when m.Url is null || !Uri.TryCreate(m.Url, UriKind.Absolute, out var u) || u.Scheme != Uri.UriSchemeHttps || m.Url.Length > 2000: Fail($"modules[{i}].url", "A video module needs an https url."); break;
                case ModuleKind.Asset when m.AssetId is null || m.AssetId.Length is 0 or > 100: Fail($"modules[{i}].assetId", "An asset module needs assetId."); break;
                case null: Fail($"modules[{i}].kind", "kind must be one of: text, video, asset."); break;
            }
            if (kind is { } k) modules.Add(new CourseModule(m.Title?.Trim() ?? "", k, m.Body, m.Url, m.AssetId));
        }
        Exam? exam = null;
        if (body.Exam is { } e)
        {
            var questions = new List<Question>();
            var qs = e.Questions ?? [];
            if (qs.Count is 0 or > 500) Fail("exam.questions", "exam.questions holds 1 to 500 questions.");
            var ids = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < qs.Count && i < 500; i++)
            {
                var q = qs[i];
                var p = $"exam.questions[{i}]";
                if (q is null) { Fail(p, "A question is an object."); continue; }
                if (q.Id is null || !Slug.IsMatch(q.Id)) Fail($"{p}.id", "id is required: a lower-case slug of at most 40 characters.");
                else if (!ids.Add(q.Id)) Fail($"{p}.id", $"Question id {q.Id} appears more than once.");
                if (string.IsNullOrWhiteSpace(q.Text) || q.Text.Length > 1000) Fail($"{p}.text", "text is required, at most 1000 characters.");
                var qk = Text.ParseEnum<QuestionKind>(q.Kind);
                if (qk is null) Fail($"{p}.kind", "kind must be single or multiple.");
                var options = q.Options ?? [];
                if (options.Count is < 2 or > 10) Fail($"{p}.options", "options holds 2 to 10 options.");
                var optionIds = new HashSet<string>(StringComparer.Ordinal);
                for (var j = 0; j < options.Count && j < 10; j++)
                {
                    if (options[j]?.Id is not { } oid || !Slug.IsMatch(oid) || !optionIds.Add(oid)) Fail($"{p}.options[{j}].id", "Each option needs a distinct id (lower-case slug).");
                    if (string.IsNullOrWhiteSpace(options[j]?.Text) || options[j]!.Text!.Length > 200) Fail($"{p}.options[{j}].text", "text is required, at most 200 characters.");
                }
                var correct = q.Correct ?? [];
                if (correct.Count == 0 || correct.Any(c => c is null || !optionIds.Contains(c)) || correct.Distinct().Count() != correct.Count) Fail($"{p}.correct", "correct names one or more distinct option ids of the question.");
                else if (qk == QuestionKind.Single && correct.Count != 1) Fail($"{p}.correct", "A single-choice question has exactly one correct option.");
                if (q.Points is not { } points || points is < 1 or > 100) Fail($"{p}.points", "points must be 1 to 100.");
                if (qk is { } kind2 && q.Id is not null) questions.Add(new Question(q.Id, q.Text?.Trim() ?? "", kind2, options.Where(o => o?.Id is not null).Select(o => new QuestionOption(o.Id!, o.Text ?? "")).ToList(), correct.ToList(), q.Points ?? 1));
            }
            if (e.QuestionsPerAttempt is not { } per || per < 1 || per > 50) Fail("exam.questionsPerAttempt", "exam.questionsPerAttempt must be 1 to 50.");
            else if (per > qs.Count) Fail("exam.questionsPerAttempt", "exam.questionsPerAttempt cannot exceed the number of questions in the bank.");
            if (e.PassScore is { } pass && pass is < 1 or > 100) Fail("exam.passScore", "exam.passScore must be 1 to 100 (%).");
            if (e.MaxAttempts is { } max && max is < 1 or > 100) Fail("exam.maxAttempts", "exam.maxAttempts must be 1 to 100.");
            if (e.CooldownHours is { } cool && cool is < 0 or > 720) Fail("exam.cooldownHours", "exam.cooldownHours must be 0 to 720.");
            if (e.TimeLimitMinutes is { } limit && limit is < 1 or > 1440) Fail("exam.timeLimitMinutes", "exam.timeLimitMinutes must be 1 to 1440.");
            if (errors.Count == 0)
            {
                exam = new Exam(questions, e.QuestionsPerAttempt!.Value, e.PassScore ?? settings.DefaultPassScore, e.MaxAttempts ?? settings.DefaultMaxAttempts,
                    e.CooldownHours is { } h ? TimeSpan.FromHours(h) : settings.DefaultCooldown, e.TimeLimitMinutes is { } t ? TimeSpan.FromMinutes(t) : settings.DefaultTimeLimit);
            }
        }
        if (errors.Count > 0) throw new ValidationFailedException(errors, string.Join(" ", errors.Select(x => x.Value[0])));
        return new CourseContent(body.Title!.Trim(), body.Description?.Trim(), lines.ToList(), track!.Value, modules, exam);
    }

    public static CertificationDefinition Certification(CertificationRequest? body, IReadOnlySet<string> knownCourses, DateTimeOffset now)
    {
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        var errors = new Dictionary<string, string[]>();
        void Fail(string field, string message) => errors.TryAdd(field, [message]);
        if (string.IsNullOrWhiteSpace(body.Name) || body.Name.Length > 200) Fail("name", "name is required, at most 200 characters.");
        var track = Text.ParseEnum<CourseTrack>(body.Track);
        if (track is null) Fail("track", "track must be one of: sales, presales, technical.");
        var level = Text.ParseEnum<CertificationLevel>(body.Level);
        if (level is null) Fail("level", "level must be one of: associate, professional, expert.");
        void Courses(IReadOnlyList<string>? list, string field, bool required)
        {
            list ??= [];
            if ((required && list.Count == 0) || list.Count > 20) Fail(field, $"{field} holds {(required ? 1 : 0)} to 20 course ids.");
            for (var i = 0; i < list.Count && i < 20; i++)
            {
                if (list[i] is null || !knownCourses.Contains(list[i])) Fail($"{field}[{i}]", $"{field}[{i}] must name an existing course.");
            }
            if (list.Distinct().Count() != list.Count) Fail(field, $"{field} names a course more than once.");
        }
        Courses(body.RequiredCourses, "requiredCourses", true);
        var validity = body.ValidityMonths ?? 24;
        if (validity is < 1 or > 120) Fail("validityMonths", "validityMonths must be 1 to 120.");
        var grace = body.GraceDays ?? 30;
        if (grace is < 0 or > 365) Fail("graceDays", "graceDays must be 0 to 365.");
        var reminders = body.ReminderDaysBefore ?? [90, 60, 30, 7];
        if (reminders.Count > 10) Fail("reminderDaysBefore", "reminderDaysBefore holds at most 10 offsets.");
        else if (reminders.Any(d => d is < 1 or > 365) || reminders.Distinct().Count() != reminders.Count) Fail("reminderDaysBefore", "reminderDaysBefore holds distinct day counts of 1 to 365.");
        var window = body.Renewal?.WindowDaysBefore ?? 90;
        if (window is < 0 or > 365) Fail("renewal.windowDaysBefore", "renewal.windowDaysBefore must be 0 to 365.");
        Courses(body.Renewal?.RequiredCourses, "renewal.requiredCourses", false);
        if (errors.Count > 0) throw new ValidationFailedException(errors, string.Join(" ", errors.Select(x => x.Value[0])));
        return new CertificationDefinition
        {
            Id = Ids.New("cdef"),
            Name = body.Name!.Trim(),
            Track = track!.Value,
            Level = level!.Value,
            RequiredCourses = body.RequiredCourses!.ToList(),
            ValidityMonths = validity,
            ReminderDaysBefore = reminders.OrderDescending().ToList(),
            GraceDays = grace,
            Renewal = new RenewalRule(window, (body.Renewal?.RequiredCourses is { Count: > 0 } renewal ? renewal : body.RequiredCourses!).ToList()),
            CreatedAt = now,
        };
    }

    /// <summary>The date older-version awards expire from: a date or instant from today (UTC) up to 366 days ahead; earlier today counts as now.</summary>
    public static DateTimeOffset InvalidationFrom(InvalidateAwardsRequest? body, DateTimeOffset now)
    {
        if (body?.From is not { } text) throw new ValidationFailedException("from", "from is required: the date or instant from which awards on older versions expire (e.g. 2027-01-31).");
        if (!DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out var from)
            || from < new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero) || from > now.AddDays(366))
            throw new ValidationFailedException("from", "from must be a date or instant from today (UTC) up to a year ahead.");
        return from < now ? now : from;
    }
}
