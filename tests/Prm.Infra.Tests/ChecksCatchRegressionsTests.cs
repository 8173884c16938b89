namespace Prm.Infra.Tests;

/// <summary>
/// Proves the checks can fail: each test copies infra-bicep, breaks one thing the way a careless edit would,
/// builds the copy with the real bicep CLI and expects the matching check to report it.
/// </summary>
public sealed class ChecksCatchRegressionsTests
{
    [Fact]
    public void Removing_an_app_role_assignment_is_reported()
    {
        var template = BuildMutated("modules/role-assignments.bicep", text => RemoveResource(text, "appQueueContributor"));

        InfraChecks.AppRoleProblems(template).Should().ContainSingle()
            .Which.Should().Contain("Storage Queue Data Contributor");
    }

    [Fact]
    public void Setting_a_local_only_setting_or_a_connection_string_in_azure_is_reported()
    {
        var template = BuildMutated("modules/function-app.bicep", text => Replace(
            text,
            "    Storage__TablePrefix: storageTablePrefix\n",
            "    Storage__TablePrefix: storageTablePrefix\n    Storage__ConnectionString: 'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=y'\n"));

        InfraChecks.AppSettingProblems(template).Should().Contain(p => p.Contains("Storage__ConnectionString", StringComparison.Ordinal));
        InfraChecks.KeyMaterialProblems(template).Should().Contain(p => p.Contains("AccountKey=", StringComparison.Ordinal));
    }

    [Fact]
    public void Dropping_an_app_setting_the_code_reads_is_reported()
    {
        var template = BuildMutated("modules/function-app.bicep", text => Replace(text, "    Prm__ProgramCurrency: program.programCurrency\n", ""));

        InfraChecks.AppSettingProblems(template).Should().ContainSingle()
            .Which.Should().Contain("Prm__ProgramCurrency");
    }

    [Fact]
    public void Allowing_shared_keys_or_plain_http_is_reported()
    {
        var storage = BuildMutated("modules/storage.bicep", text => Replace(text, "allowSharedKeyAccess: false", "allowSharedKeyAccess: true"));
        InfraChecks.StorageProblems(storage).Should().ContainSingle().Which.Should().Contain("allowSharedKeyAccess");

        var app = BuildMutated("modules/function-app.bicep", text => Replace(text, "httpsOnly: true", "httpsOnly: false"));
        InfraChecks.FunctionAppProblems(app).Should().ContainSingle().Which.Should().Contain("httpsOnly");
    }

    private static CompiledTemplate BuildMutated(string relativeFile, Func<string, string> mutate)
    {
        var copy = Directory.CreateTempSubdirectory("prm-infra-mutant-").FullName;
        try
        {
            CopyDirectory(RepoPaths.InfraDirectory, copy);
            var file = Path.Combine(copy, relativeFile);
            File.WriteAllText(file, mutate(File.ReadAllText(file)));

            var outFile = Path.Combine(copy, "main.json");
            var run = BicepCli.Build(Path.Combine(copy, "main.bicep"), outFile);
            run.ExitCode.Should().Be(0, "the broken copy must still compile so the check, not the compiler, finds the problem\n" + run.Describe());
            return CompiledTemplate.Load(outFile);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    private static string Replace(string text, string anchor, string replacement)
    {
        text.Should().Contain(anchor, "the mutation anchor must still exist in the template");
        return text.Replace(anchor, replacement, StringComparison.Ordinal);
    }

    private static string RemoveResource(string text, string symbolicName)
    {
        var start = text.IndexOf($"resource {symbolicName} ", StringComparison.Ordinal);
        start.Should().BeGreaterThanOrEqualTo(0, $"resource {symbolicName} must exist in the template");
        var end = text.IndexOf("\n}\n", start, StringComparison.Ordinal);
        return text.Remove(start, end + 3 - start);
    }

    private static void CopyDirectory(string source, string target)
    {
        foreach (var directory in Directory.EnumerateDirectories(source, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(directory.Replace(source, target, StringComparison.Ordinal));
        }

        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, file.Replace(source, target, StringComparison.Ordinal));
        }
    }
}
