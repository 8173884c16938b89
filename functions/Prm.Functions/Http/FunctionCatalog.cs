using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;
using Prm.Core.Identity;

namespace Prm.Functions.Http;

/// <summary>An HTTP-triggered function as declared in code: name, route, methods, access policy, and the method to call.</summary>
public sealed record HttpFunction(string Name, string Route, IReadOnlyList<string> Methods, AccessPolicy? Policy, MethodInfo Method, ParameterInfo Trigger)
{
    /// <summary>The entry point the Functions host reports (Namespace.Class.Method).</summary>
    public string EntryPoint => $"{Method.DeclaringType!.FullName}.{Method.Name}";

    /// <summary>
    /// Whether the function declares the Durable client of its invocation ([DurableClient]): every function that changes data does, so
    /// the workflow signals its commit produces are delivered at once with that client (see <see cref="PrmHttpMiddleware"/>).
    /// </summary>
    public bool TakesWorkflowClient => Method.GetParameters().Any(p => p.GetCustomAttribute<DurableClientAttribute>() is not null);
}

/// <summary>A function of the app with the parameter carrying its trigger (null when it has none) and that trigger's attribute.</summary>
public sealed record TriggeredFunction(string Name, MethodInfo Method, ParameterInfo? Trigger, TriggerBindingAttribute? Attribute)
{
    public string EntryPoint => $"{Method.DeclaringType!.FullName}.{Method.Name}";
}

/// <summary>Every function of the app, found by reflection; the single source for hosts, the OpenAPI document and the tests.</summary>
public static class FunctionCatalog
{
    private static readonly Lazy<IReadOnlyList<HttpFunction>> Http = new(() => Discover(unmatched: false));
    private static readonly Lazy<HttpFunction> UnmatchedFunction = new(() => Discover(unmatched: true).Single());
    private static readonly Lazy<IReadOnlyDictionary<string, HttpFunction>> ByEntryPoint = new(() => Http.Value.Append(UnmatchedFunction.Value).ToDictionary(f => f.EntryPoint, StringComparer.Ordinal));

    /// <summary>The route prefix of every HTTP function (host.json extensions.http.routePrefix).</summary>
    public const string RoutePrefix = "api";

    public static Assembly Assembly => typeof(FunctionCatalog).Assembly;

    /// <summary>The API's operations: every HTTP function but the one answering unmatched routes.</summary>
    public static IReadOnlyList<HttpFunction> HttpFunctions => Http.Value;

    /// <summary>The function that answers what no operation takes (404, or 405 with Allow); see <see cref="UnmatchedRouteFunction"/>.</summary>
    public static HttpFunction Unmatched => UnmatchedFunction.Value;

    /// <summary>Names of every [Function] in the app (HTTP, timer, durable).</summary>
    public static IReadOnlyList<string> AllFunctionNames => Assembly.GetTypes()
        .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
        .Select(m => m.GetCustomAttribute<FunctionAttribute>()?.Name)
        .OfType<string>()
        .ToList();

    /// <summary>Every [Function] of the app with its trigger (HTTP, queue, timer, durable, or whatever is added later).</summary>
    public static IReadOnlyList<TriggeredFunction> AllFunctions => Assembly.GetTypes()
        .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
        .Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null)
        .Select(m =>
        {
            var trigger = m.GetParameters().FirstOrDefault(p => p.GetCustomAttributes().OfType<TriggerBindingAttribute>().Any());
            return new TriggeredFunction(m.GetCustomAttribute<FunctionAttribute>()!.Name, m, trigger, trigger?.GetCustomAttributes().OfType<TriggerBindingAttribute>().First());
        })
        .OrderBy(f => f.Name, StringComparer.Ordinal)
        .ToList();

    public static HttpFunction? ForEntryPoint(string entryPoint) => ByEntryPoint.Value.GetValueOrDefault(entryPoint);

    private static IReadOnlyList<HttpFunction> Discover(bool unmatched)
    {
        var list = new List<HttpFunction>();
        foreach (var type in Assembly.GetTypes())
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                var function = method.GetCustomAttribute<FunctionAttribute>();
                if (function is null) continue;
                var trigger = method.GetParameters().FirstOrDefault(p => p.GetCustomAttribute<HttpTriggerAttribute>() is not null);
                if (trigger is null || (method.GetCustomAttribute<UnmatchedRouteAttribute>() is not null) != unmatched) continue;
                var http = trigger.GetCustomAttribute<HttpTriggerAttribute>()!;
                var methods = (http.Methods ?? ["get", "post", "put", "patch", "delete"]).Select(m => m.ToUpperInvariant()).ToList();
                list.Add(new HttpFunction(function.Name, http.Route ?? function.Name, methods, method.GetCustomAttribute<AccessAttribute>()?.Policy, method, trigger));
            }
        }
        return list.OrderBy(f => f.Route, StringComparer.Ordinal).ThenBy(f => f.Name, StringComparer.Ordinal).ToList();
    }
}
