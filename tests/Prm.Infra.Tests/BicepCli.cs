using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace Prm.Infra.Tests;

/// <summary>One diagnostic printed by the bicep CLI, e.g. <c>main.bicep(3,7) : Error BCP057: ...</c>.</summary>
internal sealed record BicepDiagnostic(string File, int Line, int Column, string Level, string Code, string Message)
{
    public override string ToString() => $"{Path.GetFileName(File)}({Line},{Column}) {Level} {Code}: {Message}";
}

/// <summary>What one bicep CLI run produced.</summary>
internal sealed record BicepRun(string Arguments, int ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed)
{
    private static readonly Regex DiagnosticLine = new(
        @"^(?<file>.+?)\((?<line>\d+),(?<col>\d+)\) : (?<level>Error|Warning|Info) (?<code>[^:]+): (?<message>.*)$",
        RegexOptions.Multiline);

    public IReadOnlyList<BicepDiagnostic> Diagnostics =>
        DiagnosticLine.Matches(StandardError + "\n" + StandardOutput)
            .Select(m => new BicepDiagnostic(
                m.Groups["file"].Value,
                int.Parse(m.Groups["line"].Value, System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(m.Groups["col"].Value, System.Globalization.CultureInfo.InvariantCulture),
                m.Groups["level"].Value,
                m.Groups["code"].Value.Trim(),
                m.Groups["message"].Value.Trim()))
            .ToList();

    /// <summary>Errors and warnings: the infrastructure is kept free of both.</summary>
    public IReadOnlyList<BicepDiagnostic> Problems =>
        Diagnostics.Where(d => d.Level is "Error" or "Warning").ToList();

    public string Describe() =>
        $"bicep {Arguments} exited {ExitCode} after {Elapsed.TotalSeconds:F1}s\n--- stderr ---\n{StandardError}\n--- stdout ---\n{Truncate(StandardOutput)}";

    private static string Truncate(string text) => text.Length <= 4000 ? text : text[..4000] + "\n...";
}

/// <summary>Runs the bicep CLI shipped by the Azure.Bicep.CommandLine NuGet package (offline).</summary>
internal static class BicepCli
{
    private static readonly Lazy<string> ExecutableLazy = new(FindExecutable);

    public static string Executable => ExecutableLazy.Value;

    public static BicepRun Lint(string bicepFile) => Run("lint", bicepFile);

    public static BicepRun Build(string bicepFile, string outFile) => Run("build", bicepFile, "--outfile", outFile);

    private static BicepRun Run(params string[] arguments)
    {
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Executable}.");
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', arguments)} did not finish within 10 minutes.");
        }

        process.WaitForExit(); // flush the asynchronous readers
        stopwatch.Stop();
        return new BicepRun(string.Join(' ', arguments), process.ExitCode, stdout.ToString(), stderr.ToString(), stopwatch.Elapsed);
    }

    private static string FindExecutable()
    {
        var path = typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == "BicepPath")?.Value;
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            throw new InvalidOperationException(
                $"The bicep CLI was not found at '{path}'. It comes from the Azure.Bicep.CommandLine.linux-x64 package ($(BicepPath)); run dotnet restore.");
        }

        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & UnixFileMode.UserExecute) == 0)
            {
                File.SetUnixFileMode(path, mode | UnixFileMode.UserExecute);
            }
        }

        return path;
    }
}
