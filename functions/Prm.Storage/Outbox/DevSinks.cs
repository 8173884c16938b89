using System.Text.Json;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Prm.Core.Outbox;

namespace Prm.Storage.Outbox;

/// <summary>A sent email as the development mail outbox shows it.</summary>
public sealed record DevMail(string Id, DateTimeOffset SentAt, string To, string Subject, string Text, string Html, string Template, IReadOnlyList<string> Links, string? CorrelationId = null,
    IReadOnlyDictionary<string, string>? Headers = null);

/// <summary>Development mail outbox: stores email in a table instead of sending it.</summary>
public sealed partial class DevMailbox(PrmTables tables, TimeProvider clock) : IEmailSender
{
    [GeneratedRegex("""https?://[^\s"'<>]+""")]
    private static partial Regex LinkPattern();

    public async Task SendAsync(string messageId, EmailMessage email, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        // One row per delivery (never overwritten): a message delivered twice shows twice, so duplicates are visible.
        var entity = new TableEntity("mail", KeyEncoding.Inverted(now) + "|" + messageId + "|" + Guid.NewGuid().ToString("N")[..8])
        {
            ["MessageId"] = messageId, ["SentAt"] = now, ["To"] = email.To, ["Subject"] = email.Subject, ["Text"] = email.Text,
            ["Html"] = email.Html, ["Template"] = email.Template,
            // The request's correlation id (the outbox delivery sets it from the message), as SendGrid carries it in custom_args.
            ["CorrelationId"] = Prm.Core.Common.Correlation.Id,
            // The extra mail headers SendGrid would send (List-Unsubscribe, List-Unsubscribe-Post).
            ["Headers"] = email.Headers is { Count: > 0 } headers ? JsonSerializer.Serialize(headers) : null,
        };
        // The key is new (a random suffix), so the upsert adds; coalesced, as every delivery lane writes the one "mail" partition.
        await tables.Coalesced(tables.DevMail).UpsertAsync(entity, ct);
    }

    /// <summary>Every delivery of an email, newest first, optionally only to one address (a message delivered twice is listed twice, with its id).</summary>
    public async Task<IReadOnlyList<DevMail>> ListAsync(string? to, int limit, CancellationToken ct)
    {
        var list = new List<DevMail>();
        await foreach (var e in tables.DevMail.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"mail"}"), cancellationToken: ct))
        {
            if (to is not null && !string.Equals(e.GetString("To"), to, StringComparison.OrdinalIgnoreCase)) continue;
            var text = e.GetString("Text") ?? "";
            var html = e.GetString("Html") ?? "";
            var links = LinkPattern().Matches(text + " " + html).Select(m => System.Net.WebUtility.HtmlDecode(m.Value)).Distinct().ToList();
            var headers = e.GetString("Headers") is { } json ? JsonSerializer.Deserialize<Dictionary<string, string>>(json) : null;
            list.Add(new DevMail(e.GetString("MessageId"), e.GetDateTimeOffset("SentAt") ?? default, e.GetString("To"), e.GetString("Subject"), text, html, e.GetString("Template"), links, e.GetString("CorrelationId"), headers));
            if (list.Count >= limit) break;
        }
        return list;
    }
}

/// <summary>Development event sink: stores published events in a table (Service Bus cannot run locally).</summary>
public sealed class DevEventSink(PrmTables tables, TimeProvider clock, CloudEventEnvelope? envelope = null) : IEventPublisher
{
    /// <summary>
    /// Fault injection for tests and local experiments: an event this returns true for is refused (a failed delivery attempt, as a broker
    /// outage would be), so the outbox's retries and dead letters can be seen without a broker.
    /// </summary>
    public Func<IntegrationEvent, bool>? Refuse { get; set; }

    public Task PublishAsync(IntegrationEvent e, CancellationToken ct) => PublishAllAsync([e], ct);

    /// <summary>The events of one delivery as rows of the one "event" partition, stored together (one transaction, as a Service Bus batch).</summary>
    public async Task PublishAllAsync(IReadOnlyList<IntegrationEvent> events, CancellationToken ct)
    {
        // As a broker refuses a whole batch: nothing of it is stored.
        if (events.FirstOrDefault(e => Refuse?.Invoke(e) == true) is { } refused)
        {
            throw new InvalidOperationException($"The development event sink refuses {refused.Type} of {refused.Subject} (fault injection).");
        }
        var now = clock.GetUtcNow();
        // Coalesced, as every delivery lane writes the one "event" partition.
        // A tick apart, so the newest-first listing shows the batch in reverse publishing order, as single publishes would be.
        await tables.Coalesced(tables.DevEvents).UpsertAllAsync(events.Select((e, i) => Row(e, now.AddTicks(i))).ToList(), ct);
    }

    private TableEntity Row(IntegrationEvent e, DateTimeOffset now) =>
        new("event", KeyEncoding.Inverted(now) + "|" + e.Id)
        {
            ["EventId"] = e.Id, ["Type"] = e.Type, ["Subject"] = e.Subject, ["PartnerId"] = e.PartnerId, ["OccurredAt"] = e.OccurredAt,
            ["Body"] = JsonSerializer.Serialize(e, OutboxJson.Options),
            // The envelope exactly as Service Bus would carry it (structured CloudEvent), for the catalog check and for a look.
            ["CloudEvent"] = System.Text.Encoding.UTF8.GetString((envelope ?? CloudEventEnvelope.Default).Encode(e).Span),
        };

    /// <summary>The published CloudEvents (structured JSON), newest first.</summary>
    public async Task<IReadOnlyList<JsonElement>> ListCloudEventsAsync(int limit, CancellationToken ct)
    {
        var list = new List<JsonElement>();
        await foreach (var e in tables.DevEvents.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"event"}"), cancellationToken: ct))
        {
            if (e.GetString("CloudEvent") is { } body) list.Add(JsonDocument.Parse(body).RootElement.Clone());
            if (list.Count >= limit) break;
        }
        return list;
    }

    public async Task<IReadOnlyList<IntegrationEvent>> ListAsync(int limit, CancellationToken ct)
    {
        var list = new List<IntegrationEvent>();
        await foreach (var e in tables.DevEvents.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"event"}"), cancellationToken: ct))
        {
            list.Add(JsonSerializer.Deserialize<IntegrationEvent>(e.GetString("Body"), OutboxJson.Options)!);
            if (list.Count >= limit) break;
        }
        return list;
    }
}
