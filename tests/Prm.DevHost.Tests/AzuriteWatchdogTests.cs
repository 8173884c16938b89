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
            await node.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120)); // this test's own child: reaped here
            node.ExitCode.Should().Be(0);
        }
        finally
        {
            if (!node.HasExited) node.Kill();
            if (!parent.HasExited) parent.Kill();
        }
    }

    [Fact]
    public async Task A_node_process_whose_parent_died_exits_even_when_the_parents_pid_is_alive_again()
    {
        // On a busy machine (pid_max 32768) a dead parent's PID is soon another process's: kill(pid, 0) then says "alive" forever. The
        // watchdog also notices that it was re-parented. Here the named PID stays alive (this test process) while the real parent, a
        // shell that started node, is killed: node must still exit.
        var watchdog = Watchdog.Replace("'", "'\\''", StringComparison.Ordinal);
        var info = new ProcessStartInfo("sh") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-c");
        // node says "ready" once its script runs, i.e. after the preload noted its parent: killing the shell before that (a slow start on
        // a loaded machine) would test nothing, since the watchdog would note the new parent as its own.
        info.ArgumentList.Add($"node --require '{watchdog}' -e 'console.log(\"ready\"); setInterval(() => {{}}, 1000)' & echo $!; wait");
        info.Environment["PRM_AZURITE_PARENT_PID"] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var shell = Process.Start(info)!;
        var nodePid = int.Parse((await shell.StandardOutput.ReadLineAsync())!.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        using var node = Process.GetProcessById(nodePid);
        try
        {
            (await shell.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(120))).Should().Be("ready");
            (await Exited(node, TimeSpan.FromSeconds(4))).Should().BeFalse("its parent shell is alive");
            shell.Kill();
            await shell.WaitForExitAsync();
            (await Exited(node, TimeSpan.FromSeconds(120))).Should().BeTrue("its parent is gone, although the PID it was given is alive");
        }
        finally
        {
            if (!node.HasExited) node.Kill();
            if (!shell.HasExited) shell.Kill();
        }
    }

    /// <summary>
    /// Whether the process is gone (or a zombie: a grandchild whose new parent does not reap it at once is dead all the same) within
    /// the deadline, polled. .NET tells a process it did not start has exited by kill(pid, 0), which a zombie answers.
    /// </summary>
    private static async Task<bool> Exited(Process process, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            if (process.HasExited || Zombie(process.Id)) return true;
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(100);
        }
    }

    private static bool Zombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2] == 'Z';
        }
        catch (IOException)
        {
            return true; // gone
        }
    }
}
