namespace Prm.Core.Partners;

/// <summary>What an invitation reminder step did.</summary>
public enum InvitationReminderOutcome { Sent, AlreadyReminded, AlreadyJoined, UserGone }

/// <summary>The step the invitation workflow calls when its reminder timer fires.</summary>
public interface IInvitationReminders
{
    Task<InvitationReminderOutcome> RemindAsync(string partnerId, string userId, CancellationToken ct);
}

/// <summary>Starts the invitation follow-up workflow for a new invitation (idempotent per user).</summary>
public interface IInvitationWorkflows
{
    Task StartAsync(string partnerId, string userId, CancellationToken ct);
}
