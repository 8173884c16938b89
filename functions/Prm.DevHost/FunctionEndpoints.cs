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
    public const string RoutePrefix = FunctionCatalog.RoutePrefix;

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
    /// What answers a path under /api that no endpoint took: the app's unmatched-route function (404, or 405 with Allow), mapped as the
    /// lowest-precedence route, as the Functions host reaches it in Azure.
    /// </summary>
    public static void MapApiFallback(this IEndpointRouteBuilder app)
    {
        var function = FunctionCatalog.Unmatched;
        var binders = function.Method.GetParameters().Select(p => Binder(function, p)).ToArray();
        app.MapMethods($"/{RoutePrefix}/{function.Route}", function.Methods, context => InvokeAsync(context, function, binders)).WithName(function.Name).WithMetadata(function);
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
