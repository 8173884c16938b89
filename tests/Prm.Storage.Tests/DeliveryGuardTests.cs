using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prm.Storage;
using Prm.Storage.Outbox;

namespace Prm.Storage.Tests;

/// <summary>Outside Development the app never delivers to the development sinks by accident.</summary>
public sealed class DeliveryGuardTests
{
    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "Prm.Functions";
        public string ContentRootPath { get; set; } = "/";
        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = new Microsoft.Extensions.FileProviders.NullFileProvider();
    }

    private sealed class RecordingLog : ILogger<DeliveryGuard>
    {
        public List<(LogLevel Level, string Message)> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add((logLevel, formatter(state, exception)));
    }

    private static (DeliveryGuard Guard, RecordingLog Log) Guard(string environment, string? serviceBus = null, string? sendGridKey = null, bool disabled = false)
    {
        var log = new RecordingLog();
        return (new DeliveryGuard(new Environment(environment), new ServiceBusOptions { FullyQualifiedNamespace = serviceBus }, new SendGridOptions { ApiKey = sendGridKey },
            new DeliveryOptions { Disabled = disabled }, log), log);
    }

    [Fact]
    public async Task Outside_development_without_service_bus_and_sendgrid_the_app_refuses_to_start_naming_both()
    {
        var (guard, _) = Guard("Production");
        var failure = await FluentActions.Awaiting(() => guard.StartAsync(CancellationToken.None)).Should().ThrowAsync<InvalidOperationException>();
        failure.Which.Message.Should().Contain("ServiceBus__FullyQualifiedNamespace").And.Contain("SendGrid__ApiKey").And.Contain("Delivery__Disabled=true");
    }

    [Fact]
    public async Task A_missing_sendgrid_key_alone_is_refused_too()
    {
        var (guard, _) = Guard("Staging", serviceBus: "prm.servicebus.windows.net");
        var failure = await FluentActions.Awaiting(() => guard.StartAsync(CancellationToken.None)).Should().ThrowAsync<InvalidOperationException>();
        failure.Which.Message.Should().Contain("SendGrid__ApiKey").And.NotContain("ServiceBus__FullyQualifiedNamespace");
    }

    [Fact]
    public async Task Explicitly_disabled_delivery_starts_and_says_so()
    {
        var (guard, log) = Guard("Production", disabled: true);
        await guard.StartAsync(CancellationToken.None);
        log.Lines.Should().ContainSingle(l => l.Level == LogLevel.Warning && l.Message.Contains("Delivery is disabled", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Development_and_a_configured_production_start_silently()
    {
        var (development, devLog) = Guard("Development");
        await development.StartAsync(CancellationToken.None);
        var (production, prodLog) = Guard("Production", "prm.servicebus.windows.net", "SG.key");
        await production.StartAsync(CancellationToken.None);
        devLog.Lines.Concat(prodLog.Lines).Should().BeEmpty();
    }
}
