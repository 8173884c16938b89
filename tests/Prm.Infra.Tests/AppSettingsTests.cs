namespace Prm.Infra.Tests;

[Collection(InfraCollection.Name)]
public sealed class AppSettingsTests(InfraBuild build)
{
    [Fact]
    public void Every_setting_the_code_reads_is_an_app_setting_and_local_only_ones_are_absent()
    {
        InfraChecks.AppSettingProblems(build.Compiled).ShouldBeNone();
    }

    [Fact]
    public void The_options_scan_finds_the_local_only_and_secret_settings()
    {
        // Guards the scanner itself: if it found nothing, the local-only check above would pass vacuously.
        AppConfiguration.KeysMarkedWith("LocalDevelopmentOnly").Should().NotBeEmpty()
            .And.OnlyContain(k => k.Contains("__", StringComparison.Ordinal));
        AppConfiguration.KeysMarkedWith("SecretSetting").Should().Contain("SendGrid__ApiKey");
    }

    [Fact]
    public void No_account_key_or_connection_string_reaches_the_app()
    {
        InfraChecks.KeyMaterialProblems(build.Compiled).ShouldBeNone();
    }

    [Fact]
    public void SendGrid_key_is_a_key_vault_reference_resolved_with_the_app_identity()
    {
        var settings = InfraChecks.AppSettings(build.Compiled);
        settings["SendGrid__ApiKey"].Should().Contain("@Microsoft.KeyVault(SecretUri=").And.Contain("SendGrid-ApiKey");

        var app = InfraChecks.FunctionApp(build.Compiled);
        var referenceIdentity = app.Resolve(app.Property("keyVaultReferenceIdentity"));
        InfraChecks.RefersToIdentity(referenceIdentity, InfraChecks.IdentityOf(build.Compiled), "resourceId")
            .Should().BeTrue($"Key Vault references must use the user-assigned identity, found {referenceIdentity}");
    }
}
