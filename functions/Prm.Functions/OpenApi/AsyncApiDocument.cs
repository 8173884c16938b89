using System.Text.Json;
using System.Text.Json.Nodes;
using Prm.Core.Outbox;

namespace Prm.Functions.OpenApi;

/// <summary>
/// The event catalog as an AsyncAPI 3.0 document, generated from the event types in code (<see cref="EventCatalog"/>): one message per
/// event type whose payload is the CloudEvents envelope with the event's data schema, the Service Bus topic and the webhooks as the channels
/// the application sends them on, and every data schema under components.schemas as <c>{event}.v{version}</c> (what <c>dataschema</c> names).
/// </summary>
public static class AsyncApiDocument
{
    public const string Version = "1.0.0";

    public static JsonObject Build(string apiBaseUrl, IReadOnlyDictionary<string, EventTypeInfo>? catalog = null)
    {
        catalog ??= EventCatalog.All;
        var schemas = new JsonObject
        {
            ["CloudEvent"] = Envelope(),
        };
        var messages = new JsonObject();
        var channelMessages = new JsonObject();
        var webhookMessages = new JsonObject();
        foreach (var info in catalog.Values)
        {
            schemas[info.SchemaKey] = EventCatalog.DataSchema(info);
            messages[info.Name] = new JsonObject
            {
                ["name"] = info.Name,
                ["title"] = info.CloudEventType,
                ["summary"] = info.Summary ?? $"{info.Name} (declared by {info.DeclaredBy})",
                ["contentType"] = "application/cloudevents+json",
                ["payload"] = new JsonObject
                {
                    ["allOf"] = new JsonArray(
                        new JsonObject { ["$ref"] = "#/components/schemas/CloudEvent" },
                        new JsonObject
                        {
                            ["type"] = "object",
                            ["properties"] = new JsonObject
                            {
                                ["type"] = new JsonObject { ["const"] = info.CloudEventType },
                                ["dataschema"] = new JsonObject { ["type"] = "string", ["pattern"] = $"#/components/schemas/{System.Text.RegularExpressions.Regex.Escape(info.SchemaKey)}$" },
                                ["data"] = new JsonObject { ["$ref"] = $"#/components/schemas/{info.SchemaKey}" },
                            },
                        }),
                },
                ["x-prm-schema-version"] = info.Version,
                ["x-prm-declared-by"] = info.DeclaredBy,
            };
            channelMessages[info.Name] = new JsonObject { ["$ref"] = $"#/components/messages/{info.Name}" };
            webhookMessages[info.Name] = new JsonObject { ["$ref"] = $"#/components/messages/{info.Name}" };
        }
        return new JsonObject
        {
            ["asyncapi"] = "3.0.0",
            ["info"] = new JsonObject
            {
                ["title"] = "PrmFunctions events",
                ["version"] = Version,
                ["description"] = "Every change PrmFunctions reports, as CloudEvents 1.0 (structured JSON). The same envelope travels on the Service Bus topic " +
                    "(MessageId = event id, Subject = event name, CorrelationId = the request's correlation id) and in signed webhook requests " +
                    "(Standard Webhooks: webhook-id = event id, webhook-timestamp, webhook-signature). Generated from the event types in code.",
            },
            ["defaultContentType"] = "application/cloudevents+json",
            ["servers"] = new JsonObject
            {
                ["serviceBus"] = new JsonObject { ["host"] = "{namespace}.servicebus.windows.net", ["protocol"] = "amqp", ["protocolVersion"] = "1.0", ["description"] = "The deployment's Service Bus namespace (topic prm-events).",
                    ["variables"] = new JsonObject { ["namespace"] = new JsonObject { ["description"] = "Service Bus namespace name" } } },
                ["api"] = new JsonObject { ["host"] = new Uri(apiBaseUrl).Authority, ["pathname"] = new Uri(apiBaseUrl).AbsolutePath, ["protocol"] = new Uri(apiBaseUrl).Scheme, ["description"] = "This API: webhook subscriptions are managed at /webhooks." },
            },
            ["channels"] = new JsonObject
            {
                ["events"] = new JsonObject { ["address"] = "prm-events", ["title"] = "Service Bus topic", ["servers"] = new JsonArray(new JsonObject { ["$ref"] = "#/servers/serviceBus" }), ["messages"] = channelMessages },
                ["webhooks"] = new JsonObject { ["address"] = "{subscriptionUrl}", ["title"] = "Webhook subscriptions (POST to the subscriber's URL, signed)",
                    ["parameters"] = new JsonObject { ["subscriptionUrl"] = new JsonObject { ["description"] = "The HTTPS URL of a subscription (POST /api/webhooks)." } }, ["messages"] = webhookMessages },
            },
            ["operations"] = new JsonObject
            {
                ["publishEvents"] = new JsonObject { ["action"] = "send", ["channel"] = new JsonObject { ["$ref"] = "#/channels/events" }, ["summary"] = "PrmFunctions publishes every committed event once (at least once; deduplicated by MessageId)." },
                ["deliverWebhooks"] = new JsonObject { ["action"] = "send", ["channel"] = new JsonObject { ["$ref"] = "#/channels/webhooks" }, ["summary"] = "Matching events are POSTed to each subscription in commit order per subject, retried with backoff for up to 3 days." },
            },
            ["components"] = new JsonObject { ["schemas"] = schemas, ["messages"] = messages },
        };
    }

    /// <summary>The CloudEvents 1.0 attributes every message carries.</summary>
    private static JsonObject Envelope() => new()
    {
        ["type"] = "object",
        ["description"] = "CloudEvents 1.0, structured JSON mode.",
        ["required"] = new JsonArray("specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema", "data"),
        ["properties"] = new JsonObject
        {
            ["specversion"] = new JsonObject { ["const"] = "1.0" },
            ["id"] = new JsonObject { ["type"] = "string", ["description"] = "The outbox event id: the same on every retry and replay (deduplicate by it)." },
            ["source"] = new JsonObject { ["type"] = "string", ["format"] = "uri-reference" },
            ["type"] = new JsonObject { ["type"] = "string", ["pattern"] = "^com\\.prmfunctions\\." },
            ["subject"] = new JsonObject { ["type"] = "string", ["description"] = "The record the event is about, e.g. deals/{id}; order holds per subject." },
            ["time"] = new JsonObject { ["type"] = "string", ["format"] = "date-time" },
            ["datacontenttype"] = new JsonObject { ["const"] = "application/json" },
            ["dataschema"] = new JsonObject { ["type"] = "string", ["format"] = "uri", ["description"] = "This document's schema of the data, with its version (…#/components/schemas/{event}.v{n})." },
            ["partnerid"] = new JsonObject { ["type"] = "string", ["description"] = "The partner the event concerns, when there is one." },
            ["correlationid"] = new JsonObject { ["type"] = "string", ["description"] = "The correlation id of the request that caused it." },
            ["data"] = new JsonObject { ["type"] = "object" },
        },
    };

    public static string ToJson(string apiBaseUrl) => Build(apiBaseUrl).ToJsonString(new JsonSerializerOptions { WriteIndented = false });
}
