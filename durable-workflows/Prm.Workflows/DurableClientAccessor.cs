using Microsoft.DurableTask.Client;
using Prm.Core.Outbox;

namespace Prm.Workflows;

/// <summary>
/// The Durable Task client of the current invocation. The isolated Functions worker hands out clients only through [DurableClient]
/// bindings, so the functions that deliver outbox messages (the queue trigger and the sweep timer, in Azure and in the local host alike)
/// put their binding's client here for the duration of their call with <see cref="Use"/>; so do the HTTP functions that change data
/// (their [DurableClient] parameter, lent by the middleware), whose commits are then delivered with the client of their own invocation
/// (<see cref="Capture"/>). Nothing sets it process-wide. The value lives in
/// the invocation's async flow, so concurrent invocations each see their own client and code outside an invocation sees none.
/// </summary>
public sealed class DurableClientAccessor : IWorkflowClientContext
{
    private static readonly AsyncLocal<DurableTaskClient?> Current = new();

    /// <summary>The client of the invocation in whose flow this runs, or null.</summary>
    public DurableTaskClient? Client => Current.Value;

    public bool Available => Current.Value is not null;

    public Func<IDisposable>? Capture() => Current.Value is { } client ? () => Use(client) : null;

    /// <summary>Makes <paramref name="client"/> the client of the current flow until the returned scope is disposed.</summary>
    public IDisposable Use(DurableTaskClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        var previous = Current.Value;
        Current.Value = client;
        return new Scope(previous);
    }

    private sealed class Scope(DurableTaskClient? previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }
}
