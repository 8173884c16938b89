namespace Prm.Testing;

/// <summary>Paths in the repository the tests read (the build outputs of the Functions app and the local host).</summary>
public static class Repo
{
    public static string Root { get; } = Find();

#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif

    public static string FunctionsMetadata => Path.Combine(Root, "functions", "Prm.Functions", "bin", Configuration, "net10.0", "functions.metadata");

    public static string DevHostDll => Path.Combine(Root, "functions", "Prm.DevHost", "bin", Configuration, "net10.0", "Prm.DevHost.dll");

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PrmFunctions.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("Repository root not found.");
    }
}
