using Microsoft.DurableTask.Client;

namespace Prm.Workflows.Tests;

internal static class Orchestrations
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Starts an in-process test host. The host binds a free loopback port it picked itself; when another test process takes that port
    /// between the pick and the bind, starting again picks another.
    /// </summary>
    public static async Task<Microsoft.DurableTask.Testing.DurableTaskTestHost> StartHostAsync(Microsoft.DurableTask.Testing.DurableTaskTestHostOptions options)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await Microsoft.DurableTask.Testing.DurableTaskTestHost.StartAsync(WorkflowRegistry.Register, options);
            }
            catch (IOException ex) when (attempt < 5 && ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
            }
        }
    }

    /// <summary>Waits (at most a minute, polling) until the instance runs, so an event raised next reaches a started orchestration.</summary>
    public static async Task RunningAsync(DurableTaskClient client, string instanceId)
    {
        var deadline = DateTimeOffset.UtcNow + Patience;
        while ((await client.GetInstanceAsync(instanceId))?.RuntimeStatus != OrchestrationRuntimeStatus.Running)
        {
            if (DateTimeOffset.UtcNow > deadline) throw new TimeoutException($"Waited {Patience.TotalSeconds} s for {instanceId} to run.");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits (at most a minute) for an instance to finish, with its output.</summary>
    public static async Task<OrchestrationMetadata> CompletionAsync(DurableTaskClient client, string instanceId)
    {
        using var timeout = new CancellationTokenSource(Patience);
        return await client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs: true, timeout.Token);
    }

    /// <summary>Waits (at most <paramref name="timeout"/>, default a minute, polling) until <paramref name="condition"/> holds; fails naming <paramref name="what"/> otherwise.</summary>
    public static async Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var patience = timeout ?? Patience;
        var deadline = DateTimeOffset.UtcNow + patience;
        while (!condition())
        {
            if (DateTimeOffset.UtcNow > deadline) throw new TimeoutException($"Waited {patience.TotalSeconds} s for {what}.");
            await Task.Delay(50);
        }
    }

    /// <summary>Waits (at most a minute, polling) until the running instance shows <paramref name="customStatus"/>.</summary>
    public static async Task<OrchestrationMetadata> CustomStatusAsync(DurableTaskClient client, string instanceId, string customStatus)
    {
        var deadline = DateTimeOffset.UtcNow + Patience;
        while (true)
        {
            var instance = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true);
            if (instance is { IsRunning: true } && instance.ReadCustomStatusAs<string>() == customStatus) return instance;
            if (instance is { IsCompleted: true }) throw new InvalidOperationException($"{instanceId} ended ({instance.RuntimeStatus}: {instance.SerializedOutput}) before showing {customStatus}.");
            if (DateTimeOffset.UtcNow > deadline) throw new TimeoutException($"Waited {Patience.TotalSeconds} s for {instanceId} to show {customStatus} (it shows {instance?.SerializedCustomStatus}).");
            await Task.Delay(50);
        }
    }
}
