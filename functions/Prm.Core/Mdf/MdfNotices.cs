using Prm.Core.Approvals;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Notifications;
using Prm.Core.Outbox;
using Prm.Core.Partners;

namespace Prm.Core.Mdf;

/// <summary>
/// Turns what an MDF transition causes into outbox messages: its events and its emails, with the recipients of each audience resolved
/// and a decision link issued per reviewer where the notice asks for one.
/// </summary>
public sealed class MdfNotices(IStaffStore staff, DecisionLinks links, EmailComposer emails)
{
    /// <summary>The kind of decision link of a fund request.</summary>
    public const string DecisionKind = "mdfRequest";

    /// <summary>The outbox messages of <paramref name="change"/>.</summary>
    /// <param name="manager">The request's channel manager, when the caller read it already (side by side with its other reads).</param>
    /// <param name="linkWrites">
    /// When given, the decision links' rows are written without waiting here: their writes are added to it, and the caller awaits them
    /// before its commit (beside the outbox pointers). Without it each link's row is written before this returns.
    /// </param>
    public async Task<List<OutboxMessage>> OutboxAsync(MdfChange change, DateTimeOffset now, CancellationToken ct, Task<StaffMember?>? manager = null, List<Task>? linkWrites = null)
    {
        var r = change.Updated;
        var outbox = change.Events.Select(e => OutboxMessage.ForEvent(MdfEvents.Create(e.Type, r, now, e.Schedule, e.Reason, e.WasApproved))).ToList();
        foreach (var notice in change.Notices)
        {
            if (notice.To == MdfAudience.Requester)
            {
                outbox.Add(Compose("mdf-update", r.RequesterEmail, r.RequesterName, r, notice, emails.PortalUrl($"/mdf/requests/{r.Id}"), now));
                continue;
            }
            // One decision link per reviewer, each its own row: issued side by side.
            var reviewers = await RecipientsAsync(r, notice.To, manager, ct);
            var urls = await Task.WhenAll(reviewers.Select(async reviewer => notice.Link switch
            {
                MdfLinkKind.RequestDecision => await LinkAsync(new Caller(reviewer.Id, reviewer.Email, reviewer.DisplayName, reviewer.Roles, null, null), now + notice.LinkValidFor),
                MdfLinkKind.ClaimReview => emails.PortalUrl($"/vendor/mdf/claims/{r.Claim?.Id}"),
                _ => emails.PortalUrl($"/vendor/mdf/requests/{r.Id}"),
            }));
            for (var i = 0; i < reviewers.Count; i++) outbox.Add(Compose("mdf-review", reviewers[i].Email, reviewers[i].DisplayName, r, notice, urls[i], now));
        }
        return outbox;

        async Task<string> LinkAsync(Caller reviewer, DateTimeOffset expiresAt)
        {
            if (linkWrites is null) return await links.IssueAsync(DecisionKind, r.Id, reviewer, ["approve", "reject", "requestInfo"], expiresAt, ct);
            var (url, stored) = links.Issue(DecisionKind, r.Id, reviewer, ["approve", "reject", "requestInfo"], expiresAt, ct);
            lock (linkWrites) linkWrites.Add(stored);
            return url;
        }
    }

    private async Task<IReadOnlyList<StaffMember>> RecipientsAsync(FundRequest r, MdfAudience audience, Task<StaffMember?>? prefetched, CancellationToken ct)
    {
        switch (audience)
        {
            case MdfAudience.Admins: return await AdminsAsync(ct);
            case MdfAudience.AdminsButFirstApprover: return (await AdminsAsync(ct)).Where(a => a.Id != r.FirstApproval?.ById).ToList();
            default:
                var manager = r.ChannelManagerId is null ? null : prefetched is not null ? await prefetched : await staff.GetAsync(r.ChannelManagerId, ct);
                return manager is not null && manager.Roles.Contains(AppRoles.ChannelManager) ? [manager] : await AdminsAsync(ct);
        }
    }

    private async Task<IReadOnlyList<StaffMember>> AdminsAsync(CancellationToken ct) => (await staff.ListAsync(ct)).Where(s => s.Roles.Contains(AppRoles.Admin)).ToList();

    private OutboxMessage Compose(string template, string to, string? toName, FundRequest r, MdfNotice notice, string actionUrl, DateTimeOffset now)
    {
        var email = emails.Compose(template, to, toName, new
        {
            recipientName = toName ?? to,
            headline = notice.Headline,
            message = notice.Message,
            title = r.Title,
            partnerName = r.PartnerName,
            amount = (r.ApprovedAmount ?? r.RequestedAmount).ToString(),
            dates = $"{BudgetDto.Iso(r.StartDate)} to {BudgetDto.Iso(r.EndDate)}",
            actionUrl,
        });
        return OutboxMessage.ForEmail(Ids.New("msg"), email, now, r.PartnerId, Correlation.Id);
    }
}
