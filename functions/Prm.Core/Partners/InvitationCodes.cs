using System.Security.Cryptography;
using System.Text;
using Prm.Core.Common;

namespace Prm.Core.Partners;

/// <summary>
/// Invitation codes: "{partnerId}.{userId}.{secret}" with 128 random bits of secret. Only the SHA-256 of the secret is stored,
/// on the user; accepting or a new reminder replaces it, so a code works once and only the newest one works.
/// </summary>
public static class InvitationCodes
{
    public sealed record Parsed(string PartnerId, string UserId, string Secret);

    public static (string Code, string Hash) New(string partnerId, string userId)
    {
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        return ($"{partnerId}.{userId}.{secret}", Hash(secret));
    }

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public static Parsed? Parse(string? code)
    {
        var parts = code?.Trim().Split('.');
        if (parts is not { Length: 3 } || !Ids.LooksLike(parts[0], "ptn") || !Ids.LooksLike(parts[1], "usr") || parts[2].Length != 32) return null;
        return new Parsed(parts[0], parts[1], parts[2]);
    }

    /// <summary>Constant-time comparison of a presented secret with the stored hash.</summary>
    public static bool Matches(string secret, string? storedHash) =>
        storedHash is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(secret)), Encoding.ASCII.GetBytes(storedHash));
}
