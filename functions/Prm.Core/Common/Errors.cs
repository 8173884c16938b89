namespace Prm.Core.Common;

/// <summary>Base of the few failures the API maps to RFC 9457 problem responses in one place.</summary>
public abstract class PrmException(string title, string detail) : Exception(detail)
{
    /// <summary>Short, human-readable summary of the problem type.</summary>
    public string Title { get; } = title;
}

/// <summary>Input is invalid; maps to 400 (or 422 when <see cref="Unprocessable"/>) with the failing fields.</summary>
public sealed class ValidationFailedException : PrmException
{
    public ValidationFailedException(IReadOnlyDictionary<string, string[]> errors, string? detail = null, bool unprocessable = false)
        : base("One or more fields are invalid.", detail ?? "See errors for the fields that failed validation.")
    {
        Errors = errors;
        Unprocessable = unprocessable;
    }

    public ValidationFailedException(string field, string message, bool unprocessable = false)
        : this(new Dictionary<string, string[]> { [field] = [message] }, message, unprocessable) { }

    /// <summary>Field path (camelCase, dotted) to messages.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }

    /// <summary>True when the request is well-formed but breaks a business rule (422).</summary>
    public bool Unprocessable { get; }
}

/// <summary>The resource does not exist or the caller may not know it exists (404).</summary>
public sealed class NotFoundException(string what) : PrmException("Not found.", $"{what} was not found.");

/// <summary>The request conflicts with current state, e.g. a key already taken (409).</summary>
public sealed class ConflictException(string detail, string? field = null) : PrmException("Conflict.", detail)
{
    /// <summary>The field whose value conflicts, when there is one.</summary>
    public string? Field { get; } = field;
}

/// <summary>The caller's version of the resource is stale, or If-Match is missing (412 / 428).</summary>
public sealed class PreconditionFailedException(string detail, bool required = false) : PrmException(required ? "Precondition required." : "Precondition failed.", detail)
{
    /// <summary>True when the precondition header was missing altogether (428).</summary>
    public bool Required { get; } = required;
}

/// <summary>The caller is known but may not do this (403). Never used where 404 must hide existence.</summary>
public sealed class ForbiddenException(string detail) : PrmException("Forbidden.", detail);

/// <summary>The caller is not authenticated (401).</summary>
public sealed class UnauthenticatedException(string detail) : PrmException("Unauthorized.", detail);

/// <summary>The request body is larger than the route accepts (413).</summary>
public sealed class PayloadTooLargeException(long limitBytes) : PrmException("Payload too large.", $"The request body exceeds the limit of {limitBytes} bytes.")
{
    public long LimitBytes { get; } = limitBytes;
}

/// <summary>The request body has a content type the route does not accept (415).</summary>
public sealed class UnsupportedMediaTypeException(string expected, string? actual)
    : PrmException("Unsupported media type.", $"Expected Content-Type {expected}, got {(string.IsNullOrEmpty(actual) ? "none" : actual)}.");

/// <summary>A dependency is unavailable (503 with Retry-After).</summary>
public sealed class ServiceUnavailableException(string detail, TimeSpan retryAfter) : PrmException("Service unavailable.", detail)
{
    public ServiceUnavailableException(string detail) : this(detail, TimeSpan.FromSeconds(5))
    {
    }

    /// <summary>When to try again (the Retry-After header).</summary>
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>
/// A multi-step operation (e.g. a partner import: one transaction per domain) stopped part way because a dependency failed. The
/// message says what was kept and how to finish; it is mapped like its inner exception (a storage outage: 503), with this message as
/// the detail instead of the single-request "nothing was changed".
/// </summary>
public sealed class OperationInterruptedException(string detail, Exception inner) : Exception(detail, inner);

/// <summary>Too many requests from one source; maps to 429 with Retry-After.</summary>
public sealed class TooManyRequestsException(string detail, TimeSpan retryAfter) : PrmException("Too many requests.", detail)
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}
