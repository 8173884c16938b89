namespace Prm.Functions.OpenApi;

/// <summary>Documents an HTTP function for the OpenAPI document: summary, body and response types, query parameters.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ApiOperationAttribute(string summary, string description) : Attribute
{
    public string Summary { get; } = summary;
    public string Description { get; } = description;

    /// <summary>Type of the request body, if any.</summary>
    public Type? Request { get; init; }

    public string RequestContentType { get; init; } = "application/json";

    /// <summary>Type of the success response body, if any.</summary>
    public Type? Response { get; init; }

    public string ResponseContentType { get; init; } = "application/json";

    /// <summary>The success response may also come as text/csv (when the request's Accept asks for it).</summary>
    public bool AlsoCsv { get; init; }

    /// <summary>The success response may also come as a text/html page (when the request's Accept prefers it: links opened in a browser).</summary>
    public bool AlsoHtml { get; init; }

    /// <summary>Success status code.</summary>
    public int Status { get; init; } = 200;

    /// <summary>Further success statuses with the same body (e.g. 200 when an intake updates what a 201 would create).</summary>
    public int[] AlsoStatus { get; init; } = [];

    /// <summary>Query parameters the operation reads.</summary>
    public string[] Query { get; init; } = [];

    /// <summary>Optional request headers the operation reads (besides If-Match).</summary>
    public string[] Headers { get; init; } = [];

    /// <summary>True when If-Match is required (adds 412/428).</summary>
    public bool IfMatch { get; init; }

    /// <summary>True when If-Match is honoured when sent (adds 412, not 428).</summary>
    public bool OptionalIfMatch { get; init; }

    /// <summary>
    /// When the body's type depends on a path parameter (settings sections): the possible types, for request and response alike
    /// (documented as oneOf). <see cref="Request"/> and <see cref="Response"/> are then ignored.
    /// </summary>
    public Type[] Variants { get; init; } = [];

    /// <summary>True when the request body is a partial update of <see cref="Request"/>: only present fields change, none is required.</summary>
    public bool PartialRequest { get; init; }

    /// <summary>Further error statuses the operation answers (e.g. 410 for an expired link, 429 for a rate limit).</summary>
    public int[] Errors { get; init; } = [];

    /// <summary>Content type of error responses besides application/problem+json (text/html for decision-link pages).</summary>
    public string? ErrorContentType { get; init; }
}
