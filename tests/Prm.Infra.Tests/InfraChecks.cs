using System.Text.Json.Nodes;

namespace Prm.Infra.Tests;

/// <summary>
/// The rules the compiled infrastructure must satisfy. Each check returns the problems it found (empty = fine),
/// so the same check runs on the real template and, in <see cref="ChecksCatchRegressionsTests"/>, on broken copies.
/// </summary>
internal static class InfraChecks
{
    /// <summary>Well-known built-in role definition ids the app identity needs, always.</summary>
    public static readonly IReadOnlyDictionary<string, string> RequiredAppRoles = new Dictionary<string, string>
    {
        ["Storage Blob Data Owner"] = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
        ["Storage Queue Data Contributor"] = "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
        ["Storage Table Data Contributor"] = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
        ["Azure Service Bus Data Sender"] = "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
        ["Key Vault Secrets User"] = "4633458b-17de-408a-b874-0445c86b69e6",
        ["Monitoring Metrics Publisher"] = "3913510d-42f4-4e42-8a64-420c390055eb",
    };

    public const string DurableTaskDataContributor = "0ad04412-c4d5-4796-b79c-f76d14c8d402";

    /// <summary>Fragments that mean a shared key or connection string reached the app.</summary>
    private static readonly string[] KeyMaterialMarkers =
    [
        "AccountKey=", "DefaultEndpointsProtocol", "SharedAccessKey", "UseDevelopmentStorage",
        "listKeys(", "listConnectionStrings(", "listAccountSas(", "listServiceSas(",
    ];

    private static readonly string[] IdentityStorageSettings =
    [
        "AzureWebJobsStorage__accountName",
        "AzureWebJobsStorage__credential",
        "AzureWebJobsStorage__clientId",
        "AzureWebJobsStorage__blobServiceUri",
        "AzureWebJobsStorage__queueServiceUri",
        "AzureWebJobsStorage__tableServiceUri",
    ];

    // ---------------------------------------------------------------- function app and settings

    public static TemplateResource FunctionApp(CompiledTemplate template)
    {
        var apps = template.OfType("Microsoft.Web/sites")
            .Where(r => r.Json["kind"]?.GetValue<string>().Contains("functionapp", StringComparison.OrdinalIgnoreCase) == true)
            .ToList();
        apps.Should().ContainSingle("the deployment has exactly one Function App");
        return apps[0];
    }

    /// <summary>App settings of the Function App: name -> resolved value ('literal' or expression text).</summary>
    public static IReadOnlyDictionary<string, string> AppSettings(CompiledTemplate template, List<string>? problems = null)
    {
        var app = FunctionApp(template);
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        if (app.Property("siteConfig.appSettings") is JsonArray inline)
        {
            foreach (var entry in inline.OfType<JsonObject>())
            {
                settings[entry["name"]!.GetValue<string>()] = app.Resolve(entry["value"]);
            }
        }

        foreach (var config in template.OfType("Microsoft.Web/sites/config").Where(c => c.Name.Contains("'appsettings'", StringComparison.Ordinal)))
        {
            if (config.Json["properties"] is JsonObject properties)
            {
                foreach (var (name, value) in properties)
                {
                    settings[name] = config.Resolve(value);
                }
            }
            else
            {
                problems?.Add($"{config}: properties is an expression ({config.Resolve(config.Json["properties"])}); keep app settings a literal object so their names can be checked.");
            }
        }

        return settings;
    }

    public static IReadOnlyList<string> AppSettingProblems(CompiledTemplate template)
    {
        var problems = new List<string>();
        var settings = AppSettings(template, problems);
        var localOnly = AppConfiguration.KeysMarkedWith("LocalDevelopmentOnly");
        var secrets = AppConfiguration.KeysMarkedWith("SecretSetting");
        var identity = IdentityOf(template);

        foreach (var key in AppConfiguration.SampleKeys())
        {
            if (AppConfiguration.PlatformReplacedKeys.TryGetValue(key, out var why))
            {
                if (settings.ContainsKey(key))
                {
                    problems.Add($"App setting {key} must not be set: {why}.");
                }
            }
            else if (localOnly.Contains(key))
            {
                if (settings.ContainsKey(key))
                {
                    problems.Add($"App setting {key} is [LocalDevelopmentOnly] in code and must not be set in Azure.");
                }
            }
            else if (!settings.ContainsKey(key))
            {
                problems.Add($"App setting {key} (local.settings.sample.json) is missing on the Function App.");
            }
        }

        foreach (var key in secrets)
        {
            if (settings.TryGetValue(key, out var value) && !value.Contains("@Microsoft.KeyVault(SecretUri=", StringComparison.Ordinal))
            {
                problems.Add($"App setting {key} is a [SecretSetting] and must be a Key Vault reference, found {value}.");
            }
        }

        foreach (var key in IdentityStorageSettings)
        {
            if (!settings.ContainsKey(key))
            {
                problems.Add($"App setting {key} is missing (identity-based host storage).");
            }
        }

        Expect(settings, "AzureWebJobsStorage__credential", v => v == "'managedidentity'", "'managedidentity'", problems);
        foreach (var key in new[] { "AzureWebJobsStorage__clientId", "Storage__ManagedIdentityClientId" })
        {
            Expect(settings, key, v => RefersToIdentity(v, identity, "clientId"), "the client id of the app's user-assigned identity", problems);
        }
        if (settings.ContainsKey("AZURE_CLIENT_ID"))
        {
            // It steers every Azure SDK credential in the process; the code names the identity explicitly (Storage__ManagedIdentityClientId).
            problems.Add("App setting AZURE_CLIENT_ID must not be set: the code passes the identity explicitly, and it would apply to every Azure SDK connection.");
        }

        Expect(settings, "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
            v => v.Contains("ClientId=", StringComparison.Ordinal) && v.Contains("Authorization=AAD", StringComparison.Ordinal) && RefersToIdentity(v, identity, "clientId"),
            "ClientId=<identity client id>;Authorization=AAD", problems);
        Expect(settings, "APPLICATIONINSIGHTS_CONNECTION_STRING", _ => true, "present", problems);
        Expect(settings, "Prm__ApiBaseUrl",
            v => v.Contains("https://", StringComparison.Ordinal) && v.Contains("/api", StringComparison.Ordinal) && v.Contains("defaultHostName", StringComparison.Ordinal),
            "https://<app host name>/api", problems);
        return problems;
    }

    public static IReadOnlyList<string> KeyMaterialProblems(CompiledTemplate template)
    {
        var problems = new List<string>();
        foreach (var (name, value) in AppSettings(template))
        {
            foreach (var marker in KeyMaterialMarkers.Where(m => value.Contains(m, StringComparison.OrdinalIgnoreCase)))
            {
                problems.Add($"App setting {name} carries key material ({marker}): {value}");
            }
        }

        foreach (var marker in new[] { "listKeys(", "listConnectionStrings(", "listAccountSas(" })
        {
            if (template.Root.ToJsonString().Contains(marker, StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"The template calls {marker}...): keys must not flow anywhere.");
            }
        }

        return problems;
    }

    public static IReadOnlyList<string> FunctionAppProblems(CompiledTemplate template)
    {
        var problems = new List<string>();
        var app = FunctionApp(template);
        ExpectLiteral(app, "httpsOnly", "true", problems);
        ExpectLiteral(app, "siteConfig.minTlsVersion", "'1.2'", problems);
        // Flex Consumption supports only part of siteConfig (ftpsState is rejected, error 51021): allow exactly what it supports and we use.
        if (app.Json["properties"]?["siteConfig"] is JsonObject siteConfig)
        {
            foreach (var property in siteConfig.Select(p => p.Key).Where(k => k is not ("minTlsVersion" or "cors")))
            {
                problems.Add($"{app}: siteConfig.{property} is not for the Flex Consumption plan (keep siteConfig to minTlsVersion and cors).");
            }
        }
        var durable = app.Json["properties"]?["functionAppConfig"]?["scaleAndConcurrency"]?["alwaysReady"] as JsonArray;
        if (durable?.OfType<JsonObject>().Any(g => g["name"]?.GetValue<string>() == "durable" && (g["instanceCount"]?.GetValue<int>() ?? 0) >= 1) != true)
        {
            problems.Add($"{app}: Durable Functions on Flex Consumption need an always-ready instance for the 'durable' group (functionAppConfig.scaleAndConcurrency.alwaysReady).");
        }
        foreach (var policy in template.OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies"))
        {
            if (!policy.Name.Contains("'scm'", StringComparison.Ordinal))
            {
                problems.Add($"{policy}: only the scm publishing policy exists on Flex Consumption (no FTP).");
            }
            else if (policy.Json["location"] is null)
            {
                problems.Add($"{policy}: needs a location (the resource manager refused it without one, error 51008).");
            }
            ExpectLiteral(policy, "allow", "false", problems);
        }
        ExpectLiteral(app, "functionAppConfig.runtime.name", "'dotnet-isolated'", problems);
        ExpectLiteral(app, "functionAppConfig.runtime.version", "'10.0'", problems);
        ExpectLiteral(app, "functionAppConfig.deployment.storage.authentication.type", "'UserAssignedIdentity'", problems);

        if (app.Json["identity"]?["type"]?.GetValue<string>() != "UserAssigned" ||
            app.Json["identity"]?["userAssignedIdentities"] is not JsonObject identities ||
            identities.Count != 1 ||
            !RefersToIdentity(app.Resolve(JsonValue.Create(identities.Single().Key)), IdentityOf(template), "resourceId"))
        {
            problems.Add($"{app}: must run as the deployment's one user-assigned identity.");
        }

        var plans = template.OfType("Microsoft.Web/serverfarms").ToList();
        if (plans.Count != 1 || plans[0].Json["sku"]?["name"]?.GetValue<string>() != "FC1")
        {
            problems.Add("The Function App must run on one Flex Consumption (FC1) plan.");
        }

        var tags = app.Resolve(app.Json["tags"]);
        if (!tags.Contains("'azd-service-name'", StringComparison.Ordinal) || !tags.Contains("'api'", StringComparison.Ordinal))
        {
            problems.Add($"{app}: needs the tag azd-service-name = api (azure.yaml), found {tags}.");
        }

        return problems;
    }

    // ---------------------------------------------------------------- data services

    public static IReadOnlyList<string> StorageProblems(CompiledTemplate template)
    {
        var problems = new List<string>();
        var accounts = template.OfType("Microsoft.Storage/storageAccounts").ToList();
        if (accounts.Count == 0)
        {
            problems.Add("No storage account.");
        }

        foreach (var account in accounts)
        {
            ExpectLiteral(account, "allowSharedKeyAccess", "false", problems);
            ExpectLiteral(account, "minimumTlsVersion", "'TLS1_2'", problems);
            ExpectLiteral(account, "supportsHttpsTrafficOnly", "true", problems);
            ExpectLiteral(account, "allowBlobPublicAccess", "false", problems);
        }

        var containers = ContainerNames(template);
        foreach (var required in new[] { "assets", "proofs", "agreements", "deployments" })
        {
            if (!containers.Contains(required))
            {
                problems.Add($"Blob container '{required}' is missing (found: {string.Join(", ", containers)}).");
            }
        }

        foreach (var container in template.OfType("Microsoft.Storage/storageAccounts/blobServices/containers"))
        {
            ExpectLiteral(container, "publicAccess", "'None'", problems);
        }

        return problems;
    }

    public static IReadOnlyList<string> MessagingAndSecretsProblems(CompiledTemplate template)
    {
        var problems = new List<string>();
        var topics = template.OfType("Microsoft.ServiceBus/namespaces/topics").ToList();
        var topicName = SampleValue("ServiceBus__TopicName");
        if (!topics.Any(t => t.Name.Contains($"'{topicName}'", StringComparison.Ordinal)))
        {
            problems.Add($"No Service Bus topic named '{topicName}' (ServiceBus__TopicName).");
        }

        foreach (var topic in topics)
        {
            ExpectLiteral(topic, "requiresDuplicateDetection", "true", problems);
        }

        if (!template.OfType("Microsoft.ServiceBus/namespaces/topics/subscriptions").Any(s => s.Name.Contains("'crm-sync'", StringComparison.Ordinal)))
        {
            problems.Add("No Service Bus subscription 'crm-sync' for the CRM sync.");
        }

        foreach (var ns in template.OfType("Microsoft.ServiceBus/namespaces"))
        {
            ExpectLiteral(ns, "disableLocalAuth", "true", problems);
            if (ns.Json["sku"]?["name"]?.GetValue<string>() != "Standard")
            {
                problems.Add($"{ns}: SKU must be Standard (topics).");
            }
        }

        var vaults = template.OfType("Microsoft.KeyVault/vaults").ToList();
        if (vaults.Count != 1)
        {
            problems.Add($"Expected one Key Vault, found {vaults.Count}.");
        }

        foreach (var vault in vaults)
        {
            ExpectLiteral(vault, "enableRbacAuthorization", "true", problems);
        }

        if (!template.OfType("Microsoft.KeyVault/vaults/secrets").Any(s => s.Name.Contains("'SendGrid-ApiKey'", StringComparison.Ordinal)))
        {
            problems.Add("No Key Vault secret SendGrid-ApiKey.");
        }

        foreach (var insights in template.OfType("Microsoft.Insights/components"))
        {
            ExpectLiteral(insights, "DisableLocalAuth", "true", problems);
        }

        return problems;
    }

    // ---------------------------------------------------------------- roles

    public static IReadOnlyList<string> AppRoleProblems(CompiledTemplate template)
    {
        var problems = new List<string>();
        var assignments = AppIdentityRoleAssignments(template);
        foreach (var (role, id) in RequiredAppRoles)
        {
            var matching = assignments.Where(a => a.Resolve(a.Property("roleDefinitionId")).Contains(id, StringComparison.OrdinalIgnoreCase)).ToList();
            if (matching.Count == 0)
            {
                problems.Add($"The app identity is not assigned {role} ({id}).");
            }
            else if (matching.All(a => a.Conditions.Count > 0))
            {
                problems.Add($"{role} is assigned to the app identity only under a condition ({string.Join(" && ", matching[0].Conditions)}).");
            }
        }

        return problems;
    }

    /// <summary>Role assignments whose principal is the app's user-assigned identity (as a service principal).</summary>
    public static IReadOnlyList<TemplateResource> AppIdentityRoleAssignments(CompiledTemplate template)
    {
        var identity = IdentityOf(template);
        return template.OfType("Microsoft.Authorization/roleAssignments")
            .Where(a => a.Resolve(a.Property("principalType")) == "'ServicePrincipal'")
            .Where(a => RefersToIdentity(a.Resolve(a.Property("principalId")), identity, "principalId"))
            .ToList();
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>The one user-assigned identity: its resolved name and the module (nested deployment) declaring it.</summary>
    public static AppIdentity IdentityOf(CompiledTemplate template)
    {
        var identities = template.OfType("Microsoft.ManagedIdentity/userAssignedIdentities").ToList();
        identities.Should().ContainSingle("the app runs as exactly one user-assigned identity");
        return new AppIdentity(identities[0].Name, identities[0].Scope.DeploymentName ?? "<root>");
    }

    /// <summary>
    /// True when a resolved expression reads the given property of the app identity: either through the identity
    /// module's output (reference(...deployments, 'identity'...).outputs.clientId.value) or from the identity
    /// resource itself (reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', name), ...).principalId).
    /// </summary>
    public static bool RefersToIdentity(string resolved, AppIdentity identity, string property)
    {
        var viaModuleOutput =
            resolved.Contains($"'Microsoft.Resources/deployments', {identity.DeploymentName})", StringComparison.Ordinal) &&
            resolved.Contains($".outputs.{property}.value", StringComparison.OrdinalIgnoreCase);
        var viaResource =
            resolved.Contains($"'Microsoft.ManagedIdentity/userAssignedIdentities', {identity.Name})", StringComparison.Ordinal) &&
            (property == "resourceId" || resolved.Contains($").{property}", StringComparison.OrdinalIgnoreCase));
        return viaModuleOutput || viaResource;
    }

    public static string SampleValue(string key)
    {
        var json = JsonNode.Parse(File.ReadAllText(RepoPaths.LocalSettingsSample))!;
        return json["Values"]?[key]?.GetValue<string>() ?? throw new InvalidOperationException($"{key} is not in local.settings.sample.json.");
    }

    private static HashSet<string> ContainerNames(CompiledTemplate template)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var container in template.OfType("Microsoft.Storage/storageAccounts/blobServices/containers"))
        {
            var rawName = container.Json["name"]!.GetValue<string>();
            var loop = System.Text.RegularExpressions.Regex.Match(rawName, @"variables\('(?<array>[^']+)'\)\[copyIndex\(\)\]");
            if (container.Json["copy"] is not null && loop.Success &&
                container.Scope.Template["variables"]?[loop.Groups["array"].Value] is JsonArray items)
            {
                names.UnionWith(items.Select(i => i!.GetValue<string>()));
                continue;
            }

            var resolved = container.Name;
            var last = System.Text.RegularExpressions.Regex.Matches(resolved, @"'([a-z0-9-]+)'").LastOrDefault();
            if (last is not null)
            {
                names.Add(last.Groups[1].Value);
            }
        }

        return names;
    }

    private static void Expect(IReadOnlyDictionary<string, string> settings, string key, Func<string, bool> isRight, string expected, List<string> problems)
    {
        if (!settings.TryGetValue(key, out var value))
        {
            problems.Add($"App setting {key} is missing (expected {expected}).");
        }
        else if (!isRight(value))
        {
            problems.Add($"App setting {key} should be {expected}, found {value}.");
        }
    }

    private static void ExpectLiteral(TemplateResource resource, string propertyPath, string expected, List<string> problems)
    {
        var actual = resource.Resolve(resource.Property(propertyPath));
        if (!string.Equals(actual, expected, StringComparison.Ordinal))
        {
            problems.Add($"{resource}: properties.{propertyPath} should be {expected}, found {actual}.");
        }
    }
}

/// <summary>The app's user-assigned identity as it appears in resolved expressions.</summary>
internal sealed record AppIdentity(string Name, string DeploymentName);
