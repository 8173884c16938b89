using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Prm.Testing;

namespace Prm.Api.Tests;

/// <summary>Anonymous callers sending invalid tokens cannot flood the log: no error per token, one Information line per interval.</summary>
public sealed class RejectedTokenLogTests
{
    [Fact]
    public async Task Invalid_bearer_tokens_log_no_errors_and_at_most_one_line_per_interval()
    {
        var lines = new ConcurrentQueue<(string Category, LogLevel Level, string Message)>();
        await using var api = await ApiHost.StartAsync(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Information" }, configure: builder => builder.Logging.AddProvider(new CapturingProvider(lines)));
        foreach (var token in Enumerable.Range(0, 40).Select(i => i % 2 == 0 ? "garbage" + i : "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0." + i))
        {
            var response = await api.WithToken(token).GetAsync("me");
            await ApiSteps.ProblemAsync(response, 401);
        }
        lines.Where(l => l.Level >= LogLevel.Error).Should().BeEmpty("a rejected token is the caller's mistake, not the service's");
        var rejected = lines.Where(l => l.Category == "Prm.Functions.Http.RejectedTokenLog").ToList();
        rejected.Should().ContainSingle().Which.Level.Should().Be(LogLevel.Information);
        lines.Count(l => l.Category.StartsWith("Microsoft.IdentityModel", StringComparison.Ordinal) || l.Category.Contains("JwtBearer", StringComparison.Ordinal))
            .Should().Be(0, "the rate-limited line replaces a line per token");
    }

    private sealed class CapturingProvider(ConcurrentQueue<(string, LogLevel, string)> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, lines);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<(string, LogLevel, string)> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue((category, logLevel, formatter(state, exception)));
        }
    }
}
