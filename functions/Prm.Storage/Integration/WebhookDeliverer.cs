using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prm.Core.Identity;
using Prm.Core.Integration;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Storage.Outbox;
using StandardWebhooks;

namespace Prm.Storage.Integration;

/// <summary>
/// Sends queued webhook deliveries. A lane (subscription and subject) is delivered head first, one request at a time, so a subscriber sees a
/// subject's events in commit order; lanes are independent, so a slow or failing receiver holds back only its own lanes. A failed attempt is
/// retried with exponential backoff and jitter (<see cref="WebhookRules.Backoff"/>) until the delivery is 3 days old, then marked Failed and the
/// lane moves on. 410 Gone disables the subscription; N failures in a row over 5 days disable it too, and the admins are emailed. Every
/// request is signed per Standard Webhooks (the current secret, and the previous one during a rotation's overlap), times out after 10 s,
/// follows no redirect, and connects only to addresses that pass the SSRF rules, checked again on every connection (DNS included).
/// </summary>
public sealed class WebhookDeliverer : BackgroundService
{
    private readonly PrmTables tables;
    private readonly WebhookQueue queue;
    private readonly WebhookOptions options;
    private readonly CloudEventEnvelope envelope;
    private readonly IEmailSender email;
    private readonly IStaffStore staff;
    private readonly TimeProvider clock;
    private readonly ILogger<WebhookDeliverer> log;
    private readonly HttpClient http;
    private readonly LaneGate gate = new();
    private readonly SemaphoreSlim slots;
    private readonly string instance = Guid.NewGuid().ToString("N")[..8];
    private readonly PlatformHealth? health;
    private CancellationToken stopping;

    public WebhookDeliverer(PrmTables tables, WebhookQueue queue, WebhookOptions options, CloudEventEnvelope envelope, IEmailSender email, IStaffStore staff,
        TimeProvider clock, ILogger<WebhookDeliverer> log, PlatformHealth? health = null)
    {
        this.health = health;
        this.tables = tables;
        this.queue = queue;
        this.options = options;
        this.envelope = envelope;
        this.email = email;
        this.staff = staff;
        this.clock = clock;
        this.log = log;
        slots = new SemaphoreSlim(Math.Max(1, options.Parallelism));
        http = new HttpClient(Handler(options.AllowLoopback), disposeHandler: true) { Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds) };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("PrmFunctions-Webhooks/1.0");
        queue.LaneReady += (webhookId, lane) => Start(webhookId, lane);
    }

    /// <summary>An HTTP handler that resolves the host itself and refuses forbidden addresses at connect time (no DNS rebinding around the check).</summary>
    public static SocketsHttpHandler Handler(bool allowLoopback) => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        UseProxy = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectTimeout = TimeSpan.FromSeconds(5),
        ConnectCallback = async (context, ct) =>
        {
            var host = context.DnsEndPoint.Host;
            var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
            var allowed = addresses.Where(a => WebhookRules.Forbidden(a, allowLoopback) is null).ToList();
            if (allowed.Count == 0 || (!allowLoopback && WebhookRules.IsLoopbackHost(host)))
            {
                var why = addresses.Select(a => WebhookRules.Forbidden(a, allowLoopback)).FirstOrDefault(w => w is not null) ?? "loopback";
                throw new WebhookTargetRefusedException($"{host} resolves to a {why} address; webhooks are never sent there.");
            }
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(allowed[0], context.DnsEndPoint.Port, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    private int sweepsCompleted;
    private volatile bool waitingForStorage;

    /// <summary>The background loop waits for the storage initializer before its first sweep (observable for tests).</summary>
    public bool WaitingForStorage => waitingForStorage;

    /// <summary>How many background sweeps this instance has finished (failed ones included): what the loop has done, observable.</summary>
    public int SweepsCompleted => Volatile.Read(ref sweepsCompleted);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        stopping = stoppingToken;
        if (options.SweepSeconds <= 0) return;
        // This service can start before the storage initializer has created the tables: the first sweep waits for it (no failed sweep at start).
        if (health is not null && !health.StorageReady)
        {
            waitingForStorage = true;
            try { await health.WhenStorageReady.WaitAsync(stoppingToken); } catch (OperationCanceledException) { return; }
            finally { waitingForStorage = false; }
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                log.LogWarning(ex, "Webhook sweep failed; retrying");
            }
            Interlocked.Increment(ref sweepsCompleted);
            try { await Task.Delay(TimeSpan.FromSeconds(options.SweepSeconds), clock, stoppingToken); } catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>Starts every lane that is due (the timer function calls this; in-process wakes do the rest). Returns how many were started.</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var started = new List<Task>();
        await foreach (var lane in tables.WebhookLanes.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"lanes"} and NextAttemptAt le {now}"), cancellationToken: ct))
        {
            var split = lane.RowKey.IndexOf('|');
            started.Add(RunLaneAsync(lane.RowKey[..split], lane.RowKey[(split + 1)..], ct));
        }
        await Task.WhenAll(started);
        return started.Count;
    }

    private void Start(string webhookId, string lane)
    {
        if (stopping.IsCancellationRequested) return;
        _ = Task.Run(() => RunLaneAsync(webhookId, lane, stopping));
    }

    private async Task RunLaneAsync(string webhookId, string lane, CancellationToken ct)
    {
        var key = webhookId + "|" + lane;
        if (!gate.TryEnter(key)) return;
        await slots.WaitAsync(ct);
        try
        {
            do
            {
                try
                {
                    await DeliverLaneAsync(webhookId, lane, ct);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    log.LogWarning(ex, "Webhook lane {Webhook}/{Lane} failed; the sweep retries", webhookId, lane);
                }
            }
            while (gate.Exit(key));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            gate.Exit(key);
        }
        finally
        {
            slots.Release();
        }
    }

    /// <summary>Delivers the lane's queue head first until it is empty or its head waits for a retry.</summary>
    private async Task DeliverLaneAsync(string webhookId, string lane, CancellationToken ct)
    {
        var laneRow = await tables.WebhookLanes.GetEntityIfExistsAsync<TableEntity>("lanes", webhookId + "|" + lane, cancellationToken: ct);
        if (!laneRow.HasValue) return;
        var claimed = await ClaimAsync(laneRow.Value!, ct);
        if (claimed is null) return; // another instance delivers it
        while (!ct.IsCancellationRequested)
        {
            var head = await HeadAsync(webhookId, lane, ct);
            var now = clock.GetUtcNow();
            if (head is null)
            {
                // Empty: the lane row goes, unless a fan-out touched it meanwhile (then its ETag changed and the loop runs again).
                try
                {
                    await tables.WebhookLanes.DeleteEntityAsync("lanes", webhookId + "|" + lane, claimed.Value, ct);
                    return;
                }
                catch (Azure.RequestFailedException e) when (e.Status is 404 or 412)
                {
                    var again = await tables.WebhookLanes.GetEntityIfExistsAsync<TableEntity>("lanes", webhookId + "|" + lane, cancellationToken: ct);
                    if (!again.HasValue || (claimed = await ClaimAsync(again.Value!, ct, force: true)) is null) return;
                    continue;
                }
            }
            var (queueRow, delivery) = head.Value;
            var subscription = (await queue.SubscriptionsAsync(ct)).FirstOrDefault(s => s.Id == webhookId)
                ?? (await queue.SubscriptionsAsync(ct, fresh: true)).FirstOrDefault(s => s.Id == webhookId);
            if (subscription is null || !subscription.Active)
            {
                // Deleted or disabled: the lane rests (enabling the subscription wakes it again).
                await ReleaseAsync(webhookId, lane, claimed.Value, DateTimeOffset.MaxValue.AddYears(-1), ct);
                return;
            }
            if (delivery.GetDateTimeOffset("NextAttemptAt") is { } due && due > now)
            {
                await ReleaseAsync(webhookId, lane, claimed.Value, due, ct);
                return;
            }
            var outcome = await AttemptAsync(subscription, delivery, ct);
            if (outcome == AttemptOutcome.Continue)
            {
                await tables.Webhooks.DeleteEntityAsync(webhookId, queueRow.RowKey, Azure.ETag.All, ct);
                continue;
            }
            var next = outcome == AttemptOutcome.Stop ? DateTimeOffset.MaxValue.AddYears(-1) : (await DeliveryAsync(webhookId, delivery.RowKey, ct))?.GetDateTimeOffset("NextAttemptAt") ?? now;
            await ReleaseAsync(webhookId, lane, claimed.Value, next, ct);
            return;
        }
    }

    private async Task<Azure.ETag?> ClaimAsync(TableEntity lane, CancellationToken ct, bool force = false)
    {
        var now = clock.GetUtcNow();
        if (!force && lane.GetDateTimeOffset("ClaimedUntil") is { } until && until > now && lane.GetString("ClaimedBy") != instance) return null;
        lane["ClaimedUntil"] = now.AddSeconds(options.ClaimSeconds);
        lane["ClaimedBy"] = instance;
        try
        {
            var response = await tables.WebhookLanes.UpdateEntityAsync(lane, lane.ETag, TableUpdateMode.Replace, ct);
            return response.Headers.ETag;
        }
        catch (Azure.RequestFailedException e) when (e.Status is 404 or 412)
        {
            return null;
        }
    }

    /// <summary>Gives the lane back with the time it is next due (a fan-out meanwhile made it due now: then that wins).</summary>
    private async Task ReleaseAsync(string webhookId, string lane, Azure.ETag etag, DateTimeOffset next, CancellationToken ct)
    {
        try
        {
            await tables.WebhookLanes.UpdateEntityAsync(new TableEntity("lanes", webhookId + "|" + lane) { ["NextAttemptAt"] = next }, etag, TableUpdateMode.Replace, ct);
        }
        catch (Azure.RequestFailedException e) when (e.Status is 404 or 412)
        {
            // Woken meanwhile (due now): the wake runs the lane again.
        }
    }

    private async Task<(TableEntity Queue, TableEntity Delivery)?> HeadAsync(string webhookId, string lane, CancellationToken ct)
    {
        var prefix = WebhookRows.QueuePrefix(lane);
        while (true)
        {
            TableEntity? first = null;
            await foreach (var q in tables.Webhooks.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {webhookId} and RowKey ge {prefix} and RowKey lt {prefix + "~"}"), maxPerPage: 1, cancellationToken: ct))
            {
                first = q;
                break;
            }
            if (first is null) return null;
            var delivery = await DeliveryAsync(webhookId, WebhookRows.DeliveryKey(first.GetString("DeliveryId")), ct);
            if (delivery is not null && delivery.GetString("Status") == "Pending" && delivery.GetString("QueueKey") == first.RowKey) return (first, delivery);
            await tables.Webhooks.DeleteEntityAsync(webhookId, first.RowKey, Azure.ETag.All, ct); // a stale entry (its delivery finished or was queued again)
        }
    }

    private async Task<TableEntity?> DeliveryAsync(string webhookId, string rowKey, CancellationToken ct)
    {
        var found = await tables.Webhooks.GetEntityIfExistsAsync<TableEntity>(webhookId, rowKey, cancellationToken: ct);
        return found.HasValue ? found.Value : null;
    }

    private enum AttemptOutcome { Continue, Wait, Stop }

    /// <summary>One signed POST of the delivery; records the attempt, the delivery's state and the subscription's failure count.</summary>
    private async Task<AttemptOutcome> AttemptAsync(Subscription s, TableEntity delivery, CancellationToken ct)
    {
        var e = JsonSerializer.Deserialize<IntegrationEvent>(delivery.GetString("Event"), OutboxJson.Options)!;
        var body = Encoding.UTF8.GetString(envelope.Encode(e).Span);
        var attempt = (delivery.GetInt32("Attempts") ?? 0) + 1;
        // A span of the request's trace (its correlation id), like the outbox delivery that queued it.
        using var activity = Prm.Core.Common.PrmTelemetry.StartFromCorrelation("webhook.deliver " + e.Type, e.CorrelationId, ActivityKind.Producer);
        activity?.SetTag("prm.webhook.id", s.Id);
        activity?.SetTag("prm.event.id", e.Id);
        activity?.SetTag("prm.subject", e.Subject);
        activity?.SetTag("prm.webhook.attempt", attempt);
        var started = clock.GetUtcNow();
        var watch = Stopwatch.StartNew();
        int? status = null;
        string? excerpt = null;
        string? error = null;
        try
        {
            WebhookRules.ValidateUrl(s.Url, options.AllowLoopback);
            using var request = new HttpRequestMessage(HttpMethod.Post, s.Url) { Content = new StringContent(body, Encoding.UTF8) };
            request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(CloudEventEnvelope.ContentType);
            var timestamp = clock.GetUtcNow();
            request.Headers.TryAddWithoutValidation("webhook-id", e.Id);
            request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.TryAddWithoutValidation("webhook-signature", Sign(s.SigningSecrets(started), e.Id, timestamp, body));
            if (e.CorrelationId is not null) request.Headers.TryAddWithoutValidation("x-correlation-id", e.CorrelationId);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            status = (int)response.StatusCode;
            excerpt = Excerpt.Of(await ReadExcerptAsync(response, ct));
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            error = ex switch
            {
                TaskCanceledException => $"No answer within {options.TimeoutSeconds} s.",
                Prm.Core.Common.ValidationFailedException v => "The URL is no longer allowed: " + v.Message,
                HttpRequestException { InnerException: WebhookTargetRefusedException refused } => refused.Message,
                WebhookTargetRefusedException refused => refused.Message,
                _ => Excerpt.Of(ex.GetBaseException().Message, 300),
            };
        }
        watch.Stop();
        var now = clock.GetUtcNow();
        var succeeded = status is >= 200 and < 300;
        var gone = status == 410;
        if (status is >= 300 and < 400) error = $"Redirects are not followed ({status}): subscribe the final URL.";
        var outcome = succeeded ? "Succeeded" : gone ? "Gone" : "Failed";
        try
        {
            await tables.Webhooks.AddEntityAsync(new TableEntity(s.Id, "a|" + KeyEncoding.Inverted(now) + "|" + delivery.RowKey[2..] + "|" + attempt.ToString("D4", System.Globalization.CultureInfo.InvariantCulture))
            {
                ["DeliveryId"] = delivery.RowKey[2..], ["EventId"] = e.Id, ["EventType"] = e.Type, ["Subject"] = e.Subject, ["Attempt"] = attempt, ["At"] = started,
                ["StatusCode"] = status, ["LatencyMs"] = watch.ElapsedMilliseconds, ["Outcome"] = outcome, ["ResponseExcerpt"] = excerpt, ["Error"] = error,
                ["CorrelationId"] = e.CorrelationId,
            }, ct);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 409)
        {
            // The key is this attempt's own (its delivery, attempt number and time): the storage client's resend of this insert after its
            // answer was lost met the row. The attempt is logged; go on and record its outcome on the delivery.
        }
        activity?.SetTag("http.response.status_code", status);
        activity?.SetTag("prm.webhook.outcome", outcome);
        if (outcome != "Succeeded") activity?.SetStatus(ActivityStatusCode.Error, error ?? $"HTTP {status}");
        delivery["Attempts"] = attempt;
        delivery["LastStatusCode"] = status;
        delivery["LastError"] = error ?? (succeeded ? null : Excerpt.Of(excerpt, 300));
        WebhookMetrics.Attempt(e.Type, outcome, watch.Elapsed, now - e.OccurredAt);
        if (succeeded)
        {
            // The subscription's failure count is reset before the delivery reads Succeeded, so whoever sees the delivery
            // succeed also sees the reset; a crash in between only repeats the delivery (at least once).
            if (s.ConsecutiveFailures > 0 || s.LastSuccessAt is null || now - s.LastSuccessAt > TimeSpan.FromMinutes(1))
                await UpdateSubscriptionAsync(s.Id, current => current with { ConsecutiveFailures = 0, FirstFailureAt = null, LastSuccessAt = now }, ct);
            delivery["Status"] = "Succeeded";
            delivery["DeliveredAt"] = now;
            await tables.Webhooks.UpdateEntityAsync(delivery, delivery.ETag, TableUpdateMode.Replace, ct);
            return AttemptOutcome.Continue;
        }
        var createdAt = delivery.GetDateTimeOffset("CreatedAt") ?? now;
        var exhausted = now - createdAt >= TimeSpan.FromSeconds(options.RetryForSeconds);
        delivery["Status"] = exhausted ? "Failed" : "Pending";
        delivery["NextAttemptAt"] = now + WebhookRules.Backoff(attempt, options, Random.Shared.NextDouble());
        await tables.Webhooks.UpdateEntityAsync(delivery, delivery.ETag, TableUpdateMode.Replace, ct);
        var disabled = await CountFailureAsync(s.Id, gone, now, ct);
        if (disabled) return AttemptOutcome.Stop;
        return exhausted ? AttemptOutcome.Continue : AttemptOutcome.Wait;
    }

    private static async Task<string?> ReadExcerptAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var buffer = new byte[1024];
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), ct);
            if (n == 0) break;
            read += n;
        }
        return read == 0 ? null : Encoding.UTF8.GetString(buffer, 0, read);
    }

    /// <summary>The <c>webhook-signature</c> header: a <c>v1,</c> signature per signing secret, space separated (Standard Webhooks).</summary>
    public static string Sign(IReadOnlyList<string> secrets, string messageId, DateTimeOffset timestamp, string body) =>
        string.Join(' ', secrets.Select(secret => new StandardWebhook(secret).Sign(messageId, timestamp, body)));

    /// <summary>Counts a failed attempt; disables the subscription on 410 or after N failures in a row over the window. True when it was disabled now.</summary>
    private async Task<bool> CountFailureAsync(string webhookId, bool gone, DateTimeOffset now, CancellationToken ct)
    {
        string? reason = null;
        Subscription? before = null;
        await UpdateSubscriptionAsync(webhookId, current =>
        {
            before = current;
            var failures = current.ConsecutiveFailures + 1;
            var first = current.FirstFailureAt ?? now;
            reason = gone ? "The receiver answered 410 Gone."
                : failures >= options.DisableAfterFailures && now - first >= TimeSpan.FromSeconds(options.DisableAfterSeconds)
                    ? $"{failures} deliveries failed in a row since {first:u}." : null;
            return reason is null
                ? current with { ConsecutiveFailures = failures, FirstFailureAt = first }
                : current with { ConsecutiveFailures = failures, FirstFailureAt = first, Status = "Disabled", DisabledReason = reason, DisabledAt = now };
        }, ct);
        if (reason is null || before is null || !before.Active) return reason is not null;
        queue.Invalidate();
        WebhookMetrics.Disabled();
        log.LogWarning("Webhook {Webhook} disabled: {Reason}", webhookId, reason);
        await EmailAdminsAsync(before, reason, now, ct);
        return true;
    }

    private async Task UpdateSubscriptionAsync(string webhookId, Func<Subscription, Subscription> change, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var found = await tables.Webhooks.GetEntityIfExistsAsync<TableEntity>(WebhookRows.SubscriptionPartition, webhookId, cancellationToken: ct);
            if (!found.HasValue) return;
            var current = WebhookRows.ReadSubscription(found.Value!);
            try
            {
                await tables.Webhooks.UpdateEntityAsync(WebhookRows.Subscription(change(current)), found.Value!.ETag, TableUpdateMode.Replace, ct);
                return;
            }
            catch (Azure.RequestFailedException e) when (e.Status == 412)
            {
            }
        }
    }

    private async Task EmailAdminsAsync(Subscription s, string reason, DateTimeOffset now, CancellationToken ct)
    {
        var admins = (await staff.ListAsync(ct)).Where(m => m.Roles.Contains(AppRoles.Admin)).ToList();
        foreach (var admin in admins)
        {
            var text = $"Hello {admin.DisplayName},\n\nThe webhook subscription {s.Id} to {s.Url} was disabled: {reason}\n\nNo further events are sent to it. " +
                "Check the delivery log (GET /api/webhooks/{id}/deliveries), fix the receiver, then enable it again (POST /api/webhooks/{id}/enable): queued deliveries then go out.";
            var html = "<p>" + System.Net.WebUtility.HtmlEncode(text).Replace("\n\n", "</p><p>", StringComparison.Ordinal) + "</p>";
            try
            {
                await email.SendAsync($"msg_webhook_{s.Id}_{now.ToUnixTimeSeconds()}_{admin.Id}", new EmailMessage(admin.Email, admin.DisplayName, $"Webhook disabled: {s.Url}", text, html, "webhook-disabled"), ct);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                log.LogWarning(ex, "Could not email {Admin} about the disabled webhook {Webhook}", admin.Email, s.Id);
            }
        }
    }

    public override void Dispose()
    {
        http.Dispose();
        slots.Dispose();
        base.Dispose();
    }
}

/// <summary>A webhook target that resolves to an address webhooks are never sent to (SSRF).</summary>
public sealed class WebhookTargetRefusedException(string message) : Exception(message);

/// <summary>The webhook metrics (OpenTelemetry meter <c>Prm.Webhooks</c>).</summary>
public static class WebhookMetrics
{
    public static readonly System.Diagnostics.Metrics.Meter Meter = new("Prm.Webhooks");
    private static readonly System.Diagnostics.Metrics.Counter<long> Attempts = Meter.CreateCounter<long>("prm.webhook.attempts", description: "Webhook delivery attempts by outcome");
    private static readonly System.Diagnostics.Metrics.Counter<long> Failures = Meter.CreateCounter<long>("prm.webhook.failures", description: "Failed webhook delivery attempts");
    private static readonly System.Diagnostics.Metrics.Counter<long> Disables = Meter.CreateCounter<long>("prm.webhook.disabled", description: "Subscriptions disabled (410 or repeated failures)");
    private static readonly System.Diagnostics.Metrics.Histogram<double> Latency = Meter.CreateHistogram<double>("prm.webhook.latency", "ms", "Receiver response time");
    private static readonly System.Diagnostics.Metrics.Histogram<double> EndToEnd = Meter.CreateHistogram<double>("prm.webhook.event_to_delivery", "ms", "From the event to its delivery attempt");

    internal static void Attempt(string type, string outcome, TimeSpan latency, TimeSpan sinceEvent)
    {
        var tags = new KeyValuePair<string, object?>[] { new("event.type", type), new("outcome", outcome) };
        Attempts.Add(1, tags);
        if (outcome != "Succeeded") Failures.Add(1, tags);
        Latency.Record(latency.TotalMilliseconds, tags);
        EndToEnd.Record(sinceEvent.TotalMilliseconds, tags);
    }

    internal static void Disabled() => Disables.Add(1);
}
