using System.Diagnostics;
using Prm.Testing;

namespace Prm.DevHost.Tests;

/// <summary>The preload that ends an in-memory Azurite with the process that started it (a killed test host left them running).</summary>
public sealed class AzuriteWatchdogTests
{
    private static readonly string Watchdog = Path.Combine(Repo.Root, "functions", "Prm.DevHost", "azurite-exit-with-parent.cjs");

    private static Process Node(int parentPid)
    {
        // A node process that would run forever, with the watchdog preloaded the way Azurite.StartAsync preloads it.
        var info = new ProcessStartInfo("node") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "--require", Watchdog, "-e", "setInterval(() => {}, 1000)" }) info.ArgumentList.Add(argument);
        info.Environment["PRM_AZURITE_PARENT_PID"] = parentPid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Process.Start(info)!;
    }

    [Fact]
    public async Task A_node_process_with_the_watchdog_exits_when_its_parent_is_gone_and_not_before()
    {
        using var parent = Process.Start(new ProcessStartInfo("sleep", "600") { UseShellExecute = false })!;
        using var node = Node(parent.Id);
        try
        {
            // While the parent lives, the watchdog (polling each second) keeps out of the way: still running after several polls.
            (await Exited(node, TimeSpan.FromSeconds(4))).Should().BeFalse("the parent is alive");
            parent.Kill();
            await parent.WaitForExitAsync();
            (await Exited(node, TimeSpan.FromSeconds(120))).Should().BeTrue("the parent is gone");
            node.ExitCode.Should().Be(0);
        }
        finally
        {
            if (!node.HasExited) node.Kill();
            if (!parent.HasExited) parent.Kill();
        }
    }

    private static async Task<bool> Exited(Process process, TimeSpan within)
    {
        try
        {
            await process.WaitForExitAsync().WaitAsync(within);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
