namespace Prm.Workflows;

/// <summary>Deadlines of the workflows (section "Workflows"); tests set seconds.</summary>
public sealed class WorkflowOptions
{
    public const string SectionName = "Workflows";

    /// <summary>How long after an invitation the reminder goes out if the person has not signed in.</summary>
    public TimeSpan InvitationReminderAfter { get; set; } = TimeSpan.FromDays(3);
}
