using System.Text.Json;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;

namespace Prm.Functions.Tests;

public sealed class OpenApiDocumentTests
{
    private static async Task<JsonElement> DocumentAsync() =>
        JsonDocument.Parse(await OpenApiDocumentBuilder.ToJsonAsync("http://localhost:7071/api", CancellationToken.None)).RootElement.Clone();

    [Fact]
    public async Task Document_has_exactly_the_routes_and_methods_of_the_functions()
    {
        var doc = await DocumentAsync();
        doc.GetProperty("openapi").GetString().Should().StartWith("3.");
        var documented = doc.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Where(o => o.Name is "get" or "post" or "put" or "patch" or "delete").Select(o => $"{o.Name.ToUpperInvariant()} {p.Name}"));
        var functions = FunctionCatalog.HttpFunctions.SelectMany(f => f.Methods.Select(m => $"{m} /{f.Route}"));
        documented.Should().BeEquivalentTo(functions);
    }

    [Fact]
    public async Task Every_operation_documents_its_roles_errors_and_schemas()
    {
        var doc = await DocumentAsync();
        var schemas = doc.GetProperty("components").GetProperty("schemas");
        foreach (var function in FunctionCatalog.HttpFunctions)
        {
            foreach (var method in function.Methods)
            {
                var operation = doc.GetProperty("paths").GetProperty("/" + function.Route).GetProperty(method.ToLowerInvariant());
                operation.GetProperty("operationId").GetString().Should().Be(function.Name);
                operation.GetProperty("x-access-policy").GetString().Should().Be(function.Policy.ToString());
                var responses = operation.GetProperty("responses");
                responses.TryGetProperty("400", out _).Should().BeTrue(function.Name);
                responses.TryGetProperty("401", out _).Should().Be(function.Policy != Prm.Core.Identity.AccessPolicy.Anonymous, function.Name);
                if (function.Route.Contains('{')) responses.TryGetProperty("404", out _).Should().BeTrue(function.Name);
                if (operation.TryGetProperty("requestBody", out var body))
                {
                    responses.TryGetProperty("413", out _).Should().BeTrue(function.Name);
                    responses.TryGetProperty("415", out _).Should().BeTrue(function.Name);
                    body.GetProperty("content").EnumerateObject().Should().NotBeEmpty();
                }
            }
        }
        schemas.GetProperty("PartnerDto").GetProperty("properties").TryGetProperty("channelManagerId", out _).Should().BeTrue();
        schemas.GetProperty("Problem").GetProperty("properties").TryGetProperty("traceId", out _).Should().BeTrue();
    }
}
