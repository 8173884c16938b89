using System.Security.Cryptography;

namespace Prm.Core.Common;

/// <summary>Opaque identifiers: a short type prefix plus 128 random bits, URL- and table-key-safe.</summary>
public static class Ids
{
    public static string New(string prefix) => $"{prefix}_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}";

    /// <summary>True when the value could be an id of that prefix (cheap guard before a storage call).</summary>
    public static bool LooksLike(string? value, string prefix) =>
        value is not null && value.Length == prefix.Length + 33 && value.StartsWith(prefix + "_", StringComparison.Ordinal)
        && value.AsSpan(prefix.Length + 1).IndexOfAnyExcept("0123456789abcdef") < 0;
}
