using System.Collections.Concurrent;

namespace Prm.DevHost.Tests;

/// <summary>
/// The context the Durable sidecar's stop handlers run under (<see cref="DurableBackend"/>'s disposal): the sidecar stops the provider
/// from an async-void ApplicationStopping handler, and the Azure Storage provider throws a TimeoutException after 10 minutes when it
/// cannot release its partition lease — rethrown on the thread pool, that ended a test run's process.
/// </summary>
public sealed class DurableStopContextTests
{
#pragma warning disable AZFW0002 // async void is the shape under test: the sidecar's handler is one
    /// <summary>Shaped like the sidecar's handler: async void, it goes on after an await and then fails.</summary>
    private static async void StopHandler(Task provider)
    {
        await provider;
        throw new TimeoutException("Timed-out waiting for the partition manager to shut down. Timeout duration: 00:10:00");
    }
#pragma warning restore AZFW0002

    [Fact]
    public async Task A_stop_handler_that_fails_later_is_waited_for_and_its_failure_is_reported_instead_of_ending_the_process()
    {
        var failures = new ConcurrentQueue<Exception>();
        var context = new DurableBackend.HandlerContext(failures.Enqueue);
        var provider = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var lifetime = new Microsoft.Extensions.Hosting.Internal.ApplicationLifetime(Microsoft.Extensions.Logging.Abstractions.NullLogger<Microsoft.Extensions.Hosting.Internal.ApplicationLifetime>.Instance);
        lifetime.ApplicationStopping.Register(() => StopHandler(provider.Task)); // as the sidecar registers its handler

        DurableBackend.HandlerContext.Run(context, lifetime.StopApplication); // as DisposeAsync stops the sidecar

        (await context.WaitIdleAsync(TimeSpan.Zero)).Should().BeFalse("the handler waits for the provider");
        failures.Should().BeEmpty();
        provider.SetResult();
        (await context.WaitIdleAsync(TimeSpan.FromMinutes(2))).Should().BeTrue("the handler ended (with its failure)");
        failures.Should().ContainSingle().Which.Should().BeOfType<TimeoutException>()
            .Which.Message.Should().StartWith("Timed-out waiting for the partition manager");
    }

    [Fact]
    public async Task With_no_handler_started_the_context_is_idle_at_once()
    {
        var failures = new ConcurrentQueue<Exception>();
        var context = new DurableBackend.HandlerContext(failures.Enqueue);

        DurableBackend.HandlerContext.Run(context, () => { });

        (await context.WaitIdleAsync(TimeSpan.Zero)).Should().BeTrue();
        failures.Should().BeEmpty();
    }
}
