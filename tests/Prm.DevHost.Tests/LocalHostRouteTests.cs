using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Prm.Testing;

namespace Prm.DevHost.Tests;

public sealed class LocalHostRouteTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    [Fact]
    public void Every_function_in_functions_metadata_is_served_and_nothing_else_under_api_but_dev_endpoints()
    {
        using var metadata = JsonDocument.Parse(File.ReadAllText(Repo.FunctionsMetadata));
        var expected = new HashSet<string>();
        foreach (var function in metadata.RootElement.EnumerateArray())
        {
            foreach (var binding in function.GetProperty("bindings").EnumerateArray().Where(b => b.GetProperty("type").GetString() == "httpTrigger"))
            {
                foreach (var method in binding.GetProperty("methods").EnumerateArray())
                {
                    expected.Add($"{method.GetString()!.ToUpperInvariant()} /api/{binding.GetProperty("route").GetString()}");
                }
            }
        }
        expected.Should().NotBeEmpty();

        var served = new HashSet<string>();
        var extra = new List<string>();
        foreach (var endpoint in fixture.Api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var pattern = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"];
            foreach (var method in methods)
            {
                var key = $"{method} {pattern}";
                if (pattern.StartsWith("/api/dev/", StringComparison.Ordinal)) continue;
                // The reference portal lives beside the API, never under it.
                if (pattern.StartsWith(PortalEndpoints.BasePath + "/", StringComparison.Ordinal)) continue;
                if (expected.Contains(key)) served.Add(key);
                else extra.Add(key);
            }
        }
        served.Should().BeEquivalentTo(expected, "every HTTP function is served with its route and methods");
        extra.Should().BeEmpty("the local host serves nothing under /api that the Functions app does not, apart from /api/dev/");
    }

    [Fact]
    public async Task Every_response_reports_its_storage_round_trips()
    {
        var client = await fixture.Api.ClientAsync(Demo.Admin);
        var first = await client.GetAsync("partners");
        first.StorageCalls().Should().NotBeNull();
        var again = await client.GetAsync("partners");
        again.StorageCalls().Should().Be("1", "the membership is cached, the list page is one query");
        (await fixture.Api.Anonymous.GetAsync("me")).StorageCalls().Should().Be("0");
    }
}

public sealed class ProductionEnvironmentTests : IAsyncLifetime
{
    private ApiHost api = null!;

    // No Service Bus or SendGrid here: outside Development that must be said explicitly (see DeliveryGuard).
    public async Task InitializeAsync() => api = await ApiHost.StartAsync(new Dictionary<string, string?> { ["Delivery:Disabled"] = "true" }, environment: "Production");

    public async Task DisposeAsync() => await api.DisposeAsync();

    [Fact]
    public async Task Development_endpoints_do_not_exist_outside_development()
    {
        ((int)(await api.Anonymous.PostAsync("dev/token", Responses.Json(new { email = Demo.Admin }))).StatusCode).Should().Be(404);
        ((int)(await api.Anonymous.GetAsync("dev/mail")).StatusCode).Should().Be(404);
        ((int)(await api.Anonymous.GetAsync("dev/mail/view")).StatusCode).Should().Be(404);
        ((int)(await api.Anonymous.GetAsync("health")).StatusCode).Should().Be(200);
        api.Services.GetService<DevTokens>().Should().BeNull();
    }
}
