using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;

namespace Prm.Functions.Http;

/// <summary>Functions worker middleware that routes every HTTP invocation through the <see cref="RequestGate"/>.</summary>
public sealed class PrmHttpMiddleware(RequestGate gate) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        var http = context.GetHttpContext();
        if (http is null)
        {
            await next(context);
            return;
        }
        await gate.RunAsync(http, FunctionCatalog.ForEntryPoint(context.FunctionDefinition.EntryPoint), () => next(context));
    }
}
