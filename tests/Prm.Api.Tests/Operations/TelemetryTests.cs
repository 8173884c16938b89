using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Prm.Functions.Http;
using Prm.Functions.Telemetry;
using Prm.Testing;

namespace Prm.Api.Tests.Operations;

/// <summary>A host whose OpenTelemetry providers export to memory (the app registers its sources and meters; the test adds the exporters).</summary>
public sealed class TelemetryHostFixture : ApiHostFixture
{
    public LockedCollection<Activity> Activities { get; } = new();
    public LockedCollection<Metric> Metrics { get; } = new();

    public override async Task InitializeAsync() =>
        Api = await ApiHost.StartAsync(configure: builder => builder.Services.AddOpenTelemetry()
            .WithTracing(tracing => tracing.AddInMemoryExporter(Activities))
            .WithMetrics(metrics => metrics.AddInMemoryExporter(Metrics)));
}

/// <summary>
/// Observability end to end: one correlation id follows a request through its outbox event, the Service Bus envelope, the workflow it starts,
/// its webhook delivery and its email; the spans of that work belong to the request's trace; the meters count registrations by conflict
/// level, outbox deliveries and lag, and webhook attempts.
/// </summary>
public sealed class TelemetryTests(TelemetryHostFixture fixture) : IClassFixture<TelemetryHostFixture>
{
    private ApiHost Api => fixture.Api;

    private List<Activity> Spans()
    {
        return fixture.Activities.Snapshot();
    }

    [Fact]
    public async Task A_requests_correlation_id_follows_it_through_outbox_workflow_webhook_and_email_as_one_trace()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (webhookId, secret) = await Integration.WebhookTests.SubscribeAsync(Api, receiver.Url, "deal.*");
        receiver.Secrets.Add(secret);
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var request = new HttpRequestMessage(HttpMethod.Post, "deals") { Content = Responses.Json(Deals.Body("Traced Customer GmbH", $"traced-{Guid.NewGuid():N}"[..18] + ".example", amount: 90_000m)) };
        request.Headers.Add(RequestGate.CorrelationHeader, traceId);
        var response = await sam.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        response.Headers.GetValues(RequestGate.CorrelationHeader).Single().Should().Be(traceId);
        var dealId = (await response.JsonAsync()).Str("id");

        // The webhook receiver gets the event with the request's correlation id (header and CloudEvent extension); the delivery log shows it.
        var received = await Responses.EventuallyAsync(() => Task.FromResult(receiver.Verified.FirstOrDefault(r => r.Subject == $"deals/{dealId}")), r => r is not null, TimeSpan.FromSeconds(180));
        received!.CloudEvent.Str("correlationid").Should().Be(traceId);
        var log = await Responses.EventuallyAsync(async () => await (await (await Api.ClientAsync(Demo.Admin)).GetAsync($"webhooks/{webhookId}/deliveries?limit=100")).JsonAsync(),
            l => l.GetProperty("items").EnumerateArray().Any(a => a.Str("subject") == $"deals/{dealId}"));
        log.GetProperty("items").EnumerateArray().First(a => a.Str("subject") == $"deals/{dealId}").Str("correlationId").Should().Be(traceId);

        // The Service Bus envelope (the development sink keeps it) and the channel manager's email carry it too.
        var cloudEvents = await Responses.EventuallyAsync(async () => await (await Api.Anonymous.GetAsync("dev/cloudevents?limit=500")).JsonAsync(),
            e => e.GetProperty("items").EnumerateArray().Any(x => x.Str("subject") == $"deals/{dealId}"));
        cloudEvents.GetProperty("items").EnumerateArray().Where(x => x.Str("subject") == $"deals/{dealId}").Should().OnlyContain(x => x.Str("correlationid") == traceId);
        var mail = await Responses.EventuallyAsync(async () => await (await Api.Anonymous.GetAsync("dev/mail?limit=200")).JsonAsync(),
            m => m.GetProperty("items").EnumerateArray().Any(x => x.GetProperty("correlationId").ValueKind == System.Text.Json.JsonValueKind.String && x.Str("correlationId") == traceId));
        mail.GetProperty("items").EnumerateArray().Should().Contain(x => x.Str("correlationId") == traceId && x.Str("subject").Contains("Traced Customer"));

        // Its spans are one trace: the outbox delivery, the workflow the delivery started (Durable Task spans), the webhook delivery.
        var spans = await Responses.EventuallyAsync(() => Task.FromResult(Spans().Where(a => a.TraceId.ToHexString() == traceId).ToList()),
            s => s.Any(a => a.DisplayName.StartsWith("webhook.deliver", StringComparison.Ordinal)) && s.Any(a => a.Source.Name.StartsWith("Microsoft.DurableTask", StringComparison.Ordinal)), TimeSpan.FromSeconds(180));
        spans.Should().Contain(a => a.DisplayName == "outbox.deliver deal.submitted" && (string?)a.GetTagItem("prm.correlation_id") == traceId);
        spans.Should().Contain(a => a.DisplayName == "webhook.deliver deal.submitted" && (string?)a.GetTagItem("prm.subject") == $"deals/{dealId}");
        spans.Where(a => a.Source.Name.StartsWith("Microsoft.DurableTask", StringComparison.Ordinal)).Select(a => a.DisplayName).Should().Contain(n => n.Contains(nameof(Prm.Workflows.Deals.DealOrchestrator)));
    }

    [Fact]
    public async Task The_meters_count_registrations_by_conflict_level_outbox_deliveries_and_lag_and_webhook_attempts()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (_, secret) = await Integration.WebhookTests.SubscribeAsync(Api, receiver.Url, "deal.*");
        receiver.Secrets.Add(secret);
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var deal = await Deals.RegisterAsync(sam, Deals.Body("Metered Customer GmbH", $"metered-{Guid.NewGuid():N}"[..18] + ".example"));
        await Responses.EventuallyAsync(() => Task.FromResult(receiver.Verified.Any(r => r.Subject == $"deals/{deal.Str("id")}")), r => r, TimeSpan.FromSeconds(180));

        var provider = Api.Services.GetRequiredService<MeterProvider>();
        IReadOnlyList<Metric> Flushed()
        {
            provider.ForceFlush();
            return fixture.Metrics.Snapshot();
        }
        var metrics = await Responses.EventuallyAsync(() => Task.FromResult(Flushed()),
            m => new[] { "prm.deals.registered", "prm.outbox.delivered", "prm.outbox.lag", "prm.webhook.attempts" }.All(n => m.Any(x => x.Name == n)), TimeSpan.FromSeconds(180));
        var registered = metrics.Last(m => m.Name == "prm.deals.registered");
        var levels = new List<string>();
        foreach (ref readonly var point in registered.GetMetricPoints())
        {
            foreach (var tag in point.Tags) if (tag.Key == "conflict_level") levels.Add((string)tag.Value!);
        }
        levels.Should().Contain("none");
        metrics.Select(m => m.MeterName).Should().Contain(TelemetryRegistration.Meters);
    }

    [Theory]
    [InlineData(null, null, null, "none")]
    [InlineData(null, null, "console", "console")]
    [InlineData(null, "http://127.0.0.1:4317", "console", "otlp")]
    [InlineData("InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://example.invalid/", "http://127.0.0.1:4317", null, "azureMonitor")]
    public void The_exporter_follows_the_configuration(string? appInsights, string? otlp, string? setting, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = appInsights,
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp,
            ["Telemetry:Exporter"] = setting,
        }).Build();
        TelemetryRegistration.ExporterOf(configuration).Should().Be(expected);
    }

    [Fact]
    public void Application_Insights_is_reached_with_the_apps_managed_identity()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] = "ClientId=11111111-2222-3333-4444-555555555555;Authorization=AAD",
            ["Storage:ManagedIdentityClientId"] = "99999999-0000-0000-0000-000000000000",
        }).Build();
        TelemetryRegistration.ClientIdOf(configuration).Should().Be("11111111-2222-3333-4444-555555555555");
        TelemetryRegistration.ClientIdOf(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Storage:ManagedIdentityClientId"] = "9" }).Build()).Should().Be("9");
    }
}

/// <summary>
/// What the in-memory exporters add to, from their own threads while a test reads: every operation under one lock (a lock the test
/// took on a plain list did not stop the exporter's unlocked Add, and a copy made during an Add failed).
/// </summary>
public sealed class LockedCollection<T> : ICollection<T>
{
    private readonly List<T> items = [];

    public int Count { get { lock (items) return items.Count; } }

    public bool IsReadOnly => false;

    public List<T> Snapshot() { lock (items) return [.. items]; }

    public void Add(T item) { lock (items) items.Add(item); }

    public void Clear() { lock (items) items.Clear(); }

    public bool Contains(T item) { lock (items) return items.Contains(item); }

    public void CopyTo(T[] array, int arrayIndex) { lock (items) items.CopyTo(array, arrayIndex); }

    public bool Remove(T item) { lock (items) return items.Remove(item); }

    public IEnumerator<T> GetEnumerator() => Snapshot().GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
