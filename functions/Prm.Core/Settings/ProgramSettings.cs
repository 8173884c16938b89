using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;

namespace Prm.Core.Settings;

/// <summary>Storage port of program settings: one JSON document per section, versioned by ETag.</summary>
public interface ISettingsStore
{
    Task<Versioned<string>?> GetAsync(string section, CancellationToken ct);

    /// <summary>Creates the section (<paramref name="etag"/> null; 412 when it exists) or replaces it if the ETag still matches (412 otherwise). Returns the new ETag.</summary>
    Task<string> SaveAsync(string section, string json, string? etag, AuditEntry audit, CancellationToken ct);

    /// <summary>The changes of the program settings, newest first.</summary>
    Task<Page<AuditEntry>> TimelineAsync(PageRequest page, CancellationToken ct);
}

/// <summary>A section of the program settings (onboarding, deals, mdf): its type, defaults from configuration, and its validation.</summary>
public interface ISettingsSection
{
    string Name { get; }

    Type Type { get; }

    object Defaults();

    /// <summary>Throws <see cref="ValidationFailedException"/> naming the field when the value is not acceptable.</summary>
    Task ValidateAsync(object value, CancellationToken ct);
}

/// <summary>A typed settings section.</summary>
public sealed class SettingsSection<T>(string name, Func<T> defaults, Func<T, CancellationToken, Task> validate) : ISettingsSection where T : class
{
    public string Name => name;

    public Type Type => typeof(T);

    public object Defaults() => defaults();

    public Task ValidateAsync(object value, CancellationToken ct) => validate((T)value, ct);
}

/// <summary>The JSON of stored settings: camelCase, enums as camelCase text, durations as ISO 8601 (reads also take "d.hh:mm:ss").</summary>
public static class SettingsJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DictionaryKeyPolicy = null,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase), new IsoDurationConverter() },
    };
}

/// <summary>
/// Program settings that admins change at run time (fit-score rules, reviewer assignment, deadlines, deal and MDF rules).
/// A section that was never saved is its defaults, which come from configuration (so tests run deadlines in seconds).
/// A saved section is stored whole; properties it lacks take their defaults. Reads are cached per instance and refreshed in the
/// background after <see cref="ProgramOptions.SettingsCacheSeconds"/>; a save on this instance applies at once.
/// </summary>
public sealed class ProgramSettings(ISettingsStore store, IEnumerable<ISettingsSection> sections, TimeProvider clock, ProgramOptions program)
{
    /// <summary>The ETag of a section that was never saved (If-Match with it creates the section).</summary>
    public const string DefaultsETag = "\"defaults\"";

    private readonly IReadOnlyDictionary<string, ISettingsSection> sections = sections.ToDictionary(s => s.Name, StringComparer.Ordinal);
    private readonly RefreshingCache<string, object> cache = new(clock, TimeSpan.FromSeconds(program.SettingsCacheSeconds));

    public IReadOnlyCollection<string> Sections => sections.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>The effective settings of a section, for the services that apply them.</summary>
    public async Task<T> GetAsync<T>(string name, CancellationToken ct) where T : class
    {
        var section = Section(name);
        return (T)await cache.GetAsync(name, async token => (await LoadAsync(section, token)).Value, ct);
    }

    /// <summary>A section as admins see it, with its ETag ("defaults" when never saved).</summary>
    public async Task<Versioned<object>> ReadAsync(Caller caller, string name, CancellationToken ct)
    {
        RequireAdmin(caller);
        return await LoadAsync(Section(name), ct);
    }

    /// <summary>Replaces a section (If-Match required: the ETag from GET, "defaults" for a section never saved). Properties left out take their defaults.</summary>
    public async Task<Versioned<object>> SaveAsync(Caller caller, string name, string? ifMatch, JsonObject? body, CancellationToken ct)
    {
        RequireAdmin(caller);
        var section = Section(name);
        if (body is null) throw new ValidationFailedException("body", "A JSON object with the settings is required.");
        if (string.IsNullOrEmpty(ifMatch)) throw new PreconditionFailedException("PUT requires an If-Match header with the ETag from GET (\"defaults\" when the section was never saved).", required: true);
        var value = Merge(section, body);
        await section.ValidateAsync(value, ct);
        var current = await LoadAsync(section, ct);
        var json = JsonSerializer.Serialize(value, section.Type, SettingsJson.Options);
        var before = JsonSerializer.Serialize(current.Value, section.Type, SettingsJson.Options);
        var changes = Changes(before, json);
        var audit = new AuditEntry(Ids.New("aud"), clock.GetUtcNow(), caller.UserId, caller.DisplayName, "settings.updated", "settings", name, changes);
        var etag = await store.SaveAsync(name, json, ifMatch == DefaultsETag ? null : ifMatch, audit, ct);
        cache.Set(name, value);
        return new Versioned<object>(value, etag);
    }

    /// <summary>
    /// Changes one section's current value with <paramref name="change"/> (for settings a use case maintains, e.g. the uploaded logo of
    /// the branding): validated and audited as a PUT is, committed with the ETag it read, re-read and re-applied when another save won.
    /// </summary>
    public Task<Versioned<object>> UpdateAsync<T>(Caller caller, string name, Func<T, T> change, CancellationToken ct) where T : class =>
        ReadDecideCommit.RunAsync(async _ =>
        {
            RequireAdmin(caller);
            var section = Section(name);
            var current = await LoadAsync(section, ct);
            var value = change((T)current.Value);
            await section.ValidateAsync(value, ct);
            var json = JsonSerializer.Serialize(value, section.Type, SettingsJson.Options);
            var audit = new AuditEntry(Ids.New("aud"), clock.GetUtcNow(), caller.UserId, caller.DisplayName, "settings.updated", "settings", name,
                Changes(JsonSerializer.Serialize(current.Value, section.Type, SettingsJson.Options), json));
            var etag = await store.SaveAsync(name, json, current.ETag == DefaultsETag ? null : current.ETag, audit, ct);
            cache.Set(name, value);
            return new Versioned<object>(value, etag);
        }, ct: ct);

    public Task<Page<AuditEntry>> TimelineAsync(Caller caller, PageRequest page, CancellationToken ct)
    {
        RequireAdmin(caller);
        return store.TimelineAsync(page, ct);
    }

    private async Task<Versioned<object>> LoadAsync(ISettingsSection section, CancellationToken ct)
    {
        var stored = await store.GetAsync(section.Name, ct);
        if (stored is null) return new Versioned<object>(section.Defaults(), DefaultsETag);
        var saved = JsonNode.Parse(stored.Value) as JsonObject ?? new JsonObject();
        return new Versioned<object>(Merge(section, saved, lenient: true), stored.ETag);
    }

    /// <summary>Defaults overlaid with the given top-level properties; a property of the wrong type is a 400 naming it.</summary>
    private static object Merge(ISettingsSection section, JsonObject overlay, bool lenient = false)
    {
        var merged = JsonSerializer.SerializeToNode(section.Defaults(), section.Type, SettingsJson.Options)!.AsObject();
        var known = merged.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var (key, node) in overlay)
        {
            if (!known.Contains(key))
            {
                if (lenient) continue; // a setting that a newer version removed
                throw new ValidationFailedException(key, $"{key} is not a setting of the {section.Name} section; known: {string.Join(", ", known)}.");
            }
            merged[key] = node?.DeepClone();
        }
        try
        {
            return merged.Deserialize(section.Type, SettingsJson.Options) ?? section.Defaults();
        }
        catch (JsonException ex)
        {
            var field = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "body" : ex.Path.TrimStart('$', '.');
            throw new ValidationFailedException(field, $"{field} has a value of the wrong type (durations are ISO 8601, e.g. \"P1D\" for a day or \"PT24H\"; \"1.00:00:00\" is accepted too).");
        }
        catch (FormatException)
        {
            throw new ValidationFailedException("body", "A duration is not ISO 8601 (e.g. \"PT24H\") or \"d.hh:mm:ss\".");
        }
    }

    private static List<FieldChange> Changes(string before, string after)
    {
        var a = JsonNode.Parse(before)!.AsObject();
        var b = JsonNode.Parse(after)!.AsObject();
        var changes = new List<FieldChange>();
        foreach (var (key, node) in b)
        {
            var old = a[key]?.ToJsonString();
            var now = node?.ToJsonString();
            if (old != now) changes.Add(new FieldChange(key, old, now));
        }
        return changes;
    }

    private ISettingsSection Section(string name) =>
        sections.TryGetValue(name, out var section) ? section : throw new NotFoundException($"Settings section '{name}'");

    private static void RequireAdmin(Caller caller)
    {
        if (!caller.IsAdmin) throw new ForbiddenException("Only program admins read and change program settings.");
    }
}
