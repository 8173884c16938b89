using Microsoft.DurableTask.Client;

namespace Prm.Workflows.Tests;

internal static class Orchestrations
{
    /// <summary>Waits (at most a minute) for an instance to finish, with its output.</summary>
    public static async Task<OrchestrationMetadata> CompletionAsync(DurableTaskClient client, string instanceId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return await client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs: true, timeout.Token);
    }
}
