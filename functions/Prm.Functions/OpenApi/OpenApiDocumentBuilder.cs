using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Functions.Http;

namespace Prm.Functions.OpenApi;

/// <summary>Builds the OpenAPI 3 document from the function catalog, so routes and document cannot drift apart.</summary>
public static class OpenApiDocumentBuilder
{
    private static readonly NullabilityInfoContext Nullability = new();

    public static OpenApiDocument Build(string serverUrl)
    {
        var document = new OpenApiDocument
        {
            Info = new OpenApiInfo
            {
                Title = "PrmFunctions API",
                Version = "1.0",
                Description = "Partner relationship management API. JSON is camelCase; unknown fields are ignored; bodies over 1 MiB get 413 (CSV import: 16 MiB); "
                    + "errors are RFC 9457 application/problem+json with traceId. Lists return { items, nextCursor } with limit (default 50, max 200) and cursor.",
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
        var schemas = new SchemaRegistry(document);
        var problem = schemas.For(typeof(Problem));
        foreach (var group in FunctionCatalog.HttpFunctions.GroupBy(f => f.Route))
        {
            var item = new OpenApiPathItem();
            foreach (var function in group)
            {
                foreach (var method in function.Methods)
                {
                    item.AddOperation(new HttpMethod(method), Operation(document, function, schemas, problem));
                }
            }
            document.Paths.Add("/" + group.Key, item);
        }
        return document;
    }

    public static async Task<string> ToJsonAsync(string serverUrl, CancellationToken ct) =>
        await Build(serverUrl).SerializeAsJsonAsync(OpenApiSpecVersion.OpenApi3_0, ct);

    private static OpenApiOperation Operation(OpenApiDocument document, HttpFunction function, SchemaRegistry schemas, IOpenApiSchema problem)
    {
        var info = function.Method.GetCustomAttribute<ApiOperationAttribute>();
        var policy = function.Policy ?? AccessPolicy.Admin;
        var roles = AccessRules.Describe(policy);
        var operation = new OpenApiOperation
        {
            OperationId = function.Name,
            Summary = info?.Summary ?? function.Name,
            Description = (info?.Description ?? "") + (policy == AccessPolicy.Anonymous ? " Anonymous." : $" Roles: {string.Join(", ", roles)}."),
            Parameters = [],
            Responses = [],
            Extensions = new Dictionary<string, IOpenApiExtension>
            {
                ["x-access-policy"] = new JsonNodeExtension(JsonValue.Create(policy.ToString())),
                ["x-roles"] = new JsonNodeExtension(new JsonArray(roles.Select(r => (JsonNode)JsonValue.Create(r)!).ToArray())),
            },
        };
        foreach (var segment in function.Route.Split('/').Where(s => s.StartsWith('{')))
        {
            operation.Parameters.Add(new OpenApiParameter { Name = segment.Trim('{', '}').Split(':')[0], In = ParameterLocation.Path, Required = true, Schema = new OpenApiSchema { Type = JsonSchemaType.String } });
        }
        foreach (var query in info?.Query ?? [])
        {
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = query, In = ParameterLocation.Query, Required = false,
                Schema = new OpenApiSchema { Type = query == "limit" ? JsonSchemaType.Integer : query == "dryRun" ? JsonSchemaType.Boolean : JsonSchemaType.String },
            });
        }
        foreach (var header in info?.Headers ?? [])
        {
            operation.Parameters.Add(new OpenApiParameter { Name = header, In = ParameterLocation.Header, Required = false, Schema = new OpenApiSchema { Type = JsonSchemaType.String } });
        }
        if (info?.IfMatch == true)
        {
            operation.Parameters.Add(new OpenApiParameter { Name = "If-Match", In = ParameterLocation.Header, Required = true, Schema = new OpenApiSchema { Type = JsonSchemaType.String } });
        }
        if (info?.Request is { } request || info?.RequestContentType is "text/csv" or "text/plain")
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, IOpenApiMediaType>
                {
                    [info!.RequestContentType] = new OpenApiMediaType { Schema = info.Request is null ? new OpenApiSchema { Type = JsonSchemaType.String } : schemas.For(info.Request) },
                },
            };
        }
        var success = new OpenApiResponse { Description = "Success." };
        if (info?.Response is { } response)
        {
            success.Content = new Dictionary<string, IOpenApiMediaType> { [info.ResponseContentType] = new OpenApiMediaType { Schema = schemas.For(response) } };
        }
        operation.Responses[(info?.Status ?? 200).ToString(System.Globalization.CultureInfo.InvariantCulture)] = success;

        void Error(int status, string description) => operation.Responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, IOpenApiMediaType> { [Problems.ContentType] = new OpenApiMediaType { Schema = problem } },
        };
        Error(400, "Invalid input; errors name the fields.");
        if (policy != AccessPolicy.Anonymous)
        {
            Error(401, "No valid bearer token.");
            Error(403, "The caller's role does not allow this.");
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] }];
        }
        if (function.Route.Contains('{')) Error(404, "Not found, or not visible to the caller.");
        if (operation.RequestBody is not null)
        {
            Error(409, "Conflicts with current state (e.g. a key already taken).");
            Error(413, "Body too large.");
            Error(415, "Wrong Content-Type.");
            Error(422, "Breaks a business rule.");
        }
        if (info?.IfMatch == true)
        {
            Error(412, "If-Match does not match the current ETag.");
            Error(428, "If-Match is missing.");
        }
        Error(500, "Unexpected error; quote traceId.");
        return operation;
    }

    /// <summary>Component schemas generated from the C# contract types.</summary>
    private sealed class SchemaRegistry(OpenApiDocument document)
    {
        public IOpenApiSchema For(Type type)
        {
            var underlying = Nullable.GetUnderlyingType(type) ?? type;
            if (Primitive(underlying) is { } primitive) return primitive;
            if (underlying == typeof(JsonElement)) return new OpenApiSchema { Description = "Any JSON value." };
            if (underlying.IsEnum) return new OpenApiSchema { Type = JsonSchemaType.String };
            var dictionary = underlying.GetInterfaces().Append(underlying).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>));
            if (dictionary is not null) return new OpenApiSchema { Type = JsonSchemaType.Object, AdditionalProperties = For(dictionary.GetGenericArguments()[1]) };
            var enumerable = underlying.IsArray ? underlying.GetElementType() : underlying.GetInterfaces().Append(underlying)
                .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
            if (enumerable is not null) return new OpenApiSchema { Type = JsonSchemaType.Array, Items = For(enumerable) };

            var name = Name(underlying);
            if (!document.Components!.Schemas!.ContainsKey(name))
            {
                var schema = new OpenApiSchema { Type = JsonSchemaType.Object, Properties = new Dictionary<string, IOpenApiSchema>(), Required = new HashSet<string>() };
                document.Components.Schemas[name] = schema;
                foreach (var property in underlying.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0 && p.GetMethod is not null))
                {
                    if (property.Name == "EqualityContract") continue;
                    var json = JsonNamingPolicy.CamelCase.ConvertName(property.Name);
                    var propertySchema = For(property.PropertyType);
                    var nullable = Nullability.Create(property).ReadState == NullabilityState.Nullable;
                    if (nullable && propertySchema is OpenApiSchema concrete && concrete.Type is { } t)
                    {
                        concrete.Type = t | JsonSchemaType.Null;
                    }
                    schema.Properties[json] = propertySchema;
                    if (!nullable) schema.Required.Add(json);
                }
            }
            return new OpenApiSchemaReference(name, document);
        }

        private static string Name(Type type) => type.IsGenericType
            ? type.Name[..type.Name.IndexOf('`')] + "Of" + string.Join("And", type.GetGenericArguments().Select(Name))
            : type.Name;

        private static OpenApiSchema? Primitive(Type type) => type switch
        {
            _ when type == typeof(string) => new OpenApiSchema { Type = JsonSchemaType.String },
            _ when type == typeof(bool) => new OpenApiSchema { Type = JsonSchemaType.Boolean },
            _ when type == typeof(int) || type == typeof(long) => new OpenApiSchema { Type = JsonSchemaType.Integer },
            _ when type == typeof(decimal) || type == typeof(double) => new OpenApiSchema { Type = JsonSchemaType.Number },
            _ when type == typeof(DateTimeOffset) || type == typeof(DateTime) => new OpenApiSchema { Type = JsonSchemaType.String, Format = "date-time" },
            _ when type == typeof(DateOnly) => new OpenApiSchema { Type = JsonSchemaType.String, Format = "date" },
            _ when type == typeof(Money) => new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["amount"] = new OpenApiSchema { Type = JsonSchemaType.Number },
                    ["currency"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "ISO 4217" },
                },
            },
            _ => null,
        };
    }
}
