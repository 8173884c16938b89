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
        return new PageRequest(value, string.IsNullOrEmpty(cursor) ? null : cursor);
    }
}

/// <summary>A value read together with its concurrency version (the storage ETag).</summary>
public sealed record Versioned<T>(T Value, string ETag);
