using Prm.Functions.OpenApi;

namespace Prm.Functions.Tests;

/// <summary>Writes the generated document where tools (Redocly, client generation) and people can read it.</summary>
public static class OpenApiDump
{
    public static async Task<string> WriteAsync(string? path = null)
    {
        path ??= Path.Combine(Path.GetTempPath(), $"prm-openapi-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, await OpenApiDocumentBuilder.ToJsonAsync("http://localhost:7071/api", CancellationToken.None));
        return path;
    }
}
