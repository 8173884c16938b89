using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Prm.Testing;

/// <summary>
/// Checks emitted CloudEvents against the AsyncAPI event catalog: the type must be a message of the catalog, the envelope must carry the
/// CloudEvents attributes, dataschema must name the catalog's schema of that type, and data must match that schema (JsonSchema.Net).
/// </summary>
public sealed class EventCatalogCheck
{
    private readonly JsonObject document;
    private readonly Dictionary<string, JsonSchema> compiled = new(StringComparer.Ordinal);

    public EventCatalogCheck(JsonObject asyncApi) => document = asyncApi;

    public static async Task<EventCatalogCheck> LoadAsync(HttpClient anonymous)
    {
        var text = await anonymous.GetStringAsync("asyncapi.json");
        return new EventCatalogCheck(JsonNode.Parse(text)!.AsObject());
    }

    public IReadOnlyCollection<string> EventNames => document["components"]!["messages"]!.AsObject().Select(p => p.Key).ToList();

    /// <summary>What is wrong with one emitted CloudEvent (empty when it conforms).</summary>
    public IReadOnlyList<string> Violations(JsonElement cloudEvent)
    {
        var errors = new List<string>();
        string Attr(string name) => cloudEvent.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
        var id = Attr("id");
        var type = Attr("type");
        foreach (var required in new[] { "specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema" })
        {
            if (Attr(required).Length == 0) errors.Add($"{id} ({type}): attribute {required} is missing");
        }
        if (!type.StartsWith("com.prmfunctions.", StringComparison.Ordinal))
        {
            errors.Add($"{id}: type {type} is not com.prmfunctions.*");
            return errors;
        }
        var name = type["com.prmfunctions.".Length..];
        if (document["components"]!["messages"]![name] is not JsonObject message)
        {
            errors.Add($"{id}: the event type {name} is emitted but missing from the catalog (declare it: a public const string in a *Events class with its payload)");
            return errors;
        }
        var schemaKey = $"{name}.v{message["x-prm-schema-version"]!.GetValue<int>()}";
        if (!Attr("dataschema").EndsWith("#/components/schemas/" + schemaKey, StringComparison.Ordinal))
            errors.Add($"{id} ({name}): dataschema {Attr("dataschema")} does not name the catalog's schema {schemaKey}");
        if (!cloudEvent.TryGetProperty("data", out var data))
        {
            errors.Add($"{id} ({name}): no data");
            return errors;
        }
        var schema = Schema(schemaKey);
        var result = schema.Evaluate(data, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (!result.IsValid)
        {
            var details = (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
                .SelectMany(d => d.Errors!.Select(e => $"{(d.InstanceLocation.ToString() is { Length: > 0 } at ? at : "/")}: {e.Value}")).Distinct().Take(8);
            errors.Add($"{id} ({name}): data does not match its schema: " + string.Join("; ", details));
        }
        return errors;
    }

    private JsonSchema Schema(string key)
    {
        if (compiled.TryGetValue(key, out var schema)) return schema;
        var node = document["components"]!["schemas"]![key]!.DeepClone().AsObject();
        node["$schema"] = "https://json-schema.org/draft/2020-12/schema";
        node.Remove("$id"); // standalone here: "#/..." references resolve against this root anyway
        schema = JsonSchema.FromText(node.ToJsonString(), new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        compiled[key] = schema;
        return schema;
    }
}
