using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Privacy;
using Prm.Storage.Leads;
using Prm.Storage.Partners;

namespace Prm.Storage.Privacy;

/// <summary>Settings of the privacy operations (section "Privacy").</summary>
public sealed class PrivacyOptions
{
    public const string SectionName = "Privacy";

    /// <summary>
    /// The key of the pseudonyms (HMAC-SHA256 of the email). Empty: a random key generated once and kept in the settings table (partition
    /// <c>privacy</c>), the same for every instance. Set it (from Key Vault) to keep the key out of the storage account.
    /// </summary>
    public string? PseudonymKey { get; set; }

    /// <summary>How many tables are scanned side by side.</summary>
    public int ScanParallelism { get; set; } = 4;
}

/// <summary>
/// A person's personal data across every table (admins): export it, or erase it by pseudonymization. There is no per-person index: the
/// search reads every row of every table once (server side, in pages) and keeps the rows that hold the email (any field, JSON bodies
/// included, case-insensitive) or the user id it is registered to (keys and fields), then the rows of the same partitions that hold one
/// of the person's names (their display name, a contact name next to their email). Erasure rewrites those rows: the email becomes
/// <c>anon_…@erased.invalid</c>, names the pseudonym <c>anon_…</c> (an HMAC of the email: stable, so audit entries keep telling the same
/// "who" apart), phones and job titles next to the email are cleared; ids, amounts, counters, statuses and dates are never touched.
/// Rows keyed by the email in the keys table (its uniqueness claim, rate-limit counters, the lead-contact look-up) are deleted. The
/// erasure itself is recorded under the pseudonym (settings table, partition <c>erasures</c>), never with the email.
/// </summary>
public sealed class PersonalData(PrmTables tables, PrivacyOptions options, TimeProvider clock, ILogger<PersonalData> log)
{
    public const string KeyPartition = "privacy";
    public const string ErasurePartition = "erasures";

    /// <summary>Object fields that name the person an email in the same object belongs to (rewritten to the pseudonym).</summary>
    private static readonly HashSet<string> NameFields = new(StringComparer.OrdinalIgnoreCase)
    {
        "name", "displayName", "contactName", "fullName", "userName", "personName", "firstName", "lastName", "toName", "actorName",
        "submittedByName", "holderName", "applicantName",
    };

    /// <summary>Object fields about the person an email in the same object belongs to that are cleared.</summary>
    private static readonly HashSet<string> ContactFields = new(StringComparer.OrdinalIgnoreCase)
    {
        "phone", "contactPhone", "mobile", "jobTitle", "title",
    };

    public static readonly IReadOnlyList<string> Coverage =
    [
        "Every table of the app is read: partners (users, partner timelines, outbox rows), keys (identity links, the email's key rows), staff, deals (customer contacts, who registered, timelines), leads (contacts, timelines), partner applications (applicants), MDF budgets and requests, assets (downloads), training (enrollments, attempts, awards, xAPI statements, parked statements), settings timeline, webhooks (deliveries, event log), CRM inbox and parked events, notification preferences and digest items, and the development mail and event sinks.",
        "A row is found by the email (any field, JSON bodies included, case-insensitive) or by the user id the email is registered to; rows of the same partitions that carry one of the person's names are included.",
        "Not covered: blobs (MDF proofs, asset uploads, co-branded PDF copies rendered with the person's name), Durable Task histories (their inputs hold ids and deadlines), and what was already delivered (Service Bus subscribers, webhook receivers, SendGrid, Application Insights).",
    ];

    public static readonly IReadOnlyList<string> NotCovered =
    [
        "blobs: MDF proofs and asset uploads, co-branded PDF copies rendered with the person's name (delete them in the storage account)",
        "Durable Task histories (inputs hold ids and deadlines only; purged when the workflow restarts)",
        "what was already delivered: Service Bus subscribers, webhook receivers, SendGrid activity, Application Insights logs",
    ];

    private static void Require(Caller caller)
    {
        if (!caller.IsAdmin) throw new ForbiddenException("Only program admins export or erase a person's data.");
    }

    private static string Email(string? email) =>
        Text.NormalizeEmail(Uri.UnescapeDataString(email ?? "")) ?? throw new ValidationFailedException("email", "email must be an email address, e.g. sam@partner.example.");

    /// <summary>The person as the search needs them: email, registered user id, names, and their pseudonym.</summary>
    private sealed record Person(string Email, string? UserId, HashSet<string> Names, string Pseudonym)
    {
        public string PseudoEmail => Pseudonym + "@erased.invalid";

        public bool InText(string text) => text.Contains(Email, StringComparison.OrdinalIgnoreCase) || (UserId is not null && text.Contains(UserId, StringComparison.Ordinal));

        public bool NameIn(string text) => Names.Any(n => text.Contains(n, StringComparison.Ordinal));
    }

    public async Task<PersonalDataExport> ExportAsync(Caller caller, string? email, CancellationToken ct)
    {
        Require(caller);
        var person = await PersonAsync(Email(email), ct);
        var found = await FindAsync(person, ct);
        var records = found.Select(f => Record(f.Table, f.Entity)).OrderBy(r => r.Store, StringComparer.Ordinal).ThenBy(r => r.PartitionKey, StringComparer.Ordinal).ThenBy(r => r.RowKey, StringComparer.Ordinal).ToList();
        return new PersonalDataExport(person.Email, person.UserId, clock.GetUtcNow(), await ErasureAsync(person.Pseudonym, ct), records.Count, records, Coverage);
    }

    public async Task<ErasureResult> EraseAsync(Caller caller, string? email, EraseRequest? body, CancellationToken ct)
    {
        Require(caller);
        var address = Email(email);
        if (body?.Reason is { Length: > 500 }) throw new ValidationFailedException("reason", "reason takes at most 500 characters.");
        if (string.Equals(caller.Email, address, StringComparison.OrdinalIgnoreCase))
            throw new ConflictException("You cannot erase yourself while signed in; another admin can.", "email");
        var person = await PersonAsync(address, ct);
        var found = await FindAsync(person, ct);
        var previous = await ErasureAsync(person.Pseudonym, ct);
        if (found.Count == 0 && previous is null) throw new NotFoundException("Personal data of that email");
        var now = clock.GetUtcNow();
        var byStore = new Dictionary<string, int>(StringComparer.Ordinal);
        var changed = 0;
        var deleted = 0;
        foreach (var (table, entity) in found)
        {
            var client = tables.Service.GetTableClient(table);
            if (client.Name == tables.Keys.Name && KeyedByEmail(entity.PartitionKey, person))
            {
                // A key cannot be rewritten: the email's uniqueness claim, rate-limit counters and look-ups go (a later invitation claims the email afresh).
                await client.DeleteEntityAsync(entity.PartitionKey, entity.RowKey, Azure.ETag.All, ct);
                deleted++;
                continue;
            }
            if (await RewriteAsync(client, entity, person, ct))
            {
                changed++;
                var store = Store(table);
                byStore[store] = byStore.GetValueOrDefault(store) + 1;
            }
        }
        var record = new ErasureRecord(person.Pseudonym, now, caller.UserId, (previous?.RowsChanged ?? 0) + changed, (previous?.KeyRowsDeleted ?? 0) + deleted);
        await tables.Settings.UpsertEntityAsync(new TableEntity(ErasurePartition, person.Pseudonym)
        {
            ["ErasedAt"] = record.ErasedAt,
            ["ErasedBy"] = record.ErasedBy,
            ["RowsChanged"] = record.RowsChanged,
            ["KeyRowsDeleted"] = record.KeyRowsDeleted,
            ["Reason"] = body?.Reason?.Trim(),
        }, TableUpdateMode.Replace, ct);
        log.LogInformation("Erased the personal data of {Pseudonym}: {Rows} rows rewritten, {Keys} key rows deleted", person.Pseudonym, changed, deleted);
        return new ErasureResult(person.Pseudonym, now, changed, deleted, byStore, NotCovered);
    }

    private async Task<ErasureRecord?> ErasureAsync(string pseudonym, CancellationToken ct)
    {
        var found = await tables.Settings.GetEntityIfExistsAsync<TableEntity>(ErasurePartition, pseudonym, cancellationToken: ct);
        if (!found.HasValue) return null;
        var e = found.Value!;
        return new ErasureRecord(pseudonym, e.GetDateTimeOffset("ErasedAt") ?? DateTimeOffset.MinValue, e.GetString("ErasedBy") ?? "", e.GetInt32("RowsChanged") ?? 0, e.GetInt32("KeyRowsDeleted") ?? 0);
    }

    /// <summary>Who the email is: the user or staff member it is registered to (their display name), and the pseudonym.</summary>
    private async Task<Person> PersonAsync(string email, CancellationToken ct)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        string? userId = null;
        var key = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(KeyRows.Email(email), "", cancellationToken: ct);
        if (key.HasValue)
        {
            userId = key.Value!.GetString("UserId");
            var partnerId = key.Value!.GetString("PartnerId");
            var row = partnerId is null
                ? await tables.Staff.GetEntityIfExistsAsync<TableEntity>(TableStaffStore.Partition, userId ?? "-", cancellationToken: ct)
                : await tables.Partners.GetEntityIfExistsAsync<TableEntity>(partnerId, PartnerRows.UserPrefix + userId, cancellationToken: ct);
            if (row.HasValue && row.Value!.GetString("DisplayName") is { Length: >= 3 } name) names.Add(name);
        }
        return new Person(email, userId, names, await PseudonymAsync(email, ct));
    }

    private byte[]? key;

    /// <summary>anon_ + the first 16 hex digits of HMAC-SHA256(key, email): stable for an email, meaningless without the key.</summary>
    private async Task<string> PseudonymAsync(string email, CancellationToken ct)
    {
        key ??= await KeyAsync(ct);
        return "anon_" + Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(email)))[..16];
    }

    private async Task<byte[]> KeyAsync(CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(options.PseudonymKey)) return Encoding.UTF8.GetBytes(options.PseudonymKey);
        var found = await tables.Settings.GetEntityIfExistsAsync<TableEntity>(KeyPartition, "key", cancellationToken: ct);
        if (found.HasValue) return Convert.FromBase64String(found.Value!.GetString("Key"));
        var fresh = RandomNumberGenerator.GetBytes(32);
        try
        {
            await tables.Settings.AddEntityAsync(new TableEntity(KeyPartition, "key") { ["Key"] = Convert.ToBase64String(fresh) }, ct);
            return fresh;
        }
        catch (Azure.RequestFailedException taken) when (taken.Status == 409)
        {
            var winner = await tables.Settings.GetEntityAsync<TableEntity>(KeyPartition, "key", cancellationToken: ct);
            return Convert.FromBase64String(winner.Value.GetString("Key"));
        }
    }

    /// <summary>Whether a key row's key holds the email (plain, URL-encoded, or as its SHA-256).</summary>
    private static bool KeyedByEmail(string partitionKey, Person person) =>
        partitionKey.Contains(person.Email, StringComparison.OrdinalIgnoreCase)
        || partitionKey.Contains(KeyEncoding.Encode(person.Email), StringComparison.OrdinalIgnoreCase)
        || partitionKey.Contains(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(person.Email))), StringComparison.OrdinalIgnoreCase);

    /// <summary>The rows that hold the person's data, in two passes (see the class): email and user id everywhere, then names in the same partitions.</summary>
    private async Task<List<(string Table, TableEntity Entity)>> FindAsync(Person person, CancellationToken ct)
    {
        var scanned = tables.All.Where(t => t.Name != tables.OutboxPending.Name).ToList();
        var first = new System.Collections.Concurrent.ConcurrentBag<(string Table, TableEntity Entity)>();
        await Parallel.ForEachAsync(scanned, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.ScanParallelism), CancellationToken = ct }, async (table, token) =>
        {
            await foreach (var e in table.QueryAsync<TableEntity>(cancellationToken: token))
            {
                if (Matches(table, e, person)) first.Add((table.Name, e));
            }
        });
        // The names that go with the email: the registered person's display name, and contact names next to the email in the rows found.
        foreach (var (_, e) in first) CollectNames(e, person);
        var found = first.ToDictionary(f => (f.Table, f.Entity.PartitionKey, f.Entity.RowKey), f => f);
        if (person.Names.Count > 0)
        {
            foreach (var (table, partition) in first.Select(f => (f.Table, f.Entity.PartitionKey)).Distinct().ToList())
            {
                if (table == tables.Keys.Name || table == tables.Settings.Name) continue; // key rows are one per partition; settings: sections, not people
                await foreach (var e in tables.Service.GetTableClient(table).QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}"), cancellationToken: ct))
                {
                    if (found.ContainsKey((table, e.PartitionKey, e.RowKey))) continue;
                    if (Strings(e).Any(s => person.NameIn(s.Value))) found[(table, e.PartitionKey, e.RowKey)] = (table, e);
                }
            }
        }
        return found.Values.ToList();
    }

    private bool Matches(TableClient table, TableEntity e, Person person)
    {
        if (table.Name == tables.Settings.Name && e.PartitionKey is KeyPartition or ErasurePartition) return false;
        if (table.Name == tables.Keys.Name && KeyedByEmail(e.PartitionKey, person)) return true;
        if (person.UserId is not null && (e.PartitionKey.Contains(person.UserId, StringComparison.Ordinal) || e.RowKey.Contains(person.UserId, StringComparison.Ordinal))) return true;
        return Strings(e).Any(s => person.InText(s.Value));
    }

    /// <summary>Every string field of a row; a field split over numbered parts (Body, Body1, …) as one text.</summary>
    private static IEnumerable<(string Name, string Value)> Strings(TableEntity e)
    {
        foreach (var (name, value) in e)
        {
            if (value is not string text || name is "PartitionKey" or "RowKey" or "odata.etag") continue;
            if (IsChunk(e, name)) continue;
            yield return (name, e.ContainsKey(name + "1") ? ChunkedText.Read(e, name) : text);
        }
    }

    /// <summary>Body1, Body2, … of a field split over numbered parts (read with their first part).</summary>
    private static bool IsChunk(TableEntity e, string name)
    {
        var digits = name.Length - name.TrimEnd('0', '1', '2', '3', '4', '5', '6', '7', '8', '9').Length;
        return digits > 0 && digits < name.Length && e.ContainsKey(name[..^digits]) && e[name[..^digits]] is string;
    }

    private static void CollectNames(TableEntity e, Person person)
    {
        foreach (var (name, value) in Strings(e))
        {
            if (name is "DisplayName" or "ContactName" && e.Select(p => p.Value).OfType<string>().Any(v => v.Equals(person.Email, StringComparison.OrdinalIgnoreCase)) && value.Length >= 3) person.Names.Add(value);
            if (!LooksLikeJson(value)) continue;
            try
            {
                Walk(JsonNode.Parse(value));
            }
            catch (JsonException)
            {
            }
        }

        void Walk(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject o:
                    if (HoldsEmail(o, person))
                    {
                        foreach (var (key, child) in o)
                        {
                            if (NameFields.Contains(key) && child is JsonValue v && v.TryGetValue<string>(out var n) && n.Length >= 3 && !n.Contains('@')) person.Names.Add(n);
                        }
                    }
                    foreach (var (_, child) in o) Walk(child);
                    break;
                case JsonArray a:
                    foreach (var child in a) Walk(child);
                    break;
            }
        }
    }

    private static bool HoldsEmail(JsonObject o, Person person) =>
        o.Any(p => p.Value is JsonValue v && v.TryGetValue<string>(out var s) && (s.Equals(person.Email, StringComparison.OrdinalIgnoreCase) || s.Equals("mailto:" + person.Email, StringComparison.OrdinalIgnoreCase)));

    private static bool LooksLikeJson(string value) => value.Length > 1 && (value[0] == '{' || value[0] == '[');

    private static readonly JsonSerializerOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Rewrites one row (If-Match; a row changed meanwhile is read again, up to five times). False when nothing in it needed a change.</summary>
    private static async Task<bool> RewriteAsync(TableClient client, TableEntity entity, Person person, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (!Scrub(entity, person)) return false;
            try
            {
                await client.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, ct);
                return true;
            }
            catch (Azure.RequestFailedException lost) when (lost.Status == 412 && attempt < 5)
            {
                var fresh = await client.GetEntityIfExistsAsync<TableEntity>(entity.PartitionKey, entity.RowKey, cancellationToken: ct);
                if (!fresh.HasValue) return false;
                entity = fresh.Value!;
            }
            catch (Azure.RequestFailedException gone) when (gone.Status == 404)
            {
                return false; // deleted meanwhile (a delivered outbox row)
            }
        }
    }

    /// <summary>Replaces the person in every string field of the row; true when something changed.</summary>
    private static bool Scrub(TableEntity e, Person person)
    {
        var changed = false;
        var holdsEmail = e.Select(p => p.Value).OfType<string>().Any(v => v.Equals(person.Email, StringComparison.OrdinalIgnoreCase));
        foreach (var (name, value) in Strings(e).ToList())
        {
            string next;
            if (holdsEmail && name is "DisplayName" or "ContactName" or "ToName" or "ActorName" or "PersonName") next = person.Pseudonym;
            else if (holdsEmail && name is "Phone" or "ContactPhone" or "JobTitle" && e.ContainsKey("Email")) next = "";
            else if (name == "ActorName" && person.UserId is not null && e.GetString("ActorId") == person.UserId) next = person.Pseudonym;
            else next = LooksLikeJson(value) ? ScrubJson(value, person) : ScrubText(value, person);
            if (next == value) continue;
            changed = true;
            if (e.ContainsKey(name + "1"))
            {
                for (var i = 1; e.ContainsKey(name + i); i++) e.Remove(name + i);
                ChunkedText.Write(e, name, next);
            }
            else e[name] = next;
        }
        return changed;
    }

    private static string ScrubText(string text, Person person)
    {
        var next = text.Replace(person.Email, person.PseudoEmail, StringComparison.OrdinalIgnoreCase);
        foreach (var name in person.Names) next = next.Replace(name, person.Pseudonym, StringComparison.Ordinal);
        return next;
    }

    private static string ScrubJson(string json, Person person)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json);
        }
        catch (JsonException)
        {
            return ScrubText(json, person);
        }
        var changed = false;
        root = Walk(root);
        return changed ? root?.ToJsonString(Compact) ?? "null" : json;

        JsonNode? Walk(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject o:
                    {
                        var holds = HoldsEmail(o, person);
                        foreach (var key in o.Select(p => p.Key).ToList())
                        {
                            var child = o[key];
                            if (holds && ContactFields.Contains(key) && child is JsonValue cv && cv.TryGetValue<string>(out var contact) && contact.Length > 0)
                            {
                                o[key] = null;
                                changed = true;
                            }
                            else if (holds && NameFields.Contains(key) && child is JsonValue nv && nv.TryGetValue<string>(out var n) && n != person.Pseudonym && !n.Contains('@'))
                            {
                                o[key] = person.Pseudonym;
                                changed = true;
                            }
                            else
                            {
                                var replaced = Walk(child);
                                if (!ReferenceEquals(replaced, child)) o[key] = replaced;
                            }
                        }
                        return o;
                    }
                case JsonArray a:
                    for (var i = 0; i < a.Count; i++)
                    {
                        var replaced = Walk(a[i]);
                        if (!ReferenceEquals(replaced, a[i])) a[i] = replaced;
                    }
                    return a;
                case JsonValue v when v.TryGetValue<string>(out var s):
                    var next = ScrubText(s, person);
                    if (next == s) return v;
                    changed = true;
                    return JsonValue.Create(next);
                default:
                    return node;
            }
        }
    }

    private string Store(string table) => table.StartsWith(TablePrefix, StringComparison.Ordinal) ? table[TablePrefix.Length..] : table;

    private string TablePrefix => tables.Partners.Name[..^"partners".Length];

    private PersonalRecord Record(string table, TableEntity e)
    {
        var data = new JsonObject();
        foreach (var (name, value) in e)
        {
            if (name is "PartitionKey" or "RowKey" or "odata.etag" || IsChunk(e, name)) continue;
            var field = JsonNamingPolicy.CamelCase.ConvertName(name);
            data[field] = value switch
            {
                string s when e.ContainsKey(name + "1") => Parse(ChunkedText.Read(e, name)),
                string s => Parse(s),
                DateTimeOffset d => JsonValue.Create(d.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture)),
                DateTime d => JsonValue.Create(d.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture)),
                bool b => JsonValue.Create(b),
                int i => JsonValue.Create(i),
                long l => JsonValue.Create(l),
                double d => JsonValue.Create(d),
                Guid g => JsonValue.Create(g.ToString()),
                byte[] => JsonValue.Create("(binary)"),
                null => null,
                _ => JsonValue.Create(value.ToString()),
            };
        }
        var kind = e.RowKey.Contains('|') ? e.RowKey[..e.RowKey.IndexOf('|')] : e.PartitionKey.Contains(':') ? e.PartitionKey[..e.PartitionKey.IndexOf(':')] : Store(table);
        return new PersonalRecord(Store(table), table, kind, e.PartitionKey, e.RowKey, JsonSerializer.SerializeToElement(data));

        static JsonNode? Parse(string s)
        {
            if (LooksLikeJson(s))
            {
                try
                {
                    return JsonNode.Parse(s);
                }
                catch (JsonException)
                {
                }
            }
            return JsonValue.Create(s);
        }
    }
}
