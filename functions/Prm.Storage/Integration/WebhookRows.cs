using System.Text.Json;
using Azure.Data.Tables;
using Prm.Core.Integration;
using Prm.Core.Outbox;

namespace Prm.Storage.Integration;

/// <summary>
/// How webhooks are stored. Table <c>webhooks</c>: partition <c>sub</c> holds a row per subscription; partition <c>{webhookId}</c> holds its
/// deliveries (<c>d|{deliveryId}</c>), its queue (<c>q|{subject}|{sequence}</c>: what is still to deliver, in commit order per subject), its
/// delivery log (<c>a|{inverted time}|{deliveryId}|{attempt}</c>, newest first) and the key rows that make fan-out idempotent
/// (<c>e|{eventId}</c>). Table <c>webhooklanes</c>: a row per (subscription, subject) with something queued, and when it is next due.
/// </summary>
internal static class WebhookRows
{
    public const string SubscriptionPartition = "sub";

    public static TableEntity Subscription(Subscription s) => new(SubscriptionPartition, s.Id)
    {
        ["Url"] = s.Url,
        ["EventTypes"] = JsonSerializer.Serialize(s.EventTypes),
        ["Description"] = s.Description,
        ["Status"] = s.Status,
        ["DisabledReason"] = s.DisabledReason,
        ["DisabledAt"] = s.DisabledAt,
        ["CreatedAt"] = s.CreatedAt,
        ["Secret"] = s.Secret,
        ["PreviousSecret"] = s.PreviousSecret,
        ["PreviousSecretExpiresAt"] = s.PreviousSecretExpiresAt,
        ["SecretRotatedAt"] = s.SecretRotatedAt,
        ["ConsecutiveFailures"] = s.ConsecutiveFailures,
        ["FirstFailureAt"] = s.FirstFailureAt,
        ["LastSuccessAt"] = s.LastSuccessAt,
    };

    public static Subscription ReadSubscription(TableEntity e) => new(
        e.RowKey, e.GetString("Url"), JsonSerializer.Deserialize<List<string>>(e.GetString("EventTypes") ?? "[]") ?? [], e.GetString("Description"),
        e.GetString("Status") ?? "Active", e.GetString("DisabledReason"), e.GetDateTimeOffset("DisabledAt"), e.GetDateTimeOffset("CreatedAt") ?? default,
        e.GetString("Secret"), e.GetString("PreviousSecret"), e.GetDateTimeOffset("PreviousSecretExpiresAt"), e.GetDateTimeOffset("SecretRotatedAt"),
        e.GetInt32("ConsecutiveFailures") ?? 0, e.GetDateTimeOffset("FirstFailureAt"), e.GetDateTimeOffset("LastSuccessAt"), e.ETag.ToString());

    public static string DeliveryKey(string deliveryId) => "d|" + deliveryId;

    public static string QueuePrefix(string lane) => "q|" + lane + "|";

    public static string Lane(string subject) => KeyEncoding.Encode(subject);

    public static TableEntity Delivery(string webhookId, string deliveryId, IntegrationEvent e, string lane, string queueKey, DateTimeOffset now, bool replay) =>
        new(webhookId, DeliveryKey(deliveryId))
        {
            ["EventId"] = e.Id,
            ["EventType"] = e.Type,
            ["Subject"] = e.Subject,
            ["Event"] = JsonSerializer.Serialize(e, OutboxJson.Options),
            ["Status"] = "Pending",
            ["Attempts"] = 0,
            ["CreatedAt"] = now,
            ["NextAttemptAt"] = now,
            ["Lane"] = lane,
            ["QueueKey"] = queueKey,
            ["Replay"] = replay,
        };

    public static WebhookDeliveryDto ReadDelivery(TableEntity e) => new(
        e.RowKey[2..], e.PartitionKey, e.GetString("EventId"), e.GetString("EventType"), e.GetString("Subject"), e.GetString("Status"), e.GetInt32("Attempts") ?? 0,
        e.GetDateTimeOffset("CreatedAt") ?? default, e.GetString("Status") == "Pending" ? e.GetDateTimeOffset("NextAttemptAt") : null, e.GetInt32("LastStatusCode"),
        e.GetString("LastError"), e.GetDateTimeOffset("DeliveredAt"), e.GetBoolean("Replay") ?? false, CorrelationOf(e.GetString("Event")));

    /// <summary>The correlation id of a stored event (the delivery row keeps the whole event).</summary>
    private static string? CorrelationOf(string? eventJson)
    {
        if (string.IsNullOrEmpty(eventJson)) return null;
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(eventJson);
            return doc.RootElement.TryGetProperty("correlationId", out var c) && c.ValueKind == System.Text.Json.JsonValueKind.String ? c.GetString() : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    public static WebhookAttemptDto ReadAttempt(TableEntity e) => new(
        e.GetString("DeliveryId"), e.GetString("EventId"), e.GetString("EventType"), e.GetString("Subject"), e.GetInt32("Attempt") ?? 0, e.GetDateTimeOffset("At") ?? default,
        e.GetInt32("StatusCode"), e.GetInt64("LatencyMs") ?? 0, e.GetString("Outcome"), e.GetString("ResponseExcerpt"), e.GetString("Error"), e.GetString("CorrelationId"));
}

/// <summary>A stored subscription (with its secrets, which never leave the service).</summary>
internal sealed record Subscription(string Id, string Url, IReadOnlyList<string> EventTypes, string? Description, string Status, string? DisabledReason,
    DateTimeOffset? DisabledAt, DateTimeOffset CreatedAt, string Secret, string? PreviousSecret, DateTimeOffset? PreviousSecretExpiresAt, DateTimeOffset? SecretRotatedAt,
    int ConsecutiveFailures, DateTimeOffset? FirstFailureAt, DateTimeOffset? LastSuccessAt, string ETag)
{
    public bool Active => Status == "Active";

    public bool Wants(string eventType) => EventTypes.Any(p => WebhookRules.Matches(p, eventType));

    /// <summary>
    /// The secrets that sign now: the current one, and during its overlap the previous one, first: the served .NET Standard Webhooks library
    /// (1.1.2) checks only the first signature of the header, so receivers built on it that have not switched yet keep verifying.
    /// </summary>
    public IReadOnlyList<string> SigningSecrets(DateTimeOffset now) =>
        PreviousSecret is not null && PreviousSecretExpiresAt > now ? [PreviousSecret, Secret] : [Secret];

    public WebhookDto ToDto() => new(Id, Url, EventTypes, Description, Status, DisabledReason, CreatedAt, DisabledAt, ConsecutiveFailures, FirstFailureAt, LastSuccessAt,
        SecretRotatedAt, PreviousSecretExpiresAt);
}
