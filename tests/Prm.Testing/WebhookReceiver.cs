using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;

namespace Prm.Testing;

/// <summary>
/// A real HTTP receiver of webhooks on 127.0.0.1 (a free port) that verifies every request with the Standard Webhooks library — as a
/// subscriber would — and answers what the test tells it (<see cref="Answer"/>, by request number). It keeps what it received, in order.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private int requests;

    /// <summary>A request whose signature verified: the CloudEvent and its headers.</summary>
    public sealed record Received(int Number, string WebhookId, string Type, string Subject, string Id, JsonElement CloudEvent, DateTimeOffset At, string Signature);

    public ConcurrentQueue<Received> Verified { get; } = new();

    /// <summary>Requests whose signature did not verify (forged, stale, wrong secret), with the library's reason.</summary>
    public ConcurrentQueue<string> Rejected { get; } = new();

    /// <summary>The status to answer for request number n (1-based); 204 by default.</summary>
    public Func<int, int> Answer { get; set; } = _ => 204;

    /// <summary>The secrets the receiver verifies with (any of them may sign).</summary>
    public List<string> Secrets { get; } = [];

    public string Url => app.Urls.First() + "/hook";

    public int Requests => Volatile.Read(ref requests);

    private WebhookReceiver(WebApplication app) => this.app = app;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hook", (Delegate)receiver.HandleAsync);
        await app.StartAsync();
        return receiver;
    }

    private async Task<IResult> HandleAsync(HttpContext context)
    {
        var n = Interlocked.Increment(ref requests);
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync();
        string? why = null;
        var verified = false;
        // The spec accepts a request when any of its signatures matches; the served library checks the first only, so each entry is checked.
        var signatures = context.Request.Headers["webhook-signature"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        foreach (var (secret, signature) in Secrets.ToList().SelectMany(s => signatures.Select(sig => (s, sig))))
        {
            try
            {
                var headers = new HeaderDictionary { ["webhook-id"] = context.Request.Headers["webhook-id"], ["webhook-timestamp"] = context.Request.Headers["webhook-timestamp"], ["webhook-signature"] = signature };
                new StandardWebhook(secret).Verify(body, headers);
                verified = true;
                break;
            }
            catch (Exception ex) when (ex is WebhookVerificationException or FormatException or ArgumentException)
            {
                why = ex.GetType().Name + ": " + ex.Message;
            }
        }
        if (!verified)
        {
            Rejected.Enqueue(why ?? "no secret");
            return Results.StatusCode(401);
        }
        var status = Answer(n);
        if (status is >= 200 and < 300)
        {
            var ce = JsonDocument.Parse(body).RootElement.Clone();
            Verified.Enqueue(new Received(n, context.Request.Headers["webhook-id"].ToString(), ce.GetProperty("type").GetString()!, ce.GetProperty("subject").GetString()!,
                ce.GetProperty("id").GetString()!, ce, DateTimeOffset.UtcNow, context.Request.Headers["webhook-signature"].ToString()));
        }
        if (status is 204 or 304) return Results.StatusCode(status);
        return Results.Text(status == 410 ? "gone for good" : $"answer {status}", statusCode: status);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
