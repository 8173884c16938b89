using System.Security.Cryptography;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;

namespace Prm.Core.Approvals;

/// <summary>
/// A signed decision link sent by email: at least 128 random bits, stored only as a hash, bound to one decision step of one subject
/// and to the person it was sent to, expiring with the step's deadline, single use.
/// </summary>
public sealed record DecisionLink(
    string TokenHash, string Kind, string SubjectId, string RecipientId, string RecipientName, string RecipientEmail, IReadOnlyList<string> Roles,
    IReadOnlyList<string> Decisions, DateTimeOffset ExpiresAt, DateTimeOffset? UsedAt = null, string? UsedByName = null, string? Outcome = null);

/// <summary>Storage port of decision links (a key row per token hash).</summary>
public interface IDecisionLinkStore
{
    Task CreateAsync(DecisionLink link, CancellationToken ct);

    Task<Versioned<DecisionLink>?> GetAsync(string tokenHash, CancellationToken ct);

    /// <summary>Marks the link used if its ETag still matches; false when someone used it meanwhile.</summary>
    Task<bool> MarkUsedAsync(DecisionLink link, string etag, CancellationToken ct);
}

/// <summary>Issues and checks decision links.</summary>
public sealed class DecisionLinks(IDecisionLinkStore store, TimeProvider clock, ProgramOptions program)
{
    /// <summary>Creates a link for the recipient and returns its URL.</summary>
    public async Task<string> IssueAsync(string kind, string subjectId, Caller recipient, IReadOnlyList<string> decisions, DateTimeOffset expiresAt, CancellationToken ct)
    {
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        await store.CreateAsync(new DecisionLink(Hash(token), kind, subjectId, recipient.UserId, recipient.DisplayName, recipient.Email, recipient.Roles, decisions, expiresAt), ct);
        return $"{program.ApiBaseUrl.TrimEnd('/')}/approvals/{token}";
    }

    /// <summary>The link of a token: 404 when unknown or malformed (tampered), 410 when expired. A used link is returned as such.</summary>
    public async Task<Versioned<DecisionLink>> ResolveAsync(string? token, CancellationToken ct)
    {
        if (token is not { Length: 40 } || token.AsSpan().IndexOfAnyExcept("0123456789abcdef") >= 0) throw new NotFoundException("Decision link");
        var found = await store.GetAsync(Hash(token), ct) ?? throw new NotFoundException("Decision link");
        if (found.Value.UsedAt is null && found.Value.ExpiresAt <= clock.GetUtcNow()) throw new LinkExpiredException(found.Value.ExpiresAt);
        return found;
    }

    /// <summary>Marks the link used by its recipient with the outcome.</summary>
    public Task<bool> MarkUsedAsync(Versioned<DecisionLink> link, string outcome, CancellationToken ct) =>
        store.MarkUsedAsync(link.Value with { UsedAt = clock.GetUtcNow(), UsedByName = link.Value.RecipientName, Outcome = outcome }, link.ETag, ct);

    /// <summary>The person the link was sent to, acting through it.</summary>
    public static Caller RecipientOf(DecisionLink link) => new(link.RecipientId, link.RecipientEmail, link.RecipientName, link.Roles, null, null);

    private static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(token)));
}

/// <summary>A decision link whose deadline passed (410).</summary>
public sealed class LinkExpiredException(DateTimeOffset expiredAt) : PrmException("Link expired.", $"This link expired at {expiredAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC.")
{
    public DateTimeOffset ExpiredAt { get; } = expiredAt;
}
