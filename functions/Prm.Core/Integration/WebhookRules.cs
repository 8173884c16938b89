using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Prm.Core.Common;
using Prm.Core.Outbox;

namespace Prm.Core.Integration;

/// <summary>Settings of webhook delivery (section "Webhooks").</summary>
public sealed class WebhookOptions
{
    public const string SectionName = "Webhooks";

    /// <summary>
    /// Whether subscriptions may name loopback addresses (http://127.0.0.1, http://localhost): true only where the environment is
    /// Development (the local host sets it); everywhere else a URL must be HTTPS and resolve to a public address.
    /// </summary>
    public bool AllowLoopback { get; set; }

    /// <summary>How long one request may take, in seconds.</summary>
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>The first retry waits this long (seconds); each next one doubles it (with ±20% jitter) up to <see cref="MaxBackoffSeconds"/>.</summary>
    public int FirstBackoffSeconds { get; set; } = 5;

    public int MaxBackoffSeconds { get; set; } = 6 * 3600;

    /// <summary>A delivery is given up (Failed) once its first attempt is this old (3 days).</summary>
    public int RetryForSeconds { get; set; } = 3 * 24 * 3600;

    /// <summary>A subscription whose deliveries failed this many times in a row ...</summary>
    public int DisableAfterFailures { get; set; } = 50;

    /// <summary>... over at least this long (5 days) is disabled and the admins are emailed.</summary>
    public int DisableAfterSeconds { get; set; } = 5 * 24 * 3600;

    /// <summary>How long the previous secret keeps signing after a rotation, by default (hours).</summary>
    public int RotationOverlapHours { get; set; } = 24;

    /// <summary>How often each instance looks for due deliveries in-process (seconds; 0 = only the WebhookSweep timer and the signal after each fan-out).</summary>
    public int SweepSeconds { get; set; }

    /// <summary>NCRONTAB schedule of the WebhookSweep timer function (retries that came due).</summary>
    public string SweepSchedule { get; set; } = "0 * * * * *";

    /// <summary>How many lanes (subscription and subject) are delivered at the same time per instance.</summary>
    public int Parallelism { get; set; } = 64;

    /// <summary>How long an instance's claim on a lane lasts (seconds): longer than one attempt.</summary>
    public int ClaimSeconds { get; set; } = 60;

    /// <summary>Replay reads at most this many events of the event log per call.</summary>
    public int MaxReplayEvents { get; set; } = 10_000;

    /// <summary>How long the event log keeps events for replay (days).</summary>
    public int EventLogDays { get; set; } = 30;
}

/// <summary>The integration events of webhooks themselves.</summary>
public static class WebhookEvents
{
    /// <summary>A test event sent to one subscription by POST /api/webhooks/{id}/ping.</summary>
    [EventPayload(typeof(PingData), Summary = "A test delivery to one subscription (POST /api/webhooks/{id}/ping); never on Service Bus.")]
    public const string Ping = "webhook.ping";

    public sealed record PingData(string WebhookId, string Message);
}

/// <summary>The rules of webhook subscriptions: URLs (HTTPS, no private targets), event type patterns, secrets, retry schedule.</summary>
public static class WebhookRules
{
    public const int MaxPatterns = 50;

    /// <summary>Checks a subscription URL as written (no DNS): https (http only to loopback where allowed), no credentials, no private or metadata literal addresses.</summary>
    public static Uri ValidateUrl(string? url, bool allowLoopback)
    {
        if (string.IsNullOrWhiteSpace(url)) throw new ValidationFailedException("url", "url is required.");
        if (url.Length > 2000 || !Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri)) throw new ValidationFailedException("url", "url must be an absolute URL.");
        var loopbackHost = IsLoopbackHost(uri.Host);
        if (uri.Scheme != Uri.UriSchemeHttps && !(allowLoopback && loopbackHost && uri.Scheme == Uri.UriSchemeHttp))
            throw new ValidationFailedException("url", "url must use https://.");
        if (!string.IsNullOrEmpty(uri.UserInfo)) throw new ValidationFailedException("url", "url may not carry credentials.");
        if (uri.Fragment.Length > 0) throw new ValidationFailedException("url", "url may not carry a fragment.");
        if (loopbackHost && !allowLoopback) throw new ValidationFailedException("url", "url may not point at this machine (localhost is allowed only in Development).");
        if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && Forbidden(address, allowLoopback) is { } why)
            throw new ValidationFailedException("url", $"url may not point at {why} addresses.");
        return uri;
    }

    public static bool IsLoopbackHost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>Why a resolved address may not be a webhook target (null when it may): loopback, private, link-local, metadata, and the like.</summary>
    public static string? Forbidden(IPAddress address, bool allowLoopback)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address)) return allowLoopback ? null : "loopback";
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.None)) return "unspecified";
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            if (b[0] == 10 || (b[0] == 172 && b[1] is >= 16 and <= 31) || (b[0] == 192 && b[1] == 168)) return "private";
            if (b[0] == 169 && b[1] == 254) return "link-local or metadata";
            if (b[0] == 100 && b[1] is >= 64 and <= 127) return "shared (carrier-grade NAT)";
            if (b[0] == 0 || b[0] >= 224) return "reserved or multicast";
            if (b[0] == 192 && b[1] == 0 && b[2] == 0) return "reserved";
            if (b[0] == 198 && b[1] is 18 or 19) return "reserved";
            return null;
        }
        if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal) return "link-local";
        if (address.IsIPv6Multicast) return "multicast";
        var bytes = address.GetAddressBytes();
        if ((bytes[0] & 0xFE) == 0xFC) return "private"; // fc00::/7 unique local
        if (bytes[0] == 0xFD && bytes[1] == 0x00 && bytes[2] == 0x0E && bytes[3] == 0xC2) return "metadata"; // fd00:ec2::254
        return null;
    }

    /// <summary>Checks the event type patterns: each an event of the catalog, a prefix with <c>.*</c> (<c>deal.*</c>) that matches one, or <c>*</c>.</summary>
    public static IReadOnlyList<string> ValidatePatterns(IReadOnlyList<string?>? patterns, IReadOnlyCollection<string> known)
    {
        if (patterns is null || patterns.Count == 0) throw new ValidationFailedException("eventTypes", "eventTypes needs at least one event type or pattern (e.g. deal.*).");
        if (patterns.Count > MaxPatterns) throw new ValidationFailedException("eventTypes", $"eventTypes takes at most {MaxPatterns} entries.");
        var result = new List<string>();
        foreach (var raw in patterns)
        {
            var p = raw?.Trim() ?? "";
            if (p.Length == 0 || p.Length > 100) throw new ValidationFailedException("eventTypes", "eventTypes entries must be non-empty event types or patterns.");
            if (!known.Any(k => Matches(p, k))) throw new ValidationFailedException("eventTypes", $"{p} matches no event type of the catalog (GET /api/asyncapi.json).");
            if (!result.Contains(p, StringComparer.Ordinal)) result.Add(p);
        }
        return result;
    }

    /// <summary>Whether the pattern (<c>*</c>, <c>deal.*</c>, or an exact type) matches the event type.</summary>
    public static bool Matches(string pattern, string type) =>
        pattern == "*" || string.Equals(pattern, type, StringComparison.Ordinal)
        || (pattern.EndsWith(".*", StringComparison.Ordinal) && type.StartsWith(pattern[..^1], StringComparison.Ordinal));

    /// <summary>A new signing secret in the Standard Webhooks form: <c>whsec_</c> and 32 random bytes in base64.</summary>
    public static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// The wait before attempt <paramref name="attempt"/>+1 after <paramref name="attempt"/> failures: exponential from the first backoff, capped,
    /// with ±20% jitter (<paramref name="random"/> in [0, 1)) so receivers coming back are not hit by every sender at once.
    /// </summary>
    public static TimeSpan Backoff(int attempt, WebhookOptions options, double random)
    {
        var baseSeconds = Math.Min(options.MaxBackoffSeconds, options.FirstBackoffSeconds * Math.Pow(2, Math.Max(0, attempt - 1)));
        return TimeSpan.FromSeconds(Math.Max(0.05, baseSeconds * (0.8 + 0.4 * random)));
    }
}
