using System.Diagnostics;
using Prm.Functions.OpenApi;
using Prm.Testing;

namespace Prm.ClientTests;

/// <summary>
/// The portal's committed TypeScript client (functions/Prm.Portal/src/api/schema.ts) is what its own script (`npm run generate`)
/// makes of the current OpenAPI document: the test writes the document the app serves to a temporary folder, runs the script there
/// and compares. The portal's node_modules are installed by the local host's build (Prm.DevHost.csproj, target BuildPortal).
/// </summary>
public sealed class PortalClientTests
{
    private static string Portal => Path.Combine(Repo.Root, "functions", "Prm.Portal");

    private static string Committed => Path.Combine(Portal, "src", "api", "schema.ts");

    [Fact]
    public async Task The_committed_portal_client_is_generated_from_the_current_document()
    {
        var folder = Directory.CreateTempSubdirectory("prm-portal-client-");
        try
        {
            var document = Path.Combine(folder.FullName, "openapi.json");
            var output = Path.Combine(folder.FullName, "schema.ts");
            await File.WriteAllTextAsync(document, await OpenApiDocumentBuilder.ToJsonAsync("http://localhost:7071/api", CancellationToken.None));
            await RunGenerateAsync(document, output);
            var generated = (await File.ReadAllTextAsync(output)).Replace("\r\n", "\n");
            if (Environment.GetEnvironmentVariable(ClientGeneration.RefreshVariable) == "1") await File.WriteAllTextAsync(Committed, generated);
            var committed = File.Exists(Committed) ? (await File.ReadAllTextAsync(Committed)).Replace("\r\n", "\n") : "";
            committed.Should().Be(generated,
                "functions/Prm.Portal/src/api/schema.ts must be regenerated after a change of the API: with the local host running, `npm run generate` in functions/Prm.Portal, "
                + $"or `{ClientGeneration.RefreshVariable}=1 dotnet test tests/Prm.ClientTests --filter The_committed_portal_client_is_generated_from_the_current_document`; then commit the file");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static async Task RunGenerateAsync(string document, string output)
    {
        var start = new ProcessStartInfo("npm") { WorkingDirectory = Portal, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "run", "--silent", "generate", "--", document, output }) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("npm did not start (Node 20 and npm are needed: see README).");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        process.ExitCode.Should().Be(0, $"npm run generate failed: {await stdout}{await stderr}");
    }
}
