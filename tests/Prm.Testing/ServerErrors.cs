using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Prm.Testing;

/// <summary>
/// The errors the host logged, by trace id: a 500 that a test client receives fails the test at once with the server's own exception,
/// instead of a status code without a cause (a 500 is never an acceptable answer of this API).
/// </summary>
public sealed class ServerErrors : ILoggerProvider
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> byTrace = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> recent = new();

    public ILogger CreateLogger(string categoryName) => new Capture(this, categoryName);

    /// <summary>What the host logged as an error for the trace (the problem response's traceId), else its latest errors.</summary>
    public string Describe(string? traceId)
    {
        if (traceId is not null && byTrace.TryGetValue(traceId, out var entries)) return string.Join("\n", entries);
        var latest = recent.ToArray().TakeLast(3).ToList();
        return latest.Count == 0 ? "(the host logged no error)" : "(no error logged under this trace id; the host's latest errors:)\n" + string.Join("\n", latest);
    }

    public void Dispose() { }

    private void Add(string entry)
    {
        var trace = Activity.Current?.TraceId.ToString();
        if (trace is not null) byTrace.GetOrAdd(trace, _ => new()).Enqueue(entry);
        recent.Enqueue(entry);
        while (recent.Count > 20) recent.TryDequeue(out _);
    }

    private sealed class Capture(ServerErrors owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            owner.Add($"[{logLevel}] {category}: {formatter(state, exception)}{(exception is null ? "" : "\n" + exception)}");
        }
    }
}

/// <summary>The API answered 500: a bug, shown with what the server logged for it.</summary>
public sealed class ServerErrorException(string message) : Exception(message);
