using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Settings;

namespace Prm.Core.Deals;

/// <summary>
/// The partner's channel manager (or an admin) decides a registration under review, through the API or an emailed decision link:
/// approve (protection starts; the registration must hold the customer's claim), reject (final) or return (the partner completes it).
/// </summary>
public sealed class DecideDeal(IDealStore store, DealCommits commits, ProgramSettings settings, TimeProvider clock)
{
    public async Task<Versioned<DealDto>> DecideAsync(Caller caller, string dealId, DealDecisionRequest? body, CancellationToken ct)
    {
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        var decision = body.Decision?.Trim();
        if (decision is not ("approve" or "reject" or "return")) throw new ValidationFailedException("decision", "decision must be approve, reject or return.");
        if (decision is "reject" or "return" && string.IsNullOrWhiteSpace(body.Reason)) throw new ValidationFailedException("reason", $"reason is required to {decision}: the partner is told why.");
        if (body.Reason?.Length > 2000) throw new ValidationFailedException("reason", "reason takes at most 2000 characters.");
        var rules = await settings.GetAsync<DealSettings>(DealSettings.SectionName, ct);
        if (body.ProtectionDays is { } days && (days < 1 || days > rules.MaxProtectionDays)) throw new ValidationFailedException("protectionDays", $"protectionDays must be 1 to {rules.MaxProtectionDays}.");
        if (body.ProtectionDays is not null && decision != "approve") throw new ValidationFailedException("protectionDays", "protectionDays applies to approve only.");
        var protection = body.ProtectionDays is { } d ? TimeSpan.FromDays(d) : rules.ProtectionPeriod;

        return await ReadDecideCommit.RunAsync(async attempt =>
        {
            var found = attempt == 1 ? await commits.LoadAsync(caller, dealId, DealOperation.Decide, ct) : await store.GetAsync(dealId, ct) ?? throw new NotFoundException("Deal");
            var deal = found.Value;
            var now = clock.GetUtcNow();
            var record = new DealDecision(decision, body.Reason?.Trim(), caller.UserId, caller.DisplayName, now);
            var claimKey = Deal.ClaimKeyOf(deal.Customer);
            var change = decision switch
            {
                "approve" => deal.Approve(record, protection, claimKey),
                "reject" => deal.Reject(record),
                _ => deal.Return(record),
            };
            // Approval needs the customer's claim: first come, first served through the claim row.
            var claimAcquired = false;
            if (decision == "approve")
            {
                if (!await store.TryClaimAsync(claimKey, deal.Id, deal.PartnerId, ct))
                    throw new ConflictException("Another active registration holds this customer (it was first); reject or return this one, or decide after that registration ends.", "decision");
                claimAcquired = deal.ClaimKey != claimKey;
            }
            try
            {
                var (updated, etag) = await commits.CommitAsync(caller, found, change, now, ct);
                return new Versioned<DealDto>(DealDto.From(updated, caller.IsVendor), etag);
            }
            catch when (claimAcquired)
            {
                await store.ReleaseClaimAsync(claimKey, deal.Id, CancellationToken.None);
                throw;
            }
        }, ct: ct);
    }
}
