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

    /// <summary>Success status code.</summary>
    public int Status { get; init; } = 200;

    /// <summary>Query parameters the operation reads.</summary>
    public string[] Query { get; init; } = [];

    /// <summary>Optional request headers the operation reads (besides If-Match).</summary>
    public string[] Headers { get; init; } = [];

    /// <summary>True when If-Match is required (adds 412/428).</summary>
    public bool IfMatch { get; init; }
}
