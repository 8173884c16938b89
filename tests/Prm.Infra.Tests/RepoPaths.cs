namespace Prm.Infra.Tests;

/// <summary>Locates files of the repository the tests were built from.</summary>
internal static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(FindRoot);

    /// <summary>The repository root: the first directory above the test binaries holding PrmFunctions.sln or Directory.Packages.props.</summary>
    public static string Root => RootLazy.Value;

    public static string InfraDirectory => Path.Combine(Root, "infra-bicep");

    public static string MainBicep => Path.Combine(InfraDirectory, "main.bicep");

    public static string LocalSettingsSample => Path.Combine(Root, "local.settings.sample.json");

    public static string HostJson => Path.Combine(Root, "host.json");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PrmFunctions.sln")) ||
                File.Exists(Path.Combine(dir.FullName, "Directory.Packages.props")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException(
            $"No PrmFunctions.sln or Directory.Packages.props above {AppContext.BaseDirectory}.");
    }
}
