using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prm.Storage;
using Prm.Storage.Outbox;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

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

    [Fact]
    public async Task An_unresolved_key_vault_reference_is_never_used_as_a_key_it_is_logged_reported_and_every_send_fails_clearly()
    {
        const string reference = "@Microsoft.KeyVault(SecretUri=https://kv-prm.vault.azure.net/secrets/SendGrid-ApiKey/)";
        var (guard, log) = Guard("Production", "prm.servicebus.windows.net", reference);
        await guard.StartAsync(CancellationToken.None);
        log.Lines.Should().ContainSingle(l => l.Level == LogLevel.Error && l.Message.Contains("unresolved Key Vault reference", StringComparison.Ordinal));

        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SendGrid:ApiKey"] = reference,
            ["Storage:ConnectionString"] = "UseDevelopmentStorage=true",
        }).Build();
        using var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection().AddLogging().AddSingleton<TimeProvider>(TimeProvider.System)
            .AddPrmStorage(configuration).BuildServiceProvider();
        var sender = services.GetRequiredService<Prm.Core.Outbox.IEmailSender>();
        sender.Should().BeOfType<UnresolvedKeyEmailSender>("the reference must never reach SendGrid as a key");
        var failure = await FluentActions.Awaiting(() => sender.SendAsync("msg-1", new Prm.Core.Outbox.EmailMessage("a@b.example", null, "s", "t", "<p>t</p>", "test"), CancellationToken.None))
            .Should().ThrowAsync<Prm.Core.Outbox.TransientDeliveryException>("the outbox keeps the email and retries it");
        failure.Which.Message.Should().Contain("unresolved Key Vault reference");
        services.GetRequiredService<PlatformHealth>().Problems.Should().ContainSingle().Which.Should().Contain("SendGrid__ApiKey");

        new SendGridOptions { ApiKey = "SG.real-key" }.KeyIsUnresolvedReference.Should().BeFalse();
        new SendGridOptions { ApiKey = " @microsoft.keyvault(VaultName=kv;SecretName=x)" }.KeyIsUnresolvedReference.Should().BeTrue();
    }
}

/// <summary>A fresh deployment may start before its role assignments have propagated: start-up initialization waits, the host does not crash.</summary>
public sealed class StorageInitializerTests
{
    private static StorageInitializer Initializer(PlatformHealth health, Func<CancellationToken, Task> steps) =>
        new(null!, null!, null!, new Prm.Core.Onboarding.AgreementOptions(), health, Microsoft.Extensions.Logging.Abstractions.NullLogger<StorageInitializer>.Instance)
        {
            Steps = steps,
            Pause = _ => TimeSpan.FromMilliseconds(1),
        };

    [Fact]
    public async Task Storage_that_refuses_access_at_start_is_retried_in_the_background_until_it_answers()
    {
        var health = new PlatformHealth(new SendGridOptions());
        var attempts = 0;
        using var initializer = Initializer(health, _ =>
        {
            if (Interlocked.Increment(ref attempts) <= 3) throw new Azure.RequestFailedException(403, "This request is not authorized to perform this operation using this permission.");
            return Task.CompletedTask;
        });

        await initializer.StartAsync(CancellationToken.None); // does not throw: the host starts
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!health.StorageReady && DateTime.UtcNow < deadline) await Task.Delay(10);
        health.StorageReady.Should().BeTrue();
        attempts.Should().Be(4, "three refusals, then the attempt that succeeded, and nothing after it");
        await initializer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_failure_that_is_not_about_access_stops_the_start()
    {
        var health = new PlatformHealth(new SendGridOptions());
        using var initializer = Initializer(health, _ => throw new InvalidOperationException("a bug"));
        await FluentActions.Awaiting(() => initializer.StartAsync(CancellationToken.None)).Should().ThrowAsync<InvalidOperationException>();
        health.StorageReady.Should().BeFalse();
    }

    [Theory]
    [InlineData(403, true)]
    [InlineData(401, true)]
    [InlineData(503, true)]
    [InlineData(404, false)]
    [InlineData(409, false)]
    public void Access_refusals_and_outages_are_waited_out_other_answers_are_not(int status, bool waits) =>
        StorageInitializer.IsWaitingForAccess(new Azure.RequestFailedException(status, "x")).Should().Be(waits);
}
