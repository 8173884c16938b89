using System.Text.Json;
using System.Text.Json.Nodes;

namespace Prm.Infra.Tests;

[Collection(InfraCollection.Name)]
public sealed class DurableBackendTests(InfraBuild build)
{
    private const string DtsCondition = "'DurableTaskScheduler'";

    [Fact]
    public void Backend_is_a_parameter_defaulting_to_azure_storage()
    {
        var parameter = build.Compiled.Root["parameters"]!["durableBackend"]!;

        parameter["defaultValue"]!.GetValue<string>().Should().Be("AzureStorage");
        parameter["allowedValues"]!.AsArray().Select(v => v!.GetValue<string>())
            .Should().BeEquivalentTo("AzureStorage", "DurableTaskScheduler");
    }

    [Fact]
    public void Scheduler_and_task_hub_exist_only_for_the_scheduler_backend_and_the_hub_matches_host_json()
    {
        var scheduler = build.Compiled.OfType("Microsoft.DurableTask/schedulers").Should().ContainSingle().Subject;
        var taskHub = build.Compiled.OfType("Microsoft.DurableTask/schedulers/taskHubs").Should().ContainSingle().Subject;

        scheduler.Conditions.Should().Contain(c => c.Contains(DtsCondition, StringComparison.Ordinal));
        taskHub.Conditions.Should().Contain(c => c.Contains(DtsCondition, StringComparison.Ordinal));

        var hubName = HostJsonHubName();
        var setting = System.Text.RegularExpressions.Regex.Match(hubName, "^%(?<name>[^%]+)%$");
        if (setting.Success)
        {
            // host.json reads the hub name from an app setting: that setting must exist.
            InfraChecks.AppSettings(build.Compiled).Should().ContainKey(setting.Groups["name"].Value);
        }
        else
        {
            taskHub.Name.Should().Contain($"'{hubName}'", "the task hub must be the one host.json names");
        }
    }

    [Fact]
    public void Scheduler_backend_grants_the_app_durable_task_data_contributor_and_passes_an_identity_connection()
    {
        var assignment = InfraChecks.AppIdentityRoleAssignments(build.Compiled)
            .Where(a => a.Resolve(a.Property("roleDefinitionId")).Contains(InfraChecks.DurableTaskDataContributor, StringComparison.OrdinalIgnoreCase))
            .Should().ContainSingle().Subject;
        assignment.Conditions.Should().Contain(c => c.Contains(DtsCondition, StringComparison.Ordinal));

        var connection = InfraChecks.AppSettings(build.Compiled)["DURABLE_TASK_SCHEDULER_CONNECTION_STRING"];
        connection.Should().Contain("Endpoint=").And.Contain("Authentication=ManagedIdentity").And.Contain("ClientID=");
        InfraChecks.RefersToIdentity(connection, InfraChecks.IdentityOf(build.Compiled), "clientId").Should().BeTrue(connection);
    }

    private static string HostJsonHubName()
    {
        var host = JsonNode.Parse(
            File.ReadAllText(RepoPaths.HostJson),
            documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })!;
        return host["extensions"]?["durableTask"]?["hubName"]?.GetValue<string>()
            ?? throw new InvalidOperationException("host.json has no extensions.durableTask.hubName.");
    }
}
