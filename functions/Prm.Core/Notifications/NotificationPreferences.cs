using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Notifications;

/// <summary>Which digest an email was kept for.</summary>
public enum DigestCadence { Daily, Weekly }

/// <summary>
/// A person's own notification choices: their time zone (an IANA id; null takes the program's) and a mode per kind they chose
/// (camelCase kind name to mode; a kind left out takes the program default).
/// </summary>
public sealed record NotificationPreferences(string? TimeZone, IReadOnlyDictionary<string, DeliveryMode> Modes)
{
    public static NotificationPreferences None { get; } = new(null, new Dictionary<string, DeliveryMode>());

    /// <summary>The mode that applies to the kind: immediate for the kinds that cannot be changed, else the person's choice, else the program's default.</summary>
    public DeliveryMode ModeOf(NotificationKind kind, NotificationSettings settings) =>
        NotificationKinds.IsLocked(kind) ? DeliveryMode.Immediate
        : Modes.TryGetValue(NotificationKinds.Name(kind), out var chosen) ? chosen
        : settings.DefaultOf(kind);
}

/// <summary>An email kept for a digest: who it was for, its kind and template, its subject and plain text, when it was written.</summary>
public sealed record DigestItem(string UserId, string? PartnerId, string Email, string? Name, DigestCadence Cadence, string Kind, string Template,
    string Subject, string Text, DateTimeOffset At, string MessageId);

/// <summary>Storage port of notification preferences, digest items (a partition per person) and single-use unsubscribe marks.</summary>
public interface INotificationStore
{
    Task<Versioned<NotificationPreferences>?> GetAsync(string userId, CancellationToken ct);

    /// <summary>Creates (<paramref name="etag"/> null; 412 when it exists) or replaces (412 when the ETag is stale) with the changes' outbox rows; returns the new ETag.</summary>
    Task<string> SaveAsync(string userId, NotificationPreferences preferences, string? etag, ChangeSet changes, CancellationToken ct);

    /// <summary>Keeps an email for a digest with the changes' outbox rows (idempotent by message id).</summary>
    Task RecordAsync(DigestItem item, ChangeSet changes, CancellationToken ct);

    /// <summary>The oldest pending items of a person's digest (at most <paramref name="max"/>), with their ETags.</summary>
    Task<IReadOnlyList<Versioned<DigestItem>>> PendingAsync(string userId, DigestCadence cadence, int max, CancellationToken ct);

    /// <summary>Removes exactly the items read (their ETags) together with the changes (the digest email), as one transaction; false when one changed meanwhile.</summary>
    Task<bool> ClearAsync(string userId, IReadOnlyList<Versioned<DigestItem>> items, ChangeSet changes, CancellationToken ct);
}

/// <summary>One kind as <c>GET /api/me/notifications</c> shows it.</summary>
public sealed record KindPreference(string Kind, string Mode, string ProgramDefault, bool Chosen, bool Locked, IReadOnlyList<string> Templates);

/// <summary>A person's notification preferences: the time zone digests follow and the mode of every kind.</summary>
public sealed record NotificationPreferencesDto(string UserId, string TimeZone, bool TimeZoneChosen, IReadOnlyList<KindPreference> Kinds);

/// <summary>
/// Body of <c>PUT /api/me/notifications</c>: the person's whole choice. <c>timeZone</c> is an IANA id (null: the program's);
/// <c>preferences</c> maps kinds to immediate, dailyDigest, weeklyDigest or off (kinds left out take the program default).
/// </summary>
public sealed record NotificationPreferencesRequest(string? TimeZone, Dictionary<string, string>? Preferences);

/// <summary>
/// The signed-in person's own notification preferences (<c>GET/PUT /api/me/notifications</c>): nobody reads or changes another's.
/// Kinds that carry decisions with deadlines or access to the account only take immediate (422 naming the field).
/// </summary>
public sealed class MyNotifications(INotificationStore store, ProgramSettings settings, ProgramTimeZone programZone, TimeProvider clock)
{
    /// <summary>The ETag of preferences never saved (If-Match with it creates them).</summary>
    public const string DefaultsETag = "\"defaults\"";

    public const int MaxTimeZoneLength = 64;

    public async Task<Versioned<NotificationPreferencesDto>> GetAsync(Caller caller, CancellationToken ct)
    {
        var stored = await store.GetAsync(RequirePerson(caller), ct);
        return new(Dto(caller.UserId, stored?.Value ?? NotificationPreferences.None, await SettingsAsync(ct)), stored?.ETag ?? DefaultsETag);
    }

    public async Task<Versioned<NotificationPreferencesDto>> SaveAsync(Caller caller, NotificationPreferencesRequest? body, string? ifMatch, CancellationToken ct)
    {
        var userId = RequirePerson(caller);
        if (body is null) throw new ValidationFailedException("body", "A body with timeZone and preferences is required.");
        var preferences = Parse(body);
        var current = await store.GetAsync(userId, ct);
        if (ifMatch is not null && ifMatch != (current?.ETag ?? DefaultsETag))
            throw new PreconditionFailedException("Your notification preferences were changed since you read them; read them again and retry.");
        var now = clock.GetUtcNow();
        var data = new NotificationEvents.PreferencesData(userId, preferences.TimeZone, preferences.Modes.ToDictionary(p => p.Key, p => NotificationPreferenceRules.Name(p.Value)));
        var changes = new ChangeSet([], [OutboxMessage.ForEvent(IntegrationEvent.Create(Ids.New("evt"), NotificationEvents.PreferencesChanged, now, "user/" + userId, caller.PartnerId, Correlation.Id, data))]);
        var etag = await store.SaveAsync(userId, preferences, current?.ETag, changes, ct);
        return new(Dto(userId, preferences, await SettingsAsync(ct)), etag);
    }

    /// <summary>The request as preferences, or 422 naming each field that is not acceptable.</summary>
    public static NotificationPreferences Parse(NotificationPreferencesRequest body)
    {
        var errors = new Dictionary<string, string[]>();
        if (body.TimeZone is not null && ProgramTimeZone.Check(body.TimeZone) is { } zoneProblem) errors["timeZone"] = [zoneProblem];
        var modes = new Dictionary<string, DeliveryMode>(StringComparer.Ordinal);
        if (body.Preferences is { Count: > 50 }) errors["preferences"] = ["preferences holds at most one entry per kind."];
        else
        {
            foreach (var (kind, text) in body.Preferences ?? [])
            {
                var field = $"preferences.{(kind.Length > 60 ? kind[..60] : kind)}";
                if (NotificationPreferenceRules.ParseMode(text) is not { } mode) { errors[field] = ["The mode is immediate, dailyDigest, weeklyDigest or off."]; continue; }
                if (NotificationPreferenceRules.Check(kind, mode) is { } problem) { errors[field] = [problem]; continue; }
                modes[kind] = mode;
            }
        }
        if (errors.Count > 0) throw new ValidationFailedException(errors, string.Join(" ", errors.Select(e => e.Value[0])), unprocessable: true);
        return new NotificationPreferences(body.TimeZone, modes);
    }

    /// <summary>The effective preferences of a person as the API shows them.</summary>
    public NotificationPreferencesDto Dto(string userId, NotificationPreferences p, NotificationSettings s) =>
        new(userId, p.TimeZone ?? programZone.Id, p.TimeZone is not null, NotificationKinds.All.Select(kind => new KindPreference(
            NotificationKinds.Name(kind), NotificationPreferenceRules.Name(p.ModeOf(kind, s)), NotificationPreferenceRules.Name(s.DefaultOf(kind)),
            p.Modes.ContainsKey(NotificationKinds.Name(kind)) && !NotificationKinds.IsLocked(kind), NotificationKinds.IsLocked(kind),
            NotificationKinds.Templates.Where(t => t.Value == kind).Select(t => t.Key).Order(StringComparer.Ordinal).ToList())).ToList());

    private Task<NotificationSettings> SettingsAsync(CancellationToken ct) => settings.GetAsync<NotificationSettings>(NotificationSettings.SectionName, ct);

    /// <summary>Preferences belong to people: a machine client has none (403).</summary>
    private static string RequirePerson(Caller caller) =>
        caller.IsIntegration || caller.UserId == Caller.System.UserId ? throw new ForbiddenException("Only people have notification preferences.") : caller.UserId;
}

/// <summary>The program's time zone (the analytics calendar's; "UTC" by default): the time zone of people who chose none.</summary>
public sealed class ProgramTimeZone(string id)
{
    public string Id { get; } = Check(id) is null ? id : "UTC";

    /// <summary>Why the text is not an IANA time zone id NodaTime knows; null when it is one.</summary>
    public static string? Check(string? id) =>
        id is { Length: > 0 and <= MyNotifications.MaxTimeZoneLength } && NodaTime.DateTimeZoneProviders.Tzdb.GetZoneOrNull(id) is not null
            ? null
            : "timeZone must be an IANA time zone id, e.g. Europe/Berlin or America/New_York.";
}
