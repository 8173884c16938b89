using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Prm.Infra.Tests;

[Collection(InfraCollection.Name)]
public sealed class DeploymentFilesTests(InfraBuild build)
{
    [Fact]
    public void Parameters_file_supplies_every_required_parameter_from_the_azd_environment()
    {
        var file = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.InfraDirectory, "main.parameters.json")))!;
        var supplied = file["parameters"]!.AsObject();
        var declared = build.Compiled.Root["parameters"]!.AsObject();

        supplied.Select(p => p.Key).Should().BeSubsetOf(declared.Select(p => p.Key), "every value must land on a parameter");
        declared.Where(p => p.Value?["defaultValue"] is null).Select(p => p.Key)
            .Should().BeSubsetOf(supplied.Select(p => p.Key), "azd must be able to fill every required parameter");

        Value("environmentName").Should().Be("${AZURE_ENV_NAME}");
        Value("location").Should().Be("${AZURE_LOCATION}");
        Value("principalId").Should().Be("${AZURE_PRINCIPAL_ID}");

        foreach (var (name, parameter) in declared.Where(p => p.Value?["type"]?.GetValue<string>() is "securestring" or "secureObject"))
        {
            if (supplied.ContainsKey(name))
            {
                Value(name).Should().StartWith("${", $"secure parameter {name} must come from the environment, never from the file");
            }
        }

        string Value(string name) => supplied[name]!["value"]!.GetValue<string>();
    }

    [Fact]
    public void Azure_yaml_deploys_the_functions_project_with_this_infrastructure()
    {
        var yaml = File.ReadAllText(Path.Combine(RepoPaths.Root, "azure.yaml"));

        Regex.IsMatch(yaml, @"(?m)^\s+path:\s*\.?/?infra-bicep/?\s*$").Should().BeTrue("infra.path must be infra-bicep");
        Regex.IsMatch(yaml, @"(?m)^\s+module:\s*main\s*$").Should().BeTrue("infra.module must be main");
        Regex.IsMatch(yaml, @"(?m)^\s+api:\s*$").Should().BeTrue("the service is called api (the azd-service-name tag)");
        Regex.IsMatch(yaml, @"(?m)^\s+host:\s*function\s*$").Should().BeTrue();
        Regex.IsMatch(yaml, @"(?m)^\s+language:\s*dotnet\s*$").Should().BeTrue();

        var project = Regex.Match(yaml, @"(?m)^\s+project:\s*(?<path>\S+)\s*$").Groups["path"].Value;
        project.Should().NotBeEmpty();
        Directory.Exists(Path.Combine(RepoPaths.Root, project)).Should().BeTrue($"azure.yaml points at {project}");
    }

    [Fact]
    public void Outputs_give_the_spa_and_operators_what_they_need_and_no_secret()
    {
        var outputs = build.Compiled.Root["outputs"]!.AsObject();

        outputs.Select(o => o.Key).Should().Contain(
        [
            "AZURE_FUNCTION_APP_NAME", "FUNCTION_APP_URL", "API_BASE_URL", "AZURE_STORAGE_ACCOUNT_NAME",
            "SERVICE_BUS_NAMESPACE", "AZURE_KEY_VAULT_NAME", "AZURE_AD_CLIENT_ID", "AZURE_AD_TENANT_ID",
            "AZURE_AD_AUTHORITY", "AZURE_AD_API_SCOPE",
        ]);
        outputs.Should().OnlyContain(o => !o.Value!["type"]!.GetValue<string>().StartsWith("secure", StringComparison.OrdinalIgnoreCase));

        // API_BASE_URL comes from the module that declares the Function App, where it is https://<host>/api.
        var app = InfraChecks.FunctionApp(build.Compiled);
        var mainValue = outputs["API_BASE_URL"]!["value"]!.GetValue<string>();
        mainValue.Should().Contain($"'Microsoft.Resources/deployments', {app.Scope.DeploymentName})")
            .And.Match("*.outputs.*.value]");
        var outputName = Regex.Match(mainValue, @"\.outputs\.(?<name>\w+)\.value").Groups["name"].Value;
        var moduleValue = app.Resolve(app.Scope.Template["outputs"]![outputName]!["value"]);
        moduleValue.Should().Contain("https://").And.Contain("defaultHostName").And.Contain("/api");
    }
}
