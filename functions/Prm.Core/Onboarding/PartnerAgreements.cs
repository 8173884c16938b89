using System.Globalization;
using Prm.Core.Approvals;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Notifications;
using Prm.Core.Outbox;
using Prm.Core.Partners;

namespace Prm.Core.Onboarding;

/// <summary>
/// The agreement document the storage seeds at start (section "Agreement", key CurrentVersion): infrastructure read before the program
/// settings exist, so it stays an option. It is also the default of <see cref="OnboardingSettings.AgreementVersion"/>; the agreement
/// deadlines are program rules and live in <see cref="OnboardingSettings"/>.
/// </summary>
public sealed class AgreementOptions
{
    public const string SectionName = "Agreement";

    /// <summary>Version of the seeded agreement document (blob "program-agreement/{version}.txt" in the agreements container).</summary>
    public string CurrentVersion { get; set; } = AgreementVersions.Seeded;
}

/// <summary>A version of the agreement document and the SHA-256 of its bytes.</summary>
public sealed record AgreementDocument(string Version, string Sha256, string Text);

/// <summary>Where agreement documents live (Blob Storage).</summary>
public interface IAgreementDocuments
{
    Task<AgreementDocument> GetAsync(string version, CancellationToken ct);

    Task<bool> ExistsAsync(string version, CancellationToken ct);

    /// <summary>Stores a new version; versions never change once written (409 when it exists).</summary>
    Task<AgreementDocument> UploadAsync(string version, byte[] text, CancellationToken ct);
}

/// <summary>The agreement steps the workflow runs when a deadline passes.</summary>
public enum AgreementStep { Remind, Expire }

/// <summary>The port the agreement workflow calls.</summary>
public interface IAgreementSteps
{
    Task<StepOutcome> RunAgreementStepAsync(string partnerId, AgreementStep step, DateTimeOffset expiresAt, CancellationToken ct);
}

/// <summary>
/// Agreement acceptance: an approved partner's first admin gets a link to the current agreement; accepting records who accepted
/// which version (with its SHA-256), when, from where, append-only in the timeline, and activates the partner.
/// </summary>
public sealed class PartnerAgreements(IPartnerStore store, IStaffStore staff, IAgreementDocuments documents, DecisionLinks links, EmailComposer emails, TimeProvider clock, Settings.ProgramSettings settings) : IAgreementSteps
{
    public const string DecisionKind = "agreement";
    [Outbox.EventPayload(typeof(Partners.PartnerEvents.PartnerData), Summary = "A partner accepted the program agreement and is Active.")]
    public const string ActivatedType = "partner.activated";
    [Outbox.EventPayload(typeof(Partners.PartnerEvents.PartnerData), Summary = "The agreement offer expired unaccepted.")]
    public const string ExpiredType = "partner.agreement.expired";

    public async Task<AgreementDocument> CurrentAsync(CancellationToken ct) => await documents.GetAsync((await Settings(ct)).AgreementVersion, ct);

    /// <summary>Reads one version of the agreement (admins).</summary>
    public Task<AgreementDocument> GetVersionAsync(Caller caller, string version, CancellationToken ct)
    {
        if (!caller.IsAdmin) throw new ForbiddenException("Only program admins manage agreement documents.");
        if (!AgreementVersions.IsValid(version)) throw new NotFoundException("Agreement version");
        return documents.GetAsync(version, ct);
    }

    /// <summary>Uploads a new agreement version (admins): UTF-8 text, at most 256 KiB. It becomes current when the onboarding settings name it.</summary>
    public async Task<AgreementDocument> UploadAsync(Caller caller, string version, byte[] text, CancellationToken ct)
    {
        if (!caller.IsAdmin) throw new ForbiddenException("Only program admins upload agreement documents.");
        if (!AgreementVersions.IsValid(version)) throw new ValidationFailedException("version", AgreementVersions.Rule);
        if (text.Length == 0) throw new ValidationFailedException("body", "The agreement text is empty.");
        try
        {
            _ = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(text);
        }
        catch (System.Text.DecoderFallbackException)
        {
            throw new ValidationFailedException("body", "The agreement must be UTF-8 text.");
        }
        if (await documents.ExistsAsync(version, ct)) throw new ConflictException($"Agreement version {version} exists already; versions never change. Upload a new version.", "version");
        return await documents.UploadAsync(version, text, ct);
    }

    private Task<OnboardingSettings> Settings(CancellationToken ct) => settings.GetAsync<OnboardingSettings>(OnboardingSettings.SectionName, ct);

    /// <summary>The email that offers the agreement to the partner's first admin, with a link valid until the acceptance deadline.</summary>
    public async Task<OutboxMessage> OfferAsync(string partnerId, string partnerName, DateTimeOffset deadline, bool reminder, CancellationToken ct)
    {
        var admin = await FirstAdminAsync(partnerId, ct) ?? throw new ConflictException("The partner has no partner admin to accept the agreement.");
        return await OfferAsync(partnerId, partnerName, admin.Id, admin.Email, admin.DisplayName, deadline, reminder, ct);
    }

    /// <summary>The offer to a given first admin: also for a partner about to be created, whose offer commits with it.</summary>
    /// <param name="linkWrites">
    /// When given, the write of the link's row is added to it instead of awaited here: the caller awaits it before its commit (beside the
    /// outbox pointers), so the offer never names a link that does not exist.
    /// </param>
    public async Task<OutboxMessage> OfferAsync(string partnerId, string partnerName, string adminId, string adminEmail, string adminName, DateTimeOffset deadline, bool reminder, CancellationToken ct,
        List<Task>? linkWrites = null)
    {
        // The link row and the settings are independent: side by side.
        var (url, stored) = links.Issue(DecisionKind, partnerId, new Caller(adminId, adminEmail, adminName, [], partnerId, PartnerRole.PartnerAdmin), ["accept"], deadline, ct);
        var settingsRead = Settings(ct);
        if (linkWrites is null) await Task.WhenAll(stored, settingsRead);
        else linkWrites.Add(stored);
        var version = (await settingsRead).AgreementVersion;
        var message = emails.Compose(reminder ? "agreement-reminder" : "agreement-offer", adminEmail, adminName, new
        {
            userName = adminName, partnerName, acceptUrl = url, version,
            deadline = deadline.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        });
        return OutboxMessage.ForEmail(Ids.New("msg"), message, clock.GetUtcNow(), partnerId, Correlation.Id);
    }

    /// <summary>Accepts the agreement through its link: the partner becomes Active. Conflict when it is no longer pending.</summary>
    public async Task<Partner> AcceptAsync(DecisionLink link, string? clientIp, string? userAgent, CancellationToken ct)
    {
        var document = await CurrentAsync(ct);
        return await ReadDecideCommit.RunAsync(async attempt =>
        {
            var found = await store.GetAsync(link.SubjectId, ct) ?? throw new NotFoundException("Partner");
            var partner = found.Value;
            if (partner.Status != PartnerStatus.AgreementPending)
            {
                throw new ConflictException(partner.AgreementAcceptedAt is { } at
                    ? $"The agreement was accepted already, at {at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)}."
                    : $"The partner is {partner.Status}; the agreement can no longer be accepted through this link.");
            }
            var now = clock.GetUtcNow();
            var active = partner with { Status = PartnerStatus.Active, AgreementVersion = document.Version, AgreementAcceptedAt = now, UpdatedAt = now };
            var changes = Diff.Between(partner.Snapshot(), active.Snapshot()).ToList();
            changes.AddRange(
            [
                new FieldChange("agreementVersion", null, document.Version),
                new FieldChange("agreementSha256", null, document.Sha256),
                new FieldChange("acceptedBy", null, $"{link.RecipientName} <{link.RecipientEmail}> ({link.RecipientId})"),
                new FieldChange("clientIp", null, clientIp),
                new FieldChange("userAgent", null, userAgent is { Length: > 300 } ? userAgent[..300] : userAgent),
            ]);
            var audit = new AuditEntry(Ids.New("aud"), now, link.RecipientId, link.RecipientName, "partner.agreement.accepted", "partner", partner.Id, changes);
            var welcome = emails.Compose("partner-welcome", link.RecipientEmail, link.RecipientName, new { userName = link.RecipientName, partnerName = partner.Name });
            var outbox = new List<OutboxMessage>
            {
                OutboxMessage.ForEvent(IntegrationEvent.Create(Ids.New("evt"), ActivatedType, now, $"partners/{partner.Id}", partner.Id, Correlation.Id,
                    new PartnerEvents.PartnerData(PartnerDto.From(active), null, null, changes))),
                OutboxMessage.ForEmail(Ids.New("msg"), welcome, now, partner.Id, Correlation.Id),
            };
            await store.UpdateAsync(active, found.ETag, new ChangeSet([audit], outbox), ct);
            return active;
        }, 5, ct: ct);
    }

    /// <summary>A deadline passed: remind the partner admin (with a fresh link) or expire the offer (partner AgreementExpired, channel manager told). Idempotent.</summary>
    public Task<StepOutcome> RunAgreementStepAsync(string partnerId, AgreementStep step, DateTimeOffset expiresAt, CancellationToken ct) => ReadDecideCommit.RunAsync(async _ =>
    {
        var found = await store.GetAsync(partnerId, ct);
        if (found is null || found.Value.Status != PartnerStatus.AgreementPending) return StepOutcome.Closed;
        var partner = found.Value;
        var now = clock.GetUtcNow();
        var audit = new List<AuditEntry>();
        var outbox = new List<OutboxMessage>();
        var updated = partner;
        if (step == AgreementStep.Remind)
        {
            outbox.Add(await OfferAsync(partnerId, partner.Name, expiresAt, reminder: true, ct));
            audit.Add(new AuditEntry(Ids.New("aud"), now, Caller.System.UserId, Caller.System.DisplayName, "partner.agreement.reminded", "partner", partnerId, []));
        }
        else
        {
            updated = partner with { Status = PartnerStatus.AgreementExpired, UpdatedAt = now };
            audit.Add(new AuditEntry(Ids.New("aud"), now, Caller.System.UserId, Caller.System.DisplayName, "partner.agreement.expired", "partner", partnerId, Diff.Between(partner.Snapshot(), updated.Snapshot())));
            outbox.Add(OutboxMessage.ForEvent(IntegrationEvent.Create(Ids.New("evt"), ExpiredType, now, $"partners/{partnerId}", partnerId, Correlation.Id,
                new PartnerEvents.PartnerData(PartnerDto.From(updated), null, null, []))));
            if (partner.ChannelManagerId is not null && await staff.GetAsync(partner.ChannelManagerId, ct) is { } manager)
            {
                outbox.Add(OutboxMessage.ForEmail(Ids.New("msg"), emails.Compose("agreement-expired", manager.Email, manager.DisplayName, new { userName = manager.DisplayName, partnerName = partner.Name }), now, partnerId, Correlation.Id));
            }
        }
        await store.UpdateAsync(updated with { UpdatedAt = now }, found.ETag, new ChangeSet(audit, outbox), ct);
        return StepOutcome.Done;
    }, ct: ct);

    private async Task<PartnerUser?> FirstAdminAsync(string partnerId, CancellationToken ct)
    {
        var users = await store.ListUsersAsync(partnerId, new PageRequest(PageRequest.MaxLimit, null), ct);
        return users.Items.Where(u => u.Role == PartnerRole.PartnerAdmin).OrderBy(u => u.InvitedAt).FirstOrDefault();
    }
}
