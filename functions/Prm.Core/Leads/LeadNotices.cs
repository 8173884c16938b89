using System.Globalization;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Notifications;
using Prm.Core.Outbox;
using Prm.Core.Partners;

namespace Prm.Core.Leads;

/// <summary>
/// Turns what a lead transition causes into outbox messages: its events (the last one marked latest) and its emails with the recipients
/// resolved. No email to a partner names customer data: it links to the portal, with the facts a partner sees before accepting.
/// </summary>
public sealed class LeadNotices(IPartnerStore partners, IStaffStore staff, EmailComposer emails)
{
    public async Task<List<OutboxMessage>> OutboxAsync(Lead lead, LeadChange change, DateTimeOffset now, CancellationToken ct)
    {
        var outbox = new List<OutboxMessage>();
        for (var i = 0; i < change.Events.Count; i++)
        {
            var e = change.Events[i];
            outbox.Add(OutboxMessage.ForEvent(LeadEvents.Create(e.Type, lead, now, e.PartnerId, e.Reason, latest: i == change.Events.Count - 1)));
        }
        foreach (var notice in change.Notices)
        {
            foreach (var (email, name) in await RecipientsAsync(lead, notice, ct))
            {
                outbox.Add(Email(notice, email, name, lead, now));
            }
        }
        return outbox;
    }

    /// <summary>The email telling a channel manager (or the admins) that a partner was paused from lead routing.</summary>
    public async Task<List<OutboxMessage>> PausedAsync(string partnerId, DateTimeOffset pausedUntil, DateTimeOffset now, CancellationToken ct)
    {
        var partner = (await partners.GetAsync(partnerId, ct))?.Value;
        var outbox = new List<OutboxMessage>();
        foreach (var (email, name) in await ManagerAsync(partner?.ChannelManagerId, ct))
        {
            var message = emails.Compose("lead-partner-paused", email, name, new
            {
                userName = name, partnerName = partner?.Name ?? partnerId, pausedUntil = Format(pausedUntil),
                statsUrl = emails.PortalUrl($"/vendor/partners/{partnerId}/lead-stats"),
            });
            outbox.Add(OutboxMessage.ForEmail(Ids.New("msg"), message, now, partnerId, Correlation.Id));
        }
        return outbox;
    }

    private async Task<IReadOnlyList<(string Email, string? Name)>> RecipientsAsync(Lead lead, LeadNotice notice, CancellationToken ct)
    {
        switch (notice.To)
        {
            case LeadAudience.PartnerAdmins when notice.PartnerId is { } p:
                var page = await partners.ListUsersAsync(p, new PageRequest(PageRequest.MaxLimit, null), ct);
                return page.Items.Where(u => u.Role == PartnerRole.PartnerAdmin).Select(u => (u.Email, (string?)u.DisplayName)).ToList();
            case LeadAudience.AssignedRep when lead.AssignedTo is { } userId && lead.PartnerId is { } holder:
                var user = await partners.GetUserAsync(holder, userId, ct);
                return user is null ? [] : [(user.Value.Email, user.Value.DisplayName)];
            case LeadAudience.ChannelManager:
                var managerId = notice.PartnerId is { } pid ? (await partners.GetAsync(pid, ct))?.Value.ChannelManagerId : null;
                return await ManagerAsync(managerId, ct);
            default:
                return [];
        }
    }

    private async Task<IReadOnlyList<(string Email, string? Name)>> ManagerAsync(string? managerId, CancellationToken ct)
    {
        if (managerId is not null && await staff.GetAsync(managerId, ct) is { } manager) return [(manager.Email, manager.DisplayName)];
        return (await staff.ListAsync(ct)).Where(s => s.Roles.Contains(AppRoles.Admin)).Select(s => (s.Email, (string?)s.DisplayName)).ToList();
    }

    private static string Format(DateTimeOffset? at) => at?.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) ?? "";

    /// <summary>The facts a partner sees before accepting, and links; never the company, domain, contact or notes.</summary>
    private OutboxMessage Email(LeadNotice notice, string to, string? toName, Lead lead, DateTimeOffset now)
    {
        var offer = lead.Offers.LastOrDefault(o => o.PartnerId == notice.PartnerId);
        var message = emails.Compose(notice.Template, to, toName, new
        {
            userName = toName,
            partnerName = offer?.PartnerName ?? lead.PartnerName ?? "",
            industry = lead.Company.Industry ?? "not given",
            country = lead.Company.Country,
            region = lead.Company.Region,
            sizeBand = lead.Company.SizeBand ?? "not given",
            productLines = string.Join(", ", lead.ProductLines),
            grade = lead.Grade ?? "not graded",
            value = lead.EstimatedValue?.ToString() ?? "not estimated",
            deadline = Format(offer?.ExpiresAt),
            convertBy = Format(lead.ConvertBy),
            recallAt = Format(lead.RecallAt),
            reason = notice.Reason,
            leadUrl = emails.PortalUrl($"/leads/{lead.Id}"),
            vendorUrl = emails.PortalUrl($"/vendor/leads/{lead.Id}"),
        });
        return OutboxMessage.ForEmail(Ids.New("msg"), message, now, notice.PartnerId, Correlation.Id);
    }
}
