namespace Prm.ClientTests;

/// <summary>The committed client is what NSwag generates from the current document (so it cannot drift from the API).</summary>
public sealed class GeneratedClientTests
{
    [Fact]
    public async Task The_committed_client_is_generated_from_the_current_document()
    {
        var generated = await ClientGeneration.GenerateAsync();
        if (Environment.GetEnvironmentVariable(ClientGeneration.RefreshVariable) == "1")
        {
            await File.WriteAllTextAsync(ClientGeneration.GeneratedFile, generated);
        }
        var committed = File.Exists(ClientGeneration.GeneratedFile) ? (await File.ReadAllTextAsync(ClientGeneration.GeneratedFile)).Replace("\r\n", "\n") : "";
        committed.Should().Be(generated,
            $"tests/Prm.ClientTests/Generated/PrmClient.cs must be regenerated after a change of the API: run `{ClientGeneration.RefreshVariable}=1 dotnet test tests/Prm.ClientTests --filter The_committed_client_is_generated_from_the_current_document`, "
            + "then rebuild and commit the file");
    }
}
