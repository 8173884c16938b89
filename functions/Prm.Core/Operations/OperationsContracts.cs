namespace Prm.Core.Operations;

/// <summary>An outbox message as the operations API shows it (never its payload: it may hold personal data).</summary>
/// <param name="Status">Pending (waiting for delivery, maybe after failed attempts) or Dead (parked after its last attempt: retry it).</param>
/// <param name="Kind">event or email.</param>
/// <param name="Type">The event type (deal.approved) or the email template.</param>
/// <param name="Subject">The event's subject (deals/{id}); null for an email.</param>
/// <param name="Table">The table whose partition holds the message row (the state it was committed with).</param>
/// <param name="AgeSeconds">Seconds since the message was committed.</param>
public sealed record OutboxMessageDto(string Id, string Status, string Kind, string Type, string? Subject, string? PartnerId, string? CorrelationId,
    string Table, string Partition, DateTimeOffset CreatedAt, double AgeSeconds, int Attempts, string? LastError, DateTimeOffset? NextAttemptAt,
    DateTimeOffset? DeadAt);

/// <summary>The outbox's backlog: how many messages wait and how old the oldest is (the outbox lag).</summary>
/// <param name="Pending">Messages not delivered yet (pointers), dead ones excluded.</param>
/// <param name="OldestPendingAt">When the oldest of them was committed; null when none waits.</param>
/// <param name="LagSeconds">Its age (0 when none waits).</param>
/// <param name="Dead">Dead messages waiting for an operator (up to 1000 are counted).</param>
public sealed record OutboxLag(int Pending, DateTimeOffset? OldestPendingAt, double LagSeconds, int Dead);

/// <summary>One workflow instance that belongs to a record (GET /api/ops/workflows?subject=).</summary>
/// <param name="Kind">deal, application, mdfRequest, mdfClaimReview, lead, award, tierDowngrade, agreement, checklist, invitation.</param>
/// <param name="RuntimeStatus">Running, Pending, Completed, Failed, Terminated, Suspended; NotFound when no instance exists.</param>
/// <param name="CustomStatus">What the workflow says about itself (its phase), as it wrote it.</param>
/// <param name="NextTimer">When its next durable timer fires (from its history); null when none is pending or the backend does not tell.</param>
/// <param name="Restartable">Whether restart-from-state knows this kind (it reads the record's state as the workflow's own state activity does).</param>
public sealed record WorkflowInstanceDto(string Kind, string InstanceId, string RuntimeStatus, string? Name, string? CustomStatus,
    DateTimeOffset? CreatedAt, DateTimeOffset? LastUpdatedAt, DateTimeOffset? NextTimer, string? Failure, bool Restartable);

/// <summary>The workflows of one record.</summary>
public sealed record SubjectWorkflows(string Subject, IReadOnlyList<WorkflowInstanceDto> Workflows);

/// <summary>Body of POST /api/ops/workflows/terminate and /restart.</summary>
/// <param name="Subject">The record: deals/{id}, partner-applications/{id}, mdf/requests/{id}, leads/{id}, awards/{id}, partners/{id}, partners/{id}/tier, partners/{id}/users/{userId}.</param>
/// <param name="InstanceId">One of the subject's instances; may be left out when the subject has one workflow.</param>
/// <param name="Reason">Why (terminate: recorded as the instance's output).</param>
public sealed record WorkflowCommand(string? Subject, string? InstanceId, string? Reason);

/// <summary>Storage as the detailed health check saw it.</summary>
public sealed record DependencyHealth(bool Reachable, double LatencyMs, string? Error);

/// <summary>The detailed health check (admins).</summary>
/// <param name="Status">Healthy, Degraded (a dependency answers but something needs an operator: problems) or Unhealthy (storage or the Durable backend does not answer).</param>
/// <param name="DurableBackend">The Durable Task backend, probed through the invocation's client.</param>
public sealed record HealthDetails(string Status, DateTimeOffset CheckedAt, IReadOnlyList<string> Problems, DependencyHealth Storage,
    OutboxLag? Outbox, DependencyHealth DurableBackend);
