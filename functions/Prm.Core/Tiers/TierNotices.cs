using System.Globalization;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Notifications;
using Prm.Core.Outbox;
using Prm.Core.Partners;

namespace Prm.Core.Tiers;

/// <summary>
/// Turns a tier decision into outbox messages: its events (tier.changed, tier.downgradeScheduled, tier.downgradeCancelled, and
/// partner.updated for a change of the tier field) and its emails to the partner's admins and channel manager (a change, a warning naming
/// the gaps, a cancelled downgrade, an upgrade waiting for confirmation).
/// </summary>
public sealed class TierNotices(IPartnerStore partners, IStaffStore staff, EmailComposer emails)
{
    public static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("d MMMM yyyy", CultureInfo.InvariantCulture);

    public async Task<List<OutboxMessage>> OutboxAsync(Partner before, Partner after, PendingDowngrade? previousDowngrade, TierDecision decision, DateTimeOffset now, CancellationToken ct)
    {
        var outbox = new List<OutboxMessage>();
        var eval = decision.State.Evaluation;
        var currentGaps = eval?.Current?.Gaps.ToList() ?? [];
        TierEvents.TierData Data(string? from, string? to, string? downgradeId, DateTimeOffset? effectiveAt, IReadOnlyList<CriterionResult> gaps) =>
            new(after.Id, after.Name, after.ChannelManagerId, Text.Camel(after.Tier), from, to, decision.Reason, downgradeId, effectiveAt, gaps);
        var mails = new List<(string Headline, string Detail, IReadOnlyList<string> Gaps, bool ManagerOnly)>();
        foreach (var move in decision.Moves.Distinct())
        {
            switch (move)
            {
                case TierMove.Upgraded or TierMove.Downgraded or TierMove.Overridden when before.Tier != after.Tier:
                    outbox.Add(OutboxMessage.ForEvent(TierEvents.Create(TierEvents.Changed, Data(Text.Camel(before.Tier), Text.Camel(after.Tier), previousDowngrade?.Id, null, currentGaps), now)));
                    mails.Add(($"now {Text.Camel(after.Tier)} (was {Text.Camel(before.Tier)})",
                        $"{after.Name} moved from {Text.Camel(before.Tier)} to {Text.Camel(after.Tier)} on {Day(now)}. {decision.Reason}.", move == TierMove.Downgraded ? TierRules.Describe(currentGaps) : [], false));
                    break;
                case TierMove.DowngradeScheduled when decision.State.Downgrade is { } d:
                    outbox.Add(OutboxMessage.ForEvent(TierEvents.Create(TierEvents.DowngradeScheduled, Data(Text.Camel(after.Tier), d.To, d.Id, d.EffectiveAt, currentGaps), now)));
                    break;
                case TierMove.DowngradeCancelled when previousDowngrade is { } p:
                    outbox.Add(OutboxMessage.ForEvent(TierEvents.Create(TierEvents.DowngradeCancelled, Data(Text.Camel(after.Tier), p.To, p.Id, p.EffectiveAt, []), now)));
                    if (decision.Moves.Contains(TierMove.Upgraded) || decision.Moves.Contains(TierMove.Overridden)) break; // the change says it
                    mails.Add(($"keeps {Text.Camel(after.Tier)}", $"{after.Name} meets the criteria of {Text.Camel(after.Tier)} again: the move to {p.To} planned for {Day(p.EffectiveAt)} is cancelled.", [], false));
                    break;
                case TierMove.Warned when decision.State.Downgrade is { } w:
                    mails.Add(($"drops to {w.To} on {Day(w.EffectiveAt)}",
                        $"{after.Name} drops from {Text.Camel(after.Tier)} to {w.To} on {Day(w.EffectiveAt)} unless it meets every criterion of {Text.Camel(after.Tier)} by then.",
                        TierRules.Describe(currentGaps), false));
                    break;
                case TierMove.UpgradePending when decision.State.Upgrade is { } u:
                    mails.Add(($"qualifies for {u.To}", $"{after.Name} meets every criterion of {u.To}; the upgrade waits for your confirmation.", [], true));
                    break;
            }
        }
        if (before.Tier != after.Tier)
        {
            var changes = Audit.Diff.Between(before.Snapshot(), after.Snapshot());
            outbox.Add(OutboxMessage.ForEvent(PartnerEvents.Updated(before, after, changes, now)));
        }
        if (mails.Count == 0) return outbox;
        var recipients = await RecipientsAsync(after, ct);
        foreach (var (headline, detail, gaps, managerOnly) in mails)
        {
            foreach (var (email, name, manager) in recipients)
            {
                if (managerOnly && !manager) continue;
                var message = emails.Compose("tier-notice", email, name, new
                {
                    userName = name,
                    partnerName = after.Name,
                    headline,
                    detail,
                    gapList = string.Join("\n", gaps.Select(g => "- " + g)),
                    tierUrl = emails.PortalUrl($"/partners/{after.Id}/tier"),
                });
                outbox.Add(OutboxMessage.ForEmail(Ids.New("msg"), message, now, after.Id, Correlation.Id));
            }
        }
        return outbox;
    }

    /// <summary>The partner's admins and its channel manager.</summary>
    private async Task<List<(string Email, string Name, bool Manager)>> RecipientsAsync(Partner partner, CancellationToken ct)
    {
        var admins = partners.ListUsersAsync(partner.Id, new PageRequest(PageRequest.MaxLimit, null), ct);
        var manager = partner.ChannelManagerId is { } id ? staff.GetAsync(id, ct) : Task.FromResult<StaffMember?>(null);
        await Task.WhenAll(admins, manager);
        var list = (await admins).Items.Where(u => u.Role == PartnerRole.PartnerAdmin).Select(u => (u.Email, u.DisplayName, false)).ToList();
        if (await manager is { } m) list.Add((m.Email, m.DisplayName, true));
        return list;
    }
}
