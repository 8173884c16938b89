using System.Runtime.CompilerServices;

namespace Prm.Testing;

/// <summary>
/// Hosts started by the tests do not watch their configuration files: every watcher is an inotify instance, and two copies of the
/// suite running side by side exhausted the machine's 128 (IOException in host start-up). Host processes the tests launch inherit it.
/// </summary>
internal static class TestProcessSettings
{
#pragma warning disable CA2255 // The test library must set this before any host of any test assembly starts.
    [ModuleInitializer]
    internal static void Apply() => Environment.SetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange", "false");
#pragma warning restore CA2255
}
