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

    /// <summary>Replaces the link if its ETag still matches and returns the new ETag; null when someone changed it meanwhile.</summary>
    Task<string?> ReplaceAsync(DecisionLink link, string etag, CancellationToken ct);
}

/// <summary>
/// Issues, checks and uses decision links. A link is claimed (its ETag) before its decision runs, so of concurrent uses exactly one
/// decides; the claim becomes the outcome when the decision commits, and is given back when the decision fails.
/// </summary>
public sealed class DecisionLinks(IDecisionLinkStore store, TimeProvider clock, ProgramOptions program)
{
    /// <summary>The outcome of a link whose decision is running.</summary>
    public const string Deciding = "deciding";

    /// <summary>A claim older than this is taken to belong to a decision that died with its process: the link can be used again.</summary>
    public static readonly TimeSpan ClaimTimeout = TimeSpan.FromMinutes(2);

    /// <summary>Creates a link for the recipient and returns its URL.</summary>
    public async Task<string> IssueAsync(string kind, string subjectId, Caller recipient, IReadOnlyList<string> decisions, DateTimeOffset expiresAt, CancellationToken ct)
    {
        var (url, stored) = Issue(kind, subjectId, recipient, decisions, expiresAt, ct);
        await stored;
        return url;
    }

    /// <summary>
    /// Creates a link and returns its URL at once, with the write of its row still running (<c>Stored</c>): for a caller that commits the
    /// email carrying the URL only after awaiting <c>Stored</c> (e.g. beside its outbox pointers), so the link exists before anyone gets it.
    /// </summary>
    public (string Url, Task Stored) Issue(string kind, string subjectId, Caller recipient, IReadOnlyList<string> decisions, DateTimeOffset expiresAt, CancellationToken ct)
    {
        var (token, stored) = Start(kind, subjectId, recipient, decisions, expiresAt, ct);
        return ($"{program.ApiBaseUrl.TrimEnd('/')}/approvals/{token}", stored);
    }

    /// <summary>Creates a link for the recipient and returns its token (for links served elsewhere than /approvals, e.g. unsubscribe links).</summary>
    public async Task<string> IssueTokenAsync(string kind, string subjectId, Caller recipient, IReadOnlyList<string> decisions, DateTimeOffset expiresAt, CancellationToken ct)
    {
        var (token, stored) = Start(kind, subjectId, recipient, decisions, expiresAt, ct);
        await stored;
        return token;
    }

    /// <summary>A fresh token and the write of its row (only the token's hash is stored).</summary>
    private (string Token, Task Stored) Start(string kind, string subjectId, Caller recipient, IReadOnlyList<string> decisions, DateTimeOffset expiresAt, CancellationToken ct)
    {
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        return (token, store.CreateAsync(new DecisionLink(Hash(token), kind, subjectId, recipient.UserId, recipient.DisplayName, recipient.Email, recipient.Roles, decisions, expiresAt), ct));
    }

    /// <summary>The link of a token: 404 when unknown or malformed (tampered), 410 when expired. A used link is returned as such.</summary>
    public async Task<Versioned<DecisionLink>> ResolveAsync(string? token, CancellationToken ct)
    {
        if (token is not { Length: 40 } || token.AsSpan().IndexOfAnyExcept("0123456789abcdef") >= 0) throw new NotFoundException("Decision link");
        var found = await store.GetAsync(Hash(token), ct) ?? throw new NotFoundException("Decision link");
        var now = clock.GetUtcNow();
        if (found.Value is { Outcome: Deciding, UsedAt: { } claimedAt } && now - claimedAt > ClaimTimeout)
        {
            found = found with { Value = found.Value with { UsedAt = null, UsedByName = null, Outcome = null } };
        }
        if (found.Value.UsedAt is null && found.Value.ExpiresAt <= now) throw new LinkExpiredException(found.Value.ExpiresAt);
        return found;
    }

    /// <summary>Whether the link's decision is running right now (claimed, not completed).</summary>
    public static bool IsDeciding(DecisionLink link) => link.Outcome == Deciding && link.UsedAt is not null;

    /// <summary>Claims an unused link for its decision (If-Match its ETag); null when another use claimed or used it first.</summary>
    public async Task<Versioned<DecisionLink>?> ClaimAsync(Versioned<DecisionLink> link, CancellationToken ct)
    {
        if (link.Value.UsedAt is not null) return null;
        var claimed = link.Value with { UsedAt = clock.GetUtcNow(), UsedByName = link.Value.RecipientName, Outcome = Deciding };
        return await store.ReplaceAsync(claimed, link.ETag, ct) is { } etag ? new Versioned<DecisionLink>(claimed, etag) : null;
    }

    /// <summary>Records the outcome on a claimed link: it is used for good.</summary>
    public Task CompleteAsync(Versioned<DecisionLink> claimed, string outcome, CancellationToken ct) =>
        store.ReplaceAsync(claimed.Value with { UsedAt = clock.GetUtcNow(), Outcome = outcome }, claimed.ETag, ct);

    /// <summary>Gives a claimed link back after its decision failed (bad input, a conflict): it can be used again.</summary>
    public Task ReleaseAsync(Versioned<DecisionLink> claimed, CancellationToken ct) =>
        store.ReplaceAsync(claimed.Value with { UsedAt = null, UsedByName = null, Outcome = null }, claimed.ETag, ct);

    /// <summary>The person the link was sent to, acting through it.</summary>
    public static Caller RecipientOf(DecisionLink link) => new(link.RecipientId, link.RecipientEmail, link.RecipientName, link.Roles, null, null);

    private static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(token)));
}

/// <summary>A decision link whose deadline passed, or whose subject lapsed with its own deadline (410).</summary>
public sealed class LinkExpiredException : PrmException
{
    public LinkExpiredException(DateTimeOffset expiredAt) : base("Link expired.", $"This link expired at {expiredAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC.") => ExpiredAt = expiredAt;

    /// <summary>The subject's own deadline ended what the link was for (<paramref name="detail"/> says how).</summary>
    public LinkExpiredException(string detail) : base("Link expired.", detail)
    {
    }

    public DateTimeOffset? ExpiredAt { get; }
}
