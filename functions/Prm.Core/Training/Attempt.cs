using Prm.Core.Common;

namespace Prm.Core.Training;

public enum AttemptStatus { Open, Passed, Failed }

/// <summary>One recorded answer: the options chosen, whether they were right, the points it earned.</summary>
public sealed record RecordedAnswer(string QuestionId, IReadOnlyList<string> Selected, bool Correct, int Points);

/// <summary>
/// An exam attempt. The drawn questions (with their correct options and points, as they were when drawn) are fixed when it starts; the answers, score and result are recorded when it is submitted
/// (once). Submitted after <see cref="Deadline"/> it fails whatever the answers.
/// </summary>
public sealed record Attempt
{
    public required string Id { get; init; }
    public required string UserId { get; init; }
    public string? PartnerId { get; init; }
    public required string CourseId { get; init; }
    public required int CourseVersion { get; init; }
    public required IReadOnlyList<Question> Questions { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset Deadline { get; init; }
    public required int PassScore { get; init; }
    public AttemptStatus Status { get; init; } = AttemptStatus.Open;
    public DateTimeOffset? SubmittedAt { get; init; }
    public int? Score { get; init; }
    public int? Points { get; init; }
    public int? MaxPoints { get; init; }
    public bool Late { get; init; }
    public IReadOnlyList<RecordedAnswer> Answers { get; init; } = [];

    /// <summary>Scores the answers against the drawn questions and closes the attempt; 409 when it was submitted before.</summary>
    public Attempt Submit(IReadOnlyList<SubmittedAnswer> answers, DateTimeOffset now)
    {
        if (Status != AttemptStatus.Open)
            throw new ConflictException($"The attempt was submitted at {SubmittedAt:yyyy-MM-dd HH:mm:ss} UTC ({Status}); an attempt is submitted once.");
        var result = ExamScoring.Score(Questions, answers);
        var late = now > Deadline;
        return this with
        {
            Status = !late && result.Percent >= PassScore ? AttemptStatus.Passed : AttemptStatus.Failed,
            SubmittedAt = now,
            Score = result.Percent,
            Points = result.Points,
            MaxPoints = result.MaxPoints,
            Late = late,
            Answers = result.Answers,
        };
    }
}

/// <summary>An answer as submitted: a question id and the chosen option ids.</summary>
public sealed record SubmittedAnswer(string? QuestionId, IReadOnlyList<string>? Selected);

/// <summary>The result of scoring: points earned of the maximum, the percentage (rounded down) and every answer recorded.</summary>
public sealed record ScoreResult(int Points, int MaxPoints, int Percent, IReadOnlyList<RecordedAnswer> Answers);

/// <summary>
/// Server-side scoring. An answer must name a question of the attempt, at most once; options must be the question's, a single-choice
/// question takes one. A question is right only when exactly its correct options are chosen (no partial points); an unanswered
/// question scores zero. The percentage is points over the attempt's maximum, rounded down (79.9 % does not pass 80).
/// </summary>
public static class ExamScoring
{
    public static ScoreResult Score(IReadOnlyList<Question> questions, IReadOnlyList<SubmittedAnswer> answers)
    {
        var bank = questions.ToDictionary(q => q.Id, StringComparer.Ordinal);
        var drawn = bank.Keys.ToHashSet(StringComparer.Ordinal);
        var errors = new Dictionary<string, string[]>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < answers.Count; i++)
        {
            var a = answers[i];
            if (a?.QuestionId is not { } id) { errors[$"answers[{i}].questionId"] = ["questionId is required."]; continue; }
            if (!drawn.Contains(id)) { errors[$"answers[{i}].questionId"] = [$"Question {id} is not one of this attempt's questions."]; continue; }
            if (!seen.Add(id)) { errors[$"answers[{i}].questionId"] = [$"Question {id} is answered more than once."]; continue; }
            var q = bank[id];
            var selected = a.Selected ?? [];
            if (selected.Count != selected.Distinct(StringComparer.Ordinal).Count()) errors[$"answers[{i}].selected"] = ["selected names an option more than once."];
            else if (selected.FirstOrDefault(s => !q.Options.Any(o => o.Id == s)) is { } unknown) errors[$"answers[{i}].selected"] = [$"Option {unknown} is not an option of question {id}."];
            else if (q.Kind == QuestionKind.Single && selected.Count > 1) errors[$"answers[{i}].selected"] = [$"Question {id} takes one option."];
        }
        if (errors.Count > 0) throw new ValidationFailedException(errors, string.Join(" ", errors.Select(e => e.Value[0])), unprocessable: true);
        var byId = answers.ToDictionary(a => a.QuestionId!, StringComparer.Ordinal);
        var recorded = new List<RecordedAnswer>();
        int points = 0, max = 0;
        foreach (var q in questions)
        {
            var id = q.Id;
            max += q.Points;
            var selected = byId.TryGetValue(id, out var a) ? (IReadOnlyList<string>)(a.Selected ?? []).ToList() : [];
            var correct = selected.Count > 0 && selected.ToHashSet(StringComparer.Ordinal).SetEquals(q.Correct);
            if (correct) points += q.Points;
            recorded.Add(new RecordedAnswer(id, selected, correct, correct ? q.Points : 0));
        }
        var percent = max == 0 ? 0 : (int)((long)points * 100 / max);
        return new ScoreResult(points, max, percent, recorded);
    }

    /// <summary>Draws <see cref="Exam.QuestionsPerAttempt"/> distinct questions at random (a cryptographic shuffle).</summary>
    public static IReadOnlyList<Question> Draw(Exam exam)
    {
        var all = exam.Questions.ToArray();
        System.Security.Cryptography.RandomNumberGenerator.Shuffle(all.AsSpan());
        return all.Take(Math.Min(exam.QuestionsPerAttempt, all.Length)).ToList();
    }
}

/// <summary>
/// Who may start an attempt: at most <see cref="Exam.MaxAttempts"/> started in the rolling window, none while an earlier attempt is
/// still open (within its time limit), none during the cooldown after a failed one. A refusal is a 429 whose Retry-After is when the
/// next attempt becomes possible.
/// </summary>
public static class AttemptRules
{
    public static void Check(Exam exam, IReadOnlyList<Attempt> previous, TimeSpan window, DateTimeOffset now)
    {
        if (previous.FirstOrDefault(a => a.Status == AttemptStatus.Open && a.Deadline > now) is { } open)
            throw new ConflictException($"Attempt {open.Id} is still open until {open.Deadline:yyyy-MM-dd HH:mm:ss} UTC; submit it first.", "attempt");
        var recent = previous.Where(a => a.StartedAt > now - window).OrderBy(a => a.StartedAt).ToList();
        if (recent.Count >= exam.MaxAttempts)
        {
            // The oldest attempt of the window leaves it first.
            var at = recent[recent.Count - exam.MaxAttempts].StartedAt + window;
            throw new TooManyRequestsException($"At most {exam.MaxAttempts} attempts per {window.TotalDays:0.##} days; the next one is possible at {at:yyyy-MM-dd HH:mm:ss} UTC.", Ceiling(at - now));
        }
        var lastFailed = previous.Where(a => a.Status == AttemptStatus.Failed || (a.Status == AttemptStatus.Open && a.Deadline <= now))
            .Select(a => a.SubmittedAt ?? a.Deadline).DefaultIfEmpty(DateTimeOffset.MinValue).Max();
        if (lastFailed != DateTimeOffset.MinValue && lastFailed + exam.Cooldown > now)
        {
            var at = lastFailed + exam.Cooldown;
            throw new TooManyRequestsException($"A failed attempt is followed by a cooldown of {exam.Cooldown}; the next attempt is possible at {at:yyyy-MM-dd HH:mm:ss} UTC.", Ceiling(at - now));
        }
    }

    private static TimeSpan Ceiling(TimeSpan wait) => TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(wait.TotalSeconds)));
}
