using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Settings;

namespace Prm.Core.Leads;

/// <summary>
/// The lead workflow's steps when a deadline passes: the offer reminders, the offer's expiry (routed on, excluding that partner; after
/// maxHops the vendor pool), the conversion reminder and the recall (routed on; it counts against the partner). Each runs once per cycle
/// and does nothing once the lead moved on.
/// </summary>
public sealed class LeadDeadlines(ILeadStore store, LeadCommits commits, LeadRouter router, ProgramSettings settings, TimeProvider clock) : ILeadSteps
{
    public async Task<LeadWorkflowState?> StateAsync(string leadId, CancellationToken ct)
    {
        if (await store.GetAsync(leadId, ct) is not { } found) return null;
        var l = found.Value;
        var offer = l.PendingOffer;
        return new LeadWorkflowState(l.Status.ToString(), offer?.Id, offer?.OfferedAt, offer?.ExpiresAt, l.IsWorked ? l.ConvertBy : null, l.IsWorked ? l.RecallAt : null);
    }

    public Task<StepOutcome> RunLeadStepAsync(string leadId, LeadStep step, string cycle, CancellationToken ct) =>
        ReadDecideCommit.RunAsync(async _ =>
        {
            if (await store.GetAsync(leadId, ct) is not { } found) return StepOutcome.Closed;
            var lead = found.Value;
            var now = clock.GetUtcNow();
            var s = await settings.GetAsync<LeadSettings>(LeadSettings.SectionName, ct);
            LeadChange? change;
            switch (step)
            {
                case LeadStep.OfferExpire:
                {
                    var offer = lead.Offers.FirstOrDefault(o => o.Id == cycle);
                    if (offer is null) return StepOutcome.Closed;
                    if (offer.Status == OfferStatus.Expired) return StepOutcome.DoneAlready;
                    var expired = lead.ExpireOffer(cycle, now);
                    if (expired is null) return StepOutcome.Closed;
                    change = expired.Lead.Route(await router.DecideAsync(expired.Lead, s, now, ct), s, now, expired.Action, expired.Events, expired.Notices, expired.Note);
                    break;
                }
                case LeadStep.Recall:
                {
                    if (!lead.IsWorked || lead.RecallAt is not { } at || Lead.Stamp(at) != cycle) return StepOutcome.Closed;
                    var recalled = lead.Recall(Caller.System.DisplayName, Lead.AutomaticRecallReason, now);
                    change = recalled.Lead.Route(await router.DecideAsync(recalled.Lead, s, now, ct), s, now, recalled.Action, recalled.Events, recalled.Notices, recalled.Note);
                    break;
                }
                default:
                {
                    var (result, reminder) = lead.RunReminder(step, cycle, now);
                    if (reminder is null) return result;
                    change = reminder;
                    break;
                }
            }
            await commits.CommitAsync(Caller.System, found, change, now, ct);
            return StepOutcome.Done;
        }, ct: ct);
}
