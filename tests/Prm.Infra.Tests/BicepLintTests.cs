namespace Prm.Infra.Tests;

[Collection(InfraCollection.Name)]
public sealed class BicepLintTests(InfraBuild build)
{
    [Fact]
    public void Main_template_lints_without_errors_or_warnings()
    {
        var lint = BicepCli.Lint(RepoPaths.MainBicep);

        FailUnlessClean(lint);
    }

    [Fact]
    public void Main_template_builds_to_arm_json_without_errors_or_warnings()
    {
        FailUnlessClean(build.Run);
        build.Compiled.Resources.Should().NotBeEmpty();
    }

    [Fact]
    public void Linter_rules_stay_enforced_as_errors_and_the_calendar_rule_stays_off()
    {
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.InfraDirectory, "bicepconfig.json")))!;
        var rules = config["analyzers"]!["core"]!["rules"]!.AsObject();
        string Level(string rule) => rules[rule]?["level"]?.GetValue<string>() ?? "<default>";

        config["analyzers"]!["core"]!["enabled"]?.GetValue<bool>().Should().NotBe(false);
        foreach (var rule in new[]
                 {
                     "no-unused-params", "no-unused-vars", "secure-parameter-default", "outputs-should-not-contain-secrets",
                     "no-hardcoded-env-urls", "prefer-interpolation", "use-secure-value-for-secure-inputs",
                     "secure-params-in-nested-deploy", "use-resource-symbol-reference", "no-unnecessary-dependson",
                 })
        {
            Level(rule).Should().Be("error", $"{rule} is part of the infrastructure's quality bar");
        }

        // Its verdict depends on today's date, so a green build could turn red without a change.
        Level("use-recent-api-versions").Should().Be("off");
    }

    [Fact]
    public void Templates_use_no_registry_modules_so_lint_and_build_work_offline()
    {
        string[] registryPrefixes = ["'br:", "'br/", "'ts:", "'ts/"];
        var offenders = Directory.EnumerateFiles(RepoPaths.InfraDirectory, "*.bicep", SearchOption.AllDirectories)
            .Where(f => File.ReadAllText(f) is var text && registryPrefixes.Any(p => text.Contains(p, StringComparison.Ordinal)))
            .Select(Path.GetFileName)
            .ToList();

        offenders.Should().BeEmpty("registry modules need the network at lint and build time");
    }

    private static void FailUnlessClean(BicepRun run)
    {
        if (run.ExitCode != 0 || run.Problems.Count > 0)
        {
            throw new Xunit.Sdk.XunitException(
                $"{run.Problems.Count} diagnostic(s):\n- {string.Join("\n- ", run.Problems)}\n\n{run.Describe()}");
        }
    }
}
