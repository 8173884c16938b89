using System.Runtime.CompilerServices;

namespace Prm.DevHost.Tests;

/// <summary>
/// Hosts started by the tests do not watch their configuration files: every watcher is an inotify instance, and two copies of the
/// suite running side by side exhausted the machine's 128 (IOException in host start-up). Host processes the tests launch inherit it.
/// </summary>
internal static class TestProcessSettings
{
    [ModuleInitializer]
    internal static void Apply() => Environment.SetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange", "false");
}
