using System.Globalization;
using Prm.Core.Approvals;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Notifications;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Deals;

/// <summary>
/// Turns what a transition causes into outbox messages: its events (the last one marked latest) and its emails, with the recipients of
/// each audience resolved and a decision link issued per recipient where the notice carries one.
/// </summary>
public sealed class DealNotices(DealPartners partners, IStaffStore staff, DecisionLinks links, EmailComposer emails, ProgramSettings settings)
{
    /// <summary>The outbox messages of <paramref name="change"/> for the registration as committed (<paramref name="deal"/>).</summary>
    public async Task<List<OutboxMessage>> OutboxAsync(Deal deal, DealChange change, DateTimeOffset now, CancellationToken ct)
    {
        var outbox = new List<OutboxMessage>();
        for (var i = 0; i < change.Events.Count; i++)
        {
            outbox.Add(OutboxMessage.ForEvent(DealEvents.Create(change.Events[i].Type, deal, now, change.Events[i].Reason, latest: i == change.Events.Count - 1)));
        }
        foreach (var notice in change.Notices)
        {
            if (notice.To == DealAudience.RegisteringUser)
            {
                outbox.Add(Email(notice.Template, deal.SubmittedByEmail, deal.SubmittedByName, deal, now, reason: notice.Reason, extension: notice.Extension));
                continue;
            }
            foreach (var member in await RecipientsAsync(deal, notice.To, ct))
            {
                var url = notice.Link is { } link
                    ? await links.IssueAsync(link.Kind, link.SubjectId, Recipient(member), link.Decisions, now + (await settings.GetAsync<DealSettings>(DealSettings.SectionName, ct)).DecisionLinkValidFor, ct)
                    : null;
                outbox.Add(Email(notice.Template, member.Email, member.DisplayName, deal, now, reviewerName: member.DisplayName, reason: notice.Reason, decisionUrl: url, extension: notice.Extension));
            }
        }
        return outbox;
    }

    private async Task<IReadOnlyList<StaffMember>> RecipientsAsync(Deal deal, DealAudience audience, CancellationToken ct)
    {
        if (audience == DealAudience.Admins) return await AdminsAsync(ct);
        var managerId = (await partners.GetAsync(deal.PartnerId, ct))?.ChannelManagerId ?? deal.ChannelManagerId;
        if (managerId is not null && await staff.GetAsync(managerId, ct) is { } manager) return [manager];
        return audience == DealAudience.Reviewers ? await AdminsAsync(ct) : [];
    }

    private async Task<IReadOnlyList<StaffMember>> AdminsAsync(CancellationToken ct) => (await staff.ListAsync(ct)).Where(s => s.Roles.Contains(AppRoles.Admin)).ToList();

    private static Caller Recipient(StaffMember member) => new(member.Id, member.Email, member.DisplayName, member.Roles, null, null);

    private OutboxMessage Email(string template, string to, string? toName, Deal deal, DateTimeOffset now, string? reviewerName = null, string? reason = null, string? decisionUrl = null, DealExtension? extension = null)
    {
        static string Format(DateTimeOffset? at) => at?.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) ?? "";
        var message = emails.Compose(template, to, toName, new
        {
            userName = toName,
            reviewerName,
            partnerName = deal.PartnerName,
            submittedByName = deal.SubmittedByName,
            registrationNumber = deal.RegistrationNumber,
            customerName = deal.Customer.CompanyName,
            customerDomain = deal.Customer.Domain ?? "",
            country = deal.Customer.Country,
            value = deal.EstimatedValue.ToString(),
            closeDate = deal.ExpectedCloseDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            conflictLevel = deal.Conflict.Level,
            evidence = deal.Conflict.Evidence.Count == 0 ? "No conflicting registration found." : string.Join(" ", deal.Conflict.Evidence),
            protectedUntil = Format(deal.ProtectedUntil),
            remindAt = Format(deal.ReviewRemindAt),
            reason,
            extensionDays = extension?.Days,
            extensionReason = extension?.Reason,
            extensionStatus = extension is null ? null : extension.Status == "Approved" ? "approved" : extension.Status == "Rejected" ? "rejected" : "requested",
            dealUrl = emails.PortalUrl($"/deals/{deal.Id}"),
            reviewUrl = decisionUrl ?? emails.PortalUrl($"/vendor/deals/{deal.Id}"),
        });
        return OutboxMessage.ForEmail(Ids.New("msg"), message, now, deal.PartnerId, Correlation.Id);
    }
}
