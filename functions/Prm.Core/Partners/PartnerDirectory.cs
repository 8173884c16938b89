using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Notifications;
using Prm.Core.Outbox;

namespace Prm.Core.Partners;

/// <summary>The port the checklist follow-up workflow calls.</summary>
public interface IChecklistReminders
{
    /// <summary>Closed when the partner is not active or nothing is left to remind of (no email); DoneAlready for a retried reminder.</summary>
    Task<StepOutcome> RemindChecklistAsync(string partnerId, int number, DateTimeOffset activatedAt, CancellationToken ct);
}

/// <summary>The partner directory: list, read, create and edit partner companies.</summary>
public sealed class PartnerDirectory(IPartnerStore store, IStaffStore staff, TimeProvider clock, EmailComposer emails) : IChecklistReminders
{
    private static readonly CreatePartnerValidator CreateValidator = new();
    private static readonly PatchPartnerValidator PatchValidator = new();

    /// <summary>Lists partners: channel managers see their own by default; admins see all.</summary>
    public async Task<Page<PartnerDto>> ListAsync(Caller caller, string? scope, string? status, string? tier, string? region, string? channelManagerId, string? search, PageRequest page, CancellationToken ct)
    {
        if (!caller.IsVendor) throw new ForbiddenException("Only program admins and channel managers list partners.");
        var errors = new Dictionary<string, string[]>();
        if (scope is not null and not ("mine" or "all")) errors["scope"] = ["scope must be mine or all."];
        var statusValue = Text.ParseEnum<PartnerStatus>(status);
        if (status is not null && statusValue is null) errors["status"] = ["status must be one of: " + string.Join(", ", Enum.GetNames<PartnerStatus>()) + "."];
        var tierValue = Text.ParseEnum<PartnerTier>(tier);
        if (tier is not null && tierValue is null) errors["tier"] = ["tier must be one of: " + string.Join(", ", Enum.GetValues<PartnerTier>().Select(t => Text.Camel(t))) + "."];
        if (region is not null && !Regions.IsKnown(region)) errors["region"] = ["region must be one of: " + string.Join(", ", Regions.All) + "."];
        if (search is not null && (search.Trim().Length == 0 || search.Length > 100)) errors["search"] = ["search must be 1 to 100 characters."];
        if (errors.Count > 0) throw new ValidationFailedException(errors);

        string? owner = channelManagerId;
        if (!caller.IsAdmin)
        {
            if (scope == "all") throw new ForbiddenException("Only program admins may list all partners (scope=all).");
            if (channelManagerId is not null && channelManagerId != caller.UserId) throw new ForbiddenException("Channel managers list their own partners only.");
            owner = caller.UserId;
        }
        else if (scope == "mine")
        {
            owner = caller.UserId;
        }
        var query = new PartnerQuery(owner, statusValue, tierValue, region, search is null ? null : Text.NameKey(search));
        var result = await store.ListAsync(query, page, ct);
        return result.Map(PartnerDto.From);
    }

    public async Task<Versioned<PartnerDto>> GetAsync(Caller caller, string partnerId, CancellationToken ct)
    {
        var found = await PartnerAccess.LoadVisibleAsync(store, caller, partnerId, ct);
        return new Versioned<PartnerDto>(PartnerDto.From(found.Value), found.ETag);
    }

    public async Task<Page<AuditEntry>> TimelineAsync(Caller caller, string partnerId, PageRequest page, CancellationToken ct)
    {
        var found = await PartnerAccess.LoadVisibleAsync(store, caller, partnerId, ct);
        if (!PartnerAccess.CanManageCompany(caller, found.Value)) throw new ForbiddenException("Only partner admins and the partner's channel manager read its timeline.");
        return await store.TimelineAsync(partnerId, page, ct);
    }

    /// <summary>Creates a partner directly (admins; the migration path beside onboarding), optionally with its first partner admin invited.</summary>
    public Task<Versioned<PartnerDto>> CreateAsync(Caller caller, CreatePartnerRequest? body, CancellationToken ct) =>
        CreateAsync(caller, body, [], null, ct);

    /// <summary>Most users one create writes with the partner (each adds a user row, an audit row, an invitation and an event to the transaction).</summary>
    internal const int MaxUsersPerCreate = 20;

    /// <summary>Creates a partner with its first users in one transaction (the import path); <paramref name="staffList"/> saves a read per partner.</summary>
    /// <param name="partnerId">The new partner's id, chosen by the caller (the import: a retry after a lost answer recognises its own partner).</param>
    /// <param name="userIdFor">
    /// The id of each new user by normalized email, chosen by the caller (the import: the same in every attempt, so key rows an attempt
    /// claimed and could not give back are its own to the next).
    /// </param>
    internal Task<Versioned<PartnerDto>> CreateAsync(Caller caller, CreatePartnerRequest? body, IReadOnlyList<(string Email, string DisplayName, PartnerRole Role)> moreUsers, IReadOnlyList<StaffMember>? staffList, CancellationToken ct,
        string? partnerId = null, Func<string, string>? userIdFor = null) =>
        CreateAsync(caller, body, moreUsers, staffList, partnerId is null ? null : (partnerId, Ids.New("usr")), [], ct, userIdFor: userIdFor);

    /// <summary>Checks a new partner as <see cref="CreateAsync(Caller, CreatePartnerRequest?, CancellationToken)"/> would (the body and its channel manager), writing nothing.</summary>
    /// <param name="staffList">The staff the channel manager is chosen from, when the caller read it already (null: read here).</param>
    internal async Task CheckNewAsync(CreatePartnerRequest body, CancellationToken ct, IReadOnlyList<StaffMember>? staffList = null)
    {
        var request = Validate.Body(body, CreateValidator);
        await ResolveChannelManagerAsync(request.ChannelManagerId, request.Region!, staffList, ct);
    }

    /// <summary>
    /// Creates the partner a committed approval names (onboarding): with the given partner id and first admin's user id, whose key rows
    /// the approval may have reserved (<see cref="IPartnerStore.ReserveAsync"/>), and <paramref name="alsoSend"/> (the agreement offer)
    /// in the same transaction. A second creation of the same partner is a conflict and writes nothing.
    /// </summary>
    /// <param name="staffList">The staff the channel manager is chosen from, when the caller read it already (null: read here).</param>
    /// <param name="alongside">Writes (and the approval's commit) that must succeed before the partner's transaction: they run beside its outbox pointers.</param>
    /// <param name="reserved">The approval reserved the partner's keys and gives them back itself when this fails (<see cref="IPartnerStore.CreateAsync"/>).</param>
    internal Task<Versioned<PartnerDto>> CreateApprovedAsync(CreatePartnerRequest body, string partnerId, string adminUserId, IReadOnlyList<OutboxMessage> alsoSend, CancellationToken ct,
        IReadOnlyList<StaffMember>? staffList = null, Task? alongside = null, bool reserved = false) =>
        CreateAsync(Caller.System, body, [], staffList, (partnerId, adminUserId), alsoSend, ct, alongside, reserved);

    private async Task<Versioned<PartnerDto>> CreateAsync(Caller caller, CreatePartnerRequest? body, IReadOnlyList<(string Email, string DisplayName, PartnerRole Role)> moreUsers,
        IReadOnlyList<StaffMember>? staffList, (string PartnerId, string AdminUserId)? ids, IReadOnlyList<OutboxMessage> alsoSend, CancellationToken ct,
        Task? alongside = null, bool reserved = false, Func<string, string>? userIdFor = null)
    {
        if (!caller.IsAdmin) throw new ForbiddenException("Only program admins create partners directly.");
        var request = Validate.Body(body, CreateValidator);
        var now = clock.GetUtcNow();
        var region = request.Region!;
        var channelManagerId = await ResolveChannelManagerAsync(request.ChannelManagerId, region, staffList, ct);
        var partner = new Partner
        {
            Id = ids?.PartnerId ?? Ids.New("ptn"),
            Name = request.Name!.Trim(),
            Domain = Text.NormalizeDomain(request.Domain)!,
            Status = Text.ParseEnum<PartnerStatus>(request.Status) ?? PartnerStatus.Active,
            Tier = Text.ParseEnum<PartnerTier>(request.Tier) ?? PartnerTier.Registered,
            Type = Text.ParseEnum<PartnerType>(request.PartnerType) ?? PartnerType.Reseller,
            Country = request.Country!,
            Region = region,
            ChannelManagerId = channelManagerId,
            Website = request.Website,
            Phone = request.Phone,
            Description = request.Description,
            City = request.City,
            CreatedAt = now,
            UpdatedAt = now,
        };
        var people = new List<(string Email, string DisplayName, PartnerRole Role)>();
        if (request.Admin is not null) people.Add((request.Admin.Email!, request.Admin.DisplayName!, PartnerRole.PartnerAdmin));
        people.AddRange(moreUsers);
        if (people.Count > MaxUsersPerCreate) throw new ValidationFailedException("users", $"At most {MaxUsersPerCreate} users are created with a partner; invite the others afterwards.");
        var invited = people
            .DistinctBy(p => Text.NormalizeEmail(p.Email))
            .Select((p, i) => NewUser(partner.Id, p.Email, p.DisplayName, p.Role, caller, now,
                i == 0 && request.Admin is not null ? ids?.AdminUserId : userIdFor?.Invoke(Text.NormalizeEmail(p.Email)!)))
            .ToList();
        var users = invited.Select(i => i.User).ToList();
        partner = partner with { UserCount = users.Count, AdminCount = users.Count(u => u.Role == PartnerRole.PartnerAdmin) };
        var outbox = new List<OutboxMessage>();
        var audit = new List<AuditEntry> { Entry(caller, now, "partner.created", "partner", partner.Id, Diff.Between(null, partner.Snapshot())) };
        foreach (var (user, code) in invited)
        {
            audit.Add(Entry(caller, now, "partner.user.invited", "partnerUser", user.Id, Diff.Between(null, user.Snapshot())));
            outbox.Add(Invitation(partner, user, code, caller, now));
            outbox.Add(OutboxMessage.ForEvent(PartnerEvents.User(PartnerEvents.UserInvitedType, user, [], now)));
        }
        outbox.Add(OutboxMessage.ForEvent(PartnerEvents.Created(partner, now)));
        outbox.AddRange(alsoSend);
        var etag = await store.CreateAsync(partner, users, new ChangeSet(audit, outbox), ct, alongside, reserved);
        return new Versioned<PartnerDto>(PartnerDto.From(partner), etag);
    }

    /// <summary>Edits a partner: partner admins change the profile; admins and the owning channel manager also tier, status, owner, region.</summary>
    public async Task<Versioned<PartnerDto>> PatchAsync(Caller caller, string partnerId, string? ifMatch, PatchPartnerRequest? body, CancellationToken ct)
    {
        var found = await PartnerAccess.LoadVisibleAsync(store, caller, partnerId, ct);
        var request = Validate.Body(body, PatchValidator);
        if (string.IsNullOrEmpty(ifMatch)) throw new PreconditionFailedException("PATCH requires an If-Match header with the partner's ETag.", required: true);
        var current = found.Value;
        if (!PartnerAccess.CanManageCompany(caller, current)) throw new ForbiddenException("Only the partner's admins and its channel manager edit this partner.");
        // Checked here as well as in storage: the conditional write is the guard against races, this gives the common stale case a clear answer.
        if (ifMatch != found.ETag) throw new PreconditionFailedException("The partner was changed since you read it; read it again and retry with the new ETag.");
        var programFields = new (string Name, object? Value)[]
        {
            ("tier", request.Tier), ("status", request.Status), ("channelManagerId", request.ChannelManagerId),
            ("country", request.Country), ("region", request.Region), ("partnerType", request.PartnerType),
        };
        if (!PartnerAccess.CanManageProgram(caller, current))
        {
            var denied = programFields.Where(f => f.Value is not null).Select(f => f.Name).ToList();
            if (denied.Count > 0)
            {
                throw new ValidationFailedException(denied.ToDictionary(d => d, d => new[] { $"{d} is managed by the vendor and cannot be changed by the partner." }), unprocessable: true);
            }
        }
        if (current.Status == PartnerStatus.Terminated && request.Status is not null && Text.ParseEnum<PartnerStatus>(request.Status) != PartnerStatus.Terminated)
        {
            throw new ValidationFailedException("status", "A terminated partner cannot be reactivated; create a new partner instead.", unprocessable: true);
        }
        var channelManagerId = current.ChannelManagerId;
        if (request.ChannelManagerId is not null && request.ChannelManagerId != current.ChannelManagerId)
        {
            channelManagerId = await ResolveChannelManagerAsync(request.ChannelManagerId, request.Region ?? current.Region, null, ct);
        }
        var now = clock.GetUtcNow();
        var updated = current with
        {
            Name = request.Name?.Trim() ?? current.Name,
            Website = request.Website ?? current.Website,
            Phone = request.Phone ?? current.Phone,
            Description = request.Description ?? current.Description,
            City = request.City ?? current.City,
            Country = request.Country ?? current.Country,
            Region = request.Region ?? current.Region,
            Tier = Text.ParseEnum<PartnerTier>(request.Tier) ?? current.Tier,
            Type = Text.ParseEnum<PartnerType>(request.PartnerType) ?? current.Type,
            Status = Text.ParseEnum<PartnerStatus>(request.Status) ?? current.Status,
            ChannelManagerId = channelManagerId,
            UpdatedAt = now,
        };
        if (updated.ProfileCompletedAt is null && updated.HasCompleteProfile) updated = updated with { ProfileCompletedAt = now };
        var changes = Diff.Between(current.Snapshot(), updated.Snapshot());
        if (changes.Count == 0) return new Versioned<PartnerDto>(PartnerDto.From(current), found.ETag);
        var audit = new List<AuditEntry> { Entry(caller, now, "partner.updated", "partner", current.Id, changes) };
        var outbox = new List<OutboxMessage> { OutboxMessage.ForEvent(PartnerEvents.Updated(current, updated, changes, now)) };
        var etag = await store.UpdateAsync(updated, found.ETag, new ChangeSet(audit, outbox), ct);
        return new Versioned<PartnerDto>(PartnerDto.From(updated), etag);
    }

    /// <summary>The onboarding checklist: each item with the date it was done. Members, the owning channel manager and admins.</summary>
    public async Task<OnboardingChecklist> OnboardingAsync(Caller caller, string partnerId, CancellationToken ct)
    {
        var p = (await PartnerAccess.LoadVisibleAsync(store, caller, partnerId, ct)).Value;
        var items = Checklist(p);
        return new OnboardingChecklist(p.Id, p.Status.ToString(), p.AgreementAcceptedAt, items, items.Count(i => i.Done), items.Count);
    }

    /// <summary>
    /// Reminder number <paramref name="number"/> of the unfinished checklist items to the partner's admins. Closed when nothing
    /// is left (no email) or the partner is not active, DoneAlready for a retried reminder.
    /// </summary>
    public async Task<StepOutcome> RemindChecklistAsync(string partnerId, int number, DateTimeOffset activatedAt, CancellationToken ct)
    {
        return await ReadDecideCommit.RunAsync(async attempt =>
        {
            var found = await store.GetAsync(partnerId, ct);
            if (found is null || found.Value.Status != PartnerStatus.Active) return StepOutcome.Closed;
            var p = found.Value;
            if (p.ChecklistRemindersSent >= number) return StepOutcome.DoneAlready;
            var open = Checklist(p).Where(i => !i.Done).ToList();
            if (open.Count == 0) return StepOutcome.Closed;
            var now = clock.GetUtcNow();
            var admins = (await store.ListUsersAsync(partnerId, new PageRequest(PageRequest.MaxLimit, null), ct)).Items
                .Where(u => u.Role == PartnerRole.PartnerAdmin).ToList();
            var outbox = admins.Select(admin => OutboxMessage.ForEmail(Ids.New("msg"), emails.Compose("onboarding-checklist-reminder", admin.Email, admin.DisplayName, new
            {
                userName = admin.DisplayName,
                partnerName = p.Name,
                days = (int)Math.Round((now - activatedAt).TotalDays),
                remaining = open.Count,
                itemList = string.Join("\n", open.Select(i => "- " + i.Title)),
                checklistUrl = emails.PortalUrl($"/partners/{p.Id}/onboarding"),
            }), now, p.Id, Correlation.Id)).ToList();
            var entry = Entry(Caller.System, now, "partner.onboarding.reminded", "partner", partnerId,
                [new FieldChange("checklistRemindersSent", p.ChecklistRemindersSent.ToString(System.Globalization.CultureInfo.InvariantCulture), number.ToString(System.Globalization.CultureInfo.InvariantCulture))],
                "Open: " + string.Join(", ", open.Select(i => i.Key)));
            await store.UpdateAsync(p with { ChecklistRemindersSent = number, UpdatedAt = now }, found.ETag, new ChangeSet([entry], outbox), ct);
            return StepOutcome.Done;
        }, 5, ct: ct);
    }

    /// <summary>The onboarding checklist of a partner, each item with whether and when it was done (the home reads it too).</summary>
    public static List<OnboardingItem> Checklist(Partner p) =>
        [
            new("profileComplete", "Complete the company profile (website, phone, city)", p.ProfileCompletedAt is not null || p.HasCompleteProfile, p.ProfileCompletedAt),
            new("agreementAccepted", "Accept the program agreement", p.AgreementAcceptedAt is not null, p.AgreementAcceptedAt),
            new("firstUserInvited", "Invite a colleague", p.FirstUserInvitedAt is not null, p.FirstUserInvitedAt),
            new("firstCertification", "Earn a first certification", p.FirstCertificationAt is not null, p.FirstCertificationAt),
            new("firstDealRegistered", "Register a first deal", p.FirstDealRegisteredAt is not null, p.FirstDealRegisteredAt),
        ];

    /// <summary>Completes a checklist item from an event of a later capability (first deal, first certification); the first event wins.</summary>
    public async Task CompleteOnboardingItemAsync(string partnerId, string item, DateTimeOffset at, CancellationToken ct)
    {
        // A lost race re-reads the partner; after the last one the event is delivered again (at least once).
        await ReadDecideCommit.RunAsync(async _ =>
        {
            var found = await store.GetAsync(partnerId, ct);
            if (found is null) return;
            var p = found.Value;
            Partner updated;
            switch (item)
            {
                case "firstDealRegistered" when p.FirstDealRegisteredAt is null: updated = p with { FirstDealRegisteredAt = at }; break;
                case "firstCertification" when p.FirstCertificationAt is null: updated = p with { FirstCertificationAt = at }; break;
                default: return;
            }
            var now = clock.GetUtcNow();
            var entry = Entry(Caller.System, now, "partner.onboarding.itemCompleted", "partner", partnerId, [new FieldChange(item, null, at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture))]);
            await store.UpdateAsync(updated with { UpdatedAt = now }, found.ETag, new ChangeSet([entry], []), ct);
        }, ct: ct);
    }

    private async Task<string?> ResolveChannelManagerAsync(string? requested, string region, IReadOnlyList<StaffMember>? staffList, CancellationToken ct)
    {
        if (requested is not null)
        {
            var member = staffList is null ? await staff.GetAsync(requested, ct) : staffList.FirstOrDefault(s => s.Id == requested);
            if (member is null || !member.Roles.Contains(AppRoles.ChannelManager))
            {
                throw new ValidationFailedException("channelManagerId", "channelManagerId must be the id of a channel manager.", unprocessable: true);
            }
            return member.Id;
        }
        // Assignment by region; unassigned partners remain visible to admins.
        var all = staffList ?? await staff.ListAsync(ct);
        return all.Where(s => s.Roles.Contains(AppRoles.ChannelManager) && s.Region == region).OrderBy(s => s.Id, StringComparer.Ordinal).FirstOrDefault()?.Id;
    }

    internal static (PartnerUser User, string Code) NewUser(string partnerId, string email, string displayName, PartnerRole role, Caller invitedBy, DateTimeOffset now, string? userId = null)
    {
        var id = userId ?? Ids.New("usr");
        var (code, hash) = InvitationCodes.New(partnerId, id);
        return (NewUser(id, partnerId, email, displayName, role, invitedBy, now) with { InvitationCodeHash = hash }, code);
    }

    private static PartnerUser NewUser(string id, string partnerId, string email, string displayName, PartnerRole role, Caller invitedBy, DateTimeOffset now) => new()
    {
        Id = id,
        PartnerId = partnerId,
        Email = Text.NormalizeEmail(email)!,
        DisplayName = displayName.Trim(),
        Role = role,
        Status = PartnerUserStatus.Invited,
        InvitedAt = now,
        InvitedBy = invitedBy.UserId,
    };

    internal OutboxMessage Invitation(Partner partner, PartnerUser user, string code, Caller inviter, DateTimeOffset now, bool reminder = false)
    {
        var email = emails.Compose(reminder ? "partner-invitation-reminder" : "partner-invitation", user.Email, user.DisplayName, new
        {
            userName = user.DisplayName,
            inviterName = inviter.DisplayName,
            partnerName = partner.Name,
            roleText = user.Role == PartnerRole.PartnerAdmin ? "a partner admin" : "a partner user",
            email = user.Email,
            acceptUrl = emails.PortalUrl($"/invitations/accept?code={Uri.EscapeDataString(code)}"),
        });
        return OutboxMessage.ForEmail(Ids.New("msg"), email, now, partner.Id, Correlation.Id);
    }

    internal static AuditEntry Entry(Caller caller, DateTimeOffset now, string action, string subjectType, string subjectId, IReadOnlyList<FieldChange> changes, string? note = null) =>
        new(Ids.New("aud"), now, caller.UserId, caller.DisplayName, action, subjectType, subjectId, changes, note);
}
