using System.Diagnostics;
using System.Text.Json;
using Prm.Testing;
using Xunit.Abstractions;

namespace Prm.Functions.Tests;

/// <summary>The generated OpenAPI document passes Redocly's recommended rules without errors (@redocly/cli from package.json, offline).</summary>
public sealed class RedoclyLintTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_document_has_no_Redocly_errors()
    {
        var cli = Path.Combine(Repo.Root, "node_modules", "@redocly", "cli", "bin", "cli.js");
        await Prm.DevHost.Azurite.EnsureNodeToolAsync(cli); // npm ci from the lock file when missing, as for Azurite
        File.Exists(cli).Should().BeTrue($"npm ci in {Repo.Root} did not install {cli}");
        // Kept in the test output folder (overwritten by each run) for a look at what was linted.
        var document = await OpenApiDump.WriteAsync(Path.Combine(AppContext.BaseDirectory, "openapi.json"));
        {
            var start = new ProcessStartInfo("node")
            {
                ArgumentList = { cli, "lint", "--extends=recommended", "--format=json", document },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Path.GetDirectoryName(document)!,
            };
            start.Environment["REDOCLY_TELEMETRY"] = "off";
            start.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
            start.Environment["NO_COLOR"] = "1";
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await process.WaitForExitAsync(timeout.Token);
            var text = await stdout;
            var json = text[text.IndexOf('{')..];
            var problems = JsonDocument.Parse(json).RootElement.GetProperty("problems").EnumerateArray()
                .Select(p => (Severity: p.GetProperty("severity").GetString(), Rule: p.GetProperty("ruleId").GetString(), Message: p.GetProperty("message").GetString(),
                    At: string.Join(" ", p.GetProperty("location").EnumerateArray().Select(l => l.TryGetProperty("pointer", out var ptr) ? ptr.GetString() : ""))))
                .ToList();
            var warnings = problems.Where(p => p.Severity == "warn").ToList();
            output.WriteLine($"Redocly: {problems.Count(p => p.Severity == "error")} errors, {warnings.Count} warnings");
            foreach (var group in warnings.GroupBy(w => w.Rule)) output.WriteLine($"  warning {group.Key}: {group.Count()}, e.g. {group.First().Message} at {group.First().At}");
            var errors = problems.Where(p => p.Severity == "error").Select(p => $"{p.Rule}: {p.Message} at {p.At}").ToList();
            errors.Should().BeEmpty($"the OpenAPI document must pass `redocly lint --extends=recommended` (stderr: {await stderr})");
        }
    }
}
