using System.Globalization;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Notifications;
using Prm.Core.Outbox;
using Prm.Core.Partners;

namespace Prm.Core.Plans;

/// <summary>
/// Turns a plan transition into outbox messages: its events, and its email to the audience of the notice — the partner's admins for a
/// proposal or a new version, the channel manager for an acceptance and a review reminder, both for a review's agenda (the channel
/// manager is the admins when the partner has none).
/// </summary>
public sealed class PlanNotices(IPartnerStore partners, IStaffStore staff, EmailComposer emails)
{
    public async Task<List<OutboxMessage>> OutboxAsync(PlanChange change, Partner partner, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(partner);
        var outbox = change.Events.Select(e => OutboxMessage.ForEvent(e(now))).ToList();
        if (change.Notice is not { } notice) return outbox;
        var p = change.Updated;
        var recipients = new List<(string Email, string Name)>();
        if (notice.Kind is PlanNoticeKind.Proposed or PlanNoticeKind.Versioned or PlanNoticeKind.ReviewDue) recipients.AddRange(await PartnerAdminsAsync(p.PartnerId, ct));
        if (notice.Kind is PlanNoticeKind.Accepted or PlanNoticeKind.ReviewDue or PlanNoticeKind.ReviewReminder) recipients.AddRange(await ChannelManagerAsync(partner, ct));
        var quarter = notice.Quarter is { } q ? " Q" + q.ToString(CultureInfo.InvariantCulture) : "";
        var (headline, message) = notice.Kind switch
        {
            PlanNoticeKind.Proposed => ("Joint business plan proposed", "Your channel manager proposed the joint business plan below. Comment on it, and a partner admin accepts it when it is agreed."),
            PlanNoticeKind.Versioned => ("New version of the joint business plan", $"Version {p.Version} of the accepted plan below changes what was agreed; it needs a partner admin's acceptance again."),
            PlanNoticeKind.Accepted => ("Joint business plan accepted", $"{p.AcceptedBy} accepted version {p.AcceptedVersion} of the plan below; it is {p.Status} and locked."),
            PlanNoticeKind.ReviewDue => ("Quarterly review due", $"The review of Q{notice.Quarter} is due before the quarter ends. Agenda: the objectives off track."),
            _ => ("Quarterly review not recorded", $"Q{notice.Quarter} ended and its review is not recorded on the plan: record its notes and decisions (POST /api/plans/{p.Id}/reviews)."),
        };
        var agenda = notice.Agenda ?? [];
        var items = notice.Kind is PlanNoticeKind.ReviewDue or PlanNoticeKind.ReviewReminder
            ? agenda.Count == 0 ? "Off track: none — every objective is on track." : "Off track:\n" + string.Join("\n", agenda.Select(Line))
            : "";
        var subject = $"{headline}: {p.PartnerName} FY{p.FiscalYear.ToString(CultureInfo.InvariantCulture)}{quarter}";
        foreach (var (email, name) in recipients.DistinctBy(r => r.Email, StringComparer.OrdinalIgnoreCase))
        {
            var message2 = emails.Compose("plan-notice", email, name, new
            {
                subjectLine = subject,
                recipientName = name,
                headline,
                message,
                title = p.Title,
                partnerName = p.PartnerName,
                fiscalYear = p.FiscalYear.ToString(CultureInfo.InvariantCulture),
                version = p.Version.ToString(CultureInfo.InvariantCulture),
                items,
                planUrl = emails.PortalUrl($"/plans/{p.Id}"),
            });
            outbox.Add(OutboxMessage.ForEmail(Ids.New("msg"), message2, now, p.PartnerId, Correlation.Id));
        }
        return outbox;
    }

    /// <summary>One agenda line: "- Won revenue (revenue): 1,200 of 50,000 EUR, 30,000 expected by now".</summary>
    public static string Line(PlanEvents.AgendaItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var unit = item.Currency is null ? "" : " " + item.Currency;
        return $"- {item.Name} ({item.Kind}): {N(item.Actual)} of {N(item.Target)}{unit}, {N(item.Expected)} expected by now";
    }

    private static string N(decimal d) => d.ToString("#,##0.##", CultureInfo.InvariantCulture);

    private async Task<IEnumerable<(string, string)>> PartnerAdminsAsync(string partnerId, CancellationToken ct)
    {
        var page = await partners.ListUsersAsync(partnerId, new PageRequest(100, null), ct);
        return page.Items.Where(u => u.Role == PartnerRole.PartnerAdmin && u.Status == PartnerUserStatus.Active).Select(u => (u.Email, u.DisplayName)).ToList();
    }

    private async Task<IEnumerable<(string, string)>> ChannelManagerAsync(Partner partner, CancellationToken ct)
    {
        var manager = partner.ChannelManagerId is null ? null : await staff.GetAsync(partner.ChannelManagerId, ct);
        if (manager is not null && manager.Roles.Contains(AppRoles.ChannelManager)) return [(manager.Email, manager.DisplayName)];
        return (await staff.ListAsync(ct)).Where(s => s.Roles.Contains(AppRoles.Admin)).Select(s => (s.Email, s.DisplayName)).ToList();
    }
}
