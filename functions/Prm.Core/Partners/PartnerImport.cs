using System.Collections.Concurrent;
using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;
using Prm.Core.Common;
using Prm.Core.Identity;

namespace Prm.Core.Partners;

/// <summary>One row of the partner spreadsheet a program is leaving. Each row names a partner and optionally one of its users.</summary>
public sealed class PartnerImportRow
{
    public string? PartnerName { get; set; }
    public string? Domain { get; set; }
    public string? Country { get; set; }
    public string? Region { get; set; }
    public string? Tier { get; set; }
    public string? PartnerType { get; set; }
    public string? Status { get; set; }
    public string? ChannelManagerEmail { get; set; }
    public string? Website { get; set; }
    public string? Phone { get; set; }
    public string? City { get; set; }
    public string? UserEmail { get; set; }
    public string? UserName { get; set; }
    public string? UserRole { get; set; }
}

/// <summary>What happened to one row.</summary>
public sealed record ImportRowResult(int Line, string? Domain, string? PartnerId, string Outcome, IReadOnlyList<string> Reasons);

/// <summary>The import report: counts and one result per data row, in file order.</summary>
public sealed record ImportReport(bool DryRun, int Rows, int Created, int Updated, int Unchanged, int Rejected, IReadOnlyList<ImportRowResult> Results);

/// <summary>Imports partners and their users from CSV. Idempotent by partner domain; a dry run writes nothing.</summary>
public sealed class PartnerImport(PartnerDirectory directory, PartnerTeam team, IPartnerStore store, IStaffStore staff, IIdentityDirectory identities)
{
    public const int MaxRows = 50_000;

    /// <summary>
    /// Partners imported side by side. Each is a few dependent round trips (its key rows claimed concurrently, then one transaction of
    /// the partner's partition with its users); storage latency, not CPU, bounds one, so many run at once.
    /// </summary>
    public const int ImportParallelism = 32;
    public const string Columns = "partnerName,domain,country,region,tier,partnerType,status,channelManagerEmail,website,phone,city,userEmail,userName,userRole";
    private static readonly CreatePartnerValidator PartnerValidator = new();
    private static readonly InviteUserValidator UserValidator = new();

    public async Task<ImportReport> RunAsync(Caller caller, Stream csv, bool dryRun, CancellationToken ct)
    {
        if (!caller.IsAdmin) throw new ForbiddenException("Only program admins import partners.");
        var rows = Read(csv);
        var results = new ImportRowResult?[rows.Count];
        var staffList = await staff.ListAsync(ct);
        var managers = staffList.Where(s => s.Roles.Contains(AppRoles.ChannelManager)).ToDictionary(s => s.Email, s => s.Id, StringComparer.OrdinalIgnoreCase);

        var groups = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < rows.Count; i++)
        {
            var (line, row) = rows[i];
            var reasons = CheckRow(row, managers);
            if (reasons.Count > 0)
            {
                results[i] = new ImportRowResult(line, row.Domain, null, "rejected", reasons);
                continue;
            }
            var domain = Text.NormalizeDomain(row.Domain)!;
            if (!groups.TryGetValue(domain, out var list)) groups[domain] = list = [];
            list.Add(i);
        }

        try
        {
            await ImportGroupsAsync(caller, groups, rows, results, managers, staffList, dryRun, ct);
        }
        catch (Exception ex) when (!dryRun && ex is not PrmException && !ct.IsCancellationRequested)
        {
            // Domains done before the failure stay done (each is its own transaction); domains in flight may have landed too. Say so,
            // rather than the single request's "nothing was changed": the same file again completes the import.
            var kept = results.Count(r => r is { Outcome: not "rejected" });
            throw new OperationInterruptedException(
                $"The import stopped part way. At least {kept} of {rows.Count} rows were imported before it did and are kept; the others may not " +
                "have been. Send the same file again: the import is idempotent, rows already imported are reported as unchanged.", ex);
        }

        var final = results.Select(r => r!).ToList();
        return new ImportReport(dryRun, final.Count,
            final.Count(r => r.Outcome == "created"), final.Count(r => r.Outcome == "updated"),
            final.Count(r => r.Outcome == "unchanged"), final.Count(r => r.Outcome == "rejected"), final);
    }

    private async Task ImportGroupsAsync(Caller caller, Dictionary<string, List<int>> groups, List<(int Line, PartnerImportRow Row)> rows, ImportRowResult?[] results,
        IReadOnlyDictionary<string, string> managers, IReadOnlyList<StaffMember> staffList, bool dryRun, CancellationToken ct)
    {
        await Parallel.ForEachAsync(groups, new ParallelOptions { MaxDegreeOfParallelism = ImportParallelism, CancellationToken = ct }, async (group, token) =>
        {
            // The id a new partner of this domain gets, the same in every attempt: an attempt that finds it knows its own creation landed
            // although its answer was lost, and reports the rows as created then.
            var plannedId = Ids.New("ptn");
            // Likewise its people's ids: an attempt whose storage failed may leave its key rows behind (its clean-up failing too); with the
            // same ids they are this domain's own to the next attempt, not someone else's.
            var plannedUsers = new Dictionary<string, string>(StringComparer.Ordinal); // a domain's attempts run one after another
            var planned = new PlannedIds(plannedId, email => plannedUsers.TryGetValue(email, out var id) ? id : plannedUsers[email] = Ids.New("usr"));
            for (var attempt = 1; ; attempt++)
            {
                var open = group.Value.Where(i => results[i] is null).ToList();
                if (open.Count == 0) return;
                try
                {
                    await ImportGroupAsync(caller, new KeyValuePair<string, List<int>>(group.Key, open), rows, results, managers, staffList, dryRun, planned, token);
                    return;
                }
                catch (Exception ex) when (attempt < GroupAttempts && ex is not PrmException && !token.IsCancellationRequested)
                {
                    // Storage did not answer (a timeout, a dropped connection, a 503 past the storage client's own retries): this domain's
                    // rows not done yet are tried again from a fresh read, after a pause; rows done keep their outcome. Every step is
                    // idempotent (the partner is found by its domain, a person by their email), so a write that did land is not repeated.
                    await Task.Delay(RetryPause(attempt), token);
                }
            }
        });
    }

    /// <summary>The ids a domain's new partner and its people get, the same in every attempt of the import.</summary>
    private sealed record PlannedIds(string PartnerId, Func<string, string> UserIdFor);

    /// <summary>Attempts per domain when storage fails (not when a row is refused: that is the row's outcome).</summary>
    public const int GroupAttempts = 3;

    /// <summary>The pause before attempt number <paramref name="attempt"/> + 1 of a domain's rows (tests shorten it).</summary>
    public Func<int, TimeSpan> RetryPause { get; set; } = attempt => TimeSpan.FromSeconds(attempt == 1 ? 2 : 5);

    /// <summary>Imports (or plans) the rows of one domain whose results are still open.</summary>
    private async Task ImportGroupAsync(Caller caller, KeyValuePair<string, List<int>> group, List<(int Line, PartnerImportRow Row)> rows, ImportRowResult?[] results,
        IReadOnlyDictionary<string, string> managers, IReadOnlyList<StaffMember> staffList, bool dryRun, PlannedIds planned, CancellationToken token)
    {
        var plannedId = planned.PartnerId;
        var state = new GroupState { PartnerId = await store.FindByDomainAsync(group.Key, token) };
        // A domain key without its partner: a creation claimed it and its transaction did not commit, and storage failed its clean-up too.
        // This import's own (an earlier attempt's): the creation below claims its keys again (the same ids: held already) and commits.
        // Another's: the creation below takes it over once it is old enough to be abandoned (the partner store's rule), and otherwise
        // reports the domain as being claimed. Either way the rows are a new partner's, in the dry run too. The partner read here is kept
        // for the rows below (no second read).
        if (state.PartnerId is not null && (state.Partner = await store.GetAsync(state.PartnerId, token)) is null) state.PartnerId = null;
        if (state.PartnerId is not null)
        {
            // People already at the partner are neither planned nor invited again.
            await foreach (var email in ExistingEmailsAsync(state.PartnerId, token)) state.SeenEmails.Add(email);
        }
        IReadOnlyList<int> pending = group.Value;
        if (!dryRun && state.PartnerId is null)
        {
            (state.PartnerId, pending) = await CreateGroupAsync(caller, group.Key, group.Value, rows, results, managers, staffList, state.SeenEmails, planned, token);
        }
        else if (!dryRun && state.PartnerId == plannedId && !group.Value.Any(i => results[i] is not null))
        {
            // An earlier attempt created the partner with its first people, and storage lost the answer: the same outcome as if it had not.
            pending = CreatedOutcomes(group.Key, group.Value, rows, results, plannedId, state.SeenEmails);
        }
        foreach (var index in pending)
        {
            var (line, row) = rows[index];
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    results[index] = dryRun
                        ? await PlanAsync(line, row, group.Key, managers, state, token)
                        : await ApplyAsync(caller, line, row, group.Key, managers, state, token);
                    if (!dryRun) state.PartnerId ??= results[index]!.PartnerId;
                    if (dryRun && state.PartnerId is null && results[index]!.Outcome == "created") state.PartnerId = "(new)";
                    break;
                }
                catch (PreconditionFailedException) when (attempt == 0 && state.Partner is not null)
                {
                    // Changed by someone else since this domain's first row read it: read it again and apply the row to that.
                    state.Partner = null;
                }
                catch (PrmException ex)
                {
                    results[index] = new ImportRowResult(line, group.Key, state.PartnerId == "(new)" ? null : state.PartnerId, "rejected", Reasons(ex));
                    state.Partner = null;
                    break;
                }
            }
        }
    }

    /// <summary>
    /// Fast path for a new partner: one transaction creates it with the users of its rows. When a user's email is taken
    /// elsewhere, the partner is created alone and the rows are applied one by one so only the offending row is rejected.
    /// Returns the partner id and the rows still to apply.
    /// </summary>
    private async Task<(string? PartnerId, IReadOnlyList<int> Pending)> CreateGroupAsync(Caller caller, string domain, List<int> group,
        List<(int Line, PartnerImportRow Row)> rows, ImportRowResult?[] results, IReadOnlyDictionary<string, string> managers,
        IReadOnlyList<StaffMember> staffList, HashSet<string> seenEmails, PlannedIds planned, CancellationToken ct)
    {
        var plannedId = planned.PartnerId;
        var (_, first) = rows[group[0]];
        var people = FirstPeople(group, rows);
        var request = new CreatePartnerRequest(first.PartnerName, domain, first.Country, first.Region, Blank(first.Tier), Blank(first.PartnerType), Blank(first.Status),
            ManagerId(first, managers), Blank(first.Website), Blank(first.Phone), null, Blank(first.City), null);
        try
        {
            var created = await directory.CreateAsync(caller, request,
                people.Select(p => (p.Email!, p.Row.UserName!.Trim(), Text.ParseEnum<PartnerRole>(p.Row.UserRole) ?? PartnerRole.PartnerUser)).ToList(), staffList, ct, plannedId, planned.UserIdFor);
            return (created.Value.Id, CreatedOutcomes(domain, group, rows, results, created.Value.Id, seenEmails));
        }
        catch (ConflictException ex)
        {
            // Created by this import itself: the storage client retried the transaction whose first answer was lost and met its own rows
            // (a conflict without a field), or a key row it had claimed. The planned id is this import's alone, so the partner holding it
            // is this creation: the rows are reported as created.
            if (await store.GetAsync(plannedId, ct) is not null) return (plannedId, CreatedOutcomes(domain, group, rows, results, plannedId, seenEmails));
            // A person's email belongs to someone else: the partner is created alone and the rows applied one by one.
            if (ex.Field != "domain") return (null, group);
            // Created meanwhile by someone else: apply the rows to it. A key whose partner does not exist is a creation still in progress
            // (or one abandoned too recently to take over): the rows wait for a later run.
            var holder = await store.FindByDomainAsync(domain, ct);
            if (holder is not null && await store.GetAsync(holder, ct) is null)
            {
                foreach (var index in group) results[index] = new ImportRowResult(rows[index].Line, domain, null, "rejected", [DomainBeingClaimed(domain)]);
                return (null, []);
            }
            return (holder, group);
        }
        catch (PrmException ex)
        {
            foreach (var index in group) results[index] = new ImportRowResult(rows[index].Line, domain, null, "rejected", Reasons(ex));
            return (null, []);
        }
    }

    /// <summary>The people a new partner is created with: the distinct emails of its rows, at most as many as one transaction takes.</summary>
    private static List<(int Index, PartnerImportRow Row, string? Email)> FirstPeople(List<int> group, List<(int Line, PartnerImportRow Row)> rows) =>
        group.Select(i => (Index: i, Row: rows[i].Row, Email: Text.NormalizeEmail(rows[i].Row.UserEmail)))
            .Where(p => p.Email is not null)
            .DistinctBy(p => p.Email)
            .Take(PartnerDirectory.MaxUsersPerCreate)
            .ToList();

    /// <summary>The outcomes of a partner's creation with its first people: the first row created it, the rows of those people updated it; returns the rest.</summary>
    private static List<int> CreatedOutcomes(string domain, List<int> group, List<(int Line, PartnerImportRow Row)> rows, ImportRowResult?[] results, string partnerId,
        HashSet<string> seenEmails)
    {
        var people = FirstPeople(group, rows);
        var withUsers = people.Select(p => p.Index).ToHashSet();
        foreach (var p in people) seenEmails.Add(p.Email!);
        var pending = new List<int>();
        foreach (var index in group)
        {
            if (index == group[0]) results[index] = new ImportRowResult(rows[index].Line, domain, partnerId, "created", []);
            else if (withUsers.Contains(index)) results[index] = new ImportRowResult(rows[index].Line, domain, partnerId, "updated", []);
            else pending.Add(index);
        }
        return pending;
    }

    private async IAsyncEnumerable<string> ExistingEmailsAsync(string partnerId, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        string? cursor = null;
        do
        {
            var page = await store.ListUsersAsync(partnerId, new PageRequest(PageRequest.MaxLimit, cursor), ct);
            foreach (var user in page.Items) yield return user.Email;
            cursor = page.NextCursor;
        }
        while (cursor is not null);
    }

    /// <summary>
    /// One domain's progress through the file: its partner (once found or created), the partner record as last read (read once for all
    /// the domain's rows; dropped after a write that changes it, so the next row reads it again) and the emails it has.
    /// </summary>
    private sealed class GroupState
    {
        public string? PartnerId;
        public Versioned<Partner>? Partner;
        public readonly HashSet<string> SeenEmails = new(StringComparer.Ordinal);

        public async Task<Versioned<Partner>?> CurrentAsync(IPartnerStore store, CancellationToken ct) => Partner ??= await store.GetAsync(PartnerId!, ct);
    }

    /// <summary>
    /// The dry run's verdict, the one the real run reaches: a user email registered to someone else (another partner's user, or vendor
    /// staff) is not added — the row says why — and a new partner's first row inviting such an email as its admin is rejected the way
    /// the creation is.
    /// </summary>
    private async Task<ImportRowResult> PlanAsync(int line, PartnerImportRow row, string domain, IReadOnlyDictionary<string, string> managers, GroupState state, CancellationToken ct)
    {
        var userEmail = Text.NormalizeEmail(row.UserEmail);
        var reasons = new List<string>();
        var addsUser = false;
        if (userEmail is not null && !state.SeenEmails.Contains(userEmail))
        {
            var owner = await identities.FindEmailAsync(userEmail, ct);
            // A key naming a partner's user that does not exist is another creation's left by a double failure: free, as for its domain.
            if (owner is { PartnerId: { } holder } && await store.GetUserAsync(holder, owner.UserId, ct) is null) owner = null;
            var ownPartner = state.PartnerId is { } id && id != "(new)" ? id : null;
            if (owner is not null && (ownPartner is null || owner.PartnerId != ownPartner))
            {
                if (state.PartnerId is null && (Text.ParseEnum<PartnerRole>(row.UserRole) ?? PartnerRole.PartnerUser) == PartnerRole.PartnerAdmin)
                {
                    return new ImportRowResult(line, domain, null, "rejected", [EmailTaken(userEmail)]);
                }
                reasons.Add(EmailTaken(userEmail) + " The user is not added.");
            }
            else
            {
                addsUser = state.SeenEmails.Add(userEmail);
            }
        }
        if (state.PartnerId is null)
        {
            if (userEmail is not null && reasons.Count == 0) state.SeenEmails.Add(userEmail);
            return new ImportRowResult(line, domain, null, "created", reasons);
        }
        if (state.PartnerId == "(new)") return new ImportRowResult(line, domain, null, addsUser ? "updated" : "unchanged", reasons);
        var existing = await state.CurrentAsync(store, ct);
        var changes = existing is null ? 0 : ProfileChanges(existing.Value, row, managers).Count;
        return new ImportRowResult(line, domain, state.PartnerId, changes > 0 || addsUser ? "updated" : "unchanged", reasons);
    }

    /// <summary>Why a new partner's rows wait: another creation holds its domain and has not committed (yet).</summary>
    public static string DomainBeingClaimed(string domain) =>
        $"domain: {domain} is held by a partner creation that has not completed; import the row again later.";

    /// <summary>Why a row's user is not added: the email is registered to someone else in the program.</summary>
    private static string EmailTaken(string email) => $"userEmail: {email} already belongs to a user of the program (another partner's user or vendor staff).";

    private async Task<ImportRowResult> ApplyAsync(Caller caller, int line, PartnerImportRow row, string domain, IReadOnlyDictionary<string, string> managers, GroupState state, CancellationToken ct)
    {
        var partnerId = state.PartnerId;
        var seenEmails = state.SeenEmails;
        var userEmail = Text.NormalizeEmail(row.UserEmail);
        var role = Text.ParseEnum<PartnerRole>(row.UserRole) ?? PartnerRole.PartnerUser;
        if (partnerId is null)
        {
            // The first admin of the file is invited with the partner; other users follow one by one.
            var firstAdmin = userEmail is not null && role == PartnerRole.PartnerAdmin ? new NewPartnerAdmin(userEmail, row.UserName) : null;
            var created = await directory.CreateAsync(caller, new CreatePartnerRequest(
                row.PartnerName, domain, row.Country, row.Region, Blank(row.Tier), Blank(row.PartnerType), Blank(row.Status),
                ManagerId(row, managers), Blank(row.Website), Blank(row.Phone), null, Blank(row.City), firstAdmin), ct);
            var notes = new List<string>();
            if (firstAdmin is not null) seenEmails.Add(userEmail!);
            else if (userEmail is not null && (await AddUserAsync(caller, created.Value.Id, row, seenEmails, ct)).Reason is { } why) notes.Add(why);
            return new ImportRowResult(line, domain, created.Value.Id, "created", notes);
        }
        var outcome = "unchanged";
        var existing = await state.CurrentAsync(store, ct) ?? throw new NotFoundException("Partner");
        var changes = ProfileChanges(existing.Value, row, managers);
        if (changes.Count > 0)
        {
            await directory.PatchAsync(caller, partnerId, existing.ETag, new PatchPartnerRequest(
                changes.GetValueOrDefault("name"), changes.GetValueOrDefault("website"), changes.GetValueOrDefault("phone"), null,
                changes.GetValueOrDefault("city"), changes.GetValueOrDefault("country"), changes.GetValueOrDefault("region"),
                changes.GetValueOrDefault("tier"), changes.GetValueOrDefault("partnerType"), changes.GetValueOrDefault("status"),
                changes.GetValueOrDefault("channelManagerId")), ct);
            state.Partner = null;
            outcome = "updated";
        }
        var reasons = new List<string>();
        if (userEmail is not null)
        {
            var (added, reason) = await AddUserAsync(caller, partnerId, row, seenEmails, ct);
            if (added)
            {
                state.Partner = null; // an invitation counts the user on the partner record (a new ETag)
                outcome = "updated";
            }
            if (reason is not null) reasons.Add(reason);
        }
        return new ImportRowResult(line, domain, partnerId, outcome, reasons);
    }

    /// <summary>Invites the row's user unless the partner has it already; an email registered to someone else is not added, with the reason.</summary>
    private async Task<(bool Added, string? Reason)> AddUserAsync(Caller caller, string partnerId, PartnerImportRow row, HashSet<string> seenEmails, CancellationToken ct)
    {
        var email = Text.NormalizeEmail(row.UserEmail)!;
        if (!seenEmails.Add(email)) return (false, null);
        try
        {
            await team.InviteAsync(caller, partnerId, new InviteUserRequest(email, row.UserName, Blank(row.UserRole)), ct);
            return (true, null);
        }
        catch (ConflictException)
        {
            // Registered meanwhile: to this partner (a concurrent run of the same file) nothing to do; to anyone else the row says why.
            var owner = await identities.FindEmailAsync(email, ct);
            return (false, owner is not null && owner.PartnerId == partnerId ? null : EmailTaken(email) + " The user is not added.");
        }
    }

    /// <summary>The vendor-side and profile fields whose row value differs from the stored partner.</summary>
    private static Dictionary<string, string> ProfileChanges(Partner p, PartnerImportRow row, IReadOnlyDictionary<string, string> managers)
    {
        var changes = new Dictionary<string, string>();
        void Compare(string field, string? value, string current)
        {
            if (!string.IsNullOrWhiteSpace(value) && !string.Equals(value.Trim(), current, StringComparison.Ordinal)) changes[field] = value.Trim();
        }
        Compare("name", row.PartnerName, p.Name);
        Compare("country", row.Country, p.Country);
        Compare("region", row.Region, p.Region);
        Compare("website", row.Website, p.Website ?? "");
        Compare("phone", row.Phone, p.Phone ?? "");
        Compare("city", row.City, p.City ?? "");
        if (Text.ParseEnum<PartnerTier>(row.Tier) is { } tier && tier != p.Tier) changes["tier"] = Text.Camel(tier);
        if (Text.ParseEnum<PartnerType>(row.PartnerType) is { } type && type != p.Type) changes["partnerType"] = Text.Camel(type);
        if (Text.ParseEnum<PartnerStatus>(row.Status) is { } status && status != p.Status) changes["status"] = status.ToString();
        if (ManagerId(row, managers) is { } manager && manager != p.ChannelManagerId) changes["channelManagerId"] = manager;
        return changes;
    }

    private static List<string> CheckRow(PartnerImportRow row, IReadOnlyDictionary<string, string> managers)
    {
        var reasons = new List<string>();
        var partner = PartnerValidator.Validate(new CreatePartnerRequest(row.PartnerName, row.Domain, row.Country, row.Region, Blank(row.Tier),
            Blank(row.PartnerType), Blank(row.Status), null, Blank(row.Website), Blank(row.Phone), null, Blank(row.City), null));
        reasons.AddRange(partner.Errors.Select(e => e.ErrorMessage.Replace("'", "", StringComparison.Ordinal)));
        if (!string.IsNullOrWhiteSpace(row.ChannelManagerEmail) && !managers.ContainsKey(row.ChannelManagerEmail.Trim()))
        {
            reasons.Add($"channelManagerEmail {row.ChannelManagerEmail.Trim()} is not a channel manager.");
        }
        if (!string.IsNullOrWhiteSpace(row.UserEmail) || !string.IsNullOrWhiteSpace(row.UserName))
        {
            var user = UserValidator.Validate(new InviteUserRequest(Blank(row.UserEmail), Blank(row.UserName), Blank(row.UserRole)));
            reasons.AddRange(user.Errors.Select(e => "user: " + e.ErrorMessage.Replace("'", "", StringComparison.Ordinal)));
        }
        return reasons;
    }

    private static string? ManagerId(PartnerImportRow row, IReadOnlyDictionary<string, string> managers) =>
        string.IsNullOrWhiteSpace(row.ChannelManagerEmail) ? null : managers[row.ChannelManagerEmail.Trim()];

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static List<string> Reasons(PrmException ex) => ex is ValidationFailedException v
        ? v.Errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}")).ToList()
        : [ex.Message];

    /// <summary>Parses the CSV (header required, columns in any order, unknown columns ignored).</summary>
    private static List<(int Line, PartnerImportRow Row)> Read(Stream csv) => CsvRows.Read<PartnerImportRow>(csv, Columns, ["partnername", "domain", "country", "region"], MaxRows);
}
