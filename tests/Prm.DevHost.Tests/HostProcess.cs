using Prm.Testing;
using System.Diagnostics;
using System.Text;

namespace Prm.DevHost.Tests;

/// <summary>The local host started as a separate process, as README's command runs it.</summary>
internal sealed class HostProcess : IDisposable
{
    private readonly StringBuilder output = new();

    private readonly int port;

    private HostProcess(Process process, int httpPort)
    {
        port = httpPort;
        Process = process;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/api/"), Timeout = TimeSpan.FromSeconds(120) }; // a first request after start JITs its path: 10 s was not enough at a load average of 50
    }

    public Process Process { get; }

    public HttpClient Client { get; }

    public string Output
    {
        get { lock (output) return output.ToString(); }
    }

    private static readonly Lazy<bool> ResetsSigInt = new(() =>
    {
        try
        {
            using var probe = Process.Start(new ProcessStartInfo("env", ["--default-signal=INT", "true"]) { UseShellExecute = false, RedirectStandardError = true })!;
            probe.WaitForExit();
            return probe.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    });

    public static HostProcess Start(int httpPort, (int Blob, int Queue, int Table) azurite, IDictionary<string, string> settings)
    {
        // A test run started as a background job inherits SIGINT ignored, and an ignored signal stays ignored across exec, so the host
        // would rightly ignore Ctrl+C. The host is the foreground program of these tests: start it with SIGINT's default handling
        // (coreutils env --default-signal) where the machine has it.
        var info = new ProcessStartInfo(ResetsSigInt.Value ? "env" : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Repo.Root };
        if (ResetsSigInt.Value)
        {
            info.ArgumentList.Add("--default-signal=INT");
            info.ArgumentList.Add("dotnet");
        }
        info.ArgumentList.Add(Repo.DevHostDll);
        info.Environment["LocalHost__Url"] = $"http://127.0.0.1:{httpPort}";
        info.Environment["LocalHost__AzuriteBlobPort"] = azurite.Blob.ToString();
        info.Environment["LocalHost__AzuriteQueuePort"] = azurite.Queue.ToString();
        info.Environment["LocalHost__AzuriteTablePort"] = azurite.Table.ToString();
        info.Environment["LocalHost__AzuriteLocation"] = "";
        info.Environment["Telemetry__Exporter"] = "none";
        foreach (var (key, value) in settings) info.Environment[key] = value;
        var host = new HostProcess(Process.Start(info)!, httpPort);
        host.Process.OutputDataReceived += (_, e) => { lock (host.output) host.output.AppendLine(e.Data); };
        host.Process.ErrorDataReceived += (_, e) => { lock (host.output) host.output.AppendLine(e.Data); };
        host.Process.BeginOutputReadLine();
        host.Process.BeginErrorReadLine();
        return host;
    }

    /// <summary>
    /// Starts the host on a free port that is none of the Azurite ports chosen for it, and waits until it is healthy. A port picked
    /// free is free only until the host binds it: with a second copy of the suite running, another process took it in between
    /// ("address already in use"), and the host rightly stopped. Only that failure, reported by the host for its own port, starts it
    /// again on another port; any other failure fails the test with the host's output.
    /// </summary>
    public static async Task<HostProcess> StartHealthyAsync((int Blob, int Queue, int Table) azurite, IDictionary<string, string> settings, Func<int>? pickPort = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = pickPort?.Invoke() ?? FreePortBesides(azurite);
            var host = Start(port, azurite, settings);
            try
            {
                await host.WaitHealthyAsync();
                return host;
            }
            catch (InvalidOperationException) when (attempt < 3 && host.Process.HasExited && LostItsPort(host.Output, port))
            {
                host.Dispose();
            }
            catch
            {
                host.Dispose();
                throw;
            }
        }
    }

    /// <summary>Whether the host's output says it could not bind the given port (Kestrel's message).</summary>
    internal static bool LostItsPort(string output, int port) =>
        output.Contains($"Failed to bind to address http://127.0.0.1:{port}: address already in use", StringComparison.Ordinal);

    internal static int FreePortBesides((int Blob, int Queue, int Table) azurite)
    {
        // The Azurite ports are free only until Azurite binds them, so a second pick can return one of them.
        for (var i = 0; ; i++)
        {
            var port = Azurite.FreePorts().Blob;
            if ((port != azurite.Blob && port != azurite.Queue && port != azurite.Table) || i >= 20) return port;
        }
    }

    /// <summary>
    /// Waits until this host says it listens on its port (the line Program prints once Kestrel bound it; a process that lost its port
    /// never prints it, and whatever else holds that port is never asked) and then answers /api/health. Fails with the host's output
    /// when it exits first or the deadline passes.
    /// </summary>
    public async Task WaitHealthyAsync()
    {
        // A deadline, not a count of polls: under load the host took 45 s to start (a poll is quick while nothing listens).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(300);
        var listening = $"is listening on http://localhost:{port}/api";
        while (DateTime.UtcNow < deadline && !Process.HasExited)
        {
            if (Output.Contains(listening, StringComparison.Ordinal))
            {
                try
                {
                    if ((await Client.GetAsync("health")).IsSuccessStatusCode) return;
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException)
                {
                }
            }
            await Task.Delay(200);
        }
        // An exited process's redirected output may still be in flight: waiting for the exit drains it, so the message is complete.
        if (Process.HasExited) await Process.WaitForExitAsync();
        throw new InvalidOperationException("The local host did not become healthy: " + Output);
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await Process.WaitForExitAsync().WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public static async Task SignalAsync(int pid, string signal)
    {
        using var kill = Process.Start("kill", [signal, pid.ToString()]);
        await kill!.WaitForExitAsync();
    }

    public static bool IsGone(int pid)
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

    public void Dispose()
    {
        if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        Client.Dispose();
        Process.Dispose();
    }
}
