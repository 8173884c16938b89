namespace Prm.Core.Onboarding;

/// <summary>Review deadlines of an application (section "Review"); tests use seconds.</summary>
public sealed class ReviewOptions
{
    public const string SectionName = "Review";

    /// <summary>Reminder to the assignee.</summary>
    public TimeSpan ReviewReminderAfter { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Escalation to the program admins.</summary>
    public TimeSpan ReviewEscalateAfter { get; set; } = TimeSpan.FromHours(48);

    /// <summary>Expiry of an undecided application (the applicant is told).</summary>
    public TimeSpan ReviewExpiresAfter { get; set; } = TimeSpan.FromDays(14);

    /// <summary>How long an applicant has to answer a request for information (no answer: the application expires).</summary>
    public TimeSpan InfoAnswerWithin { get; set; } = TimeSpan.FromDays(14);
}
