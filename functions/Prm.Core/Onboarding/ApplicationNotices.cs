using System.Globalization;
using Prm.Core.Approvals;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Notifications;
using Prm.Core.Outbox;
using Prm.Core.Partners;

namespace Prm.Core.Onboarding;

/// <summary>The applicant's personal links a notice may carry (they hold secrets, so only the use case that made them knows them).</summary>
public sealed record ApplicantLinks(string? StatusUrl = null, string? AnswerUrl = null);

/// <summary>
/// Turns what an application transition causes into outbox messages: its events and its emails, with the recipients of each audience
/// resolved and a decision link issued per reviewer where the notice asks for one (valid until the application expires).
/// </summary>
public sealed class ApplicationNotices(IStaffStore staff, DecisionLinks links, EmailComposer emails)
{
    /// <summary>The outbox messages of <paramref name="change"/> for the application as committed.</summary>
    /// <param name="staffList">All staff, when the caller read them already (side by side with its other reads): no read here.</param>
    /// <param name="linkWrites">
    /// When given, the decision links' rows are written without waiting here: their writes are added to it, and the caller awaits them
    /// before its commit (beside the outbox pointers), so no email names a link that does not exist. Without it each link's row is
    /// written before this returns. A commit that fails after them leaves rows of links to nothing (they expire with the application).
    /// </param>
    public async Task<List<OutboxMessage>> OutboxAsync(ApplicationChange change, DateTimeOffset now, ApplicantLinks? applicant, CancellationToken ct,
        IReadOnlyList<StaffMember>? staffList = null, List<Task>? linkWrites = null)
    {
        var a = change.Application;
        var outbox = change.Events.Select(e => OutboxMessage.ForEvent(ApplicationEvents.Create(e.Type, a, now, e.Reason))).ToList();
        foreach (var notice in change.Notices)
        {
            if (notice.To == ApplicationAudience.Applicant)
            {
                outbox.Add(Email(notice.Template, a.Applicant.Email, a.Applicant.Name, a, now, notice, reviewerName: notice.AskedBy, statusUrl: applicant?.StatusUrl, answerUrl: applicant?.AnswerUrl));
                continue;
            }
            // One link per recipient, each its own row: issued side by side.
            var members = await RecipientsAsync(a, notice.To, staffList, ct);
            var urls = await Task.WhenAll(members.Select(async member => notice.DecisionLink
                ? await LinkAsync(new Caller(member.Id, member.Email, member.DisplayName, member.Roles, null, null))
                : null));
            for (var i = 0; i < members.Count; i++)
            {
                outbox.Add(Email(notice.Template, members[i].Email, members[i].DisplayName, a, now, notice, reviewerName: members[i].DisplayName, decisionUrl: urls[i]));
            }
        }
        return outbox;

        async Task<string> LinkAsync(Caller member)
        {
            if (linkWrites is null) return await links.IssueAsync(ApplicationDecisionLinks.Kind, a.Id, member, PartnerApplication.ReviewDecisions, a.Deadlines.ExpiresAt, ct);
            var (url, stored) = links.Issue(ApplicationDecisionLinks.Kind, a.Id, member, PartnerApplication.ReviewDecisions, a.Deadlines.ExpiresAt, ct);
            lock (linkWrites) linkWrites.Add(stored);
            return url;
        }
    }

    private async Task<IReadOnlyList<StaffMember>> RecipientsAsync(PartnerApplication a, ApplicationAudience audience, IReadOnlyList<StaffMember>? staffList, CancellationToken ct)
    {
        if (audience == ApplicationAudience.Reviewers && a.AssigneeId is not null
            && (staffList is null ? await staff.GetAsync(a.AssigneeId, ct) : staffList.FirstOrDefault(s => s.Id == a.AssigneeId)) is { } assignee) return [assignee];
        return (staffList ?? await staff.ListAsync(ct)).Where(s => s.Roles.Contains(AppRoles.Admin)).ToList();
    }

    private OutboxMessage Email(string template, string to, string? toName, PartnerApplication a, DateTimeOffset now, ApplicationNotice notice,
        string? reviewerName = null, string? statusUrl = null, string? decisionUrl = null, string? answerUrl = null)
    {
        static string Format(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        var message = emails.Compose(template, to, toName, new
        {
            applicantName = a.Applicant.Name,
            reviewerName,
            companyName = a.Company.LegalName,
            domain = a.Company.Domain,
            country = a.Company.Country,
            fitScore = a.Screening.FitScore,
            flags = string.Join(", ", a.Screening.Flags),
            remindAt = Format(a.Deadlines.RemindAt),
            escalateAt = Format(a.Deadlines.EscalateAt),
            expiresAt = Format(a.Deadlines.ExpiresAt),
            expiryDays = (int)Math.Ceiling((a.Deadlines.ExpiresAt - a.SubmittedAt).TotalDays),
            statusUrl = statusUrl ?? emails.PortalUrl($"/applications/{a.Id}"),
            reviewUrl = decisionUrl ?? emails.PortalUrl($"/vendor/applications/{a.Id}"),
            reason = notice.Reason,
            tier = a.Tier is { } tier ? Text.Camel(tier) : null,
            answerUrl,
            unanswered = notice.Unanswered,
            infoRequest = a.InfoRequest,
            infoAnswer = a.InfoAnswer,
            infoDueAt = a.InfoDueAt is { } due ? Format(due) : null,
        });
        return OutboxMessage.ForEmail(Ids.New("msg"), message, now, null, Correlation.Id);
    }
}
