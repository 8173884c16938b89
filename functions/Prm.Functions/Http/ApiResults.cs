using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Prm.Core.Common;

namespace Prm.Functions.Http;

/// <summary>A JSON response written with <see cref="ApiJson.Options"/>, the same in every host.</summary>
public sealed class ApiResult(int status, object? value, string? etag = null, string? location = null, string contentType = "application/json; charset=utf-8") : IActionResult
{
    public int Status { get; } = status;
    public object? Value { get; } = value;

    public async Task ExecuteResultAsync(ActionContext context)
    {
        var response = context.HttpContext.Response;
        // A create holding an Idempotency-Key stores its answer before writing it (the Functions host executes the result after the gate).
        if (context.HttpContext.Items.Remove(IdempotentCreates.PendingKey, out var pending) && pending is IdempotencyClaim claim)
        {
            if (Status is >= 200 and < 300)
                await claim.CompleteAsync(Status, etag, location, contentType, Value is null ? "" : JsonSerializer.Serialize(Value, Value.GetType(), ApiJson.Options), context.HttpContext.RequestAborted);
            else await claim.ReleaseAsync();
        }
        response.StatusCode = Status;
        if (etag is not null) response.Headers.ETag = etag;
        if (location is not null) response.Headers.Location = location;
        if (Value is null) return;
        response.ContentType = contentType;
        await JsonSerializer.SerializeAsync(response.Body, Value, Value.GetType(), ApiJson.Options, context.HttpContext.RequestAborted);
    }
}

/// <summary>A response with a raw body (HTML pages, documents).</summary>
public sealed class ContentApiResult(int status, string content, string contentType) : IActionResult
{
    public async Task ExecuteResultAsync(ActionContext context)
    {
        var response = context.HttpContext.Response;
        response.StatusCode = status;
        response.ContentType = contentType;
        await response.WriteAsync(content, context.HttpContext.RequestAborted);
    }
}

/// <summary>A binary response (documents such as a certificate PDF), offered as a download under <paramref name="fileName"/>.</summary>
public sealed class BytesApiResult(int status, byte[] content, string contentType, string? fileName = null) : IActionResult
{
    public async Task ExecuteResultAsync(ActionContext context)
    {
        var response = context.HttpContext.Response;
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength = content.Length;
        if (fileName is not null) response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}\"";
        await response.Body.WriteAsync(content, context.HttpContext.RequestAborted);
    }
}

/// <summary>Shorthands the functions use.</summary>
public static class Api
{
    public static IActionResult Ok(object value, string? etag = null) => new ApiResult(StatusCodes.Status200OK, value, etag);

    public static IActionResult Created(object value, string location, string? etag = null) => new ApiResult(StatusCodes.Status201Created, value, etag, location);

    public static IActionResult Accepted(object value, string? location = null) => new ApiResult(StatusCodes.Status202Accepted, value, null, location);

    public static IActionResult NoContent() => new ApiResult(StatusCodes.Status204NoContent, null);

    public static IActionResult Versioned<T>(Versioned<T> versioned) where T : notnull => Ok(versioned.Value, versioned.ETag);

    /// <summary>A list page in the API's list shape.</summary>
    public static IActionResult Page<T>(Page<T> page) => Ok(new ListResponse<T>(page.Items, page.NextCursor));
}

/// <summary>The API's list shape: items plus the cursor of the next page (null at the end).</summary>
public sealed record ListResponse<T>(IReadOnlyList<T> Items, string? NextCursor);
