namespace Prm.Infra.Tests;

/// <summary>Builds infra-bicep/main.bicep once for every test in the "infra" collection.</summary>
public sealed class InfraBuild : IDisposable
{
    private readonly string _outputDirectory = Directory.CreateTempSubdirectory("prm-infra-").FullName;

    public InfraBuild()
    {
        var outFile = Path.Combine(_outputDirectory, "main.json");
        Run = BicepCli.Build(RepoPaths.MainBicep, outFile);
        Template = Run.ExitCode == 0 && File.Exists(outFile) ? CompiledTemplate.Load(outFile) : null;
    }

    internal BicepRun Run { get; }

    /// <summary>The compiled template; fails the calling test with the bicep output when the build failed.</summary>
    internal CompiledTemplate Compiled =>
        Template ?? throw new InvalidOperationException("bicep build failed:\n" + Run.Describe());

    private CompiledTemplate? Template { get; }

    public void Dispose() => Directory.Delete(_outputDirectory, recursive: true);
}

[CollectionDefinition(Name)]
public sealed class InfraCollection : ICollectionFixture<InfraBuild>
{
    public const string Name = "infra";
}
