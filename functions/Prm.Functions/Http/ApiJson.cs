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
        options.Converters.Add(new IsoDurationConverter());
        return options;
    }

    /// <summary>Reads and deserializes a JSON body: 415 for another content type, 413 over the limit, 400 naming the field for bad JSON.</summary>
    public static async Task<T?> ReadAsync<T>(HttpRequest request, CancellationToken ct, long maxBytes = DefaultMaxBody) where T : class
    {
        var body = await ReadBytesAsync(request, maxBytes, ct, "application/json");
        if (body.Length == 0) return null;
        RequireUtf8(request.ContentType, body);
        try
        {
            var value = JsonSerializer.Deserialize<T>(body, Options);
            RefuseControlCharacters(body);
            return value;
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

    /// <summary>JSON is UTF-8 (RFC 8259): another charset, a UTF-16/32 byte order mark or NUL bytes of a wide encoding are 415, not 400.</summary>
    public static void RequireUtf8(string? contentType, ReadOnlySpan<byte> body)
    {
        var charset = contentType?.Split(';').Skip(1).Select(p => p.Trim()).FirstOrDefault(p => p.StartsWith("charset=", StringComparison.OrdinalIgnoreCase))?[8..].Trim('"', ' ');
        var wide = body.Length >= 2 && ((body[0] == 0xFE && body[1] == 0xFF) || (body[0] == 0xFF && body[1] == 0xFE) || body[..Math.Min(body.Length, 4)].IndexOf((byte)0) >= 0);
        if (wide || (charset is not null && !charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !charset.Equals("utf8", StringComparison.OrdinalIgnoreCase)))
        {
            throw new UnsupportedMediaTypeException("application/json in UTF-8", contentType);
        }
    }

    /// <summary>
    /// Text fields take ordinary Unicode, but no control characters other than tab and line breaks and no bidirectional overrides or
    /// isolates (they hide what a name really says): 422 naming the field.
    /// </summary>
    public static void RefuseControlCharacters(byte[] body)
    {
        if (System.Text.Json.Nodes.JsonNode.Parse(body) is not { } root) return;
        var errors = new Dictionary<string, string[]>();
        void Walk(System.Text.Json.Nodes.JsonNode? node)
        {
            switch (node)
            {
                case System.Text.Json.Nodes.JsonObject o: foreach (var (_, child) in o) Walk(child); break;
                case System.Text.Json.Nodes.JsonArray a: foreach (var child in a) Walk(child); break;
                case System.Text.Json.Nodes.JsonValue v when v.TryGetValue<string>(out var text) && text.Any(IsForbidden):
                    var path = v.GetPath().TrimStart('$').TrimStart('.');
                    errors[path.Length == 0 ? "body" : path] = [$"{(path.Length == 0 ? "body" : path)} contains a control or bidirectional-override character; remove it."];
                    break;
            }
        }
        Walk(root);
        if (errors.Count > 0) throw new ValidationFailedException(errors, string.Join(" ", errors.Select(e => e.Value[0])), unprocessable: true);
    }

    private static bool IsForbidden(char c) =>
        (char.IsControl(c) && c is not ('\t' or '\n' or '\r')) || c is '\u200E' or '\u200F' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');

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
        // A string that is no instant ("", "tomorrow", a number) is a JsonException, which the reader turns into a 400 naming the field; never a FormatException (500).
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.String
            && DateTimeOffset.TryParse(reader.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value)
                ? value
                : throw new JsonException("Expected a date and time (ISO 8601).");

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
    }
}
