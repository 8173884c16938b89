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
public sealed class PrmHttpMiddleware(RequestGate gate, DurableClientAccessor workflows) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        var http = context.GetHttpContext();
        if (http is null)
        {
            await next(context);
            return;
        }
        var binding = context.FunctionDefinition.InputBindings.Values.FirstOrDefault(b => string.Equals(b.Type, "durableClient", StringComparison.OrdinalIgnoreCase));
        var client = binding is null ? null : (await context.BindInputAsync<DurableTaskClient>(binding)).Value;
        using (client is null ? null : workflows.Use(client))
        {
            await gate.RunAsync(http, FunctionCatalog.ForEntryPoint(context.FunctionDefinition.EntryPoint), () => next(context));
        }
    }
}
