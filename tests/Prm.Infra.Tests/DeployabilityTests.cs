using System.Text.Json;
using System.Text.Json.Nodes;

namespace Prm.Infra.Tests;

/// <summary>
/// What `azd up` would trip over on a real subscription, and what would deploy but break at run time (read against the Flex Consumption
/// docs and Microsoft's reference templates): each check runs on the compiled template or the shipped host.json.
/// </summary>
[Collection(InfraCollection.Name)]
public sealed class DeployabilityTests(InfraBuild build)
{
    [Fact]
    public void The_region_is_one_of_the_flex_consumption_regions_and_azd_offers_only_those()
    {
        var location = build.Compiled.Root["parameters"]!["location"]!;
        location["metadata"]?["azd"]?["type"]?.GetValue<string>().Should().Be("location", "azd asks for the region from this list");
        var allowed = location["allowedValues"]?.AsArray().Select(v => v!.GetValue<string>()).ToList();
        allowed.Should().NotBeNull("a region without Flex Consumption must fail at the prompt, not late in the deployment");
        allowed.Should().Contain(["westeurope", "northeurope", "eastus", "eastus2", "swedencentral", "uksouth"]).And.OnlyHaveUniqueItems();
        allowed.Should().NotContain(r => r.Contains("euap", StringComparison.Ordinal), "canary regions are not for customers");
    }

    [Fact]
    public void The_maximum_instance_count_allows_the_current_flex_minimum_of_one()
    {
        build.Compiled.Root["parameters"]!["maximumInstanceCount"]!["minValue"]!.GetValue<int>().Should().Be(1);
        var app = InfraChecks.FunctionApp(build.Compiled);
        app.Scope.Template["parameters"]!["maximumInstanceCount"]!["minValue"]!.GetValue<int>().Should().Be(1);
    }

    [Fact]
    public void The_blob_service_lets_only_the_portal_origin_upload_to_sas_urls_from_a_browser()
    {
        var blob = build.Compiled.OfType("Microsoft.Storage/storageAccounts/blobServices").Should().ContainSingle().Subject;
        var rules = blob.Resolve(blob.Property("cors.corsRules"));
        // The origin is the scheme and host of portalBaseUrl (a path in it would not match a browser's Origin header), or of the
        // reference portal's Static Web App when no portalBaseUrl is given.
        rules.Should().Contain("'allowedOrigins', createArray(join(take(split(if(empty(parameters('portalBaseUrl')), (format('https://{0}', reference(resourceId('Microsoft.Web/staticSites'",
            "the rule names the portal's origin (the Static Web App's without a portalBaseUrl)");
        rules.Should().Contain("parameters('portalBaseUrl')), '/'), 3), '/'))", "the rule names the given portal's origin and nothing else");
        foreach (var needed in new[] { "'PUT'", "'OPTIONS'", "'x-ms-blob-type'", "'content-type'" })
        {
            rules.Should().Contain(needed);
        }
        rules.Should().NotContain("'*'", "no wildcard origin or header");
    }

    [Fact]
    public void The_reference_portal_is_a_free_static_web_app_whose_url_the_api_links_to_and_allows()
    {
        var site = build.Compiled.OfType("Microsoft.Web/staticSites").Should().ContainSingle().Subject;
        site.Resolve(site.Json["sku"]!["name"]).Should().Be("'Free'");
        site.Resolve(site.Json["tags"]).Should().Contain("'azd-service-name', 'web'", "azure.yaml deploys the service web to it");
        var outputs = build.Compiled.Root["outputs"]!.AsObject();
        outputs.Select(o => o.Key).Should().Contain("PORTAL_URL");
        var app = build.Compiled.OfType("Microsoft.Web/sites").Should().ContainSingle().Subject;
        app.Resolve(app.Property("siteConfig.cors.allowedOrigins")).Should().Contain("Microsoft.Web/staticSites");
    }

    [Fact]
    public void Host_json_polls_the_durable_queues_at_most_every_10_seconds()
    {
        var host = JsonNode.Parse(File.ReadAllText(RepoPaths.HostJson),
            documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })!;
        var interval = host["extensions"]?["durableTask"]?["storageProvider"]?["maxQueuePollingInterval"]?.GetValue<string>();
        interval.Should().NotBeNull("the default is 30 s: orchestrations would start slowly after idle on Flex Consumption");
        TimeSpan.Parse(interval!, System.Globalization.CultureInfo.InvariantCulture).Should().BeLessThanOrEqualTo(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Azure_yaml_and_the_deploy_guide_point_at_files_that_exist_and_the_guide_warns_that_provision_replaces_settings()
    {
        var yaml = File.ReadAllText(Path.Combine(RepoPaths.Root, "azure.yaml"));
        foreach (System.Text.RegularExpressions.Match reference in System.Text.RegularExpressions.Regex.Matches(yaml, @"[\w./-]+\.md"))
        {
            File.Exists(Path.Combine(RepoPaths.Root, reference.Value)).Should().BeTrue($"azure.yaml points at {reference.Value}");
        }
        var guide = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "deploy.md"));
        guide.Should().Contain("replaces every app setting");
    }
}
