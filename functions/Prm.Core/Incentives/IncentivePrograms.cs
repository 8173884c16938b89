using System.Collections.Concurrent;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Deals;
using Prm.Core.Identity;
using Prm.Core.Partners;
using Prm.Core.Tiers;

namespace Prm.Core.Incentives;

/// <summary>
/// Incentive programs: admins create and change them (each change a new version, If-Match), vendor staff read them. The list of current
/// versions is cached per instance (a save on this instance applies at once); versions never change, so they are cached for good.
/// </summary>
public sealed class IncentivePrograms(IIncentiveStore store, ProductLines productLines, FxRates fx, ProgramOptions options, TimeProvider clock)
{
    private readonly RefreshingCache<string, IReadOnlyList<IncentiveProgram>> cache = new(clock, TimeSpan.FromSeconds(options.SettingsCacheSeconds));
    private readonly ConcurrentDictionary<(string, int), IncentiveProgram> versions = new();

    public async Task<Versioned<IncentiveProgram>> CreateAsync(Caller caller, IncentiveProgramRequest? body, CancellationToken ct)
    {
        RequireAdmin(caller);
        var now = clock.GetUtcNow();
        var program = await BuildAsync(Ids.New("inp"), 1, body, caller, now, ct);
        var etag = await store.SaveProgramAsync(program, null, Changes(caller, now, "incentive.program.created", program, null), ct);
        Remember(program);
        return new Versioned<IncentiveProgram>(program, etag);
    }

    /// <summary>Replaces the program's terms as a new version (If-Match required); what was accrued stays as it was computed, new movements use the new version.</summary>
    public async Task<Versioned<IncentiveProgram>> UpdateAsync(Caller caller, string programId, string? ifMatch, IncentiveProgramRequest? body, CancellationToken ct)
    {
        RequireAdmin(caller);
        if (string.IsNullOrEmpty(ifMatch)) throw new PreconditionFailedException("PUT requires an If-Match header with the program's ETag.", required: true);
        var found = await LoadAsync(programId, ct);
        var now = clock.GetUtcNow();
        var program = await BuildAsync(programId, found.Value.Version + 1, body, caller, now, ct);
        if (program.Type != found.Value.Type) throw new ValidationFailedException("type", $"type stays {found.Value.Type}: a program's type never changes.", unprocessable: true);
        if (program.Period != found.Value.Period) throw new ValidationFailedException("period", $"period stays {found.Value.Period}: the ledger's periods never change.", unprocessable: true);
        if (program.Currency != found.Value.Currency) throw new ValidationFailedException("currency", $"currency stays {found.Value.Currency}: the ledger's money never changes currency.", unprocessable: true);
        var etag = await store.SaveProgramAsync(program, ifMatch, Changes(caller, now, "incentive.program.updated", program, found.Value), ct);
        Remember(program);
        return new Versioned<IncentiveProgram>(program, etag);
    }

    public async Task<Versioned<IncentiveProgram>> GetAsync(Caller caller, string programId, int? version, CancellationToken ct)
    {
        RequireVendor(caller);
        var found = await LoadAsync(programId, ct);
        if (version is not { } v || v == found.Value.Version) return found;
        if (v < 1 || v > found.Value.Version) throw new NotFoundException($"Version {v} of the program");
        return new Versioned<IncentiveProgram>(await VersionAsync(programId, v, ct), found.ETag);
    }

    public async Task<IReadOnlyList<IncentiveProgram>> ListAsync(Caller caller, CancellationToken ct)
    {
        RequireVendor(caller);
        return (await store.ListProgramsAsync(ct)).OrderBy(p => p.Name, StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>Every program's current version (cached per instance).</summary>
    public Task<IReadOnlyList<IncentiveProgram>> AllAsync(CancellationToken ct) => cache.GetAsync("all", store.ListProgramsAsync, ct);

    /// <summary>The program's current version from the per-instance list (read fresh when the list does not hold it), or 404.</summary>
    public async Task<IncentiveProgram> CachedAsync(string programId, CancellationToken ct) =>
        (await AllAsync(ct)).FirstOrDefault(p => p.Id == programId) ?? await CurrentAsync(programId, ct);

    /// <summary>The program's current version (fresh), or 404.</summary>
    public async Task<IncentiveProgram> CurrentAsync(string programId, CancellationToken ct) => (await LoadAsync(programId, ct)).Value;

    /// <summary>A version of the program (immutable, cached).</summary>
    public async Task<IncentiveProgram> VersionAsync(string programId, int version, CancellationToken ct)
    {
        if (versions.TryGetValue((programId, version), out var known)) return known;
        var found = await store.GetVersionAsync(programId, version, ct) ?? throw new NotFoundException($"Version {version} of the program");
        versions[(programId, version)] = found;
        return found;
    }

    private async Task<Versioned<IncentiveProgram>> LoadAsync(string programId, CancellationToken ct) =>
        (Ids.LooksLike(programId, "inp") ? await store.GetProgramAsync(programId, ct) : null) ?? throw new NotFoundException("Incentive program");

    private async Task<IncentiveProgram> BuildAsync(string id, int version, IncentiveProgramRequest? body, Caller caller, DateTimeOffset now, CancellationToken ct)
    {
        var month = TierRules.Month(now.UtcDateTime);
        var lines = (await productLines.AllAsync(ct)).Select(l => l.Id).ToHashSet(StringComparer.Ordinal);
        var table = await fx.TableAsync([month], ct);
        return IncentiveProgramRules.Build(id, version, body, lines, currency => currency == options.ProgramCurrency || table.Rate(month, currency) is not null, caller.DisplayName, now);
    }

    private void Remember(IncentiveProgram program)
    {
        versions[(program.Id, program.Version)] = program;
        cache.Remove("all");
    }

    private static ChangeSet Changes(Caller caller, DateTimeOffset now, string action, IncentiveProgram program, IncentiveProgram? before) =>
        new([new AuditEntry(Ids.New("aud"), now, caller.UserId, caller.DisplayName, action, "incentiveProgram", program.Id,
            [new FieldChange("version", before?.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), program.Version.ToString(System.Globalization.CultureInfo.InvariantCulture))])], []);

    private static void RequireAdmin(Caller caller)
    {
        if (!caller.IsAdmin) throw new ForbiddenException("Only program admins manage incentive programs.");
    }

    private static void RequireVendor(Caller caller)
    {
        if (!caller.IsVendor) throw new ForbiddenException("Only program admins and channel managers read incentive programs.");
    }
}
