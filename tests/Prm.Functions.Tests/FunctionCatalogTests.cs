using Prm.Testing;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Prm.Functions.Http;

namespace Prm.Functions.Tests;

public sealed class FunctionCatalogTests
{
    [Fact]
    public void Every_http_function_declares_an_access_policy()
    {
        var undeclared = FunctionCatalog.HttpFunctions.Where(f => f.Policy is null).Select(f => f.Name).ToList();
        undeclared.Should().BeEmpty("anonymous access must be explicit: every HTTP function carries [Access(...)]");
        FunctionCatalog.HttpFunctions.Should().NotBeEmpty();
    }

    [Fact]
    public void Every_http_function_that_changes_data_declares_the_durable_client_of_its_invocation()
    {
        // Its commits' workflow signals are delivered at once with that client (Azure gives a client only through the binding).
        var without = FunctionCatalog.HttpFunctions.Where(f => f.Methods.Any(m => m is not ("GET" or "get" or "HEAD" or "head")) && !f.TakesWorkflowClient).Select(f => f.Name).ToList();
        without.Should().BeEmpty();
        FunctionCatalog.HttpFunctions.Where(f => f.TakesWorkflowClient).Should().HaveCountGreaterThan(30);
    }

    [Fact]
    public void Function_names_and_route_methods_are_unique()
    {
        FunctionCatalog.AllFunctionNames.Should().OnlyHaveUniqueItems();
        FunctionCatalog.HttpFunctions.SelectMany(f => f.Methods.Select(m => $"{m} {f.Route}")).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public void No_two_routes_of_one_method_can_match_the_same_path()
    {
        // The Functions host does not order routes by ASP.NET precedence (a literal before a parameter): it takes them in function-name
        // order (Azure/azure-functions-host#9876, Azure/azure-functions-dotnet-worker#1855). The local host does use ASP.NET precedence,
        // so `leads/fairness` next to `leads/{leadId}` would work locally and break on Azure. Routes must not overlap at all.
        var overlaps = new List<string>();
        var routes = FunctionCatalog.HttpFunctions.SelectMany(f => f.Methods.Select(m => (Method: m, f.Route, f.Name))).ToList();
        for (var i = 0; i < routes.Count; i++)
        for (var j = i + 1; j < routes.Count; j++)
        {
            if (routes[i].Method == routes[j].Method && CanMatchTheSamePath(routes[i].Route, routes[j].Route))
                overlaps.Add($"{routes[i].Method} {routes[i].Route} ({routes[i].Name}) and {routes[j].Route} ({routes[j].Name})");
        }
        overlaps.Should().BeEmpty();
        CanMatchTheSamePath("leads/fairness", "leads/{leadId}").Should().BeTrue("the check itself must see a literal against a parameter");
        CanMatchTheSamePath("leads/{leadId}/accept", "leads/{leadId}").Should().BeFalse();
    }

    [Fact]
    public void The_unmatched_route_function_takes_every_method_and_sorts_after_every_other_function_name()
    {
        // The Functions host tries routes in function-name order: the catch-all must come last, compared either way the host might.
        var unmatched = FunctionCatalog.Unmatched;
        unmatched.Route.Should().Be("{*path}");
        unmatched.Methods.Should().BeEquivalentTo(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]);
        unmatched.Policy.Should().Be(Prm.Core.Identity.AccessPolicy.Anonymous);
        FunctionCatalog.HttpFunctions.Should().NotContain(f => f.Name == unmatched.Name, "it is no API operation: not in the OpenAPI document, the fuzzer or the matrix");
        foreach (var name in FunctionCatalog.AllFunctionNames.Where(n => n != unmatched.Name))
        {
            string.CompareOrdinal(name, unmatched.Name).Should().BeNegative(name);
            string.Compare(name, unmatched.Name, StringComparison.OrdinalIgnoreCase).Should().BeNegative(name);
            string.Compare(name, unmatched.Name, StringComparison.InvariantCultureIgnoreCase).Should().BeNegative(name);
        }
        UnmatchedRouteFunction.AllowedMethods("/api/partners").Should().Contain(["GET", "POST"]);
        UnmatchedRouteFunction.AllowedMethods("/api/no-such-thing").Should().BeEmpty();
    }

    private static bool CanMatchTheSamePath(string a, string b)
    {
        var left = a.Split('/');
        var right = b.Split('/');
        if (left.Length != right.Length) return false;
        return left.Zip(right).All(pair => pair.First.StartsWith('{') || pair.Second.StartsWith('{') || string.Equals(pair.First, pair.Second, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Functions_metadata_lists_exactly_the_functions_in_code()
    {
        File.Exists(Repo.FunctionsMetadata).Should().BeTrue($"the Functions build writes {Repo.FunctionsMetadata}");
        using var metadata = JsonDocument.Parse(File.ReadAllText(Repo.FunctionsMetadata));
        var fromMetadata = new List<string>();
        var names = new List<string>();
        foreach (var function in metadata.RootElement.EnumerateArray())
        {
            names.Add(function.GetProperty("name").GetString()!);
            foreach (var binding in function.GetProperty("bindings").EnumerateArray())
            {
                if (binding.GetProperty("type").GetString() != "httpTrigger") continue;
                foreach (var method in binding.GetProperty("methods").EnumerateArray())
                {
                    fromMetadata.Add($"{function.GetProperty("name").GetString()} {method.GetString()!.ToUpperInvariant()} {binding.GetProperty("route").GetString()} {function.GetProperty("entryPoint").GetString()}");
                }
            }
        }
        var fromCode = FunctionCatalog.HttpFunctions.Append(FunctionCatalog.Unmatched).SelectMany(f => f.Methods.Select(m => $"{f.Name} {m} {f.Route} {f.EntryPoint}"));
        fromMetadata.Should().BeEquivalentTo(fromCode);
        names.Should().BeEquivalentTo(FunctionCatalog.AllFunctionNames);
    }

    [Fact]
    public void The_functions_app_container_builds_every_function_class()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureAd:Instance"] = "https://login.microsoftonline.com/",
            ["AzureAd:TenantId"] = "11111111-1111-1111-1111-111111111111",
            ["AzureAd:ClientId"] = "22222222-2222-2222-2222-222222222222",
            ["Storage:ConnectionString"] = "UseDevelopmentStorage=true",
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddPrmApplication(configuration);
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        var functionTypes = FunctionCatalog.Assembly.GetTypes()
            .Where(t => t.GetMethods().Any(m => m.GetCustomAttributes(typeof(Microsoft.Azure.Functions.Worker.FunctionAttribute), false).Length > 0))
            .ToList();
        functionTypes.Should().NotBeEmpty();
        foreach (var type in functionTypes)
        {
            ActivatorUtilities.CreateInstance(provider, type).Should().NotBeNull(type.Name);
        }
    }
}
