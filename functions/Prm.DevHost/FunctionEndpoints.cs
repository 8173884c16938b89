using System.Reflection;
using System.Runtime.ExceptionServices;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.Azure.Functions.Worker;
using Prm.Functions.Http;

namespace Prm.DevHost;

/// <summary>Serves every HTTP function of the Functions assembly with its own route, methods and parameter binding, through the same request gate.</summary>
public static class FunctionEndpoints
{
    public const string RoutePrefix = "api";

    /// <summary>Maps each function; throws at start-up for a parameter this host cannot bind, so nothing fails later at request time.</summary>
    public static IReadOnlyList<HttpFunction> MapFunctions(this IEndpointRouteBuilder app)
    {
        foreach (var function in FunctionCatalog.HttpFunctions)
        {
            var binders = function.Method.GetParameters().Select(p => Binder(function, p)).ToArray();
            app.MapMethods($"/{RoutePrefix}/{function.Route}", function.Methods, context => InvokeAsync(context, function, binders))
                .WithName(function.Name)
                .WithMetadata(function);
        }
        return FunctionCatalog.HttpFunctions;
    }

    /// <summary>
    /// What answers a path under /api that no endpoint took: 405 with Allow when a function's route matches with another method,
    /// 404 otherwise; both as problem+json.
    /// </summary>
    public static void MapApiFallback(this IEndpointRouteBuilder app)
    {
        var routes = FunctionCatalog.HttpFunctions
            .Select(f => (Matcher: new Microsoft.AspNetCore.Routing.Template.TemplateMatcher(Microsoft.AspNetCore.Routing.Template.TemplateParser.Parse($"{RoutePrefix}/{f.Route}"), new RouteValueDictionary()), f.Methods))
            .ToList();
        app.Map($"/{RoutePrefix}/{{**path}}", context =>
        {
            var allowed = routes.Where(r => r.Matcher.TryMatch(context.Request.Path, new RouteValueDictionary())).SelectMany(r => r.Methods).Distinct(StringComparer.Ordinal).ToList();
            if (allowed.Count == 0)
            {
                return Problems.WriteAsync(context, Problems.Create(404, "Not found.", $"No API route matches {context.Request.Method} {context.Request.Path}.", context));
            }
            var allow = string.Join(", ", allowed);
            context.Response.OnStarting(() =>
            {
                context.Response.Headers.Allow = allow;
                return Task.CompletedTask;
            });
            return Problems.WriteAsync(context, Problems.Create(405, "Method not allowed.", $"{context.Request.Path} answers {allow}, not {context.Request.Method}.", context));
        });
    }

    private static Task InvokeAsync(HttpContext context, HttpFunction function, Func<HttpContext, object?>[] binders)
    {
        var gate = context.RequestServices.GetRequiredService<RequestGate>();
        return RunAsync(gate, context, function, binders);
    }

    private static async Task RunAsync(RequestGate gate, HttpContext context, HttpFunction function, Func<HttpContext, object?>[] binders)
    {
        // Like the middleware in Azure: a function that declares its Durable client lends it to the outbox for the call (here the
        // host's own client, which is what the [DurableClient] binding gives it). Set inside this async method, so it ends with the call.
        using var lent = function.TakesWorkflowClient
            ? context.RequestServices.GetRequiredService<Prm.Workflows.DurableClientAccessor>().Use(context.RequestServices.GetRequiredService<Microsoft.DurableTask.Client.DurableTaskClient>())
            : null;
        await gate.RunAsync(context, function, async () =>
        {
            var target = function.Method.IsStatic ? null : ActivatorUtilities.GetServiceOrCreateInstance(context.RequestServices, function.Method.DeclaringType!);
            object? returned;
            try
            {
                returned = function.Method.Invoke(target, binders.Select(b => b(context)).ToArray());
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
                throw;
            }
            if (returned is Task task)
            {
                await task;
                returned = task.GetType().IsGenericType ? task.GetType().GetProperty("Result")!.GetValue(task) : null;
            }
            if (returned is IActionResult result)
            {
                await result.ExecuteResultAsync(new ActionContext(context, context.GetRouteData(), new ActionDescriptor()));
            }
            else if (returned is not null)
            {
                throw new InvalidOperationException($"{function.Name} returned {returned.GetType().Name}; HTTP functions return IActionResult.");
            }
        });
    }

    private static Func<HttpContext, object?> Binder(HttpFunction function, ParameterInfo parameter)
    {
        if (parameter.GetCustomAttribute<HttpTriggerAttribute>() is not null) return c => c.Request;
        if (parameter.ParameterType == typeof(CancellationToken)) return c => c.RequestAborted;
        if (parameter.ParameterType == typeof(string) && function.Route.Contains("{" + parameter.Name, StringComparison.Ordinal))
        {
            var name = parameter.Name!;
            return c => c.GetRouteValue(name) as string;
        }
        // Services bound by type (e.g. the Durable client) come from the container.
        if (parameter.ParameterType.IsClass && parameter.ParameterType != typeof(string))
        {
            var type = parameter.ParameterType;
            return c => c.RequestServices.GetService(type) ?? throw new InvalidOperationException($"No service for {type.Name} in the local host.");
        }
        throw new InvalidOperationException($"The local host cannot bind parameter {parameter.Name} of {function.Name}.");
    }
}
