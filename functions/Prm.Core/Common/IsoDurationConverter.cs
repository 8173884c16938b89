using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Xml;

namespace Prm.Core.Common;

/// <summary>
/// Durations in JSON as ISO 8601 strings (PT24H, P90D, PT1.5S). Reading also accepts the older .NET form "d.hh:mm:ss" (e.g.
/// "1.00:00:00"), which the settings endpoints took before, so existing clients and stored settings keep working.
/// </summary>
public sealed class IsoDurationConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonException("A duration is an ISO 8601 string such as \"PT24H\" or \"P90D\".");
        var text = reader.GetString()!.Trim();
        try
        {
            if (text.StartsWith('P') || text.StartsWith("-P", StringComparison.Ordinal)) return XmlConvert.ToTimeSpan(text);
            return TimeSpan.ParseExact(text, "c", CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException)
        {
            throw new JsonException($"\"{text}\" is not a duration; use ISO 8601 such as \"PT24H\" or \"P90D\".", ex);
        }
    }

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) => writer.WriteStringValue(Format(value));

    /// <summary>ISO 8601 with days, hours, minutes and seconds (no months or years, which have no fixed length).</summary>
    public static string Format(TimeSpan value) => XmlConvert.ToString(value);
}
