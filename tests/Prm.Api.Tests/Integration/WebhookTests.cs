using System.Net;
using System.Text.Json;
using Prm.Storage.Integration;
using Prm.Testing;

namespace Prm.Api.Tests.Integration;

/// <summary>
/// Webhooks end to end: a real receiver on 127.0.0.1 verifies every request with the Standard Webhooks library; retries with backoff, 410,
/// replay, order per subject, secret rotation, and the URL rules.
/// </summary>
public sealed class WebhookTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    internal static async Task<(string Id, string Secret)> SubscribeAsync(ApiHost api, string url, params string[] eventTypes)
    {
        var admin = await api.ClientAsync(Demo.Admin);
        var response = await admin.PostJsonAsync("webhooks", new { url, eventTypes, description = "test receiver" });
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var body = await response.JsonAsync();
        return (body.GetProperty("webhook").Str("id"), body.Str("secret"));
    }

    private async Task<JsonElement> DeliveryAsync(string webhookId, string deliveryId) =>
        await (await (await Api.ClientAsync(Demo.Admin)).GetAsync($"webhooks/{webhookId}/deliveries/{deliveryId}")).JsonAsync();

    private async Task<List<JsonElement>> LogAsync(string webhookId) =>
        (await (await (await Api.ClientAsync(Demo.Admin)).GetAsync($"webhooks/{webhookId}/deliveries?limit=100")).JsonAsync()).GetProperty("items").EnumerateArray().ToList();

    [Fact]
    public async Task Events_arrive_signed_as_cloud_events_in_commit_order_per_subject_even_when_a_head_is_retried()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = n => n == 1 ? 503 : 204; // the first request fails: that subject's later events wait behind it
        var (id, secret) = await SubscribeAsync(Api, receiver.Url, "deal.*");
        receiver.Secrets.Add(secret);
        var sam = await Api.ClientAsync(Demo.NorthwindRep);

        var deals = new List<string>();
        foreach (var i in Enumerable.Range(1, 3))
        {
            var deal = await Deals.RegisterAsync(sam, Deals.Body($"Ordered Customer {i} GmbH", $"ordered-{i}-{Guid.NewGuid():N}".Substring(0, 20) + ".example"));
            deals.Add(deal.Str("id"));
        }
        foreach (var dealId in deals)
        {
            (await sam.PostJsonAsync($"deals/{dealId}/outcome", new { result = "lost", reason = "Budget cut." })).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        // What arrived so far is the value a timeout reports (types and subjects in arrival order).
        await Responses.EventuallyAsync(() => Task.FromResult(string.Join(", ", receiver.Verified.ToList().Select(r => r.Type.Replace("com.prmfunctions.", "", StringComparison.Ordinal) + " " + r.Subject))),
            seen => receiver.Verified.Count(r => r.Type == "com.prmfunctions.deal.lost") == 3, TimeSpan.FromSeconds(120));
        foreach (var dealId in deals)
        {
            // The webhook fan-out runs as a projection, before the event reaches the development sink: wait until the sink lists every
            // event the receiver got so far (later events may still be on their way to both), then compare in commit order.
            var received = receiver.Verified.Where(r => r.Subject == $"deals/{dealId}").Select(r => r.Id).ToList();
            var committed = await Responses.EventuallyAsync(async () => (await (await Api.Anonymous.GetAsync($"dev/cloudevents?limit=500")).JsonAsync()).GetProperty("items")
                    .EnumerateArray().Reverse().Where(e => e.Str("subject") == $"deals/{dealId}").Select(e => e.Str("id")).ToList(),
                c => received.All(c.Contains), TimeSpan.FromSeconds(180));
            received.Should().Equal(committed.Take(received.Count), $"deals/{dealId} arrives in commit order, once each");
        }
        receiver.Rejected.Should().BeEmpty("every request carries a valid Standard Webhooks signature");
        var first = receiver.Verified.First();
        first.WebhookId.Should().Be(first.Id, "webhook-id is the event id, the same on every retry");
        first.CloudEvent.Str("specversion").Should().Be("1.0");
        first.CloudEvent.Str("dataschema").Should().Contain("/asyncapi.json#/components/schemas/deal.");
        (await LogAsync(id)).Should().Contain(a => a.GetProperty("statusCode").GetInt32() == 503 && a.Str("outcome") == "Failed");
    }

    [Fact]
    public async Task A_receiver_failing_three_times_gets_the_delivery_on_the_fourth_attempt_with_growing_waits()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = n => n <= 3 ? 500 : 200;
        var (id, secret) = await SubscribeAsync(Api, receiver.Url, "webhook.ping");
        receiver.Secrets.Add(secret);
        var admin = await Api.ClientAsync(Demo.Admin);

        var ping = await admin.PostAsync($"webhooks/{id}/ping", null);
        ping.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var deliveryId = (await ping.JsonAsync()).Str("id");

        var done = await Responses.EventuallyAsync(() => DeliveryAsync(id, deliveryId), d => d.Str("status") == "Succeeded", TimeSpan.FromSeconds(180));
        done.GetProperty("attempts").GetInt32().Should().Be(4);
        receiver.Verified.Should().ContainSingle().Which.Type.Should().Be("com.prmfunctions.webhook.ping");
        var attempts = (await LogAsync(id)).Where(a => a.Str("deliveryId") == deliveryId).OrderBy(a => a.GetProperty("attempt").GetInt32()).ToList();
        attempts.Select(a => a.GetProperty("statusCode").GetInt32()).Should().Equal(500, 500, 500, 200);
        attempts.Select(a => a.Str("responseExcerpt")).First().Should().Be("answer 500");
        var at = attempts.Select(a => a.GetProperty("at").GetDateTimeOffset()).ToList();
        // The test host's first backoff is 1 s, doubled after each failure, with ±20% jitter: attempt k+1 starts no earlier than
        // 0.8 × 2^(k-1) s after attempt k started (a lower bound that holds on any machine; a loaded one only makes gaps longer).
        for (var k = 1; k <= 3; k++)
            (at[k] - at[k - 1]).Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(0.8 * Math.Pow(2, k - 1)), $"the wait after failure {k} is at least the doubled backoff");
        var webhook = await (await admin.GetAsync($"webhooks/{id}")).JsonAsync();
        webhook.GetProperty("consecutiveFailures").GetInt32().Should().Be(0, "a success resets the count");
        webhook.Str("status").Should().Be("Active");
    }

    [Fact]
    public async Task A_410_disables_the_subscription_emails_the_admins_and_nothing_more_is_sent()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = _ => 410;
        var (id, secret) = await SubscribeAsync(Api, receiver.Url, "webhook.ping");
        receiver.Secrets.Add(secret);
        var admin = await Api.ClientAsync(Demo.Admin);

        (await admin.PostAsync($"webhooks/{id}/ping", null)).StatusCode.Should().Be(HttpStatusCode.Accepted);

        var disabled = await Responses.EventuallyAsync(async () => await (await admin.GetAsync($"webhooks/{id}")).JsonAsync(), w => w.Str("status") == "Disabled");
        disabled.Str("disabledReason").Should().Contain("410");
        await Responses.EventuallyAsync(async () => await (await Api.Anonymous.GetAsync($"dev/mail?to={Demo.Admin}")).JsonAsync(),
            m => m.GetProperty("items").EnumerateArray().Any(x => x.Str("subject").Contains(receiver.Url)));
        await ApiSteps.ProblemAsync(await admin.PostAsync($"webhooks/{id}/ping", null), 409);
        receiver.Requests.Should().Be(1);
        (await LogAsync(id)).Should().ContainSingle().Which.Str("outcome").Should().Be("Gone");

        receiver.Answer = _ => 204;
        (await admin.PostAsync($"webhooks/{id}/enable", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await admin.PostAsync($"webhooks/{id}/ping", null)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        await Responses.EventuallyAsync(() => Task.FromResult(receiver.Verified.Count), n => n >= 1);
    }

    [Fact]
    public async Task Replay_sends_every_wanted_event_since_a_time_again_with_its_original_id()
    {
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var dealId = (await Deals.RegisterAsync(sam, Deals.Body("Replay Customer AG", $"replay-{Guid.NewGuid():N}".Substring(0, 18) + ".example"))).Str("id");
        await Deals.DeliveredAsync(Api, dealId, "deal.approved");
        await using var receiver = await WebhookReceiver.StartAsync();
        var (id, secret) = await SubscribeAsync(Api, receiver.Url, "deal.*");
        receiver.Secrets.Add(secret);
        var admin = await Api.ClientAsync(Demo.Admin);

        var replay = await admin.PostJsonAsync($"webhooks/{id}/replay", new { since = since.ToString("O") });
        replay.StatusCode.Should().Be(HttpStatusCode.Accepted, await replay.Content.ReadAsStringAsync());
        (await replay.JsonAsync()).GetProperty("events").GetInt32().Should().BeGreaterThanOrEqualTo(2);

        var published = (await (await Api.Anonymous.GetAsync("dev/cloudevents?limit=500")).JsonAsync()).GetProperty("items").EnumerateArray()
            .Where(e => e.Str("subject") == $"deals/{dealId}").Select(e => e.Str("id")).Reverse().ToList();
        await Responses.EventuallyAsync(() => Task.FromResult(string.Join(",", receiver.Verified.Where(r => r.Subject == $"deals/{dealId}").Select(r => r.Id))),
            ids => ids == string.Join(",", published), TimeSpan.FromSeconds(30));
        await ApiSteps.ProblemAsync(await admin.PostJsonAsync($"webhooks/{id}/replay", new { since = "yesterday" }), 400);
        await ApiSteps.ProblemAsync(await admin.PostJsonAsync($"webhooks/{id}/replay", new { since = DateTimeOffset.UtcNow.AddDays(-31).ToString("O") }), 400);
    }

    [Fact]
    public async Task A_rotated_secret_and_the_previous_one_both_sign_during_the_overlap()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (id, oldSecret) = await SubscribeAsync(Api, receiver.Url, "webhook.ping");
        var admin = await Api.ClientAsync(Demo.Admin);
        var rotated = await admin.PostJsonAsync($"webhooks/{id}/rotate-secret", new { overlapHours = 1 });
        rotated.StatusCode.Should().Be(HttpStatusCode.OK, await rotated.Content.ReadAsStringAsync());
        var newSecret = (await rotated.JsonAsync()).Str("secret");
        newSecret.Should().StartWith("whsec_").And.NotBe(oldSecret);

        receiver.Secrets.Add(oldSecret); // a receiver not switched yet
        (await admin.PostAsync($"webhooks/{id}/ping", null)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        await Responses.EventuallyAsync(() => Task.FromResult(receiver.Verified.Count + " verified; rejected: " + string.Join(" | ", receiver.Rejected)), n => n.StartsWith("1 "));
        receiver.Secrets.Clear();
        receiver.Secrets.Add(newSecret); // switched
        (await admin.PostAsync($"webhooks/{id}/ping", null)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        await Responses.EventuallyAsync(() => Task.FromResult(receiver.Verified.Count), n => n == 2);
        receiver.Verified.Last().Signature.Split(' ').Should().HaveCount(2, "one signature per secret during the overlap");
        receiver.Rejected.Should().BeEmpty();
        (await (await admin.GetAsync($"webhooks/{id}")).Content.ReadAsStringAsync()).Should().NotContain("whsec_", "the secret is shown once, never read back");
    }

    [Fact]
    public async Task A_forged_or_stale_signature_is_refused_by_a_Standard_Webhooks_receiver()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var secret = Prm.Core.Integration.WebhookRules.NewSecret();
        receiver.Secrets.Add(secret);
        using var http = new HttpClient();
        async Task<HttpStatusCode> SendAsync(string signingSecret, DateTimeOffset at, string id = "evt_manual")
        {
            const string body = """{"specversion":"1.0","id":"evt_manual","type":"com.prmfunctions.webhook.ping","subject":"webhooks/x"}""";
            using var request = new HttpRequestMessage(HttpMethod.Post, receiver.Url) { Content = new StringContent(body) };
            request.Headers.TryAddWithoutValidation("webhook-id", id);
            request.Headers.TryAddWithoutValidation("webhook-timestamp", at.ToUnixTimeSeconds().ToString());
            request.Headers.TryAddWithoutValidation("webhook-signature", WebhookDeliverer.Sign([signingSecret], id, at, body));
            return (await http.SendAsync(request)).StatusCode;
        }

        (await SendAsync(secret, DateTimeOffset.UtcNow)).Should().Be(HttpStatusCode.NoContent);
        (await SendAsync(Prm.Core.Integration.WebhookRules.NewSecret(), DateTimeOffset.UtcNow)).Should().Be(HttpStatusCode.Unauthorized, "forged: another secret");
        (await SendAsync(secret, DateTimeOffset.UtcNow.AddMinutes(-6))).Should().Be(HttpStatusCode.Unauthorized, "stale: over 5 minutes old");
        receiver.Rejected.Should().HaveCount(2);
    }

    [Theory]
    [InlineData("http://crm.example/hook", "https")]
    [InlineData("https://10.1.2.3/hook", "private")]
    [InlineData("https://192.168.0.10/hook", "private")]
    [InlineData("https://169.254.169.254/latest/meta-data", "metadata")]
    [InlineData("https://[fd00::1]/hook", "private")]
    [InlineData("https://user:pw@crm.example/hook", "credentials")]
    [InlineData("not a url", "absolute")]
    public async Task A_webhook_url_that_is_not_https_or_points_inside_is_refused(string url, string why)
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var problem = await ApiSteps.ProblemAsync(await admin.PostJsonAsync("webhooks", new { url, eventTypes = new[] { "deal.*" } }), 400);
        problem.GetProperty("errors").GetProperty("url")[0].GetString().Should().Contain(why);
    }

    [Fact]
    public async Task Unknown_event_patterns_and_callers_other_than_admins_are_refused()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var problem = await ApiSteps.ProblemAsync(await admin.PostJsonAsync("webhooks", new { url = "https://crm.example/hook", eventTypes = new[] { "deals.*" } }), 400);
        problem.GetProperty("errors").GetProperty("eventTypes")[0].GetString().Should().Contain("deals.*");
        await ApiSteps.ProblemAsync(await admin.PostJsonAsync("webhooks", new { url = "https://crm.example/hook", eventTypes = Array.Empty<string>() }), 400);
        foreach (var who in new[] { Demo.CmEmea, Demo.NorthwindAdmin, Demo.NorthwindRep })
        {
            var client = await Api.ClientAsync(who);
            await ApiSteps.ProblemAsync(await client.PostJsonAsync("webhooks", new { url = "https://crm.example/hook", eventTypes = new[] { "deal.*" } }), 403);
            await ApiSteps.ProblemAsync(await client.GetAsync("webhooks"), 403);
        }
        var app = Api.WithToken((await (await Api.Anonymous.PostJsonAsync("dev/token", new { app = "crm" })).JsonAsync()).Str("accessToken"));
        await ApiSteps.ProblemAsync(await app.GetAsync("webhooks"), 403);
        (await Api.Anonymous.GetAsync("webhooks")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }
}
