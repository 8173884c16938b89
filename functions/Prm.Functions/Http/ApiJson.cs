using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Prm.Core.Common;

namespace Prm.Functions.Http;

/// <summary>The API's JSON conventions: camelCase, instants in UTC with Z, unknown fields ignored, duplicate fields refused, nulls written.</summary>
public static class ApiJson
{
    /// <summary>Largest JSON body a route accepts unless it says otherwise.</summary>
    public const long DefaultMaxBody = 1024 * 1024;

    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DictionaryKeyPolicy = null,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
            NumberHandling = JsonNumberHandling.Strict,
            // {"decision":"reject","decision":"approve"} is ambiguous: refused (400), never "the last one wins".
            AllowDuplicateProperties = false,
        };
        options.Converters.Add(new UtcInstantConverter());
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        return options;
    }

    /// <summary>Reads and deserializes a JSON body: 415 for another content type, 413 over the limit, 400 naming the field for bad JSON.</summary>
    public static async Task<T?> ReadAsync<T>(HttpRequest request, CancellationToken ct, long maxBytes = DefaultMaxBody) where T : class
    {
        var body = await ReadBytesAsync(request, maxBytes, ct, "application/json");
        if (body.Length == 0) return null;
        try
        {
            return JsonSerializer.Deserialize<T>(body, Options);
        }
        catch (JsonException ex)
        {
            var field = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "body" : ex.Path.TrimStart('$', '.');
            throw new ValidationFailedException(field, $"The JSON is malformed, has a field twice or a value of the wrong type at {field}.");
        }
        catch (ArgumentException)
        {
            // JsonObject refuses a second property of the same name this way.
            throw new ValidationFailedException("body", "The JSON has a field twice; every field may appear once.");
        }
    }

    /// <summary>Reads the raw body within the limit, checking its media type (any when <paramref name="mediaTypes"/> is empty).</summary>
    public static async Task<byte[]> ReadBytesAsync(HttpRequest request, long maxBytes, CancellationToken ct, params string[] mediaTypes)
    {
        if (request.ContentLength is > 0 || request.Headers.ContainsKey("Transfer-Encoding"))
        {
            var contentType = request.ContentType;
            var mediaType = contentType?.Split(';')[0].Trim().ToLowerInvariant();
            if (mediaTypes.Length > 0 && (mediaType is null || !mediaTypes.Any(m => mediaType == m || (m == "application/json" && mediaType.EndsWith("+json", StringComparison.Ordinal)))))
            {
                throw new UnsupportedMediaTypeException(string.Join(" or ", mediaTypes), contentType);
            }
        }
        if (request.ContentLength > maxBytes) throw new PayloadTooLargeException(maxBytes);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > maxBytes) throw new PayloadTooLargeException(maxBytes);
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private sealed class UtcInstantConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
    }
}
