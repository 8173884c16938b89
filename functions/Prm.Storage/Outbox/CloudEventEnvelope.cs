using System.Net.Mime;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using Prm.Core.Outbox;

namespace Prm.Storage.Outbox;

/// <summary>Settings of the event envelope (section "Events").</summary>
public sealed class EventEnvelopeOptions
{
    public const string SectionName = "Events";

    /// <summary>The CloudEvents <c>source</c> of every event: this deployment (a URI reference; the API's public base URL by default).</summary>
    public string? Source { get; set; }

    /// <summary>Where the schemas live (<c>dataschema</c> = this + <c>#/components/schemas/{event}.v{version}</c>); the API's AsyncAPI document by default.</summary>
    public string? SchemaBaseUrl { get; set; }
}

/// <summary>
/// The one envelope of every integration event that leaves PrmFunctions (Service Bus, webhooks, the development sink): CloudEvents 1.0 in
/// structured JSON mode, built and written with the CloudNative.CloudEvents SDK. <c>id</c> is the outbox event id, <c>type</c>
/// <c>com.prmfunctions.{event}</c>, <c>subject</c> the record (<c>deals/{id}</c>), <c>time</c> when it happened, <c>datacontenttype</c>
/// application/json, <c>dataschema</c> the versioned schema in the AsyncAPI catalog; extensions <c>partnerid</c> and <c>correlationid</c>.
/// </summary>
public sealed class CloudEventEnvelope
{
    public const string ContentType = "application/cloudevents+json; charset=utf-8";

    private static readonly JsonEventFormatter Formatter = new(OutboxJson.Options, new System.Text.Json.JsonDocumentOptions());

    public static readonly CloudEventAttribute PartnerIdAttribute = CloudEventAttribute.CreateExtension("partnerid", CloudEventAttributeType.String);
    public static readonly CloudEventAttribute CorrelationIdAttribute = CloudEventAttribute.CreateExtension("correlationid", CloudEventAttributeType.String);

    private readonly Uri source;
    private readonly string schemaBase;

    public CloudEventEnvelope(EventEnvelopeOptions options, Prm.Core.Configuration.ProgramOptions program)
    {
        var api = program.ApiBaseUrl.TrimEnd('/');
        source = new Uri(string.IsNullOrWhiteSpace(options.Source) ? api : options.Source, UriKind.RelativeOrAbsolute);
        schemaBase = string.IsNullOrWhiteSpace(options.SchemaBaseUrl) ? api + "/asyncapi.json" : options.SchemaBaseUrl;
    }

    /// <summary>The envelope with the defaults (tests, tools).</summary>
    public static CloudEventEnvelope Default { get; } = new(new EventEnvelopeOptions(), new Prm.Core.Configuration.ProgramOptions());

    /// <summary>The <c>dataschema</c> URI of an event type (its schema component in the AsyncAPI document, with the version).</summary>
    public Uri SchemaOf(string eventType)
    {
        var info = EventCatalog.Find(eventType);
        return new Uri($"{schemaBase}#/components/schemas/{eventType}.v{info?.Version ?? 1}");
    }

    public CloudEvent ToCloudEvent(IntegrationEvent e)
    {
        var ce = new CloudEvent(CloudEventsSpecVersion.V1_0, [PartnerIdAttribute, CorrelationIdAttribute])
        {
            Id = e.Id,
            Type = EventCatalog.CloudEventTypePrefix + e.Type,
            Source = source,
            Subject = e.Subject,
            Time = e.OccurredAt,
            DataContentType = MediaTypeNames.Application.Json,
            DataSchema = SchemaOf(e.Type),
            Data = e.Data,
        };
        if (e.PartnerId is not null) ce[PartnerIdAttribute] = e.PartnerId;
        if (e.CorrelationId is not null) ce[CorrelationIdAttribute] = e.CorrelationId;
        return ce;
    }

    /// <summary>The structured-mode JSON of the event (what Service Bus messages and webhook requests carry).</summary>
    public ReadOnlyMemory<byte> Encode(IntegrationEvent e) => Formatter.EncodeStructuredModeMessage(ToCloudEvent(e), out _);

    /// <summary>Reads a structured-mode envelope back (tests, the development sink).</summary>
    public static CloudEvent Decode(ReadOnlyMemory<byte> body) =>
        Formatter.DecodeStructuredModeMessage(body, new ContentType("application/cloudevents+json"), [PartnerIdAttribute, CorrelationIdAttribute]);
}
