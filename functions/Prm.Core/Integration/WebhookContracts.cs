namespace Prm.Core.Integration;

/// <summary>Body of POST /api/webhooks.</summary>
/// <param name="Url">HTTPS URL that receives POSTs (CloudEvents, signed per Standard Webhooks).</param>
/// <param name="EventTypes">Event types or patterns: <c>deal.approved</c>, <c>deal.*</c>, <c>*</c>.</param>
public sealed record CreateWebhookRequest(string? Url, IReadOnlyList<string?>? EventTypes, string? Description);

/// <summary>A webhook subscription as the API returns it (never its secret).</summary>
/// <param name="Status">Active or Disabled.</param>
/// <param name="DisabledReason">Why it was disabled: 410 Gone from the receiver, or repeated failures.</param>
public sealed record WebhookDto(string Id, string Url, IReadOnlyList<string> EventTypes, string? Description, string Status, string? DisabledReason,
    DateTimeOffset CreatedAt, DateTimeOffset? DisabledAt, int ConsecutiveFailures, DateTimeOffset? FirstFailureAt, DateTimeOffset? LastSuccessAt,
    DateTimeOffset? SecretRotatedAt, DateTimeOffset? PreviousSecretExpiresAt);

/// <summary>A new subscription with its signing secret: the only time the secret is shown.</summary>
public sealed record WebhookCreated(WebhookDto Webhook, string Secret);

/// <summary>Body of POST /api/webhooks/{id}/rotate-secret: how long the previous secret keeps signing (hours, 0 to 168; default 24).</summary>
public sealed record RotateSecretRequest(int? OverlapHours);

/// <summary>The new signing secret (shown once) and until when the previous one still signs alongside it.</summary>
public sealed record WebhookSecret(string Secret, DateTimeOffset? PreviousSecretExpiresAt);

/// <summary>Body of POST /api/webhooks/{id}/replay: every event since this instant (ISO 8601) is delivered again, in order.</summary>
public sealed record ReplayRequest(string? Since);

/// <summary>How many events a replay queued for the subscription.</summary>
public sealed record ReplayResult(string WebhookId, DateTimeOffset Since, int Events);

/// <summary>One delivery of one event to one subscription.</summary>
/// <param name="Status">Pending (queued or waiting for a retry), Succeeded, or Failed (retries exhausted, or the subscription was disabled).</param>
/// <param name="CorrelationId">The correlation id of the request that caused the event (the x-correlation-id header the receiver gets).</param>
public sealed record WebhookDeliveryDto(string Id, string WebhookId, string EventId, string EventType, string Subject, string Status, int Attempts,
    DateTimeOffset CreatedAt, DateTimeOffset? NextAttemptAt, int? LastStatusCode, string? LastError, DateTimeOffset? DeliveredAt, bool Replay, string? CorrelationId);

/// <summary>One attempt of a delivery: the delivery log.</summary>
/// <param name="Outcome">Succeeded, Failed, or Gone (410: the subscription was disabled).</param>
public sealed record WebhookAttemptDto(string DeliveryId, string EventId, string EventType, string Subject, int Attempt, DateTimeOffset At, int? StatusCode,
    long LatencyMs, string Outcome, string? ResponseExcerpt, string? Error, string? CorrelationId);
