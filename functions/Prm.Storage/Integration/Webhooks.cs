using System.Collections.Concurrent;
using System.Text.Json;
using Azure.Data.Tables;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Integration;
using Prm.Core.Outbox;

namespace Prm.Storage.Integration;

/// <summary>
/// Webhook subscriptions (admins): create with a generated secret shown once, list, read, delete, enable again, rotate the secret with an
/// overlap, the delivery log, retry a delivery, ping, replay since a time. Nothing here calls a receiver: deliveries are queued and the
/// <see cref="WebhookDeliverer"/> sends them (the request path never waits on a webhook).
/// </summary>
public sealed class Webhooks(PrmTables tables, WebhookOptions options, WebhookQueue queue, TimeProvider clock)
{
    private static void Require(Caller caller)
    {
        if (!caller.IsAdmin) throw new ForbiddenException("Only program admins manage webhooks.");
    }

    public async Task<WebhookCreated> CreateAsync(Caller caller, CreateWebhookRequest? body, CancellationToken ct)
    {
        Require(caller);
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        var url = WebhookRules.ValidateUrl(body.Url, options.AllowLoopback);
        var patterns = WebhookRules.ValidatePatterns(body.EventTypes, EventCatalog.All.Keys.ToList());
        if (body.Description?.Length > 500) throw new ValidationFailedException("description", "description takes at most 500 characters.");
        var now = clock.GetUtcNow();
        var secret = WebhookRules.NewSecret();
        var s = new Subscription(Ids.New("whk"), url.ToString(), patterns, body.Description?.Trim(), "Active", null, null, now, secret, null, null, null, 0, null, null, "");
        try
        {
            await tables.Webhooks.AddEntityAsync(WebhookRows.Subscription(s), ct);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 409)
        {
            // The storage client's resend of this insert (its answer lost) met the row: the fresh secret under the fresh id is ours.
            if (!await HoldsSecretAsync(s.Id, secret, ct)) throw;
        }
        queue.Invalidate();
        return new WebhookCreated(s.ToDto(), secret);
    }

    public async Task<IReadOnlyList<WebhookDto>> ListAsync(Caller caller, CancellationToken ct)
    {
        Require(caller);
        return (await queue.SubscriptionsAsync(ct, fresh: true)).Select(s => s.ToDto()).OrderBy(s => s.CreatedAt).ToList();
    }

    public async Task<WebhookDto> GetAsync(Caller caller, string webhookId, CancellationToken ct)
    {
        Require(caller);
        return (await FindAsync(webhookId, ct)).ToDto();
    }

    public async Task DeleteAsync(Caller caller, string webhookId, CancellationToken ct)
    {
        Require(caller);
        await FindAsync(webhookId, ct);
        await tables.Webhooks.DeleteEntityAsync(WebhookRows.SubscriptionPartition, webhookId, Azure.ETag.All, ct);
        queue.Invalidate();
    }

    /// <summary>Turns a disabled subscription on again (its failure count starts over; queued deliveries go out again).</summary>
    public async Task<WebhookDto> EnableAsync(Caller caller, string webhookId, CancellationToken ct)
    {
        Require(caller);
        var s = await FindAsync(webhookId, ct);
        WebhookRules.ValidateUrl(s.Url, options.AllowLoopback);
        var enabled = s with { Status = "Active", DisabledReason = null, DisabledAt = null, ConsecutiveFailures = 0, FirstFailureAt = null };
        await tables.Webhooks.UpdateEntityAsync(WebhookRows.Subscription(enabled), new Azure.ETag(s.ETag), TableUpdateMode.Replace, ct);
        queue.Invalidate();
        await queue.WakeAllAsync(webhookId, ct);
        return enabled.ToDto();
    }

    public async Task<WebhookSecret> RotateSecretAsync(Caller caller, string webhookId, RotateSecretRequest? body, CancellationToken ct)
    {
        Require(caller);
        var hours = body?.OverlapHours ?? options.RotationOverlapHours;
        if (hours is < 0 or > 168) throw new ValidationFailedException("overlapHours", "overlapHours must be between 0 and 168.");
        var s = await FindAsync(webhookId, ct);
        var now = clock.GetUtcNow();
        var secret = WebhookRules.NewSecret();
        var rotated = s with { Secret = secret, PreviousSecret = hours > 0 ? s.Secret : null, PreviousSecretExpiresAt = hours > 0 ? now.AddHours(hours) : null, SecretRotatedAt = now };
        try
        {
            await tables.Webhooks.UpdateEntityAsync(WebhookRows.Subscription(rotated), new Azure.ETag(s.ETag), TableUpdateMode.Replace, ct);
        }
        catch (Azure.RequestFailedException e) when (e.Status == 412)
        {
            // A resend of this write (its answer lost) meets the row it stored: the new secret there is this rotation's own.
            if (!await HoldsSecretAsync(webhookId, secret, ct)) throw new ConflictException("The subscription changed meanwhile; rotate again.");
        }
        queue.Invalidate();
        return new WebhookSecret(secret, rotated.PreviousSecretExpiresAt);
    }

    /// <summary>Whether the subscription's current secret is <paramref name="secret"/> (fresh and random: only the write that made it stores it).</summary>
    private async Task<bool> HoldsSecretAsync(string webhookId, string secret, CancellationToken ct)
    {
        var stored = await tables.Webhooks.GetEntityIfExistsAsync<TableEntity>(WebhookRows.SubscriptionPartition, webhookId, ["Secret"], ct);
        return stored.HasValue && stored.Value!.GetString("Secret") == secret;
    }

    /// <summary>The delivery log: every attempt, newest first (attempt, status code, latency, response excerpt).</summary>
    public async Task<Page<WebhookAttemptDto>> AttemptsAsync(Caller caller, string webhookId, PageRequest page, CancellationToken ct)
    {
        Require(caller);
        await FindAsync(webhookId, ct);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {webhookId} and RowKey ge {"a|"} and RowKey lt {"a}"}");
        return await PrmTables.PageAsync(tables.Webhooks, filter, page, WebhookRows.ReadAttempt, ct);
    }

    public async Task<WebhookDeliveryDto> DeliveryAsync(Caller caller, string webhookId, string deliveryId, CancellationToken ct)
    {
        Require(caller);
        await FindAsync(webhookId, ct);
        return WebhookRows.ReadDelivery(await FindDeliveryAsync(webhookId, deliveryId, ct));
    }

    /// <summary>
    /// Sends a delivery again: a pending one is due now (its backoff is cut short); a finished one (succeeded or failed) is queued again as a
    /// new attempt at the end of its subject's lane.
    /// </summary>
    public async Task<WebhookDeliveryDto> RetryAsync(Caller caller, string webhookId, string deliveryId, CancellationToken ct)
    {
        Require(caller);
        var s = await FindAsync(webhookId, ct);
        if (!s.Active) throw new ConflictException("The subscription is disabled: enable it first (POST /api/webhooks/{id}/enable).");
        var row = await FindDeliveryAsync(webhookId, deliveryId, ct);
        var now = clock.GetUtcNow();
        var lane = row.GetString("Lane");
        if (row.GetString("Status") == "Pending")
        {
            row["NextAttemptAt"] = now;
            await tables.Webhooks.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, ct);
        }
        else
        {
            var queueKey = WebhookRows.QueuePrefix(lane) + queue.Sequence(now);
            row["Status"] = "Pending";
            row["NextAttemptAt"] = now;
            row["QueueKey"] = queueKey;
            row.Remove("DeliveredAt");
            await tables.Webhooks.SubmitTransactionAsync([
                new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, row.ETag),
                new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(webhookId, queueKey) { ["DeliveryId"] = deliveryId }),
            ], ct);
        }
        await queue.WakeAsync(webhookId, lane, ct);
        return WebhookRows.ReadDelivery(await FindDeliveryAsync(webhookId, deliveryId, ct));
    }

    /// <summary>Queues a <c>webhook.ping</c> event to this subscription only.</summary>
    public async Task<WebhookDeliveryDto> PingAsync(Caller caller, string webhookId, CancellationToken ct)
    {
        Require(caller);
        var s = await FindAsync(webhookId, ct);
        if (!s.Active) throw new ConflictException("The subscription is disabled: enable it first (POST /api/webhooks/{id}/enable).");
        var now = clock.GetUtcNow();
        var e = IntegrationEvent.Create(Ids.New("evt"), WebhookEvents.Ping, now, $"webhooks/{webhookId}", null, Correlation.Id,
            new WebhookEvents.PingData(webhookId, "Ping from PrmFunctions: this subscription receives events."));
        var deliveryId = await queue.EnqueueAsync(s, e, replay: false, idempotent: false, ct);
        return WebhookRows.ReadDelivery(await FindDeliveryAsync(webhookId, deliveryId!, ct));
    }

    /// <summary>Queues again every logged event since the instant that the subscription wants, in the order they happened.</summary>
    public async Task<ReplayResult> ReplayAsync(Caller caller, string webhookId, ReplayRequest? body, CancellationToken ct)
    {
        Require(caller);
        var s = await FindAsync(webhookId, ct);
        if (!s.Active) throw new ConflictException("The subscription is disabled: enable it first (POST /api/webhooks/{id}/enable).");
        if (body?.Since is not { } text || !DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var since))
            throw new ValidationFailedException("since", "since must be an ISO 8601 date-time.");
        var now = clock.GetUtcNow();
        if (since > now) throw new ValidationFailedException("since", "since is in the future.");
        if (since < now.AddDays(-options.EventLogDays)) throw new ValidationFailedException("since", $"The event log keeps {options.EventLogDays} days: since must be after {now.AddDays(-options.EventLogDays):O}.");
        var count = 0;
        await foreach (var e in queue.EventLogSinceAsync(since, ct))
        {
            if (!s.Wants(e.Type)) continue;
            if (++count > options.MaxReplayEvents) throw new ValidationFailedException("since", $"More than {options.MaxReplayEvents} events since then: replay a shorter span (a later since).");
            await queue.EnqueueAsync(s, e, replay: true, idempotent: false, ct);
        }
        return new ReplayResult(webhookId, since, count);
    }

    private async Task<Subscription> FindAsync(string webhookId, CancellationToken ct)
    {
        if (!Ids.LooksLike(webhookId, "whk")) throw new NotFoundException("The webhook");
        var found = await tables.Webhooks.GetEntityIfExistsAsync<TableEntity>(WebhookRows.SubscriptionPartition, webhookId, cancellationToken: ct);
        return found.HasValue ? WebhookRows.ReadSubscription(found.Value!) : throw new NotFoundException("The webhook");
    }

    private async Task<TableEntity> FindDeliveryAsync(string webhookId, string deliveryId, CancellationToken ct)
    {
        if (!Ids.LooksLike(deliveryId, "dlv")) throw new NotFoundException("The delivery");
        var found = await tables.Webhooks.GetEntityIfExistsAsync<TableEntity>(webhookId, WebhookRows.DeliveryKey(deliveryId), cancellationToken: ct);
        return found.HasValue ? found.Value! : throw new NotFoundException("The delivery");
    }
}

/// <summary>
/// The due-time queue of webhook deliveries: queues a delivery per (subscription, event) in its subject's lane, keeps the event log for
/// replay, caches the subscriptions briefly, and wakes the deliverer. Lanes are rows of <c>webhooklanes</c> with the time they are next due:
/// the deliverer is woken at once in-process after a fan-out, and a timer sweep finds lanes whose retry came due.
/// </summary>
public sealed class WebhookQueue(PrmTables tables, TimeProvider clock)
{
    private static long counter;
    private volatile IReadOnlyList<Subscription>? cached;
    private DateTimeOffset cachedAt;

    /// <summary>Who to wake when a lane has work (the in-process deliverer).</summary>
    internal event Action<string, string>? LaneReady;

    internal void Invalidate() => cached = null;

    /// <summary>Subscriptions, cached for 10 s per instance (a change on this instance applies at once).</summary>
    internal async Task<IReadOnlyList<Subscription>> SubscriptionsAsync(CancellationToken ct, bool fresh = false)
    {
        var now = clock.GetUtcNow();
        if (!fresh && cached is { } list && now - cachedAt < TimeSpan.FromSeconds(10)) return list;
        var read = new List<Subscription>();
        await foreach (var e in tables.Webhooks.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {WebhookRows.SubscriptionPartition}"), cancellationToken: ct))
        {
            read.Add(WebhookRows.ReadSubscription(e));
        }
        cached = read;
        cachedAt = now;
        return read;
    }

    /// <summary>A queue key that sorts in the order deliveries were queued on this instance (time, then a process-wide counter).</summary>
    internal string Sequence(DateTimeOffset now) =>
        now.UtcTicks.ToString("D19", System.Globalization.CultureInfo.InvariantCulture) + Interlocked.Increment(ref counter).ToString("D12", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Queues the event for the subscription in the lane of its subject: the delivery row and its queue entry in one transaction, with a key
    /// row by event id when <paramref name="idempotent"/> (the outbox delivers at least once; the second fan-out of an event adds nothing).
    /// Returns the delivery id, or null when the event was queued before.
    /// </summary>
    internal async Task<string?> EnqueueAsync(Subscription s, IntegrationEvent e, bool replay, bool idempotent, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var deliveryId = Ids.New("dlv");
        var lane = WebhookRows.Lane(e.Subject);
        var queueKey = WebhookRows.QueuePrefix(lane) + Sequence(now);
        var actions = new List<TableTransactionAction>
        {
            new(TableTransactionActionType.Add, WebhookRows.Delivery(s.Id, deliveryId, e, lane, queueKey, now, replay)),
            new(TableTransactionActionType.Add, new TableEntity(s.Id, queueKey) { ["DeliveryId"] = deliveryId }),
        };
        if (idempotent) actions.Add(new(TableTransactionActionType.Add, new TableEntity(s.Id, "e|" + e.Id) { ["DeliveryId"] = deliveryId }));
        try
        {
            await tables.Webhooks.SubmitTransactionAsync(actions, ct);
        }
        catch (TableTransactionFailedException taken) when (taken.Status == 409)
        {
            // The queue row under this fresh sequence naming this fresh delivery is this transaction's own: the storage client resent it
            // after its answer was lost, and it committed. Otherwise (idempotent) the event was queued for the subscription before.
            var queued = await tables.Webhooks.GetEntityIfExistsAsync<TableEntity>(s.Id, queueKey, ["DeliveryId"], ct);
            if (!(queued.HasValue && queued.Value!.GetString("DeliveryId") == deliveryId))
            {
                if (idempotent) return null;
                throw;
            }
        }
        await WakeAsync(s.Id, lane, ct);
        return deliveryId;
    }

    /// <summary>Marks the lane due now and wakes the in-process deliverer.</summary>
    internal async Task WakeAsync(string webhookId, string lane, CancellationToken ct)
    {
        await tables.WebhookLanes.UpsertEntityAsync(new TableEntity("lanes", webhookId + "|" + lane) { ["NextAttemptAt"] = clock.GetUtcNow() }, TableUpdateMode.Merge, ct);
        LaneReady?.Invoke(webhookId, lane);
    }

    /// <summary>Wakes every lane of the subscription that has something queued (after it is enabled again).</summary>
    internal async Task WakeAllAsync(string webhookId, CancellationToken ct)
    {
        var lanes = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var q in tables.Webhooks.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {webhookId} and RowKey ge {"q|"} and RowKey lt {"q}"}"), select: ["RowKey"], cancellationToken: ct))
        {
            lanes.Add(q.RowKey.Split('|')[1]);
        }
        foreach (var lane in lanes) await WakeAsync(webhookId, lane, ct);
    }

    /// <summary>
    /// Keeps the events of one delivery for replay, in their order (partition by hour): the rows of one partition go in one transaction.
    /// </summary>
    internal Task LogAllAsync(IReadOnlyList<IntegrationEvent> events, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        // Coalesced: the log's hour partition is written by every delivery lane, so events logged while a write is in flight go together.
        return tables.Coalesced(tables.EventLog).UpsertAllAsync(events.Select(e => new TableEntity(e.OccurredAt.UtcDateTime.ToString("yyyyMMddHH", System.Globalization.CultureInfo.InvariantCulture),
            // Events of one commit share their instant: the fan-out's sequence keeps their commit order (a second fan-out of the same event
            // after a failure logs it again; a replay then sends it twice with the same id, which receivers deduplicate).
            e.OccurredAt.UtcTicks.ToString("D19", System.Globalization.CultureInfo.InvariantCulture) + "|" + Sequence(now) + "|" + e.Id)
        {
            ["Type"] = e.Type,
            ["Event"] = JsonSerializer.Serialize(e, OutboxJson.Options),
        }).ToList(), ct);
    }

    /// <summary>The logged events since the instant, oldest first (one partition query per hour).</summary>
    internal async IAsyncEnumerable<IntegrationEvent> EventLogSinceAsync(DateTimeOffset since, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var hour = new DateTimeOffset(since.UtcDateTime.Year, since.UtcDateTime.Month, since.UtcDateTime.Day, since.UtcDateTime.Hour, 0, 0, TimeSpan.Zero);
        var end = clock.GetUtcNow();
        var from = since.UtcTicks.ToString("D19", System.Globalization.CultureInfo.InvariantCulture);
        for (; hour <= end; hour = hour.AddHours(1))
        {
            var partition = hour.UtcDateTime.ToString("yyyyMMddHH", System.Globalization.CultureInfo.InvariantCulture);
            await foreach (var row in tables.EventLog.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {from}"), cancellationToken: ct))
            {
                yield return JsonSerializer.Deserialize<IntegrationEvent>(row.GetString("Event"), OutboxJson.Options)!;
            }
        }
    }
}

/// <summary>
/// The outbox projection of webhooks: logs every event for replay and queues it for each active subscription that wants it. It runs in the
/// outbox's delivery, which keeps commit order per partition (a subject lives in one partition), so queue order is commit order per subject.
/// </summary>
public sealed class WebhookFanOut(WebhookQueue queue) : IOutboxBatchProjection
{
    /// <summary>Logs the events of one delivery for replay, together (one write per hour partition).</summary>
    public Task ApplyAllAsync(IReadOnlyList<IntegrationEvent> events, CancellationToken ct) => queue.LogAllAsync(events, ct);

    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        foreach (var s in await queue.SubscriptionsAsync(ct))
        {
            if (s.Active && s.Wants(e.Type)) await queue.EnqueueAsync(s, e, replay: false, idempotent: true, ct);
        }
    }
}

/// <summary>Thrown into the log of a subscription: kept small.</summary>
internal static class Excerpt
{
    public static string? Of(string? text, int max = 500) => text is null ? null : text.Length <= max ? text : text[..max] + "…";

    public static readonly JsonSerializerOptions Json = OutboxJson.Options;
}

/// <summary>In-flight lanes of one instance: a lane is delivered by one task at a time; a wake during delivery runs it again after.</summary>
internal sealed class LaneGate
{
    private readonly ConcurrentDictionary<string, bool> running = new(StringComparer.Ordinal);

    /// <summary>True when the caller should run the lane; false when it runs already (it is marked to run again).</summary>
    public bool TryEnter(string key)
    {
        if (running.TryAdd(key, false)) return true;
        running[key] = true;
        return false;
    }

    /// <summary>True when a wake came while it ran (run again).</summary>
    public bool Exit(string key)
    {
        if (running.TryGetValue(key, out var again) && again)
        {
            running[key] = false;
            return true;
        }
        running.TryRemove(key, out _);
        return false;
    }
}
