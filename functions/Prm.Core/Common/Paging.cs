namespace Prm.Core.Common;

/// <summary>One page of a list, with the opaque cursor of the next page (null at the end).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor)
{
    public Page<TOut> Map<TOut>(Func<T, TOut> map) => new(Items.Select(map).ToList(), NextCursor);
}

/// <summary>Validated paging arguments: limit 1..200 (default 50) and an opaque cursor.</summary>
public sealed record PageRequest(int Limit, string? Cursor)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public static PageRequest From(string? limit, string? cursor)
    {
        var value = DefaultLimit;
        if (!string.IsNullOrEmpty(limit) && (!int.TryParse(limit, out value) || value < 1 || value > MaxLimit))
        {
            throw new ValidationFailedException("limit", $"limit must be a whole number from 1 to {MaxLimit}.");
        }
        if (!string.IsNullOrEmpty(cursor) && PageCursor.Decode(cursor) is null)
        {
            throw new ValidationFailedException("cursor", "cursor is not a cursor this API returned; send the nextCursor of the previous page or none.");
        }
        return new PageRequest(value, string.IsNullOrEmpty(cursor) ? null : cursor);
    }
}

/// <summary>
/// The opaque cursor of a list: the storage continuation with a version and a checksum, base64url-encoded, so a cursor the API did not
/// issue (garbage, truncated, edited) is a 400 naming cursor on every list route rather than a page read from somewhere arbitrary.
/// </summary>
public static class PageCursor
{
    private const string Version = "c1";

    public static string Encode(string continuation) =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Version}|{Checksum(continuation)}|{continuation}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The continuation inside a cursor this API issued; null for anything else.</summary>
    public static string? Decode(string cursor)
    {
        if (cursor.Length is 0 or > 4096) return null;
        string text;
        try
        {
            var bytes = Convert.FromBase64String(cursor.Replace('-', '+').Replace('_', '/') + new string('=', (4 - cursor.Length % 4) % 4));
            text = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            return null;
        }
        var parts = text.Split('|', 3);
        return parts.Length == 3 && parts[0] == Version && parts[1] == Checksum(parts[2]) ? parts[2] : null;
    }

    private static string Checksum(string continuation) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("prm-cursor|" + continuation)), 0, 8);
}

/// <summary>A value read together with its concurrency version (the storage ETag).</summary>
public sealed record Versioned<T>(T Value, string ETag);
