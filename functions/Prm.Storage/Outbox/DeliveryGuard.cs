using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Prm.Storage.Outbox;

/// <summary>
/// Without a Service Bus namespace or a SendGrid key the app delivers to the development sinks: fine in Development, silent data loss
/// anywhere else. Outside Development the app therefore refuses to start without them, unless Delivery__Disabled says so explicitly
/// (then it logs that nothing is delivered).
/// </summary>
public sealed class DeliveryGuard(IHostEnvironment environment, ServiceBusOptions serviceBus, SendGridOptions sendGrid, DeliveryOptions delivery, ILogger<DeliveryGuard> log) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var missing = new List<string>();
        if (string.IsNullOrWhiteSpace(serviceBus.FullyQualifiedNamespace)) missing.Add("ServiceBus__FullyQualifiedNamespace (events go to the development sink)");
        if (string.IsNullOrWhiteSpace(sendGrid.ApiKey)) missing.Add("SendGrid__ApiKey (email goes to the development mail outbox)");
        if (sendGrid.KeyIsUnresolvedReference)
        {
            // Not a reason to stop the app (everything but email works, and the outbox keeps the emails until the key resolves).
            log.LogError("Email cannot be delivered: {Problem}", SendGridOptions.UnresolvedReferenceProblem);
        }
        if (missing.Count == 0 || environment.IsDevelopment()) return Task.CompletedTask;
        if (delivery.Disabled)
        {
            log.LogWarning("Delivery is disabled (Delivery__Disabled=true) in the {Environment} environment: nothing leaves the app. Not set: {Missing}",
                environment.EnvironmentName, string.Join("; ", missing));
            return Task.CompletedTask;
        }
        throw new InvalidOperationException(
            $"The app runs in the {environment.EnvironmentName} environment without delivery: {string.Join("; ", missing)}. " +
            "Set these settings, or set Delivery__Disabled=true to run without delivering events and email on purpose.");
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
