using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Azure.Messaging.ServiceBus;
using Prm.Core.Outbox;
using Prm.Storage.Outbox;

namespace Prm.Storage.Tests;

public sealed class MessageMappingTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static readonly EmailMessage Mail = new("bob@partner.example", "Bob Partner", "You are invited to Acme's partner portal",
        "Hello Bob, accept here: https://portal.example/invite?t=1", "<p>Hello Bob, <a href=\"https://portal.example/invite?t=1\">accept</a></p>", "partner-invitation");

    private static IntegrationEvent Event(string? partnerId = "ptn_0123456789abcdef0123456789abcdef") =>
        IntegrationEvent.Create("evt_00000000000000000000000000000001", "partner.created", new DateTimeOffset(2025, 3, 14, 9, 30, 15, TimeSpan.Zero),
            "partners/ptn_1", partnerId, "corr-42", new { name = "Acme", tier = "gold", users = new[] { "a", "b" } });

    [Fact]
    public void Service_bus_message_carries_the_event_identity_and_routing_properties()
    {
        var e = Event();

        var message = ServiceBusEventPublisher.ToMessage(e);

        message.MessageId.Should().Be(e.Id);
        message.Subject.Should().Be("partner.created");
        message.CorrelationId.Should().Be("corr-42");
        message.ContentType.Should().Be("application/cloudevents+json; charset=utf-8");
        message.ApplicationProperties["partnerId"].Should().Be(e.PartnerId);
        message.ApplicationProperties["eventType"].Should().Be("partner.created");
        message.ApplicationProperties["subject"].Should().Be("partners/ptn_1");
    }

    [Fact]
    public void Service_bus_message_body_is_a_structured_cloud_event_of_the_outbox_event()
    {
        var e = Event();

        var body = ServiceBusEventPublisher.ToMessage(e).Body;
        var back = CloudEventEnvelope.Decode(body.ToMemory());

        back.Id.Should().Be(e.Id, "id is the outbox event id");
        back.Type.Should().Be("com.prmfunctions.partner.created");
        back.Time.Should().Be(e.OccurredAt);
        back.Subject.Should().Be(e.Subject);
        back.Source!.ToString().Should().Be("http://localhost:7071/api");
        back.DataContentType.Should().Be("application/json");
        back.DataSchema!.ToString().Should().EndWith("/asyncapi.json#/components/schemas/partner.created.v1");
        back[CloudEventEnvelope.PartnerIdAttribute].Should().Be(e.PartnerId);
        back[CloudEventEnvelope.CorrelationIdAttribute].Should().Be("corr-42");
        using var json = JsonDocument.Parse(body.ToString());
        json.RootElement.GetProperty("specversion").GetString().Should().Be("1.0");
        json.RootElement.GetProperty("data").GetProperty("tier").GetString().Should().Be("gold", "data is the event's payload as JSON, camelCase");
        json.RootElement.GetProperty("data").GetProperty("users").GetArrayLength().Should().Be(2);
    }

    private static IntegrationEvent EventNumber(int i) =>
        IntegrationEvent.Create($"evt_{i:D32}", i % 2 == 0 ? "deal.submitted" : "deal.conflict_detected", new DateTimeOffset(2025, 3, 14, 9, 30, i, TimeSpan.Zero),
            "deals/deal_1", i == 1 ? null : "ptn_1", $"corr-{i}", new { n = i });

    [Fact]
    public async Task Service_bus_publisher_sends_the_events_of_a_delivery_as_one_batch_in_order_each_message_mapped_as_alone()
    {
        var sender = new RecordingSender();
        var publisher = new ServiceBusEventPublisher(sender);
        var events = Enumerable.Range(0, 3).Select(EventNumber).ToList();

        await publisher.PublishAllAsync(events, None);

        sender.Single.Should().Be(0, "no event goes on its own");
        var batch = sender.Batches.Should().ContainSingle("one send carries the delivery's events").Subject;
        batch.Select(m => m.MessageId).Should().Equal(events.Select(e => e.Id), "event ids stay the message ids (duplicate detection) and keep their order");
        for (var i = 0; i < events.Count; i++)
        {
            var alone = ServiceBusEventPublisher.ToMessage(events[i]);
            batch[i].Subject.Should().Be(alone.Subject);
            batch[i].CorrelationId.Should().Be(alone.CorrelationId);
            batch[i].ContentType.Should().Be(alone.ContentType);
            batch[i].ApplicationProperties.Should().BeEquivalentTo(alone.ApplicationProperties);
            batch[i].Body.ToString().Should().Be(alone.Body.ToString(), "the body is the structured CloudEvent");
            CloudEventEnvelope.Decode(batch[i].Body.ToMemory()).Id.Should().Be(events[i].Id);
        }
        batch[1].ApplicationProperties.Should().NotContainKey("partnerId");
    }

    [Fact]
    public async Task Service_bus_publisher_sends_a_full_batch_and_goes_on_in_the_next_keeping_order()
    {
        var sender = new RecordingSender { Capacity = 2 };
        var publisher = new ServiceBusEventPublisher(sender);
        var events = Enumerable.Range(0, 5).Select(EventNumber).ToList();

        await publisher.PublishAllAsync(events, None);

        sender.Batches.Select(b => b.Count).Should().Equal(2, 2, 1);
        sender.Batches.SelectMany(b => b).Select(m => m.MessageId).Should().Equal(events.Select(e => e.Id));
    }

    [Fact]
    public async Task Service_bus_publisher_refuses_an_event_too_large_for_an_empty_batch_without_sending_it()
    {
        var sender = new RecordingSender { Capacity = 0 };
        var publisher = new ServiceBusEventPublisher(sender);

        var publish = () => publisher.PublishAllAsync([EventNumber(0), EventNumber(1)], None);

        await publish.Should().ThrowAsync<InvalidOperationException>().WithMessage("*larger than a Service Bus message batch*");
        sender.Batches.Should().BeEmpty();
    }

    /// <summary>A sender without a broker: batches are the model factory's, recorded when sent; at most <see cref="Capacity"/> messages a batch.</summary>
    private sealed class RecordingSender : ServiceBusSender
    {
        private readonly Dictionary<ServiceBusMessageBatch, List<ServiceBusMessage>> stores = [];

        public int Capacity { get; init; } = int.MaxValue;

        public List<List<ServiceBusMessage>> Batches { get; } = [];

        public int Single { get; private set; }

        public override ValueTask<ServiceBusMessageBatch> CreateMessageBatchAsync(CancellationToken cancellationToken = default)
        {
            var store = new List<ServiceBusMessage>();
            var batch = ServiceBusModelFactory.ServiceBusMessageBatch(256 * 1024, store, tryAddCallback: _ => store.Count < Capacity);
            stores[batch] = store;
            return ValueTask.FromResult(batch);
        }

        public override Task SendMessagesAsync(ServiceBusMessageBatch messageBatch, CancellationToken cancellationToken = default)
        {
            Batches.Add([.. stores[messageBatch]]);
            return Task.CompletedTask;
        }

        public override Task SendMessageAsync(ServiceBusMessage message, CancellationToken cancellationToken = default)
        {
            Single++;
            return Task.CompletedTask;
        }
    }

    [Fact]
    public void Service_bus_message_of_an_event_without_partner_has_no_partner_property()
    {
        var message = ServiceBusEventPublisher.ToMessage(Event(partnerId: null));

        message.ApplicationProperties.Should().NotContainKey("partnerId");
        message.ApplicationProperties["eventType"].Should().Be("partner.created");
    }

    [Fact]
    public void SendGrid_message_has_sender_recipient_subject_both_bodies_and_the_outbox_id()
    {
        var options = new SendGridOptions { ApiKey = "SG.test", FromEmail = "program@vendor.example", FromName = "Vendor Partner Program" };

        var message = SendGridEmailSender.ToMessage("msg_123", Mail, options);

        message.From.Email.Should().Be("program@vendor.example");
        message.From.Name.Should().Be("Vendor Partner Program");
        var to = message.Personalizations.Should().ContainSingle().Subject.Tos.Should().ContainSingle().Subject;
        to.Email.Should().Be("bob@partner.example");
        to.Name.Should().Be("Bob Partner");
        using var json = JsonDocument.Parse(message.Serialize());
        var root = json.RootElement;
        var subject = root.TryGetProperty("subject", out var s) ? s.GetString() : root.GetProperty("personalizations")[0].GetProperty("subject").GetString();
        subject.Should().Be(Mail.Subject);
        var contents = root.GetProperty("content").EnumerateArray().Select(c => (Type: c.GetProperty("type").GetString(), Value: c.GetProperty("value").GetString())).ToList();
        contents.Should().Equal(("text/plain", Mail.Text), ("text/html", Mail.Html));
        var customArgs = root.TryGetProperty("custom_args", out var top) ? top : root.GetProperty("personalizations")[0].GetProperty("custom_args");
        customArgs.GetProperty("prmMessageId").GetString().Should().Be("msg_123");
        root.GetProperty("categories").EnumerateArray().Select(c => c.GetString()).Should().Contain("partner-invitation");
    }

    [Fact]
    public async Task SendGrid_accepted_202_completes_and_posts_the_mail()
    {
        await using var fake = FakeSendGrid.Start(HttpStatusCode.Accepted);
        var sender = new SendGridEmailSender(fake.Options);

        await sender.SendAsync("msg_ok", Mail, None);

        var request = fake.Requests.Should().ContainSingle().Subject;
        request.Method.Should().Be("POST");
        request.Path.Should().Be("/v3/mail/send");
        request.Authorization.Should().Be("Bearer SG.test");
        using var json = JsonDocument.Parse(request.Body);
        json.RootElement.GetProperty("personalizations")[0].GetProperty("subject").GetString().Should().Be(Mail.Subject);
        json.RootElement.GetProperty("personalizations")[0].GetProperty("custom_args").GetProperty("prmMessageId").GetString().Should().Be("msg_ok");
        request.Body.Should().Contain("bob@partner.example");
    }

    [Fact]
    public async Task SendGrid_429_with_retry_after_is_a_transient_failure_with_that_delay()
    {
        await using var fake = FakeSendGrid.Start((HttpStatusCode)429, ("Retry-After", "7"));
        var sender = new SendGridEmailSender(fake.Options);

        var act = () => sender.SendAsync("msg_busy", Mail, None);

        (await act.Should().ThrowAsync<TransientDeliveryException>()).Which.RetryAfter.Should().Be(TimeSpan.FromSeconds(7));
        fake.Requests.Should().ContainSingle("the client never retries 429 itself");
    }

    [Fact]
    public async Task SendGrid_429_without_retry_after_uses_the_rate_limit_reset()
    {
        var reset = DateTimeOffset.UtcNow.AddSeconds(120).ToUnixTimeSeconds();
        await using var fake = FakeSendGrid.Start((HttpStatusCode)429, ("X-RateLimit-Reset", reset.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var sender = new SendGridEmailSender(fake.Options);

        var act = () => sender.SendAsync("msg_busy", Mail, None);

        (await act.Should().ThrowAsync<TransientDeliveryException>()).Which.RetryAfter.Should().BeCloseTo(TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task SendGrid_400_is_a_permanent_failure()
    {
        await using var fake = FakeSendGrid.Start(HttpStatusCode.BadRequest, body: """{"errors":[{"message":"The to field is invalid.","field":"personalizations.0.to"}]}""");
        var sender = new SendGridEmailSender(fake.Options);

        var act = () => sender.SendAsync("msg_bad", Mail, None);

        var thrown = (await act.Should().ThrowAsync<InvalidOperationException>()).Which;
        thrown.Should().NotBeOfType<TransientDeliveryException>();
        thrown.Message.Should().Contain("400").And.Contain("The to field is invalid.");
        fake.Requests.Should().ContainSingle();
    }

    [Fact]
    public async Task SendGrid_503_is_retried_by_the_client_and_then_fails_the_delivery()
    {
        await using var fake = FakeSendGrid.Start(HttpStatusCode.ServiceUnavailable);
        var sender = new SendGridEmailSender(fake.Options);

        var act = () => sender.SendAsync("msg_down", Mail, None);

        await act.Should().ThrowAsync<Exception>();
        fake.Requests.Count.Should().Be(4, "one attempt plus the three configured retries");
    }

    [Fact]
    public async Task SendGrid_503_after_the_clients_retries_is_a_transient_failure()
    {
        await using var fake = FakeSendGrid.Start(HttpStatusCode.ServiceUnavailable);
        var sender = new SendGridEmailSender(fake.Options);

        var act = () => sender.SendAsync("msg_down", Mail, None);

        await act.Should().ThrowAsync<TransientDeliveryException>();
    }

    /// <summary>A local stand-in for the SendGrid API answering every request with one status.</summary>
    private sealed class FakeSendGrid : IAsyncDisposable
    {
        public sealed record Request(string Method, string Path, string? Authorization, string Body);

        private readonly HttpListener listener = new();
        private readonly Task loop;
        private readonly HttpStatusCode status;
        private readonly (string Name, string Value)[] headers;
        private readonly string body;
        private readonly ConcurrentQueue<Request> requests = new();

        private FakeSendGrid(HttpStatusCode status, (string, string)[] headers, string body)
        {
            this.status = status;
            this.headers = headers;
            this.body = body;
            Port = FreePort();
            listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            listener.Start();
            loop = Task.Run(ServeAsync);
        }

        public int Port { get; }

        public SendGridOptions Options => new() { ApiKey = "SG.test", Host = $"http://127.0.0.1:{Port}" };

        public IReadOnlyList<Request> Requests => requests.ToArray();

        public static FakeSendGrid Start(HttpStatusCode status, params (string, string)[] headers) => new(status, headers, "");

        public static FakeSendGrid Start(HttpStatusCode status, string body) => new(status, [], body);

        private static int FreePort()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            return port;
        }

        private async Task ServeAsync()
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception) when (!listener.IsListening)
                {
                    return;
                }
                catch (HttpListenerException)
                {
                    return;
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
                using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
                {
                    requests.Enqueue(new Request(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, context.Request.Headers["Authorization"], await reader.ReadToEndAsync()));
                }
                context.Response.StatusCode = (int)status;
                foreach (var (name, value) in headers) context.Response.AddHeader(name, value);
                var bytes = Encoding.UTF8.GetBytes(body);
                context.Response.ContentType = "application/json";
                context.Response.ContentLength64 = bytes.Length;
                if (bytes.Length > 0) await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        }

        public async ValueTask DisposeAsync()
        {
            listener.Stop();
            listener.Close();
            try
            {
                await loop.WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception)
            {
                // The loop ends with the listener; nothing else to release.
            }
        }
    }
}
