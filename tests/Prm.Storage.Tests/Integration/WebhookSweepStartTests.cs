using Microsoft.Extensions.Logging;
using Prm.Core.Integration;
using Prm.Storage.Integration;
using Prm.Storage.Outbox;
using Prm.Testing;

namespace Prm.Storage.Tests.Integration;

/// <summary>The webhook sweep starts with the host, which can be before the storage initializer created the tables: it waits for them.</summary>
public sealed class WebhookSweepStartTests
{
    private sealed class Warnings : ILogger<WebhookDeliverer>
    {
        public readonly System.Collections.Concurrent.ConcurrentQueue<string> Seen = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Warning) Seen.Enqueue(formatter(state, exception) + " " + exception?.Message);
        }
    }

    [Fact]
    public async Task The_first_sweep_waits_until_storage_is_initialized_instead_of_failing_on_missing_tables()
    {
        var tables = new PrmTables(await TestAzurite.FreshStorageAsync()); // not created yet: the initializer has not run
        var health = new PlatformHealth(new SendGridOptions());
        var warnings = new Warnings();
        // A fake clock: the loop's pause between sweeps never ends by itself, so the only sweeps are the first one and none other.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        using var deliverer = new WebhookDeliverer(tables, new WebhookQueue(tables, clock), new WebhookOptions { SweepSeconds = 1 }, CloudEventEnvelope.Default,
            new DevMailbox(tables, clock), new TableStaffStore(tables), clock, warnings, health);

        await deliverer.StartAsync(CancellationToken.None);
        try
        {
            // Without the wait, the first sweep would run now against missing tables and count (failed sweeps count too).
            await Responses.EventuallyAsync(() => Task.FromResult((deliverer.WaitingForStorage, deliverer.SweepsCompleted)), x => x.WaitingForStorage || x.SweepsCompleted > 0);
            deliverer.SweepsCompleted.Should().Be(0, "no sweep before storage is initialized");
            deliverer.WaitingForStorage.Should().BeTrue();

            await tables.EnsureCreatedAsync(CancellationToken.None); // what the initializer does...
            health.MarkStorageReady(); // ...and says when done
            await Responses.EventuallyAsync(() => Task.FromResult(deliverer.SweepsCompleted), n => n >= 1); // the first sweep, at once
            deliverer.WaitingForStorage.Should().BeFalse();
            warnings.Seen.Should().BeEmpty("no sweep ran against tables that did not exist yet");
        }
        finally
        {
            await deliverer.StopAsync(CancellationToken.None);
        }
    }
}
