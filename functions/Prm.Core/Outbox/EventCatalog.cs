using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;

namespace Prm.Core.Outbox;

/// <summary>
/// Declares the payload (the CloudEvent's <c>data</c>) of integration event types. On a <c>public const string</c> field holding an event type it
/// declares that type; on a class whose name ends in <c>Events</c> it is the payload of every event-type constant of the class that has no
/// attribute of its own. <see cref="Version"/> is the schema version carried in the CloudEvent's <c>dataschema</c> (raise it on a breaking change).
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Class, AllowMultiple = false)]
public sealed class EventPayloadAttribute(Type payload) : Attribute
{
    public Type Payload { get; } = payload;

    public int Version { get; init; } = 1;

    /// <summary>One line for the catalog: what happened.</summary>
    public string? Summary { get; init; }
}

/// <summary>One event type of the catalog: its name (e.g. <c>deal.approved</c>), payload type and schema version, and where it is declared.</summary>
public sealed record EventTypeInfo(string Name, Type? Payload, int Version, string DeclaredBy, string? Summary)
{
    /// <summary>The CloudEvents <c>type</c>: <c>com.prmfunctions.{name}</c>.</summary>
    public string CloudEventType => EventCatalog.CloudEventTypePrefix + Name;

    /// <summary>The component key of the payload schema in the AsyncAPI document (name and version).</summary>
    public string SchemaKey => $"{Name}.v{Version}";
}

/// <summary>
/// The integration event types, found in the code (never a hand-kept list). An event type is
/// <list type="bullet">
/// <item>every <c>public const string</c> whose value is a dotted lower-camel name (<c>deal.approved</c>, <c>mdf.claim.paid</c>) declared in a
/// class whose name ends in <c>Events</c>, in any Prm.* assembly; its payload is the field's <see cref="EventPayloadAttribute"/>, else the
/// class's, else the class's only nested <c>*Data</c> record;</item>
/// <item>every <c>public const string</c> elsewhere that carries <see cref="EventPayloadAttribute"/>.</item>
/// </list>
/// A type whose payload cannot be told has <see cref="EventTypeInfo.Payload"/> null: its schema is open and the catalog test fails on it.
/// </summary>
public static partial class EventCatalog
{
    public const string CloudEventTypePrefix = "com.prmfunctions.";

    [GeneratedRegex("^[a-z][a-zA-Z0-9]*(\\.[a-z][a-zA-Z0-9]*)+$")]
    private static partial Regex EventName();

    private static readonly Lazy<IReadOnlyDictionary<string, EventTypeInfo>> Loaded = new(() => Discover(PrmAssemblies()));

    /// <summary>Every event type of the loaded application, by name.</summary>
    public static IReadOnlyDictionary<string, EventTypeInfo> All => Loaded.Value;

    /// <summary>The catalog entry of a type name, or null when the code declares no such event.</summary>
    public static EventTypeInfo? Find(string name) => All.GetValueOrDefault(name);

    /// <summary>The Prm.* assemblies of the application (loaded ones and those next to this one).</summary>
    public static IReadOnlyList<Assembly> PrmAssemblies()
    {
        var found = AppDomain.CurrentDomain.GetAssemblies().Where(IsPrm).ToDictionary(a => a.GetName().Name!, StringComparer.Ordinal);
        var dir = Path.GetDirectoryName(typeof(EventCatalog).Assembly.Location);
        if (!string.IsNullOrEmpty(dir))
        {
            foreach (var file in Directory.GetFiles(dir, "Prm.*.dll"))
            {
                var name = Path.GetFileNameWithoutExtension(file);
                if (found.ContainsKey(name) || name.EndsWith(".Tests", StringComparison.Ordinal) || name is "Prm.Testing" or "Prm.Benchmarks" or "Prm.DevHost") continue;
                try { found[name] = Assembly.Load(new AssemblyName(name)); } catch (Exception ex) when (ex is FileNotFoundException or BadImageFormatException or FileLoadException) { }
            }
        }
        return found.Values.Where(a => !a.GetName().Name!.EndsWith(".Tests", StringComparison.Ordinal)).OrderBy(a => a.GetName().Name, StringComparer.Ordinal).ToList();
    }

    private static bool IsPrm(Assembly a) => a.GetName().Name is { } n && n.StartsWith("Prm.", StringComparison.Ordinal) && !a.IsDynamic;

    /// <summary>Finds the event types declared in the assemblies (see the class summary for the rules).</summary>
    public static IReadOnlyDictionary<string, EventTypeInfo> Discover(IEnumerable<Assembly> assemblies)
    {
        var result = new SortedDictionary<string, EventTypeInfo>(StringComparer.Ordinal);
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var type in assemblies.SelectMany(SafeTypes))
        {
            var eventsClass = type.Name.EndsWith("Events", StringComparison.Ordinal);
            foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                if (!field.IsLiteral || field.FieldType != typeof(string) || field.GetRawConstantValue() is not string name) continue;
                var own = field.GetCustomAttribute<EventPayloadAttribute>();
                if (own is null && !(eventsClass && EventName().IsMatch(name))) continue;
                var declared = own ?? type.GetCustomAttribute<EventPayloadAttribute>();
                var payload = declared?.Payload ?? OnlyDataRecord(type);
                var info = new EventTypeInfo(name, payload, declared?.Version ?? 1, $"{type.FullName}.{field.Name}", declared?.Summary);
                // The same name declared twice (e.g. a projection naming an event it reacts to) keeps the declaration that says most of its
                // payload: a field's own attribute, then a known payload.
                var rank = own is not null ? 2 : payload is not null ? 1 : 0;
                if (!ranks.TryGetValue(name, out var existing) || rank > existing)
                {
                    result[name] = info;
                    ranks[name] = rank;
                }
            }
        }
        return result;
    }

    private static Type? OnlyDataRecord(Type type)
    {
        var records = type.GetNestedTypes(BindingFlags.Public).Where(t => t.Name.EndsWith("Data", StringComparison.Ordinal)).ToList();
        return records.Count == 1 ? records[0] : null;
    }

    private static IEnumerable<Type> SafeTypes(Assembly a)
    {
        try { return a.GetTypes(); }
        catch (ReflectionTypeLoadException ex) { return ex.Types.Where(t => t is not null)!; }
    }

    private static readonly JsonSerializerOptions SchemaOptions = new(OutboxJson.Options)
    {
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>The <c>$id</c> of an event's data schema.</summary>
    public static string SchemaId(EventTypeInfo info) => $"urn:prmfunctions:events:{info.SchemaKey}";

    /// <summary>
    /// The JSON schema (draft 2020-12) of an event's data, exported from the payload type with the serializer settings the outbox writes it
    /// with (camelCase, nullability from the C# annotations, constructor parameters required). An undeclared payload gets an open schema.
    /// </summary>
    public static JsonObject DataSchema(EventTypeInfo info)
    {
        if (info.Payload is null) return new JsonObject { ["description"] = "Payload not declared: add [EventPayload(typeof(...))] to the event type." };
        var node = JsonSchemaExporter.GetJsonSchemaAsNode(SchemaOptions, info.Payload, new JsonSchemaExporterOptions { TreatNullObliviousAsNonNullable = false });
        var schema = node as JsonObject ?? new JsonObject();
        schema["$id"] = SchemaId(info); // its own resource: "#/..." references inside it resolve against it wherever it is embedded
        schema["title"] = info.Name;
        if (info.Summary is not null) schema["description"] = info.Summary;
        return schema;
    }
}
