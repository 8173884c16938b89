using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Prm.DevHost.Tests;

/// <summary>The local host as a person runs it: a process that starts Azurite, serves the API, and leaves nothing behind on Ctrl+C.</summary>
public sealed partial class LocalHostProcessTests
{
    [GeneratedRegex(@"Azurite started \(PID (\d+)\)")]
    private static partial Regex AzuritePid();

    [Fact]
    public async Task Ctrl_c_stops_the_host_and_the_azurite_it_started()
    {
        var (blob, queue, table) = Azurite.FreePorts();
        var http = Azurite.FreePorts().Blob;
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Repo.Root };
        info.ArgumentList.Add(Repo.DevHostDll);
        info.Environment["LocalHost__Url"] = $"http://127.0.0.1:{http}";
        info.Environment["LocalHost__AzuriteBlobPort"] = blob.ToString();
        info.Environment["LocalHost__AzuriteQueuePort"] = queue.ToString();
        info.Environment["LocalHost__AzuriteTablePort"] = table.ToString();
        info.Environment["LocalHost__AzuriteLocation"] = "";
        info.Environment["Storage__TablePrefix"] = "proc" + Guid.NewGuid().ToString("N")[..8];
        var output = new StringBuilder();
        using var host = Process.Start(info)!;
        host.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        host.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        host.BeginOutputReadLine();
        host.BeginErrorReadLine();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}/api/"), Timeout = TimeSpan.FromSeconds(5) };
            var healthy = false;
            for (var i = 0; i < 240 && !healthy && !host.HasExited; i++)
            {
                try { healthy = (await client.GetAsync("health")).IsSuccessStatusCode; } catch (HttpRequestException) { }
                if (!healthy) await Task.Delay(500);
            }
            healthy.Should().BeTrue(Snapshot(output));
            var token = await client.PostAsync("dev/token", new StringContent("{\"email\":\"admin@vendor.example\"}", Encoding.UTF8, "application/json"));
            token.IsSuccessStatusCode.Should().BeTrue(Snapshot(output));
            var match = AzuritePid().Match(Snapshot(output));
            match.Success.Should().BeTrue(Snapshot(output));
            var azuritePid = int.Parse(match.Groups[1].Value);

            using (var interrupt = Process.Start("kill", ["-INT", host.Id.ToString()])) await interrupt!.WaitForExitAsync();
            (await WaitForExitAsync(host, TimeSpan.FromSeconds(40))).Should().BeTrue("Ctrl+C stops the host: " + Snapshot(output));
            Azurite.IsListening(table).Should().BeFalse("the Azurite the host started is stopped");
            ProcessIsGone(azuritePid).Should().BeTrue();
        }
        finally
        {
            if (!host.HasExited) host.Kill(entireProcessTree: true);
        }
    }

    private static string Snapshot(StringBuilder output)
    {
        lock (output) return output.ToString();
    }

    private static async Task<bool> WaitForExitAsync(Process process, TimeSpan timeout)
    {
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static bool ProcessIsGone(int pid)
    {
        for (var i = 0; i < 50; i++)
        {
            try
            {
                using var p = Process.GetProcessById(pid);
                if (p.HasExited) return true;
            }
            catch (ArgumentException)
            {
                return true;
            }
            Thread.Sleep(100);
        }
        return false;
    }
}
