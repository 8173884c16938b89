using Azure.Data.Tables;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;
using Prm.Storage.Partners;

namespace Prm.Storage;

/// <summary>Identity links and email registrations in the keys table.</summary>
public sealed class TableIdentityDirectory(PrmTables tables, PartitionWriter writer, TimeProvider clock) : IIdentityDirectory
{
    public async Task<IdentityLink?> FindIdentityAsync(string tenantId, string objectId, CancellationToken ct)
    {
        var found = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(KeyRows.Identity(tenantId, objectId), "", cancellationToken: ct);
        if (!found.HasValue) return null;
        var e = found.Value!;
        return new IdentityLink(tenantId, objectId, e.GetString("UserId"), e.GetString("PartnerId"),
            e.GetString("PartnerRole") is { } role ? Enum.Parse<PartnerRole>(role) : null,
            e.GetString("Email"), e.GetString("DisplayName"), e.GetBoolean("Disabled") ?? false);
    }

    public async Task<EmailRegistration?> FindEmailAsync(string email, CancellationToken ct)
    {
        var found = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(KeyRows.Email(email), "", cancellationToken: ct);
        return found.HasValue ? new EmailRegistration(email, found.Value!.GetString("UserId"), found.Value!.GetString("PartnerId")) : null;
    }

    public async Task<IdentityLink?> LinkAsync(string tenantId, string objectId, EmailRegistration registration, string displayName, CancellationToken ct)
    {
        if (registration.PartnerId is null)
        {
            var staff = await tables.Staff.GetEntityIfExistsAsync<TableEntity>(TableStaffStore.Partition, registration.UserId, cancellationToken: ct);
            if (!staff.HasValue) return null;
            var staffLink = new IdentityLink(tenantId, objectId, registration.UserId, null, null, registration.Email, staff.Value!.GetString("DisplayName"), false);
            await WriteLinkAsync(staffLink, ct);
            return staffLink;
        }
        var userRow = await tables.Partners.GetEntityIfExistsAsync<TableEntity>(registration.PartnerId, PartnerRows.UserPrefix + registration.UserId, cancellationToken: ct);
        if (!userRow.HasValue) return null;
        var user = PartnerRows.ReadUser(userRow.Value!);
        if (user.ObjectId is not null && (user.TenantId != tenantId || user.ObjectId != objectId))
        {
            // The invitation was already accepted by another identity: never re-bind silently.
            return null;
        }
        var now = clock.GetUtcNow();
        var joined = user with { Status = PartnerUserStatus.Active, JoinedAt = user.JoinedAt ?? now, TenantId = tenantId, ObjectId = objectId, InvitationCodeHash = null };
        var link = new IdentityLink(tenantId, objectId, user.Id, user.PartnerId, user.Role, user.Email, user.DisplayName, false);
        await WriteLinkAsync(link, ct);
        if (user.ObjectId is null)
        {
            var entry = new AuditEntry(Ids.New("aud"), now, user.Id, user.DisplayName, "partner.user.joined", "partnerUser", user.Id, Diff.Between(user.Snapshot(), joined.Snapshot()));
            try
            {
                await writer.CommitAsync(tables.Partners, user.PartnerId,
                    [new(TableTransactionActionType.UpdateReplace, PartnerRows.User(joined), userRow.Value!.ETag)],
                    new ChangeSet([entry], [Core.Outbox.OutboxMessage.ForEvent(PartnerEvents.User(PartnerEvents.UserJoinedType, joined, entry.Changes, now))]), ct);
            }
            catch (PreconditionFailedException)
            {
                // Someone changed the user meanwhile (e.g. a role change); the link stands, the next sign-in marks the join.
            }
        }
        return link;
    }

    public async Task<IdentityLink> RegisterStaffAsync(string tenantId, string objectId, string email, string displayName, IReadOnlyList<string> roles, CancellationToken ct)
    {
        var id = Ids.New("usr");
        await tables.Staff.UpsertEntityAsync(TableStaffStore.ToEntity(new StaffMember(id, email, displayName, roles, null)), TableUpdateMode.Replace, ct);
        try
        {
            await tables.Keys.AddEntityAsync(new TableEntity(KeyRows.Email(email), "") { ["UserId"] = id, ["PartnerId"] = null }, ct);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 409)
        {
            // A key naming this fresh id is this insert's own, resent by the storage client after its answer was lost: the
            // registration stands. Otherwise another request registered this email first; use that registration.
            if (await KeyHeldByAsync(KeyRows.Email(email), id, ct)) return await LinkStaffAsync(tenantId, objectId, id, email, displayName, ct);
            await tables.Staff.DeleteEntityAsync(TableStaffStore.Partition, id, Azure.ETag.All, ct);
            var existing = await FindEmailAsync(email, ct);
            return await LinkAsync(tenantId, objectId, existing!, displayName, ct) ?? throw new ForbiddenException("This email belongs to a partner user.");
        }
        return await LinkStaffAsync(tenantId, objectId, id, email, displayName, ct);
    }

    private async Task<IdentityLink> LinkStaffAsync(string tenantId, string objectId, string id, string email, string displayName, CancellationToken ct)
    {
        var link = new IdentityLink(tenantId, objectId, id, null, null, email, displayName, false);
        await WriteLinkAsync(link, ct);
        return link;
    }

    private async Task<bool> KeyHeldByAsync(string key, string userId, CancellationToken ct)
    {
        var held = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(key, "", ["UserId"], ct);
        return held.HasValue && held.Value!.GetString("UserId") == userId;
    }

    private Task WriteLinkAsync(IdentityLink link, CancellationToken ct) =>
        tables.Keys.UpsertEntityAsync(IdentityEntity(link.TenantId, link.ObjectId, link.UserId, link.PartnerId, link.PartnerRole, link.Email, link.DisplayName, link.Disabled), TableUpdateMode.Replace, ct);

    internal static TableEntity IdentityEntity(string tenantId, string objectId, string userId, string? partnerId, PartnerRole? role, string email, string displayName, bool disabled) =>
        new(KeyRows.Identity(tenantId, objectId), "")
        {
            ["UserId"] = userId,
            ["PartnerId"] = partnerId,
            ["PartnerRole"] = role?.ToString(),
            ["Email"] = email,
            ["DisplayName"] = displayName,
            ["Disabled"] = disabled,
        };
}

/// <summary>Vendor staff in their own table (one partition: staff are few).</summary>
public sealed class TableStaffStore(PrmTables tables) : IStaffStore
{
    public const string Partition = "staff";

    public async Task<StaffMember?> GetAsync(string userId, CancellationToken ct)
    {
        if (!Ids.LooksLike(userId, "usr")) return null;
        var found = await tables.Staff.GetEntityIfExistsAsync<TableEntity>(Partition, userId, cancellationToken: ct);
        return found.HasValue ? Read(found.Value!) : null;
    }

    public async Task<StaffMember?> FindByEmailAsync(string email, CancellationToken ct)
    {
        var found = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(KeyRows.Email(email), "", cancellationToken: ct);
        if (!found.HasValue || found.Value!.GetString("PartnerId") is not null) return null;
        return await GetAsync(found.Value!.GetString("UserId"), ct);
    }

    public async Task<IReadOnlyList<StaffMember>> ListAsync(CancellationToken ct)
    {
        var list = new List<StaffMember>();
        await foreach (var e in tables.Staff.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition}"), cancellationToken: ct)) list.Add(Read(e));
        return list;
    }

    public async Task UpsertAsync(StaffMember member, CancellationToken ct)
    {
        await tables.Staff.UpsertEntityAsync(ToEntity(member), TableUpdateMode.Replace, ct);
        await tables.Keys.UpsertEntityAsync(new TableEntity(KeyRows.Email(member.Email), "") { ["UserId"] = member.Id, ["PartnerId"] = null }, TableUpdateMode.Replace, ct);
    }

    internal static TableEntity ToEntity(StaffMember m) => new(Partition, m.Id)
    {
        ["Email"] = m.Email,
        ["DisplayName"] = m.DisplayName,
        ["Roles"] = string.Join(',', m.Roles),
        ["Region"] = m.Region,
    };

    private static StaffMember Read(TableEntity e) => new(e.RowKey, e.GetString("Email"), e.GetString("DisplayName"),
        (e.GetString("Roles") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries), e.GetString("Region"));
}
