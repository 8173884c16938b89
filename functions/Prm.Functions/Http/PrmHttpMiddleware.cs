using Microsoft.Extensions.Logging;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.DurableTask.Client;
using Prm.Workflows;

namespace Prm.Functions.Http;

/// <summary>
/// Functions worker middleware that routes every HTTP invocation through the <see cref="RequestGate"/>. A function that declares the
/// Durable client of its invocation ([DurableClient], every function that changes data) has that client lent to the outbox for the
/// duration of the call, so what it commits — a workflow to start or signal — is delivered at once with it, on this instance, instead of
/// through the outbox queue.
/// </summary>
public sealed class PrmHttpMiddleware(RequestGate gate, DurableClientAccessor workflows, ILogger<PrmHttpMiddleware> log) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        var http = context.GetHttpContext();
        if (http is null)
        {
            await next(context);
            return;
        }
        using (await LendClientAsync(context) is { } client ? workflows.Use(client) : null)
        {
            await gate.RunAsync(http, FunctionCatalog.ForEntryPoint(context.FunctionDefinition.EntryPoint), () => next(context));
        }
    }

    /// <summary>
    /// The invocation's [DurableClient] binding as a client (bound once: the function's own parameter gets the same value). When it
    /// cannot be bound the request still runs; its workflow signals then go through the outbox queue, whose function has a client.
    /// </summary>
    private async Task<DurableTaskClient?> LendClientAsync(FunctionContext context)
    {
        var binding = context.FunctionDefinition.InputBindings.Values.FirstOrDefault(b => string.Equals(b.Type, "durableClient", StringComparison.OrdinalIgnoreCase));
        if (binding is null) return null;
        try
        {
            return (await context.BindInputAsync<DurableTaskClient>(binding)).Value;
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or NotSupportedException or System.Text.Json.JsonException)
        {
            log.LogWarning(ex, "The Durable client of {Function} could not be bound; its workflow signals go through the outbox queue", context.FunctionDefinition.Name);
            return null;
        }
    }
}
