using NSwag.CodeGeneration.CSharp;
using NJsonSchema.CodeGeneration.CSharp;
using Prm.Functions.OpenApi;
using Prm.Testing;

namespace Prm.ClientTests;

/// <summary>Generates the typed C# client of the API from the OpenAPI document with NSwag (System.Text.Json, nullable reference types).</summary>
public static class ClientGeneration
{
    public static string GeneratedFile => Path.Combine(Repo.Root, "tests", "Prm.ClientTests", "Generated", "PrmClient.cs");

    public const string RefreshVariable = "PRM_REFRESH_CLIENT";

    public static async Task<string> GenerateAsync()
    {
        var json = await OpenApiDocumentBuilder.ToJsonAsync("http://localhost:7071/api", CancellationToken.None);
        var document = await NSwag.OpenApiDocument.FromJsonAsync(json);
        var settings = new CSharpClientGeneratorSettings
        {
            ClassName = "PrmClient",
            UseBaseUrl = false,
            GenerateClientInterfaces = false,
            GenerateExceptionClasses = true,
            ExceptionClass = "PrmApiException",
            OperationNameGenerator = new NSwag.CodeGeneration.OperationNameGenerators.SingleClientFromOperationIdOperationNameGenerator(),
            CSharpGeneratorSettings =
            {
                Namespace = "Prm.ClientTests.Generated",
                JsonLibrary = CSharpJsonLibrary.SystemTextJson,
                GenerateNullableReferenceTypes = true,
                GenerateOptionalPropertiesAsNullable = true,
                ClassStyle = CSharpClassStyle.Poco,
                DateType = "System.DateTimeOffset",
                DateTimeType = "System.DateTimeOffset",
                TimeSpanType = "string",
            },
        };
        var code = new CSharpClientGenerator(document, settings).GenerateFile();
        return code.Replace("\r\n", "\n");
    }
}
