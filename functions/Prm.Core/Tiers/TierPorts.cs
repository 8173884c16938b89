using Prm.Core.Common;
using Prm.Core.Partners;

namespace Prm.Core.Tiers;

/// <summary>The valid certifications of a partner's people, kept from the certification events (tombstones keep a late event from reviving a removed award).</summary>
public sealed record CertificationFacts
{
    public Dictionary<string, HeldAward> Awards { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Award id to when it left the partner's counts (expired, revoked, its holder left).</summary>
    public Dictionary<string, DateTimeOffset> Removed { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Award id to the time of the latest event applied to it.</summary>
    public Dictionary<string, DateTimeOffset> AsOf { get; init; } = new(StringComparer.Ordinal);
}

/// <summary>What a tier commit writes: the tier record (ETag null: a new one), the partner when its tier changes (with its ETag), timeline and outbox rows.</summary>
public sealed record TierCommit(string PartnerId, PartnerTierState State, string? StateETag, Partner? Partner, string? PartnerETag, ChangeSet Changes);

/// <summary>Storage port of tiers: the tier record and certification counters in the partner's partition, the FX table.</summary>
public interface ITierStore
{
    Task<Versioned<PartnerTierState>?> GetStateAsync(string partnerId, CancellationToken ct);

    /// <summary>One transaction of the partner's partition: the tier record, the partner row when given, timeline and outbox (412 on a lost race).</summary>
    Task CommitAsync(TierCommit commit, CancellationToken ct);

    Task<Versioned<CertificationFacts>?> GetCertificationsAsync(string partnerId, CancellationToken ct);

    /// <summary>The tier record and the certification counters together (one round trip): what an evaluation reads.</summary>
    Task<(Versioned<PartnerTierState>? State, Versioned<CertificationFacts>? Certifications)> GetRecordsAsync(string partnerId, CancellationToken ct);

    /// <summary>Writes the counters (If-Match; null ETag adds the row); 412 on a lost race.</summary>
    Task SaveCertificationsAsync(string partnerId, CertificationFacts facts, string? etag, CancellationToken ct);

    Task<Versioned<FxMonth>?> GetFxMonthAsync(string month, CancellationToken ct);

    /// <summary>Creates (ETag null) or replaces (If-Match) a month of rates; 412 on a stale ETag or when it exists already.</summary>
    Task<string> SaveFxMonthAsync(FxMonth month, string? etag, CancellationToken ct);
}

/// <summary>One month of FX rates: units of the program currency per unit of each currency.</summary>
public sealed record FxMonth(string Month, string ProgramCurrency, IReadOnlyDictionary<string, decimal> Rates, string UpdatedBy, DateTimeOffset UpdatedAt);
