using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Prm.Core.Common;

namespace Prm.Functions.Http;

/// <summary>An RFC 9457 problem document.</summary>
public sealed record Problem(
    string Type, string Title, int Status, string? Detail, string? Instance, string TraceId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string[]>? Errors = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Field = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Money? Available = null)
{
    /// <summary>Seconds for the Retry-After header of a 429 or 503 (not part of the body).</summary>
    [JsonIgnore]
    public int? RetryAfterSeconds { get; init; }
}

/// <summary>Maps failures to problem responses, in one place for every host.</summary>
public static class Problems
{
    public const string ContentType = "application/problem+json";

    /// <summary>Seconds a client waits before it retries a request that failed because storage did not answer.</summary>
    public const int StorageRetryAfterSeconds = 5;

    public static Problem From(Exception exception, HttpContext context)
    {
        if (exception is not ServiceUnavailableException && IsStorageUnavailable(exception, context))
        {
            // However long the outage lasts, the client is told to come back (never a 500): nothing was half-written, since every
            // change commits in one transaction or not at all.
            // An operation of many transactions that stopped part way says itself what it kept.
            exception = new ServiceUnavailableException(
                exception is OperationInterruptedException interrupted ? interrupted.Message : "Storage does not answer right now; nothing was changed by this request. Try again shortly.",
                TimeSpan.FromSeconds(StorageRetryAfterSeconds));
        }
        if (exception is OperationInterruptedException { InnerException: { } cause }) exception = cause; // not an outage: mapped as its cause
        if (exception is Azure.RequestFailedException { Status: 400 } && IsForeignIfMatch(context.Request))
        {
            // Storage refuses an If-Match that is not one of its ETags: no version of the resource ever had it, so it does not match.
            exception = new PreconditionFailedException("If-Match is not a version this API issued; read the resource again and send its ETag.");
        }
        if (exception is Prm.Core.Mdf.InsufficientFundsException funds)
        {
            var path = funds.Data["field"] as string ?? "amount";
            return Create(422, funds.Title, funds.Message, context, new Dictionary<string, string[]> { [path] = [funds.Message] }, path) with { Available = funds.Available };
        }
        var (status, title, detail, errors, field) = exception switch
        {
            Prm.Core.Mdf.DuplicateLedgerEntryException d => (409, d.Title, d.Message, null, "key"),
            Prm.Core.Mdf.LedgerRuleException l => (422, l.Title, l.Message, new Dictionary<string, string[]> { ["amount"] = [l.Message] }, "amount"),
            Prm.Core.Mdf.CurrencyMismatchException m => (422, m.Title, m.Message, new Dictionary<string, string[]> { ["currency"] = [m.Message] }, "currency"),
            ValidationFailedException v => (v.Unprocessable ? 422 : 400, v.Title, v.Message, v.Errors, v.Errors.Count == 1 ? v.Errors.Keys.First() : null),
            NotFoundException n => (404, n.Title, n.Message, null, null),
            Prm.Core.Approvals.LinkExpiredException e => (410, e.Title, e.Message, null, null),
            Prm.Core.Leads.OfferExpiredException e => (410, e.Title, e.Message, null, null),
            ConflictException c => (409, c.Title, c.Message, null, c.Field),
            PreconditionFailedException p => (p.Required ? 428 : 412, p.Title, p.Message, null, p.Required ? "If-Match" : null),
            ForbiddenException f => (403, f.Title, f.Message, null, null),
            UnauthenticatedException u => (401, u.Title, u.Message, null, null),
            PayloadTooLargeException t => (413, t.Title, t.Message, null, "body"),
            UnsupportedMediaTypeException m => (415, m.Title, m.Message, null, "Content-Type"),
            ServiceUnavailableException s => (503, s.Title, s.Message, null, null),
            TooManyRequestsException r => (429, r.Title, r.Message, null, null),
            BadHttpRequestException b => (b.StatusCode, "Bad request.", b.Message, null, null),
            OperationCanceledException when context.RequestAborted.IsCancellationRequested => (499, "Client closed request.", "The client closed the request.", null, null),
            _ => (500, "Internal server error.", "An unexpected error occurred; quote the traceId when you report it.", (IReadOnlyDictionary<string, string[]>?)null, (string?)null),
        };
        var problem = Create(status, title, detail, context, errors, field);
        return exception switch
        {
            TooManyRequestsException limited => problem with { RetryAfterSeconds = Math.Max(1, (int)Math.Ceiling(limited.RetryAfter.TotalSeconds)) },
            ServiceUnavailableException unavailable => problem with { RetryAfterSeconds = Math.Max(1, (int)Math.Ceiling(unavailable.RetryAfter.TotalSeconds)) },
            _ => problem,
        };
    }

    /// <summary>
    /// Whether a failure means storage (or the network to it) did not answer: no connection, a timeout, or the service's own 5xx after
    /// the client's retries — as opposed to a bug, which stays a 500.
    /// </summary>
    public static bool IsStorageUnavailable(Exception exception, HttpContext context) => exception switch
    {
        Azure.RequestFailedException failed => failed.Status is 0 or 408 or 500 or 502 or 503 or 504
            || (failed.InnerException is { } inner && IsStorageUnavailable(inner, context)),
        HttpRequestException or System.Net.Sockets.SocketException or TimeoutException or System.IO.IOException => true,
        OperationCanceledException => !context.RequestAborted.IsCancellationRequested, // a client timeout, not the caller hanging up
        AggregateException all => all.InnerExceptions.Count > 0 && all.InnerExceptions.All(e => IsStorageUnavailable(e, context)),
        OperationInterruptedException interrupted => interrupted.InnerException is { } cause && IsStorageUnavailable(cause, context),
        _ => false,
    };

    /// <summary>Whether the request carries an If-Match that is not a storage ETag (W/"datetime'…'"), which storage answers with a 400.</summary>
    public static bool IsForeignIfMatch(HttpRequest request) =>
        request.Headers.IfMatch.Any(v => v is not null && v.Split(',').Select(t => t.Trim()).Any(tag => tag.Length > 0 && tag != "*"
            && !(tag.StartsWith("W/\"datetime'", StringComparison.Ordinal) && tag.EndsWith("'\"", StringComparison.Ordinal))));

    public static Problem Create(int status, string title, string? detail, HttpContext context, IReadOnlyDictionary<string, string[]>? errors = null, string? field = null) =>
        new($"https://httpstatuses.io/{status}", title, status, detail, context.Request.Path.Value, TraceId(context), errors, field);

    public static string TraceId(HttpContext context) => Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier;

    public static async Task WriteAsync(HttpContext context, Problem problem)
    {
        var response = context.Response;
        if (response.HasStarted) return;
        response.Clear();
        response.StatusCode = problem.Status;
        response.ContentType = ContentType;
        if (problem.Status == 401) response.Headers.WWWAuthenticate = "Bearer";
        if (problem.RetryAfterSeconds is { } seconds) response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await JsonSerializer.SerializeAsync(response.Body, problem, ApiJson.Options, CancellationToken.None);
    }
}
