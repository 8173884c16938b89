using System.Diagnostics;
using System.Net.Sockets;

namespace Prm.DevHost;

/// <summary>
/// Azurite, the Azure Storage emulator, installed from the repository's package-lock.json (npm ci) when missing,
/// started on loopback when nothing listens on its ports, and stopped by PID only if this process started it.
/// </summary>
public sealed class Azurite : IAsyncDisposable
{
    public const string AccountName = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>The file, in Azurite's data folder, naming the PID of the emulator a host started (so a later host can adopt it after a crash).</summary>
    public const string PidFileName = "azurite.pid";

    private Process? process;
    private string? pidFile;

    private Azurite(int blobPort, int queuePort, int tablePort)
    {
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
    }

    public int BlobPort { get; }
    public int QueuePort { get; }
    public int TablePort { get; }

    /// <summary>True when this instance started the emulator (and so stops it).</summary>
    public bool Started => process is not null;

    public int? ProcessId => process?.Id;

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/{AccountName};QueueEndpoint=http://127.0.0.1:{QueuePort}/{AccountName};TableEndpoint=http://127.0.0.1:{TablePort}/{AccountName};";

    /// <summary>Reuses an emulator already listening on the ports, or installs and starts one.</summary>
    /// <param name="exitWithParent">
    /// The emulator exits when this process is gone, killed included (the test processes' in-memory emulators: the test platform can end a
    /// test host before its exit handlers run). Not for the local host, whose emulator outlives a killed host on purpose (the next host
    /// reuses or adopts it, with the workflows' state).
    /// </param>
    public static async Task<Azurite> StartAsync(int blobPort, int queuePort, int tablePort, string? location, Action<string>? log = null, CancellationToken ct = default, TimeSpan? listenWithin = null,
        bool exitWithParent = false)
    {
        var azurite = new Azurite(blobPort, queuePort, tablePort);
        var pidFile = location is null ? null : Path.Combine(location, PidFileName);
        if (IsListening(blobPort) && IsListening(queuePort) && IsListening(tablePort))
        {
            if (Adoptable(pidFile) is { } orphan)
            {
                // A host that crashed left its Azurite running: this host takes it over explicitly and stops it when it stops.
                azurite.process = orphan;
                azurite.pidFile = pidFile;
                log?.Invoke($"Adopting Azurite PID {orphan.Id} (data in {location}), left running by an earlier host that did not stop; it stops with this host.");
                return azurite;
            }
            log?.Invoke($"Note: an Azurite this host did not start already listens on 127.0.0.1:{blobPort}/{queuePort}/{tablePort}. This host uses whatever data it "
                + "holds (its data location is unknown here) and leaves it running. For a fresh one, stop it or set LocalHost__AzuriteBlobPort/QueuePort/TablePort.");
            return azurite;
        }
        var root = RepositoryRoot();
        var script = Path.Combine(root, "node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(script)) await InstallAsync(root, script, log, ct);
        var arguments = new List<string>();
        var watchdog = Path.Combine(root, "functions", "Prm.DevHost", "azurite-exit-with-parent.cjs");
        if (exitWithParent) arguments.AddRange(["--require", watchdog]);
        arguments.AddRange(
        [
            script, "--blobHost", "127.0.0.1", "--blobPort", blobPort.ToString(), "--queueHost", "127.0.0.1", "--queuePort", queuePort.ToString(),
            "--tableHost", "127.0.0.1", "--tablePort", tablePort.ToString(), "--skipApiVersionCheck", "--loose", "--silent",
        ]);
        if (location is null)
        {
            arguments.Add("--inMemoryPersistence");
        }
        else
        {
            Directory.CreateDirectory(location);
            arguments.AddRange(["--location", location]);
        }
        var info = new ProcessStartInfo("node") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        if (exitWithParent) info.Environment["PRM_AZURITE_PARENT_PID"] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        azurite.process = Process.Start(info) ?? throw new InvalidOperationException("node could not be started.");
        azurite.process.OutputDataReceived += (_, _) => { };
        azurite.process.ErrorDataReceived += (_, e) => { if (!string.IsNullOrWhiteSpace(e.Data)) log?.Invoke("azurite: " + e.Data); };
        azurite.process.BeginOutputReadLine();
        azurite.process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (!(IsListening(blobPort) && IsListening(queuePort) && IsListening(tablePort)))
        {
            if (azurite.process.HasExited) throw new InvalidOperationException($"Azurite exited with code {azurite.process.ExitCode} before listening (ports {blobPort}/{queuePort}/{tablePort} taken?).");
            var limit = listenWithin ?? TimeSpan.FromSeconds(60);
            if (deadline.Elapsed > limit) { await azurite.DisposeAsync(); throw new TimeoutException($"Azurite did not listen within {limit.TotalSeconds:0} s."); }
            await Task.Delay(100, ct);
        }
        if (pidFile is not null)
        {
            await File.WriteAllTextAsync(pidFile, azurite.process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), ct);
            azurite.pidFile = pidFile;
        }
        log?.Invoke($"Azurite started (PID {azurite.process.Id}) on 127.0.0.1:{blobPort}/{queuePort}/{tablePort}{(location is null ? ", data in memory" : $", data in {location}")}.");
        return azurite;
    }

    /// <summary>Whether the emulator this host started has exited (false for one it did not start).</summary>
    public bool HasDied
    {
        get
        {
            try
            {
                return process is { HasExited: true };
            }
            catch (InvalidOperationException)
            {
                return true;
            }
        }
    }

    /// <summary>The live Azurite named by a PID file an earlier host left (a node process running azurite), or null.</summary>
    private static Process? Adoptable(string? pidFile)
    {
        if (pidFile is null || !File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid)) return null;
        try
        {
            var candidate = Process.GetProcessById(pid);
            var commandLine = OperatingSystem.IsLinux() && File.Exists($"/proc/{pid}/cmdline") ? File.ReadAllText($"/proc/{pid}/cmdline") : candidate.ProcessName;
            if (!candidate.HasExited && commandLine.Contains("azurite", StringComparison.OrdinalIgnoreCase)) return candidate;
            candidate.Dispose();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }

    /// <summary>
    /// Installs the repository's npm tools (package-lock.json) unless <paramref name="script"/> exists already: for the tools the tests
    /// run besides Azurite (Redocly's CLI), so README's test command works on a fresh clone.
    /// </summary>
    public static Task EnsureNodeToolAsync(string script, Action<string>? log = null, CancellationToken ct = default) =>
        File.Exists(script) ? Task.CompletedTask : InstallAsync(RepositoryRoot(), script, log, ct);

    /// <summary>Runs npm ci once, even when several processes (parallel test assemblies) ask at the same time.</summary>
    private static async Task InstallAsync(string root, string script, Action<string>? log, CancellationToken ct)
    {
        var lockPath = Path.Combine(root, ".azurite-install.lock");
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var gate = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                if (File.Exists(script)) return;
                log?.Invoke("Azurite is not installed yet: running npm ci (from package-lock.json)...");
                await RunAsync("npm", "ci --no-audit --no-fund --loglevel=error", root, ct);
                if (!File.Exists(script)) throw new InvalidOperationException($"npm ci did not install Azurite at {script}.");
                return;
            }
            catch (IOException) when (deadline.Elapsed < TimeSpan.FromMinutes(5))
            {
                await Task.Delay(500, ct); // another process is installing
            }
        }
    }

    /// <summary>Three free loopback ports.</summary>
    /// <summary>
    /// Three free loopback ports, chosen below the kernel's ephemeral range (Linux: 32768-60999): a port the OS hands out for outgoing
    /// connections or port-0 listeners (the Durable sidecar's, another test's) cannot then take one of them between this check and its
    /// use, which happened with two suites running side by side.
    /// </summary>
    public static (int Blob, int Queue, int Table) FreePorts()
    {
        var ports = new List<int>();
        while (ports.Count < 3)
        {
            var port = Random.Shared.Next(20000, 32700);
            if (ports.Contains(port)) continue;
            var listener = new TcpListener(System.Net.IPAddress.Loopback, port);
            try
            {
                listener.Start();
                ports.Add(port);
            }
            catch (SocketException)
            {
                // taken: try another
            }
            finally
            {
                listener.Stop();
            }
        }
        return (ports[0], ports[1], ports[2]);
    }

    public static bool IsListening(int port)
    {
        try
        {
            using var client = new TcpClient();
            var connect = client.ConnectAsync(System.Net.IPAddress.Loopback, port);
            return connect.Wait(TimeSpan.FromMilliseconds(300)) && client.Connected;
        }
        catch (AggregateException)
        {
            return false;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The folder holding package.json (the repository root).</summary>
    public static string RepositoryRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "package.json")) && File.Exists(Path.Combine(dir.FullName, "PrmFunctions.sln"))) return dir.FullName;
            }
        }
        throw new InvalidOperationException("The repository root (PrmFunctions.sln with package.json) was not found above " + AppContext.BaseDirectory);
    }

    private static async Task RunAsync(string file, string arguments, string directory, CancellationToken ct)
    {
        using var run = Process.Start(new ProcessStartInfo(file, arguments) { WorkingDirectory = directory, UseShellExecute = false })
            ?? throw new InvalidOperationException($"{file} could not be started.");
        await run.WaitForExitAsync(ct);
        if (run.ExitCode != 0) throw new InvalidOperationException($"{file} {arguments} failed with exit code {run.ExitCode}.");
    }

    public async ValueTask DisposeAsync()
    {
        if (process is null) return;
        try
        {
            if (!process.HasExited)
            {
                // The emulator is one node process without children. Not Kill(entireProcessTree: true): on Unix that first stops the process
                // (SIGSTOP, so it cannot fork while the tree is listed) and kills it after; a test process ending in between left a stopped
                // emulator behind, which no watchdog can end (a stopped process runs no timer), found with two suites running.
                process.Kill();
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
        }
        catch (TimeoutException)
        {
        }
        process.Dispose();
        process = null;
        if (pidFile is not null)
        {
            try { File.Delete(pidFile); } catch (IOException) { }
        }
    }
}
