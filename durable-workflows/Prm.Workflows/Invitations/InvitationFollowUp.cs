namespace Prm.Workflows.Invitations;

/// <summary>Input of the invitation follow-up: who was invited and when the reminder is due (computed when the workflow starts).</summary>
public sealed record InvitationFollowUp(string PartnerId, string UserId, DateTimeOffset RemindAt)
{
    /// <summary>One follow-up per invited user: the instance id makes starting it idempotent.</summary>
    public static string InstanceId(string userId) => "invitation-" + userId;
}
