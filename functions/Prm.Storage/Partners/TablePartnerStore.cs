using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Partners;
using Prm.Storage.Outbox;

namespace Prm.Storage.Partners;

/// <summary>Partners on Table Storage: a partition per partner, key rows for domains and emails, a list index.</summary>
public sealed class TablePartnerStore(PrmTables tables, PartitionWriter writer, PartnerIndex index, ILogger<TablePartnerStore> log, TimeProvider clock) : IPartnerStore
{
    public Task<Versioned<Partner>?> GetAsync(string partnerId, CancellationToken ct) =>
        DeliveryReads.Current is { } shared ? shared.PartnerAsync(partnerId, () => ReadAsync(partnerId, ct)) : ReadAsync(partnerId, ct);

    private async Task<Versioned<Partner>?> ReadAsync(string partnerId, CancellationToken ct)
    {
        var found = await tables.Partners.GetEntityIfExistsAsync<TableEntity>(partnerId, PartnerRows.ProfileKey, cancellationToken: ct);
        return found.HasValue ? new Versioned<Partner>(PartnerRows.ReadPartner(found.Value!), found.Value!.ETag.ToString()) : null;
    }

    /// <summary>A transaction of the partner's partition; an outbox delivery's shared read of the partner is forgotten, whatever the outcome.</summary>
    private async Task<IReadOnlyList<string>> CommitAsync(string partnerId, IReadOnlyList<TableTransactionAction> actions, ChangeSet changes, CancellationToken ct, Task? alongside = null)
    {
        DeliveryReads.Current?.Forget(partnerId);
        try
        {
            return await writer.CommitAsync(tables.Partners, partnerId, actions, changes, ct, alongside: alongside);
        }
        finally
        {
            DeliveryReads.Current?.Forget(partnerId);
        }
    }

    public async Task<string?> FindByDomainAsync(string domain, CancellationToken ct)
    {
        var found = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(KeyRows.Domain(domain), "", cancellationToken: ct);
        return found.HasValue ? found.Value!.GetString("PartnerId") : null;
    }

    public async Task<string> CreateAsync(Partner partner, IReadOnlyList<PartnerUser> users, ChangeSet changes, CancellationToken ct, Task? alongside = null, bool reserved = false)
    {
        partner = Committed(partner);
        var claimed = new List<(string Key, Azure.ETag ETag)>();
        try
        {
            // The domain and every email are claimed side by side; what was claimed is released in the finally when any claim (or the
            // commit) fails. Reserved keys are looked at first (held already: one read) and are the caller's to give back. A creation's
            // own claims say so (the claim column), so one abandoned by a failure whose release failed too can be taken over later.
            Func<string, Dictionary<string, object?>, string, string, CancellationToken, Task<Azure.ETag?>> claim = reserved ? HeldOrClaimAsync : ClaimOwnAsync;
            Dictionary<string, object?> Claimed(Dictionary<string, object?> values)
            {
                if (!reserved) values[KeyRows.ClaimColumn] = KeyRows.ByCreation;
                return values;
            }
            var claims = new List<(string Key, Task<Azure.ETag?> Claim)>
            {
                (KeyRows.Domain(partner.Domain), claim(KeyRows.Domain(partner.Domain), Claimed(new() { ["PartnerId"] = partner.Id }), "domain", $"A partner with the domain {partner.Domain} already exists.", ct)),
            };
            claims.AddRange(users.Select(user => (KeyRows.Email(user.Email),
                claim(KeyRows.Email(user.Email), Claimed(EmailKey(user)), "admin.email", $"{user.Email} already belongs to a user of the program.", ct))));
            var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Add, PartnerRows.Profile(partner)) };
            actions.AddRange(users.Select(u => new TableTransactionAction(TableTransactionActionType.Add, PartnerRows.User(u))));
            // The claims (and the caller's own writes) run side by side with the outbox pointers; the transaction waits for all.
            var claiming = AllClaimedAsync(claims, reserved ? [] : claimed);
            var etags = await CommitAsync(partner.Id, actions, changes, ct, alongside: alongside is null ? claiming : Task.WhenAll(claiming, alongside));
            claimed.Clear();
            if (reserved)
            {
                // The reserved keys were only looked at before the commit; an approval of the same application that failed meanwhile may
                // have given them back (it saw neither an approved application nor this partner). They are claimed again beside the index
                // refresh (an insert each, a conflict meaning still held); the release re-claims them too when it finds the approval.
                var keys = new List<(string Key, Dictionary<string, object?> Values)> { (KeyRows.Domain(partner.Domain), new() { ["PartnerId"] = partner.Id }) };
                keys.AddRange(users.Select(user => (KeyRows.Email(user.Email), EmailKey(user))));
                await Task.WhenAll(RefreshIndexAsync(partner, null, null, ct, created: true), Task.WhenAll(keys.Select(k => KeepKeyAsync(k.Key, k.Values, partner.Id, ct))));
            }
            else
            {
                await RefreshIndexAsync(partner, null, null, ct, created: true);
            }
            return etags[0];
        }
        finally
        {
            // A failed create releases what it claimed, so the domain and emails stay available — unless the same partner was created
            // meanwhile (a concurrent creation of a partner whose id was chosen in advance): then the keys are that partner's.
            if (claimed.Count > 0 && await GetAsync(partner.Id, CancellationToken.None) is null) await ReleaseClaimsAsync(claimed);
        }
    }

    public async Task ReserveAsync(PartnerReservation reservation, CancellationToken ct)
    {
        var claimed = new List<(string Key, Azure.ETag ETag)>();
        try
        {
            var domain = KeyRows.Domain(reservation.Domain);
            var email = KeyRows.Email(reservation.AdminEmail);
            await AllClaimedAsync(
            [
                (domain, ClaimOwnAsync(domain, new() { ["PartnerId"] = reservation.PartnerId }, "domain", $"A partner with the domain {reservation.Domain} already exists.", ct)),
                (email, ClaimOwnAsync(email, new() { ["UserId"] = reservation.AdminUserId, ["PartnerId"] = reservation.PartnerId }, "admin.email",
                    $"{reservation.AdminEmail} already belongs to a user of the program.", ct)),
            ], claimed);
            claimed.Clear();
        }
        finally
        {
            // Both keys or neither: a reservation refused for its email gives its domain back.
            await ReleaseClaimsAsync(claimed);
        }
    }

    /// <summary>
    /// Gives back key rows this call inserted, each only as it was inserted (If-Match its ETag): a row taken over meanwhile (an abandoned
    /// claim, <see cref="ReleaseAbandonedAsync"/>) is someone else's now and stays.
    /// </summary>
    private async Task ReleaseClaimsAsync(IEnumerable<(string Key, Azure.ETag ETag)> claimed)
    {
        foreach (var (key, etag) in claimed)
        {
            try
            {
                await tables.Keys.DeleteEntityAsync(key, "", etag, CancellationToken.None);
            }
            catch (Azure.RequestFailedException ex) when (ex.Status is 404 or 412)
            {
                // Gone or taken over meanwhile.
            }
        }
    }

    public async Task ReleaseAsync(PartnerReservation reservation, CancellationToken ct)
    {
        if (await GetAsync(reservation.PartnerId, ct) is not null) return;
        await DeleteIfHeldAsync(KeyRows.Domain(reservation.Domain), reservation.PartnerId, null, ct);
        await DeleteIfHeldAsync(KeyRows.Email(reservation.AdminEmail), reservation.PartnerId, reservation.AdminUserId, ct);
    }

    public async Task<string> UpdateAsync(Partner partner, string etag, ChangeSet changes, CancellationToken ct) => (await UpdateWithAsync(partner, etag, [], changes, ct))[0];

    /// <summary>
    /// Replaces the partner (If-Match) together with other rows of its partition (the tier record) in one transaction, then refreshes the
    /// list index. Returns the ETags: the partner's first, then those of <paramref name="alongside"/>.
    /// </summary>
    public async Task<IReadOnlyList<string>> UpdateWithAsync(Partner partner, string etag, IReadOnlyList<TableTransactionAction> alongside, ChangeSet changes, CancellationToken ct)
    {
        partner = Committed(partner);
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.UpdateReplace, PartnerRows.Profile(partner), new Azure.ETag(etag)) };
        actions.AddRange(alongside);
        var read = index.ReadRows(partner);
        var etags = await CommitAsync(partner.Id, actions, changes, ct);
        var previous = changes.Audit.SelectMany(a => a.Changes).ToList();
        await RefreshIndexAsync(partner, read,
            previous.FirstOrDefault(c => c.Field == "name")?.Before,
            // With an unchanged owner the previous owner is the current one: a rename must move that row too.
            previous.FirstOrDefault(c => c.Field == "channelManagerId") is { } ownerChange ? ownerChange.Before : partner.ChannelManagerId,
            ct);
        return etags;
    }

    public Task<Prm.Core.Common.Page<Partner>> ListAsync(PartnerQuery query, PageRequest page, CancellationToken ct) => index.ListAsync(query, page, ct);

    public async Task<Versioned<PartnerUser>?> GetUserAsync(string partnerId, string userId, CancellationToken ct)
    {
        var found = await tables.Partners.GetEntityIfExistsAsync<TableEntity>(partnerId, PartnerRows.UserPrefix + userId, cancellationToken: ct);
        return found.HasValue ? new Versioned<PartnerUser>(PartnerRows.ReadUser(found.Value!), found.Value!.ETag.ToString()) : null;
    }

    public Task<Prm.Core.Common.Page<PartnerUser>> ListUsersAsync(string partnerId, PageRequest page, CancellationToken ct) =>
        PrmTables.PageAsync(tables.Partners,
            TableClient.CreateQueryFilter($"PartitionKey eq {partnerId} and RowKey ge {PartnerRows.UserPrefix} and RowKey lt {KeyEncoding.PrefixEnd(PartnerRows.UserPrefix)}"),
            page, PartnerRows.ReadUser, ct);

    public async Task<string> AddUserAsync(Partner partner, string partnerETag, PartnerUser user, ChangeSet changes, CancellationToken ct)
    {
        partner = Committed(partner);
        // The email's key row is claimed side by side with the outbox pointers, before the transaction.
        var values = EmailKey(user);
        values[KeyRows.ClaimColumn] = KeyRows.ByInvitation;
        var claim = ClaimAsync(KeyRows.Email(user.Email), values, "email", $"{user.Email} already belongs to a user of the program.", ct);
        IReadOnlyList<string> etags;
        var read = index.ReadRows(partner);
        try
        {
            etags = await CommitAsync(partner.Id,
            [
                new(TableTransactionActionType.UpdateReplace, PartnerRows.Profile(partner), new Azure.ETag(partnerETag)),
                new(TableTransactionActionType.Add, PartnerRows.User(user)),
            ], changes, ct, alongside: claim);
        }
        catch
        {
            // Only a claim this call made is released (a refused claim belongs to someone else), and only when the user is not there
            // (a transaction whose answer was lost may have committed).
            if (claim.IsCompletedSuccessfully && await GetUserAsync(partner.Id, user.Id, CancellationToken.None) is null)
            {
                await ReleaseClaimsAsync([(KeyRows.Email(user.Email), claim.Result)]);
            }
            throw;
        }
        await RefreshIndexAsync(partner, read, null, null, ct);
        return etags[1];
    }

    public async Task<string> UpdateUserAsync(Partner partner, string partnerETag, PartnerUser user, string userETag, ChangeSet changes, CancellationToken ct)
    {
        partner = Committed(partner);
        var etags = await CommitAsync(partner.Id,
        [
            new(TableTransactionActionType.UpdateReplace, PartnerRows.User(user), new Azure.ETag(userETag)),
            new(TableTransactionActionType.UpdateReplace, PartnerRows.Profile(partner), new Azure.ETag(partnerETag)),
        ], changes, ct);
        await SyncIdentityAsync(user, disabled: false, ct);
        return etags[0];
    }

    public async Task RemoveUserAsync(Partner partner, string partnerETag, PartnerUser user, string userETag, ChangeSet changes, CancellationToken ct)
    {
        partner = Committed(partner);
        // Access is revoked before the user row goes: a failure in between leaves a disabled user, never an orphaned login.
        await SyncIdentityAsync(user, disabled: true, ct);
        var read = index.ReadRows(partner);
        try
        {
            await CommitAsync(partner.Id,
            [
                new(TableTransactionActionType.Delete, PartnerRows.User(user), new Azure.ETag(userETag)),
                new(TableTransactionActionType.UpdateReplace, PartnerRows.Profile(partner), new Azure.ETag(partnerETag)),
            ], changes, ct);
        }
        catch
        {
            await SyncIdentityAsync(user, disabled: false, CancellationToken.None);
            throw;
        }
        // The user's own email key only (If-Match the row read): once the user row is gone, a new claim may take the key over at once.
        await DeleteIfHeldAsync(KeyRows.Email(user.Email), partner.Id, user.Id, ct);
        if (user.TenantId is not null && user.ObjectId is not null)
        {
            await tables.Keys.DeleteEntityAsync(KeyRows.Identity(user.TenantId, user.ObjectId), "", Azure.ETag.All, ct);
        }
        await RefreshIndexAsync(partner, read, null, null, ct);
    }

    public Task<Prm.Core.Common.Page<AuditEntry>> TimelineAsync(string partnerId, PageRequest page, CancellationToken ct) =>
        PrmTables.PageAsync(tables.Partners,
            TableClient.CreateQueryFilter($"PartitionKey eq {partnerId} and RowKey ge {OutboxRows.AuditPrefix} and RowKey lt {KeyEncoding.PrefixEnd(OutboxRows.AuditPrefix)}"),
            page, OutboxRows.ReadAudit, ct);

    /// <summary>Re-writes the identity link of a user who has signed in, so role changes apply at their next request.</summary>
    internal async Task SyncIdentityAsync(PartnerUser user, bool disabled, CancellationToken ct)
    {
        if (user.TenantId is null || user.ObjectId is null) return;
        await tables.Keys.UpsertEntityAsync(TableIdentityDirectory.IdentityEntity(user.TenantId, user.ObjectId, user.Id, user.PartnerId, user.Role, user.Email, user.DisplayName, disabled), TableUpdateMode.Replace, ct);
    }

    /// <summary>The record as a commit stores it: one revision past the one it was read at (<see cref="Partner.Revision"/>).</summary>
    private static Partner Committed(Partner partner) => partner with { Revision = partner.Revision + 1 };

    private Task RefreshIndexAsync(Partner partner, string? previousName, string? previousOwner, CancellationToken ct, bool created = false) =>
        RefreshIndexAsync(partner, null, previousName, previousOwner, ct, created);

    /// <param name="read">The index rows read beside the commit (<see cref="PartnerIndex.ReadRows"/>), or null to read them now.</param>
    private async Task RefreshIndexAsync(Partner partner, PartnerIndex.IndexRead? read, string? previousName, string? previousOwner, CancellationToken ct, bool created = false)
    {
        try
        {
            await index.RefreshAsync(partner, previousName, previousOwner, ct, created, read);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The outbox event of this change refreshes the index again; the request itself succeeded (a network failure past the
            // storage client's retries included: the change is committed, so the caller must not be told otherwise).
            log.LogWarning(ex, "Partner index refresh for {PartnerId} failed; the outbox projection will repair it", partner.Id);
        }
    }

    /// <summary>
    /// Waits for claims made side by side; every key this call newly claimed is added to <paramref name="claimed"/> with its row's ETag
    /// (also when another claim failed, so the caller can release it), then the first failure, if any, is thrown.
    /// </summary>
    private static async Task AllClaimedAsync(IReadOnlyList<(string Key, Task<Azure.ETag?> Claim)> claims, List<(string Key, Azure.ETag ETag)> claimed)
    {
        try
        {
            await Task.WhenAll(claims.Select(c => c.Claim));
        }
        finally
        {
            claimed.AddRange(claims.Where(c => c.Claim.IsCompletedSuccessfully && c.Claim.Result is not null).Select(c => (c.Key, c.Claim.Result!.Value)));
        }
    }

    /// <summary>Inserts a key row (its ETag returned); a conflict when someone else holds it (a row abandoned by a failed claim is taken over).</summary>
    private async Task<Azure.ETag> ClaimAsync(string key, Dictionary<string, object?> values, string field, string conflict, CancellationToken ct)
    {
        var entity = new TableEntity(key, "");
        foreach (var (k, v) in values) entity[k] = v;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return (await tables.Keys.AddEntityAsync(entity, ct)).Headers.ETag ?? Azure.ETag.All;
            }
            catch (Azure.RequestFailedException ex) when (ex.Status == 409)
            {
                // A row with exactly these values (a fresh user id among them) is this insert's own, resent by the storage client after
                // its answer was lost.
                var held = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(key, "", cancellationToken: ct);
                if (held.HasValue && HeldFor(held.Value!, values)) return held.Value!.ETag;
                if (attempt == 0 && (!held.HasValue || await ReleaseAbandonedAsync(held.Value!, ct))) continue;
                throw new ConflictException(conflict, field);
            }
        }
    }

    /// <summary>
    /// Claims a key row (the inserted row's ETag); null when the row exists with exactly these values (held for this partner already: its
    /// reservation, or a concurrent creation of the same partner), a conflict when someone else holds it. A row abandoned by a failed claim
    /// is taken over (<see cref="ReleaseAbandonedAsync"/>).
    /// </summary>
    private async Task<Azure.ETag?> ClaimOwnAsync(string key, Dictionary<string, object?> values, string field, string conflict, CancellationToken ct)
    {
        var entity = new TableEntity(key, "");
        foreach (var (k, v) in values) entity[k] = v;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return (await tables.Keys.AddEntityAsync(entity, ct)).Headers.ETag ?? Azure.ETag.All;
            }
            catch (Azure.RequestFailedException ex) when (ex.Status == 409)
            {
                var held = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(key, "", cancellationToken: ct);
                if (!held.HasValue) { if (attempt == 0) continue; throw new ConflictException(conflict, field); }
                if (HeldFor(held.Value!, values))
                {
                    if (await KeepHeldAsync(held.Value!, entity, ct)) return null;
                    if (attempt == 0) continue;
                    throw new ConflictException(conflict, field);
                }
                if (attempt == 0 && await ReleaseAbandonedAsync(held.Value!, ct)) continue;
                throw new ConflictException(conflict, field);
            }
        }
    }

    /// <summary>
    /// A reserved key: null when it is held with exactly these values (one read), claimed (its ETag) when it is missing (the reservation was
    /// given back meanwhile), a conflict when someone else holds it.
    /// </summary>
    private async Task<Azure.ETag?> HeldOrClaimAsync(string key, Dictionary<string, object?> values, string field, string conflict, CancellationToken ct)
    {
        var held = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(key, "", cancellationToken: ct);
        if (!held.HasValue) return await ClaimOwnAsync(key, values, field, conflict, ct);
        if (!HeldFor(held.Value!, values)) throw new ConflictException(conflict, field);
        var entity = new TableEntity(key, "");
        foreach (var (k, v) in values) entity[k] = v;
        if (await KeepHeldAsync(held.Value!, entity, ct)) return null;
        return await ClaimOwnAsync(key, values, field, conflict, ct); // changed or gone meanwhile: claimed again, or someone else's
    }

    /// <summary>
    /// A key row held for this partner already, claimed by an earlier creation (its claim column): written again with this call's values
    /// (If-Match), so its age starts now — a creation of the same partner retried long after (an approval's outbox retry, an import's next
    /// attempt) is not taken for an abandoned one while it commits, and a reservation's drops the claim column (never taken). A row without
    /// the column is left as it is. False when the row changed or went meanwhile.
    /// </summary>
    private async Task<bool> KeepHeldAsync(TableEntity held, TableEntity entity, CancellationToken ct)
    {
        if (held.GetString(KeyRows.ClaimColumn) is null) return true;
        try
        {
            await tables.Keys.UpdateEntityAsync(entity, held.ETag, TableUpdateMode.Replace, ct);
            return true;
        }
        catch (Azure.RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return false;
        }
    }

    /// <summary>Whether a key row names the same partner and user as these values (who claimed it, the claim column, does not matter).</summary>
    private static bool HeldFor(TableEntity held, Dictionary<string, object?> values) =>
        values.Where(v => v.Key != KeyRows.ClaimColumn).All(v => Equals(held.TryGetValue(v.Key, out var actual) ? actual : null, v.Value));

    /// <summary>
    /// Deletes a key row that stands for nothing, so the claim that met it can be made again: claimed by a partner's creation or a user's
    /// invitation (its claim column) at least <see cref="KeyRows.AbandonedClaimAfter"/> ago, and the partner (a domain key) or the user (an
    /// email key) it names does not exist — the claim's transaction failed and so did the release of its keys (storage failing twice), or a
    /// removed user's key outlived its delete. Rows of reservations (an application's partner-to-be, which may wait days) and of vendor staff
    /// carry no claim column and are never taken. The delete is If-Match the row read, so a row changed meanwhile stays.
    /// </summary>
    private async Task<bool> ReleaseAbandonedAsync(TableEntity held, CancellationToken ct)
    {
        if (held.GetString(KeyRows.ClaimColumn) is not (KeyRows.ByCreation or KeyRows.ByInvitation)) return false;
        if (held.Timestamp is not { } at || clock.GetUtcNow() - at < KeyRows.AbandonedClaimAfter) return false;
        if (held.GetString("PartnerId") is not { } partnerId) return false;
        var holder = held.GetString("UserId") is { } userId ? PartnerRows.UserPrefix + userId : PartnerRows.ProfileKey;
        if ((await tables.Partners.GetEntityIfExistsAsync<TableEntity>(partnerId, holder, ["RowKey"], ct)).HasValue) return false;
        try
        {
            await tables.Keys.DeleteEntityAsync(held.PartitionKey, held.RowKey, held.ETag, ct);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return ex.Status == 404; // gone: claim again; changed meanwhile: it is someone's
        }
        log.LogWarning("Key row {Key} named {PartnerId}/{Holder}, which does not exist, since {ClaimedAt:o}: an abandoned claim, taken over", held.PartitionKey, partnerId, holder, at);
        return true;
    }

    /// <summary>Inserts a key row of a committed partner unless a row with that key exists (a conflict: still held, or taken).</summary>
    private async Task KeepKeyAsync(string key, Dictionary<string, object?> values, string partnerId, CancellationToken ct)
    {
        var entity = new TableEntity(key, "");
        foreach (var (k, v) in values) entity[k] = v;
        try
        {
            await tables.Keys.AddEntityAsync(entity, ct);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 409)
        {
            // Held (by this partner's reservation, as expected).
        }
        catch (Azure.RequestFailedException ex)
        {
            log.LogWarning(ex, "Could not confirm key row {Key} of partner {PartnerId}", key, partnerId);
        }
    }

    private async Task DeleteIfHeldAsync(string key, string partnerId, string? userId, CancellationToken ct)
    {
        var held = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(key, "", cancellationToken: ct);
        if (!held.HasValue || held.Value!.GetString("PartnerId") != partnerId || (userId is not null && held.Value.GetString("UserId") != userId)) return;
        try
        {
            await tables.Keys.DeleteEntityAsync(key, "", held.Value.ETag, ct);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            // Gone or taken meanwhile: nothing of this reservation is left to give back.
        }
    }

    private static Dictionary<string, object?> EmailKey(PartnerUser user) => new() { ["UserId"] = user.Id, ["PartnerId"] = user.PartnerId };
}
