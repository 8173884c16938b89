namespace Prm.Storage;

/// <summary>Makes arbitrary values safe inside PartitionKey/RowKey (no '/', '\', '#', '?', control characters).</summary>
internal static class KeyEncoding
{
    public static string Encode(string value) => Uri.EscapeDataString(value);

    /// <summary>Descending-time row key component: newer sorts first.</summary>
    public static string Inverted(DateTimeOffset at) => (DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("D19", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Exclusive upper bound of a row key prefix range.</summary>
    public static string PrefixEnd(string prefix) => prefix[..^1] + (char)(prefix[^1] + 1);
}
