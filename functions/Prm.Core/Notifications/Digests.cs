using System.Globalization;
using NodaTime;
using NodaTime.Extensions;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Notifications;

/// <summary>Input of a digest workflow generation: whose digest, which one, and whether this generation starts by sending (every one but the first).</summary>
public sealed record DigestWorkflow(string UserId, DigestCadence Cadence, bool Due)
{
    /// <summary>One instance per person and cadence.</summary>
    public static string InstanceId(string userId, DigestCadence cadence) => $"digest-{Digests.Name(cadence)}-{userId}";
}

/// <summary>What a digest step did ("sent", "empty", "scheduled", "gone") and when the next digest is due; <see cref="Gone"/> ends the workflow.</summary>
public sealed record DigestNext(bool Gone, DateTimeOffset At, string Outcome);

/// <summary>
/// Digests: one email per person and period listing what was kept for them since the last one, at the digest time of day in the person's
/// time zone (their own, else the program's). The email goes out with the removal of exactly the items it lists, in one transaction.
/// A person who left their partner (or whose account is gone) gets no digest: the items are dropped and the workflow ends.
/// </summary>
public sealed class Digests(INotificationStore store, IPartnerStore partners, IStaffStore staff, IIdentityDirectory identities, ProgramSettings settings,
    ProgramTimeZone programZone, EmailComposer emails, Unsubscribes unsubscribes, TimeProvider clock)
{
    /// <summary>Items one digest lists at most (its transaction also holds the email); the rest go in the next.</summary>
    public const int MaxItems = 90;

    public static string Name(DigestCadence cadence) => cadence == DigestCadence.Daily ? "daily" : "weekly";

    /// <summary>Sends the digest when <paramref name="send"/>, then tells when the next is due.</summary>
    public async Task<DigestNext> StepAsync(string userId, DigestCadence cadence, bool send, CancellationToken ct)
    {
        var outcome = send ? await SendAsync(userId, cadence, ct) : "scheduled";
        var now = clock.GetUtcNow();
        if (outcome == "gone") return new DigestNext(true, now, outcome);
        var s = await settings.GetAsync<NotificationSettings>(NotificationSettings.SectionName, ct);
        var zone = (await store.GetAsync(userId, ct))?.Value.TimeZone ?? programZone.Id;
        return new DigestNext(false, NextAt(now, zone, cadence, s), outcome);
    }

    /// <summary>Sends one digest of the pending items ("sent"), or nothing ("empty"), or drops them when the person is no longer a member ("gone").</summary>
    public async Task<string> SendAsync(string userId, DigestCadence cadence, CancellationToken ct)
    {
        var items = await store.PendingAsync(userId, cadence, MaxItems, ct);
        if (items.Count == 0) return "empty";
        var first = items[0].Value;
        if (!await IsMemberAsync(first, ct))
        {
            await store.ClearAsync(userId, items, new ChangeSet([], []), ct);
            return "gone";
        }
        var s = await settings.GetAsync<NotificationSettings>(NotificationSettings.SectionName, ct);
        var zoneId = (await store.GetAsync(userId, ct))?.Value.TimeZone ?? programZone.Id;
        var zone = DateTimeZoneProviders.Tzdb.GetZoneOrNull(zoneId) ?? DateTimeZone.Utc;
        var kinds = items.Select(i => i.Value.Kind).Distinct(StringComparer.Ordinal).ToList();
        var links = new List<(string Kind, string Label, string Url)>();
        foreach (var kindName in kinds)
        {
            if (NotificationKinds.Parse(kindName) is not { } kind || NotificationKinds.IsLocked(kind)) continue;
            links.Add((kindName, Unsubscribes.Label(kind), await unsubscribes.IssueAsync(userId, first.Email, first.Name, kind, ct)));
        }
        var email = emails.Compose(NotificationKinds.DigestTemplate, first.Email, first.Name, new
        {
            userName = first.Name ?? first.Email,
            cadence = Name(cadence),
            count = items.Count,
            timeZone = zone.Id,
            items = items.Select(i => new
            {
                subject = i.Value.Subject,
                text = i.Value.Text,
                kind = NotificationKinds.Parse(i.Value.Kind) is { } k ? Unsubscribes.Label(k) : i.Value.Kind,
                at = Instant.FromDateTimeOffset(i.Value.At).InZone(zone).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
            }).ToList(),
            unsubscribes = links.Select(l => new { label = l.Label, url = l.Url }).ToList(),
            portalUrl = emails.PortalUrl("/"),
        });
        // The header unsubscribes from the kind the digest lists most (one URL per header, RFC 8058); the body links every kind it lists.
        var main = links.OrderByDescending(l => items.Count(i => i.Value.Kind == l.Kind)).FirstOrDefault();
        if (main.Url is not null) email = EmailComposer.WithUnsubscribeHeaders(email, main.Url);
        var message = OutboxMessage.ForEmail(Ids.New("msg"), email, clock.GetUtcNow(), first.PartnerId, Correlation.Id);
        return await store.ClearAsync(userId, items, new ChangeSet([], [message]), ct) ? "sent" : "empty";
    }

    /// <summary>
    /// Whether the person still belongs to the program as when the item was kept: their email still registered to them, and still a user
    /// of their partner, which is not terminated (or still staff).
    /// </summary>
    private async Task<bool> IsMemberAsync(DigestItem item, CancellationToken ct)
    {
        if (await identities.FindEmailAsync(item.Email, ct) is not { } registration || registration.UserId != item.UserId || registration.PartnerId != item.PartnerId) return false;
        if (item.PartnerId is not { } partnerId) return await staff.GetAsync(item.UserId, ct) is not null;
        // A user of a terminated partner is deactivated with it.
        var user = partners.GetUserAsync(partnerId, item.UserId, ct);
        var partner = partners.GetAsync(partnerId, ct);
        await Task.WhenAll(user, partner);
        return user.Result is not null && partner.Result is { Value.Status: not PartnerStatus.Terminated };
    }

    /// <summary>
    /// When the next digest after <paramref name="after"/> is due: with a period of a day (daily) or a week (weekly) or more, the next
    /// digest time of day (on the weekly digest's weekday) in the time zone (a local time that does not exist in a DST gap moves forward);
    /// with a shorter period (tests), <paramref name="after"/> plus the period.
    /// </summary>
    public static DateTimeOffset NextAt(DateTimeOffset after, string zoneId, DigestCadence cadence, NotificationSettings s)
    {
        var period = cadence == DigestCadence.Daily ? s.DailyDigestPeriod : s.WeeklyDigestPeriod;
        var aligned = cadence == DigestCadence.Daily ? period >= TimeSpan.FromDays(1) : period >= TimeSpan.FromDays(7);
        if (!aligned) return after + period;
        var zone = DateTimeZoneProviders.Tzdb.GetZoneOrNull(zoneId) ?? DateTimeZone.Utc;
        var instant = Instant.FromDateTimeOffset(after);
        var time = new LocalTime(s.LocalTime.Hour, s.LocalTime.Minute);
        var today = instant.InZone(zone).Date;
        var weekday = s.WeeklyDigestDay.ToIsoDayOfWeek();
        for (var day = 0; day <= 8; day++)
        {
            var date = today.PlusDays(day);
            if (cadence == DigestCadence.Weekly && date.DayOfWeek != weekday) continue;
            var at = zone.AtLeniently(date + time).ToInstant();
            if (at > instant) return at.ToDateTimeOffset();
        }
        return after + period; // unreachable: a weekday recurs within 8 days
    }
}
