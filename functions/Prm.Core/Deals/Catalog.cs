using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;

namespace Prm.Core.Deals;

/// <summary>The product lines partners register deals for; any signed-in user reads them, admins manage them. Cached per instance.</summary>
public sealed class ProductLines(IProductLineStore store, TimeProvider clock, ProgramOptions program)
{
    private readonly RefreshingCache<string, IReadOnlyList<ProductLine>> cache = new(clock, TimeSpan.FromSeconds(program.SettingsCacheSeconds));

    public Task<IReadOnlyList<ProductLine>> AllAsync(CancellationToken ct) => cache.GetAsync("all", store.ListAsync, ct);

    /// <summary>Active lines for everyone; admins also see retired ones.</summary>
    public async Task<IReadOnlyList<ProductLine>> ListAsync(Caller caller, CancellationToken ct) =>
        (await AllAsync(ct)).Where(l => l.Active || caller.IsAdmin).OrderBy(l => l.Name, StringComparer.OrdinalIgnoreCase).ToList();

    public async Task<Versioned<ProductLine>> CreateAsync(Caller caller, ProductLineRequest? body, CancellationToken ct)
    {
        RequireAdmin(caller);
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        var errors = new Dictionary<string, string[]>();
        if (body.Id is null || !ValidId(body.Id)) errors["id"] = ["id must be 2 to 40 lower-case letters, digits or dashes, e.g. cloud-backup."];
        if (string.IsNullOrWhiteSpace(body.Name) || body.Name.Length > 100) errors["name"] = ["name is required (at most 100 characters)."];
        if (errors.Count > 0) throw new ValidationFailedException(errors);
        var line = new ProductLine(body.Id!, body.Name!.Trim(), body.Active ?? true);
        var etag = await store.CreateAsync(line, ct);
        cache.Remove("all");
        return new Versioned<ProductLine>(line, etag);
    }

    public async Task<Versioned<ProductLine>> UpdateAsync(Caller caller, string id, string? ifMatch, ProductLineRequest? body, CancellationToken ct)
    {
        RequireAdmin(caller);
        if (string.IsNullOrEmpty(ifMatch)) throw new PreconditionFailedException("PUT requires an If-Match header with the product line's ETag.", required: true);
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        if (body.Name is not null && (body.Name.Trim().Length == 0 || body.Name.Length > 100)) throw new ValidationFailedException("name", "name must be 1 to 100 characters.");
        var found = (ValidId(id) ? await store.GetAsync(id, ct) : null) ?? throw new NotFoundException("Product line");
        var line = found.Value with { Name = body.Name?.Trim() ?? found.Value.Name, Active = body.Active ?? found.Value.Active };
        var etag = await store.UpdateAsync(line, ifMatch, ct);
        cache.Remove("all");
        return new Versioned<ProductLine>(line, etag);
    }

    private static bool ValidId(string id) => id.Length is >= 2 and <= 40 && id.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');

    private static void RequireAdmin(Caller caller)
    {
        if (!caller.IsAdmin) throw new ForbiddenException("Only program admins manage product lines.");
    }
}

/// <summary>House accounts: customers reserved for direct sales (admins). Each is in the conflict index, so a matching registration is a certain conflict.</summary>
public sealed class HouseAccounts(IHouseAccountStore store, TimeProvider clock)
{
    public async Task<IReadOnlyList<HouseAccountDto>> ListAsync(Caller caller, CancellationToken ct)
    {
        RequireVendor(caller);
        return (await store.ListAsync(ct)).OrderBy(h => h.Name, StringComparer.OrdinalIgnoreCase).Select(HouseAccountDto.From).ToList();
    }

    public async Task<Versioned<HouseAccountDto>> GetAsync(Caller caller, string id, CancellationToken ct)
    {
        RequireVendor(caller);
        var found = await LoadAsync(id, ct);
        return new Versioned<HouseAccountDto>(HouseAccountDto.From(found.Value), found.ETag);
    }

    public async Task<Versioned<HouseAccountDto>> CreateAsync(Caller caller, HouseAccountRequest? body, CancellationToken ct)
    {
        RequireAdmin(caller);
        var account = Build(Ids.New("hac"), body, caller, clock.GetUtcNow());
        var etag = await store.SaveAsync(account, null, null, ct);
        return new Versioned<HouseAccountDto>(HouseAccountDto.From(account), etag);
    }

    public async Task<Versioned<HouseAccountDto>> UpdateAsync(Caller caller, string id, string? ifMatch, HouseAccountRequest? body, CancellationToken ct)
    {
        RequireAdmin(caller);
        if (string.IsNullOrEmpty(ifMatch)) throw new PreconditionFailedException("PUT requires an If-Match header with the house account's ETag.", required: true);
        var found = await LoadAsync(id, ct);
        var account = Build(id, body, caller, found.Value.CreatedAt) with { CreatedByName = found.Value.CreatedByName };
        var etag = await store.SaveAsync(account, found.Value, ifMatch, ct);
        return new Versioned<HouseAccountDto>(HouseAccountDto.From(account), etag);
    }

    public async Task DeleteAsync(Caller caller, string id, string? ifMatch, CancellationToken ct)
    {
        RequireAdmin(caller);
        var found = await LoadAsync(id, ct);
        await store.DeleteAsync(found.Value, ifMatch ?? found.ETag, ct);
    }

    private async Task<Versioned<HouseAccount>> LoadAsync(string id, CancellationToken ct) =>
        (Ids.LooksLike(id, "hac") ? await store.GetAsync(id, ct) : null) ?? throw new NotFoundException("House account");

    private static HouseAccount Build(string id, HouseAccountRequest? body, Caller caller, DateTimeOffset at)
    {
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        var errors = new Dictionary<string, string[]>();
        var nameKey = CustomerNormalizer.CompanyNameKey(body.Name);
        if (string.IsNullOrWhiteSpace(body.Name) || body.Name.Length > 200 || nameKey is null) errors["name"] = ["name is required (at most 200 characters)."];
        var domain = body.Domain is null ? null : CustomerNormalizer.RegistrableDomain(body.Domain);
        if (body.Domain is not null && domain is null) errors["domain"] = ["domain must be the customer's own domain, a URL or an email address."];
        if (errors.Count > 0) throw new ValidationFailedException(errors);
        return new HouseAccount(id, body.Name!.Trim(), domain, nameKey, CustomerNormalizer.BlockingKeys(nameKey), caller.DisplayName, at);
    }

    private static void RequireVendor(Caller caller)
    {
        if (!caller.IsVendor) throw new ForbiddenException("Only program admins and channel managers see house accounts.");
    }

    private static void RequireAdmin(Caller caller)
    {
        if (!caller.IsAdmin) throw new ForbiddenException("Only program admins manage house accounts.");
    }
}
