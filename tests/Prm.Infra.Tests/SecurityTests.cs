namespace Prm.Infra.Tests;

[Collection(InfraCollection.Name)]
public sealed class SecurityTests(InfraBuild build)
{
    [Fact]
    public void Function_app_is_https_only_tls12_flex_consumption_dotnet10_with_the_user_assigned_identity()
    {
        InfraChecks.FunctionAppProblems(build.Compiled).ShouldBeNone();
    }

    [Fact]
    public void Storage_refuses_shared_keys_and_old_tls_and_has_the_app_containers()
    {
        InfraChecks.StorageProblems(build.Compiled).ShouldBeNone();
    }

    [Fact]
    public void Service_bus_deduplicates_key_vault_uses_rbac_and_telemetry_needs_entra_id()
    {
        InfraChecks.MessagingAndSecretsProblems(build.Compiled).ShouldBeNone();
    }

    [Fact]
    public void App_identity_holds_every_data_role_it_needs()
    {
        InfraChecks.AppRoleProblems(build.Compiled).ShouldBeNone();
    }

    [Fact]
    public void Deploying_principal_gets_data_roles_only_when_its_id_is_given()
    {
        var deployerAssignments = build.Compiled.OfType("Microsoft.Authorization/roleAssignments")
            .Where(a => a.Resolve(a.Property("principalId")) == "parameters('principalId')")
            .ToList();

        deployerAssignments.Select(a => a.Resolve(a.Property("roleDefinitionId")))
            .Should().Contain(id => id.Contains(InfraChecks.RequiredAppRoles["Storage Table Data Contributor"], StringComparison.Ordinal));
        deployerAssignments.Should().OnlyContain(a =>
            a.Resolve(a.Property("principalType")) == "parameters('principalType')" &&
            a.Conditions.Any(c => c.Contains("not(empty(parameters('principalId')))", StringComparison.Ordinal)));
    }

    [Fact]
    public void Every_resource_with_a_location_carries_the_azd_environment_tag()
    {
        var untagged = build.Compiled.Resources
            // The publishing policy is a child setting that carries a location only because the resource manager wants one (error 51008); it takes no tags.
            .Where(r => r.Json.ContainsKey("location") && r.Type is not ("Microsoft.Resources/deployments" or "Microsoft.Web/sites/basicPublishingCredentialsPolicies"))
            .Where(r => !r.Resolve(r.Json["tags"]).Contains("azd-env-name", StringComparison.Ordinal))
            .Select(r => r.ToString())
            .ToList();

        untagged.Should().BeEmpty();
    }
}
