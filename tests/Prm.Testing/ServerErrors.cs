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
    private readonly ConcurrentQueue<string> durable = new();

    /// <summary>The Durable Task worker's latest warnings and errors (a stream it reconnected, a work item it abandoned), newest last.</summary>
    public IReadOnlyList<string> DurableWarnings() => durable.ToArray();

    private static bool IsDurable(string category) => category.StartsWith("Microsoft.DurableTask", StringComparison.Ordinal) || category.StartsWith("DurableTask", StringComparison.Ordinal);

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

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error || logLevel == LogLevel.Warning && IsDurable(category);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            if (IsDurable(category))
            {
                owner.durable.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} [{logLevel}] {category}: {formatter(state, exception)}{(exception is null ? "" : " (" + exception.GetType().Name + ": " + exception.Message + ")")}");
                while (owner.durable.Count > 30) owner.durable.TryDequeue(out _);
            }
            if (logLevel >= LogLevel.Error) owner.Add($"[{logLevel}] {category}: {formatter(state, exception)}{(exception is null ? "" : "\n" + exception)}");
        }
    }
}

/// <summary>The API answered 500: a bug, shown with what the server logged for it.</summary>
public sealed class ServerErrorException(string message) : Exception(message);
