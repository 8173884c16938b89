using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Partners;

namespace Prm.Core.Deals;

/// <summary>
/// A customer in the conflict index: an active or past registration, or a house account, found by domain or blocking key. A registration
/// also names the first registrations it counted as its conflicts (<see cref="MatchedDealIds"/>, the claim's holder first when it did
/// not hold the claim): it was assessed after them.
/// </summary>
public sealed record IndexedCustomer(string Kind, string Id, string? PartnerId, string Status, string? Domain, string? NameKey, string? Country,
    IReadOnlyList<string> Products, DateTimeOffset? ProtectedUntil, DateTimeOffset? WonAt, IReadOnlyList<string>? MatchedDealIds = null);

/// <summary>What a deal list asks for.</summary>
public sealed record DealQuery(string? PartnerId, string? ChannelManagerId, string? SubmittedBy, DealStatus? Status, string? CustomerPrefix, DateTimeOffset? ExpiringBefore);

/// <summary>Storage port of deal registrations.</summary>
public interface IDealStore
{
    Task<Versioned<Deal>?> GetAsync(string dealId, CancellationToken ct);

    /// <summary>Creates the deal with its change set; with an idempotency hash, the key row is written in the same transaction (409 when taken).</summary>
    Task<string> CreateAsync(Deal deal, string? idempotencyHash, ChangeSet changes, CancellationToken ct);

    /// <summary>The deal an idempotency key created, if any.</summary>
    Task<string?> FindByIdempotencyAsync(string partnerId, string idempotencyHash, CancellationToken ct);

    Task<string> UpdateAsync(Deal deal, string etag, ChangeSet changes, CancellationToken ct);

    Task<Page<AuditEntry>> TimelineAsync(string dealId, PageRequest page, CancellationToken ct);

    /// <summary>A page of registrations (vendor view): a partner's from its partition, others from the vendor index.</summary>
    Task<Page<DealDto>> ListAsync(DealQuery query, PageRequest page, CancellationToken ct);

    /// <summary>Candidates from the conflict index partitions of the domain and the blocking keys (never a scan of deals).</summary>
    Task<IReadOnlyList<IndexedCustomer>> CandidatesAsync(string? domain, IReadOnlyList<string> blockingKeys, CancellationToken ct);

    /// <summary>First come, first served: adds the claim key row for the deal; false when another active registration holds it.</summary>
    Task<bool> TryClaimAsync(string claimKey, string dealId, string partnerId, CancellationToken ct);

    /// <summary>The registration that holds the customer's claim now, or null.</summary>
    Task<string?> ClaimHolderAsync(string claimKey, CancellationToken ct);

    /// <summary>
    /// Takes a claim over when its holder registration ended, or was never written (after a grace for its commit); false while the holder
    /// is active. <see cref="TryClaimAsync"/> does this on a 409 too, so a claim lost to a failure never blocks a customer for good.
    /// </summary>
    Task<bool> TakeOverClaimAsync(string claimKey, string dealId, string partnerId, CancellationToken ct);

    /// <summary>Releases the claim if this deal holds it.</summary>
    Task ReleaseClaimAsync(string claimKey, string dealId, CancellationToken ct);

    Task<DealStats> StatsAsync(string partnerId, CancellationToken ct);
}

/// <summary>Storage port of the product line catalog.</summary>
public interface IProductLineStore
{
    Task<IReadOnlyList<ProductLine>> ListAsync(CancellationToken ct);

    Task<Versioned<ProductLine>?> GetAsync(string id, CancellationToken ct);

    Task<string> CreateAsync(ProductLine line, CancellationToken ct);

    Task<string> UpdateAsync(ProductLine line, string etag, CancellationToken ct);
}

/// <summary>Storage port of house accounts (with their conflict index rows).</summary>
public interface IHouseAccountStore
{
    Task<IReadOnlyList<HouseAccount>> ListAsync(CancellationToken ct);

    Task<Versioned<HouseAccount>?> GetAsync(string id, CancellationToken ct);

    Task<string> SaveAsync(HouseAccount account, HouseAccount? before, string? etag, CancellationToken ct);

    Task DeleteAsync(HouseAccount account, string etag, CancellationToken ct);
}

/// <summary>The steps the deal workflow runs when a deadline passes.</summary>
public enum DealStep { ReviewRemind, ReviewEscalate, ExpiryFirstReminder, ExpirySecondReminder, Expire }

/// <summary>What the deal workflow needs to know of a registration to pick its phase.</summary>
public sealed record DealWorkflowState(string Status, DateTimeOffset? SubmittedAt, DateTimeOffset? ReviewRemindAt, DateTimeOffset? ReviewEscalateAt, DateTimeOffset? ProtectedUntil);

/// <summary>The port the deal workflow calls.</summary>
public interface IDealSteps
{
    /// <summary>The registration's current state (null when it does not exist): the workflow follows state, not the order events arrive in.</summary>
    Task<DealWorkflowState?> StateAsync(string dealId, CancellationToken ct);

    /// <summary>Runs the step unless the deal moved on; <paramref name="cycle"/> is the submission or protection end the step belongs to. Closed when nothing is left.</summary>
    Task<StepOutcome> RunDealStepAsync(string dealId, DealStep step, DateTimeOffset cycle, CancellationToken ct);
}

/// <summary>Deal ids carry their partner (the partition) and sort newest first within it.</summary>
public static class DealIds
{
    public static string New(string partnerId, DateTimeOffset at)
    {
        var inverted = (DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
        return "deal_" + partnerId[4..] + inverted + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
    }

    /// <summary>The partner of a well-formed deal id, or null.</summary>
    public static string? PartnerOf(string? dealId) =>
        dealId is { Length: 5 + 32 + 16 + 8 } && dealId.StartsWith("deal_", StringComparison.Ordinal) && dealId.AsSpan(5).IndexOfAnyExcept("0123456789abcdef") < 0
            ? "ptn_" + dealId.Substring(5, 32)
            : null;

    /// <summary>A short human-readable registration number (date plus 30 random bits in Crockford base32).</summary>
    public static string RegistrationNumber(DateTimeOffset at)
    {
        const string alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        var bytes = System.Security.Cryptography.RandomNumberGenerator.GetBytes(4);
        var value = BitConverter.ToUInt32(bytes) & 0x3FFFFFFF;
        var chars = new char[6];
        for (var i = 5; i >= 0; i--) { chars[i] = alphabet[(int)(value & 31)]; value >>= 5; }
        return $"DR-{at.UtcDateTime:yyMMdd}-{new string(chars)}";
    }
}
