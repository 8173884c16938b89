using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Azure.Functions.Worker;
using Prm.Core.Identity;

namespace Prm.Functions.Http;

/// <summary>Marks the one function that answers what no other route takes; it is not an API operation (not in the catalog's HTTP functions).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class UnmatchedRouteAttribute : Attribute;

/// <summary>
/// The API's last route: a path under /api that no function takes with the request's method gets 405 with Allow when another method's
/// route matches it, otherwise 404, both as problem+json. In Azure the Functions host matches routes in the order of the function names,
/// with the method as a constraint (Azure/azure-functions-host#9876, Azure/azure-webjobs-sdk-extensions#842), so this catch-all is named
/// to sort after every other function (a convention test holds it there); the local host maps it as its lowest-precedence route, so both
/// take the same function.
/// </summary>
public sealed class UnmatchedRouteFunction
{
    public const string Name = "zzzUnmatchedRoute";

    private static readonly Lazy<IReadOnlyList<(TemplateMatcher Matcher, IReadOnlyList<string> Methods)>> Routes = new(() => FunctionCatalog.HttpFunctions
        .Select(f => (new TemplateMatcher(TemplateParser.Parse($"{FunctionCatalog.RoutePrefix}/{f.Route}"), new RouteValueDictionary()), f.Methods))
        .ToList());

    [Function(Name)]
    [Access(AccessPolicy.Anonymous)]
    [UnmatchedRoute]
    public IActionResult Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", "put", "patch", "delete", "head", "options", Route = "{*path}")] HttpRequest req) =>
        new UnmatchedRouteResult(AllowedMethods(req.Path));

    /// <summary>The methods the API answers on <paramref name="path"/> (e.g. /api/partners/ptn_1); empty when no route matches it.</summary>
    public static IReadOnlyList<string> AllowedMethods(PathString path) =>
        Routes.Value.Where(r => r.Matcher.TryMatch(path, new RouteValueDictionary())).SelectMany(r => r.Methods).Distinct(StringComparer.Ordinal).ToList();

    private sealed class UnmatchedRouteResult(IReadOnlyList<string> allowed) : IActionResult
    {
        public Task ExecuteResultAsync(ActionContext context)
        {
            var http = context.HttpContext;
            if (allowed.Count == 0)
                return Problems.WriteAsync(http, Problems.Create(404, "Not found.", $"No API route matches {http.Request.Method} {http.Request.Path}.", http));
            var allow = string.Join(", ", allowed);
            http.Response.OnStarting(() =>
            {
                http.Response.Headers.Allow = allow;
                return Task.CompletedTask;
            });
            return Problems.WriteAsync(http, Problems.Create(405, "Method not allowed.", $"{http.Request.Path} answers {allow}, not {http.Request.Method}.", http));
        }
    }
}
