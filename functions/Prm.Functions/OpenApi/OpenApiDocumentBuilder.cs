using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.OpenApi;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Functions.Http;

namespace Prm.Functions.OpenApi;

/// <summary>Builds the OpenAPI 3 document from the function catalog, so routes and document cannot drift apart.</summary>
public static class OpenApiDocumentBuilder
{
    /// <summary>The settings sections in the order of the settings variants (onboarding, deals, mdf).</summary>
    private static readonly string[] SettingsSections = [Prm.Core.Onboarding.OnboardingSettings.SectionName, Prm.Core.Deals.DealSettings.SectionName, Prm.Core.Mdf.MdfSettings.SectionName, Prm.Core.Content.ContentSettings.SectionName, Prm.Core.Leads.LeadSettings.SectionName, Prm.Core.Training.TrainingSettings.SectionName, Prm.Core.Tiers.TierSettings.SectionName, Prm.Core.Branding.BrandingSettings.SectionName, Prm.Core.Plans.PlanSettings.SectionName];

    public static OpenApiDocument Build(string serverUrl)
    {
        var document = new OpenApiDocument
        {
            Info = new OpenApiInfo
            {
                Title = "PrmFunctions API",
                Version = "1.0",
                Description = "Partner relationship management API. JSON is camelCase; unknown fields are ignored; bodies over 1 MiB get 413 (CSV import: 16 MiB); "
                    + "errors are RFC 9457 application/problem+json with traceId. Lists return { items, nextCursor } with limit (default 50, max 200) and cursor. "
                    + "Durations are ISO 8601 (e.g. PT24H, P90D). 429 and 503 carry Retry-After (seconds).",
                License = new OpenApiLicense { Name = "Proprietary", Url = new Uri("https://vendor.example/prm/terms") },
            },
            Servers = [new OpenApiServer { Url = serverUrl }],
            Paths = [],
            Components = new OpenApiComponents
            {
                Schemas = new Dictionary<string, IOpenApiSchema>(),
                SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
                {
                    ["bearer"] = new OpenApiSecurityScheme
                    {
                        Type = SecuritySchemeType.Http,
                        Scheme = "bearer",
                        BearerFormat = "JWT",
                        Description = "Microsoft Entra ID access token for the PrmFunctions API (app roles Prm.Admin, Prm.ChannelManager).",
                    },
                },
            },
        };
        var responseTypes = new HashSet<Type>();
        foreach (var info in FunctionCatalog.HttpFunctions.Select(f => f.Method.GetCustomAttribute<ApiOperationAttribute>()).OfType<ApiOperationAttribute>())
        {
            foreach (var type in info.Variants.Length > 0 ? info.Variants : info.Response is { } r ? [r] : []) SchemaRegistry.Reach(type, responseTypes);
        }
        var schemas = new SchemaRegistry(document, new NullabilityInfoContext(), responseTypes);
        var problem = schemas.For(typeof(Problem), input: false);
        foreach (var group in FunctionCatalog.HttpFunctions.GroupBy(f => f.Route))
        {
            var item = new OpenApiPathItem();
            foreach (var function in group)
            {
                foreach (var method in function.Methods)
                {
                    item.AddOperation(new HttpMethod(method), Operation(document, function, method, schemas, problem));
                }
            }
            document.Paths.Add("/" + group.Key, item);
        }
        return document;
    }

    public static async Task<string> ToJsonAsync(string serverUrl, CancellationToken ct) =>
        await Build(serverUrl).SerializeAsJsonAsync(OpenApiSpecVersion.OpenApi3_0, ct);

    private static string Code(int status) => status.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static OpenApiOperation Operation(OpenApiDocument document, HttpFunction function, string method, SchemaRegistry schemas, IOpenApiSchema problem)
    {
        var info = function.Method.GetCustomAttribute<ApiOperationAttribute>();
        var policy = function.Policy ?? AccessPolicy.Admin;
        var roles = AccessRules.Describe(policy);
        var operation = new OpenApiOperation
        {
            OperationId = function.Name,
            Summary = info?.Summary ?? function.Name,
            Description = (info?.Description ?? "") + (policy == AccessPolicy.Anonymous ? " Anonymous." : $" Roles: {string.Join(", ", roles)}."),
            Tags = new HashSet<OpenApiTagReference> { new OpenApiTagReference(Tag(function.Route), document) },
            Parameters = [],
            Responses = [],
            Extensions = new Dictionary<string, IOpenApiExtension>
            {
                ["x-access-policy"] = new JsonNodeExtension(JsonValue.Create(policy.ToString())),
                ["x-roles"] = new JsonNodeExtension(new JsonArray(roles.Select(r => (JsonNode)JsonValue.Create(r)!).ToArray())),
            },
        };
        var tag = Tag(function.Route);
        document.Tags ??= new HashSet<OpenApiTag>();
        if (document.Tags.All(t => t.Name != tag)) document.Tags.Add(new OpenApiTag { Name = tag, Description = $"Operations under /{tag}." });
        var variants = info?.Variants ?? [];
        foreach (var segment in function.Route.Split('/').Where(s => s.StartsWith('{')))
        {
            var name = segment.Trim('{', '}').Split(':')[0];
            var schema = new OpenApiSchema { Type = JsonSchemaType.String };
            if (name == "section" && variants.Length > 0) schema.Enum = SettingsSections.Select(v => (JsonNode)JsonValue.Create(v)!).ToList();
            operation.Parameters.Add(new OpenApiParameter { Name = name, In = ParameterLocation.Path, Required = true, Schema = schema });
        }
        foreach (var query in info?.Query ?? [])
        {
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = query, In = ParameterLocation.Query, Required = false,
                Schema = query switch
                {
                    "limit" => new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1", Maximum = "200" },
                    "dryRun" => new OpenApiSchema { Type = JsonSchemaType.Boolean },
                    _ => new OpenApiSchema { Type = JsonSchemaType.String },
                },
            });
        }
        foreach (var header in info?.Headers ?? [])
        {
            operation.Parameters.Add(new OpenApiParameter { Name = header, In = ParameterLocation.Header, Required = false, Schema = new OpenApiSchema { Type = JsonSchemaType.String } });
        }
        if (method == "POST" && IdempotentCreates.Applies(function))
        {
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = IdempotentCreates.Header, In = ParameterLocation.Header, Required = false, Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = 200 },
                Description = "A retry with the same key and body within 24 hours gets the first answer again (Idempotent-Replayed: true) and creates nothing; another body is 422, a retry while the first still runs 409.",
            });
        }
        if (info?.IfMatch == true || info?.OptionalIfMatch == true)
        {
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "If-Match", In = ParameterLocation.Header, Required = info.IfMatch, Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                Description = "The ETag from the last read.",
            });
        }
        IOpenApiSchema Variant(bool input) => new OpenApiSchema { OneOf = variants.Select(v => schemas.For(v, input)).ToList() };
        var requestTypes = info?.RequestContentType.Split(',') ?? [];
        // A file in a binary format: images, and the Office formats (application/vnd.openxmlformats-…).
        static bool Binary(string type) => type.StartsWith("image/", StringComparison.Ordinal) || type.StartsWith("application/vnd.", StringComparison.Ordinal);
        var binaryRequest = requestTypes.Length > 0 && requestTypes.All(Binary);
        if (info?.Request is not null || variants.Length > 0 && method != "GET" || requestTypes.Any(t => t is "text/csv" or "text/plain") || binaryRequest)
        {
            var schema = variants.Length > 0 ? Variant(true)
                : binaryRequest ? new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" }
                : info!.Request is null ? new OpenApiSchema { Type = JsonSchemaType.String } : schemas.For(info.Request, input: true, partial: info.PartialRequest);
            // A body may come in several media types ("image/png,image/jpeg"; "text/csv" or an XLSX workbook).
            var request = info!.Request;
            var content = requestTypes.ToDictionary(type => type, IOpenApiMediaType (type) => new OpenApiMediaType
            {
                Schema = Binary(type) && !binaryRequest && variants.Length == 0 && request is null ? new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } : schema,
            });
            if (info.RequestContentType == "application/x-www-form-urlencoded") content["application/json"] = new OpenApiMediaType { Schema = schema };
            operation.RequestBody = new OpenApiRequestBody { Required = true, Content = content };
        }
        var status = info?.Status ?? 200;
        var success = new OpenApiResponse { Description = status switch { 201 => "Created.", 202 => "Accepted.", 204 => "No content.", 302 => "Found: follow Location.", _ => "Success." } };
        if (status == 302)
        {
            success.Headers = new Dictionary<string, IOpenApiHeader>
            {
                ["Location"] = new OpenApiHeader { Required = true, Description = "Where the resource is (a short-lived URL).", Schema = new OpenApiSchema { Type = JsonSchemaType.String } },
            };
        }
        else if (status != 204)
        {
            IOpenApiSchema? body = variants.Length > 0 ? Variant(false)
                : info?.Response is { } response ? schemas.For(response, input: false)
                : info?.ResponseContentType is "text/html" or "text/plain" or "text/csv" ? new OpenApiSchema { Type = JsonSchemaType.String }
                : info?.ResponseContentType is "application/pdf" || info?.ResponseContentType.StartsWith("image/", StringComparison.Ordinal) == true ? new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" }
                : info is not null ? new OpenApiSchema { Type = JsonSchemaType.Object, Description = "A JSON document." } : null;
            // Several media types (e.g. "image/png,image/jpeg") share the body's schema.
            if (body is not null) success.Content = info!.ResponseContentType.Split(',').ToDictionary(type => type, IOpenApiMediaType (_) => new OpenApiMediaType { Schema = body });
            if (body is not null && info!.AlsoHtml) success.Content!["text/html"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The same as a small branded page, for a browser (Accept prefers text/html)." } };
            if (body is not null && info!.AlsoCsv) success.Content!["text/csv"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The same table as CSV with a header row (Accept: text/csv)." } };
        }
        operation.Responses[Code(status)] = success;
        foreach (var also in info?.AlsoStatus ?? [])
        {
            // A 302 beside a body is a browser sent to a page (e.g. a download redirect): no body, a Location.
            operation.Responses[Code(also)] = also == 302
                ? new OpenApiResponse
                {
                    Description = "Found: a browser (Accept: text/html) is sent to the page at Location.",
                    Headers = new Dictionary<string, IOpenApiHeader> { ["Location"] = new OpenApiHeader { Required = true, Description = "The page.", Schema = new OpenApiSchema { Type = JsonSchemaType.String } } },
                }
                : new OpenApiResponse { Description = also == 200 ? "Success (an existing resource was updated)." : "Success.", Content = success.Content };
        }

        var retryAfter = new Dictionary<string, IOpenApiHeader>
        {
            ["Retry-After"] = new OpenApiHeader { Required = true, Description = "Seconds to wait before retrying.", Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1" } },
        };
        void Error(int code, string description, bool retry = false)
        {
            var content = new Dictionary<string, IOpenApiMediaType> { [Problems.ContentType] = new OpenApiMediaType { Schema = problem } };
            if (info?.ErrorContentType is { } other) content[other] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A page explaining the outcome." } };
            operation.Responses[Code(code)] = new OpenApiResponse { Description = description, Content = content, Headers = retry ? retryAfter : null };
        }
        var changes = method != "GET";
        var extra = info?.Errors ?? [];
        Error(400, "Invalid input; errors name the fields.");
        if (policy != AccessPolicy.Anonymous)
        {
            Error(401, "No valid bearer token.");
            Error(403, "The caller's role does not allow this.");
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] }];
        }
        else
        {
            operation.Security = [];
            if (extra.Contains(403)) Error(403, "Not allowed (e.g. the link was sent to someone else).");
        }
        // A path id, or a filter naming an id (partnerId, assigneeId, ...), that does not exist or is not visible.
        if (function.Route.Contains('{') || extra.Contains(404) || (info?.Query ?? []).Any(q => q.EndsWith("Id", StringComparison.Ordinal)))
        {
            Error(404, "Not found, or not visible to the caller.");
        }
        if (changes || extra.Contains(409)) Error(409, "Conflicts with current state (e.g. a key already taken, already decided).");
        if (extra.Contains(410)) Error(410, "Gone: the link or the subject's deadline has expired.");
        if (info?.IfMatch == true || info?.OptionalIfMatch == true) Error(412, "If-Match does not match the current ETag.");
        if (operation.RequestBody is not null)
        {
            Error(413, "Body too large.");
            Error(415, "Wrong Content-Type.");
        }
        if (changes || operation.RequestBody is not null || extra.Contains(422)) Error(422, "Breaks a business rule.");
        // Every PUT and PATCH refuses "If-Match: *" with 428 (RequestGate), besides a missing If-Match where it is required.
        if (info?.IfMatch == true || method is "PUT" or "PATCH") Error(428, "If-Match is missing, or is \"*\" (never accepted: send the ETag you read).");
        if (extra.Contains(429)) Error(429, "Too many requests; retry after Retry-After seconds.", retry: true);
        Error(500, "Unexpected error; quote traceId.");
        Error(503, "Storage does not answer; nothing was changed, except by an import that stopped part way (its detail says how far it got; the same file again completes it). Retry after Retry-After seconds.", retry: true);
        return operation;
    }

    private static string Tag(string route) => route.Split('/')[0] switch
    {
        "mdf" => "mdf",
        "settings" or "settings-timeline" => "settings",
        "deals" or "product-lines" or "house-accounts" => "deals",
        "partners" or "invitations" => "partners",
        var first => first,
    };

    /// <summary>Component schemas generated from the C# contract types.</summary>
    private sealed class SchemaRegistry(OpenApiDocument document, NullabilityInfoContext nullability, HashSet<Type> responseTypes)
    {
        /// <summary>Collects the object types a response type reaches (they need a separate input schema when requests use them too).</summary>
        public static void Reach(Type type, HashSet<Type> seen)
        {
            var underlying = Nullable.GetUnderlyingType(type) ?? type;
            if (Primitive(underlying) is not null || underlying.IsEnum || underlying == typeof(JsonElement) || underlying == typeof(object)) return;
            if (Dictionary(underlying) is { } value) { Reach(value, seen); return; }
            if (Element(underlying) is { } element) { Reach(element, seen); return; }
            if (!seen.Add(underlying)) return;
            foreach (var property in Properties(underlying)) Reach(property.PropertyType, seen);
        }

        public IOpenApiSchema For(Type type, bool input, NullabilityInfo? info = null, bool partial = false)
        {
            var underlying = System.Nullable.GetUnderlyingType(type) ?? type;
            if (Primitive(underlying) is { } primitive) return primitive;
            if (underlying == typeof(Money))
            {
                document.Components!.Schemas!.TryAdd(nameof(Money), new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = new HashSet<string> { "amount", "currency" },
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["amount"] = new OpenApiSchema { Type = JsonSchemaType.Number, Format = "decimal" },
                        ["currency"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "ISO 4217", MinLength = 3, MaxLength = 3 },
                    },
                });
                return new OpenApiSchemaReference(nameof(Money), document);
            }
            if (underlying == typeof(JsonElement) || underlying == typeof(object)) return new OpenApiSchema { Description = "Any JSON value." };
            if (underlying.IsEnum)
            {
                return new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Enum = Enum.GetNames(underlying).Select(n => (JsonNode)JsonValue.Create(JsonNamingPolicy.CamelCase.ConvertName(n))!).ToList(),
                };
            }
            if (Dictionary(underlying) is { } value)
            {
                var valueInfo = info?.GenericTypeArguments.Length == 2 ? info.GenericTypeArguments[1] : null;
                return new OpenApiSchema { Type = JsonSchemaType.Object, AdditionalProperties = ElementOrNull(For(value, input, valueInfo), value) };
            }
            if (Element(underlying) is { } element)
            {
                var elementInfo = info?.ElementType ?? (info?.GenericTypeArguments.Length == 1 ? info.GenericTypeArguments[0] : null);
                return new OpenApiSchema { Type = JsonSchemaType.Array, Items = ElementOrNull(For(element, input, elementInfo), element) };
            }

            var name = Name(underlying) + (partial ? "Patch" : input && responseTypes.Contains(underlying) ? "Input" : "");
            if (!document.Components!.Schemas!.ContainsKey(name))
            {
                var schema = new OpenApiSchema { Type = JsonSchemaType.Object, Properties = new Dictionary<string, IOpenApiSchema>(), Required = new HashSet<string>() };
                document.Components!.Schemas![name] = schema;
                foreach (var property in Properties(underlying))
                {
                    var ignore = property.GetCustomAttribute<JsonIgnoreAttribute>();
                    var json = property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name);
                    var propertyInfo = nullability.Create(property);
                    var propertySchema = For(property.PropertyType, input, propertyInfo);
                    // Omitted when null: never null on the wire, and optional.
                    var omittedWhenNull = ignore?.Condition is JsonIgnoreCondition.WhenWritingNull or JsonIgnoreCondition.WhenWritingDefault;
                    schema.Properties[json] = omittedWhenNull ? propertySchema : OrNull(propertySchema, propertyInfo);
                    // Responses write every property (nulls included); requests may leave out what the validators do not require.
                    if (!input && !omittedWhenNull) schema.Required.Add(json);
                }
                if (input) Validation.Apply(underlying, schema);
                if (partial) schema.Required!.Clear();
            }
            return new OpenApiSchemaReference(name, document);
        }

        /// <summary>The schema, allowing null when the C# type is nullable (a referenced schema is wrapped: nullable + allOf).</summary>
        private static IOpenApiSchema OrNull(IOpenApiSchema schema, NullabilityInfo? info)
        {
            if (info is null || (info.ReadState != NullabilityState.Nullable && System.Nullable.GetUnderlyingType(info.Type) is null)) return schema;
            if (schema is OpenApiSchema concrete && concrete.Type is { } type)
            {
                concrete.Type = type | JsonSchemaType.Null;
                if (concrete.Enum is { Count: > 0 } values) concrete.Enum = [.. values, null!];
                return concrete;
            }
            // OpenAPI 3.0 allows nullable only beside a type: an object that may be null and otherwise is the referenced schema.
            // (oneOf with the one reference: generators such as NSwag then use the referenced type itself, not a derived class.)
            return new OpenApiSchema { Type = JsonSchemaType.Object | JsonSchemaType.Null, OneOf = [schema] };
        }

        /// <summary>
        /// Elements and dictionary values allow null only as Nullable&lt;T&gt; value types: the API never writes null into a list, and the
        /// nullability of a generic argument (ListResponse&lt;T&gt;.Items) is not reliably known through reflection.
        /// </summary>
        private static IOpenApiSchema ElementOrNull(IOpenApiSchema schema, Type element) =>
            System.Nullable.GetUnderlyingType(element) is not null && schema is OpenApiSchema { Type: { } type } concrete
                ? new OpenApiSchema { Type = type | JsonSchemaType.Null, Format = concrete.Format, Enum = concrete.Enum, Description = concrete.Description }
                : schema;

        private static IEnumerable<PropertyInfo> Properties(Type type) =>
            type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.GetIndexParameters().Length == 0 && p.GetMethod is not null && p.Name != "EqualityContract")
                .Where(p => p.GetCustomAttribute<JsonIgnoreAttribute>() is not { Condition: JsonIgnoreCondition.Always });

        private static Type? Dictionary(Type type) => type.GetInterfaces().Append(type)
            .FirstOrDefault(i => i.IsGenericType && (i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>) || i.GetGenericTypeDefinition() == typeof(IDictionary<,>)))?.GetGenericArguments()[1];

        private static Type? Element(Type type) => type == typeof(string) ? null : type.IsArray ? type.GetElementType()
            : type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];

        private static string Name(Type type) => type.IsGenericType
            ? type.Name[..type.Name.IndexOf('`')] + "Of" + string.Join("And", type.GetGenericArguments().Select(Name))
            : type.Name;

        private static OpenApiSchema? Primitive(Type type) => type switch
        {
            _ when type == typeof(string) => new OpenApiSchema { Type = JsonSchemaType.String },
            _ when type == typeof(bool) => new OpenApiSchema { Type = JsonSchemaType.Boolean },
            _ when type == typeof(int) => new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" },
            _ when type == typeof(long) => new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64" },
            _ when type == typeof(decimal) => new OpenApiSchema { Type = JsonSchemaType.Number, Format = "decimal" },
            _ when type == typeof(double) => new OpenApiSchema { Type = JsonSchemaType.Number, Format = "double" },
            _ when type == typeof(DateTimeOffset) || type == typeof(DateTime) => new OpenApiSchema { Type = JsonSchemaType.String, Format = "date-time" },
            _ when type == typeof(DateOnly) => new OpenApiSchema { Type = JsonSchemaType.String, Format = "date" },
            _ when type == typeof(TimeSpan) => new OpenApiSchema
            {
                Type = JsonSchemaType.String, Format = "duration",
                Description = "ISO 8601 duration, e.g. PT24H or P90D (input also accepts the older \"d.hh:mm:ss\").",
            },
            _ => null,
        };
    }
}
