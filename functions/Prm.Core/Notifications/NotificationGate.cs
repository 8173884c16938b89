using Prm.Core.Approvals;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Notifications;

/// <summary>
/// The one place where the rules of who gets which email apply, at delivery (every email of the outbox passes it):
/// <list type="number">
/// <item>own actions: an email to the person whose command caused it is dropped (not for the locked kinds: access, decisions with deadlines);</item>
/// <item>preferences: the recipient's mode for the template's kind (a person's choice, else the program default; kinds that carry
/// decisions with deadlines or access are always immediate) — off drops it, a digest keeps it as a digest item;</item>
/// <item>format: an email of a kind one may turn off gets a signed single-use unsubscribe link for that kind and the RFC 8058 headers.</item>
/// </list>
/// Recipients without an account (applicants) get every email at once.
/// </summary>
public sealed class NotificationGate(INotificationStore store, IIdentityDirectory identities, ProgramSettings settings, Unsubscribes unsubscribes) : IEmailGate
{
    public async Task<EmailMessage?> PrepareAsync(string messageId, EmailMessage email, DateTimeOffset createdAt, string? partnerId, CancellationToken ct)
    {
        if (email.Template == NotificationKinds.DigestTemplate) return email;
        var classified = NotificationKinds.Of(email.Template);
        // Locked kinds always arrive, also after one's own action: they carry access (the welcome after accepting the agreement) or a
        // decision with a deadline.
        if (classified is { } locked && NotificationKinds.IsLocked(locked)) return email;
        if (IsOwnAction(email)) return null;
        if (classified is not { } kind) return email;
        if (await identities.FindEmailAsync(email.To, ct) is not { } recipient) return email;
        var preferences = (await store.GetAsync(recipient.UserId, ct))?.Value ?? NotificationPreferences.None;
        var mode = preferences.ModeOf(kind, await settings.GetAsync<NotificationSettings>(NotificationSettings.SectionName, ct));
        switch (mode)
        {
            case DeliveryMode.Off:
                return null;
            case DeliveryMode.DailyDigest or DeliveryMode.WeeklyDigest:
                var cadence = mode == DeliveryMode.DailyDigest ? DigestCadence.Daily : DigestCadence.Weekly;
                var item = new DigestItem(recipient.UserId, recipient.PartnerId, email.To, email.ToName, cadence, NotificationKinds.Name(kind), email.Template,
                    email.Subject, BodyOf(email.Text), createdAt, messageId);
                var data = new NotificationEvents.DigestItemData(recipient.UserId, Digests.Name(cadence), item.Kind, item.Template, messageId);
                // The event id follows from the message id: a second delivery of the same email records nothing twice.
                var recorded = IntegrationEvent.Create("evt_digest_" + messageId, NotificationEvents.DigestItemRecorded, createdAt, "user/" + recipient.UserId,
                    recipient.PartnerId, Correlation.Id, data);
                await store.RecordAsync(item, new ChangeSet([], [OutboxMessage.ForEvent(recorded)]), ct);
                return null;
            default:
                return await unsubscribes.AddLinkAsync(email, recipient, kind, ct);
        }
    }

    /// <summary>The own-action rule: nobody is emailed about an action they took themselves (the actor of the command is the recipient).</summary>
    public static bool IsOwnAction(EmailMessage email) =>
        email.ActorEmail is { Length: > 0 } actor && string.Equals(actor, email.To, StringComparison.OrdinalIgnoreCase);

    /// <summary>The plain text of an email without its footer (what a digest lists).</summary>
    public static string BodyOf(string text)
    {
        var cut = text.LastIndexOf("\n-- \n", StringComparison.Ordinal);
        var body = (cut < 0 ? text : text[..cut]).Trim();
        return body.Length > 2000 ? body[..2000] + "…" : body;
    }
}

/// <summary>
/// One-click unsubscribe links: a signed single-use link (the decision-link machinery: 160 random bits stored only as a hash, bound to one
/// person and one kind, expiring) that sets that kind to off without sign-in. GET shows a confirmation page and never changes anything
/// (mail scanners open links); POST performs it (RFC 8058). An unknown, forged, expired or used link does nothing and is 404.
/// </summary>
public sealed class Unsubscribes(DecisionLinks links, INotificationStore store, ProgramSettings settings, ProgramOptions program, NoticePages pages, TimeProvider clock)
{
    /// <summary>The decision-link kind of unsubscribe links (no decision subject serves it, so /approvals answers 404 for them).</summary>
    public const string LinkKind = "unsubscribe";

    /// <summary>The email with an unsubscribe link for its kind (see <see cref="EmailComposer.WithUnsubscribe"/>).</summary>
    public async Task<EmailMessage> AddLinkAsync(EmailMessage email, EmailRegistration recipient, NotificationKind kind, CancellationToken ct) =>
        EmailComposer.WithUnsubscribe(email, await IssueAsync(recipient.UserId, email.To, email.ToName, kind, ct), Label(kind));

    /// <summary>Issues a link that turns <paramref name="kind"/> off for the person and returns its URL.</summary>
    public async Task<string> IssueAsync(string userId, string email, string? name, NotificationKind kind, CancellationToken ct)
    {
        var s = await settings.GetAsync<NotificationSettings>(NotificationSettings.SectionName, ct);
        var recipient = new Caller(userId, email, name ?? email, [], null, null);
        var token = await links.IssueTokenAsync(LinkKind, NotificationKinds.Name(kind), recipient, ["off"], clock.GetUtcNow().AddDays(s.UnsubscribeLinkValidDays), ct);
        return $"{program.ApiBaseUrl.TrimEnd('/')}/notifications/unsubscribe/{token}";
    }

    /// <summary>The confirmation page (GET): what the link would turn off; changes nothing.</summary>
    public async Task<string> ShowAsync(string token, CancellationToken ct)
    {
        var (link, kind) = await ResolveAsync(token, ct);
        return pages.Render("Unsubscribe", $"Stop emails about {Label(kind)} to {link.Value.RecipientEmail}?",
            formButton: "Unsubscribe", note: "You can turn them on again in the portal under notification preferences. This link works once.");
    }

    /// <summary>Performs the unsubscribe (POST, once): the person's mode for the kind becomes off, with a notification.unsubscribed event.</summary>
    public async Task<string> UnsubscribeAsync(string token, CancellationToken ct)
    {
        var (link, kind) = await ResolveAsync(token, ct);
        var claimed = await links.ClaimAsync(link, ct) ?? throw new NotFoundException("Unsubscribe link");
        try
        {
            var userId = link.Value.RecipientId;
            var name = NotificationKinds.Name(kind);
            await ReadDecideCommit.RunAsync(async _ =>
            {
                var current = await store.GetAsync(userId, ct);
                var before = current?.Value ?? NotificationPreferences.None;
                var updated = before with { Modes = new Dictionary<string, DeliveryMode>(before.Modes, StringComparer.Ordinal) { [name] = DeliveryMode.Off } };
                var e = IntegrationEvent.Create(Ids.New("evt"), NotificationEvents.Unsubscribed, clock.GetUtcNow(), "user/" + userId, null, Correlation.Id,
                    new NotificationEvents.UnsubscribedData(userId, name));
                await store.SaveAsync(userId, updated, current?.ETag, new ChangeSet([], [OutboxMessage.ForEvent(e)]), ct);
            }, ct: ct);
            await links.CompleteAsync(claimed, "off", CancellationToken.None);
        }
        catch
        {
            await links.ReleaseAsync(claimed, CancellationToken.None);
            throw;
        }
        return pages.Render("Unsubscribed", $"You will no longer receive emails about {Label(kind)} at {link.Value.RecipientEmail}.",
            note: "You can turn them on again in the portal under notification preferences.");
    }

    private async Task<(Versioned<DecisionLink> Link, NotificationKind Kind)> ResolveAsync(string token, CancellationToken ct)
    {
        Versioned<DecisionLink> link;
        try
        {
            link = await links.ResolveAsync(token, ct);
        }
        catch (LinkExpiredException)
        {
            throw new NotFoundException("Unsubscribe link");
        }
        // A link of another kind, a used one, or one for a kind that can no longer be turned off does nothing.
        if (link.Value.Kind != LinkKind || link.Value.UsedAt is not null || NotificationKinds.Parse(link.Value.SubjectId) is not { } kind || NotificationKinds.IsLocked(kind))
            throw new NotFoundException("Unsubscribe link");
        return (link, kind);
    }

    /// <summary>How a kind reads in a sentence ("deal updates").</summary>
    public static string Label(NotificationKind kind) =>
        string.Concat(kind.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? " " + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
