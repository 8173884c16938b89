using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Prm.Functions.Http;

/// <summary>
/// Rejected bearer tokens are the caller's problem, not the service's: anyone can send garbage, so they are logged at Information and
/// at most one line per <see cref="Interval"/>, with the count of the rejections that line stands for. (Microsoft.IdentityModel's own
/// error-level line per token is filtered out in <see cref="AppRegistration"/>.)
/// </summary>
public sealed class RejectedTokenLog(ILogger<RejectedTokenLog> log, TimeProvider clock)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    /// <summary>Categories that write a line per rejected token, each at Error or Information; the rate-limited line replaces them.</summary>
    public static readonly string[] NoisyCategories =
    [
        "Microsoft.IdentityModel.LoggingExtensions.IdentityLoggerAdapter",
        "Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerHandler",
    ];

    private readonly Lock gate = new();
    private DateTimeOffset? lastWritten;
    private int suppressed;

    /// <summary>Counts a rejection; writes a line when none was written within the interval. Returns whether it wrote.</summary>
    public bool Rejected(Exception? failure)
    {
        int count;
        lock (gate)
        {
            var now = clock.GetUtcNow();
            if (lastWritten is { } last && now - last < Interval)
            {
                suppressed++;
                return false;
            }
            count = suppressed;
            suppressed = 0;
            lastWritten = now;
        }
        log.LogInformation("Rejected a bearer token ({Reason}); {Suppressed} more rejected since the previous line (at most one line per {Seconds} s).",
            failure?.GetType().Name ?? "invalid", count, (int)Interval.TotalSeconds);
        return true;
    }
}

/// <summary>Hooks <see cref="RejectedTokenLog"/> into the bearer handler's events (after Microsoft.Identity.Web's own).</summary>
internal sealed class RejectedTokenLogSetup(RejectedTokenLog rejected) : IPostConfigureOptions<JwtBearerOptions>
{
    public void PostConfigure(string? name, JwtBearerOptions options)
    {
        options.Events ??= new JwtBearerEvents();
        var prior = options.Events.OnAuthenticationFailed;
        options.Events.OnAuthenticationFailed = async context =>
        {
            rejected.Rejected(context.Exception);
            if (prior is not null) await prior(context);
        };
    }
}
