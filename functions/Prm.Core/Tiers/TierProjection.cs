using System.Text.Json;
using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Core.Training;

namespace Prm.Core.Tiers;

/// <summary>The certification counters' rules: an award event adds, moves or removes the award; a person who leaves takes their awards along.</summary>
public static class CertificationFactsRules
{
    /// <summary>How long a removal is remembered (a later-delivered older event must not bring the award back).</summary>
    public static readonly TimeSpan TombstoneKept = TimeSpan.FromDays(400);

    /// <summary>Applies an award event of <paramref name="at"/>; an event older than the last one applied to the award changes nothing. Null: no change.</summary>
    public static CertificationFacts? Apply(CertificationFacts facts, TrainingEvents.AwardData award, DateTimeOffset at)
    {
        if (facts.AsOf.TryGetValue(award.AwardId, out var last) && last > at) return null;
        if (facts.Removed.TryGetValue(award.AwardId, out var removed) && removed > at) return null;
        var next = Copy(facts);
        next.AsOf[award.AwardId] = at;
        if (award.Status is nameof(AwardStatus.Revoked) or nameof(AwardStatus.Expired))
        {
            next.Awards.Remove(award.AwardId);
            next.Removed[award.AwardId] = at;
        }
        else
        {
            next.Awards[award.AwardId] = new HeldAward(award.AwardId, award.UserId, award.Track, award.Level, award.GraceEndsAt, award.ExpiresAt, award.CertificationName, award.PersonName);
            next.Removed.Remove(award.AwardId);
        }
        return Prune(next, at);
    }

    /// <summary>A person left the partner: their awards leave its counts. Null when they held none.</summary>
    public static CertificationFacts? RemovePerson(CertificationFacts facts, string userId, DateTimeOffset at)
    {
        var held = facts.Awards.Values.Where(a => a.UserId == userId).Select(a => a.AwardId).ToList();
        if (held.Count == 0) return null;
        var next = Copy(facts);
        foreach (var id in held)
        {
            next.Awards.Remove(id);
            next.Removed[id] = at;
            next.AsOf[id] = at;
        }
        return Prune(next, at);
    }

    private static CertificationFacts Copy(CertificationFacts f) => new()
    {
        Awards = new Dictionary<string, HeldAward>(f.Awards, StringComparer.Ordinal),
        Removed = new Dictionary<string, DateTimeOffset>(f.Removed, StringComparer.Ordinal),
        AsOf = new Dictionary<string, DateTimeOffset>(f.AsOf, StringComparer.Ordinal),
    };

    private static CertificationFacts Prune(CertificationFacts f, DateTimeOffset now)
    {
        foreach (var (id, at) in f.Removed.Where(r => now - r.Value > TombstoneKept).ToList())
        {
            f.Removed.Remove(id);
            f.AsOf.Remove(id);
        }
        return f;
    }
}

/// <summary>
/// Keeps the certification counters of each partner from the training events and evaluates the partner's tier at once on every event
/// that moves a criterion: a registration approved, a deal won or lost, a certification earned, renewed, expired or revoked, a person
/// leaving (certification.gap). Registered after the deal projection, so the deal counters it reads already hold the event. At least
/// once and idempotent: counters apply an award's events in order of time, an evaluation whose outcome is stored writes nothing.
/// </summary>
public sealed class TierProjection(ITierStore store, TierEvaluations evaluations) : IOutboxProjection
{
    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (e.PartnerId is not { } partnerId) return;
        Func<CertificationFacts, CertificationFacts?>? change;
        switch (e.Type)
        {
            case DealEvents.Approved or DealEvents.Won or DealEvents.Lost or DealEvents.OutcomeChanged or TrainingEvents.CertificationGap:
                change = null;
                break;
            case TrainingEvents.CertificationEarned or TrainingEvents.CertificationRenewed or TrainingEvents.CertificationExpiringSoon
                or TrainingEvents.CertificationExpired or TrainingEvents.CertificationRevoked:
                var award = e.Data.Deserialize<TrainingEvents.AwardData>(OutboxJson.Options)!;
                change = facts => CertificationFactsRules.Apply(facts, award, e.OccurredAt);
                break;
            case PartnerEvents.UserRemovedType:
                var user = e.Data.Deserialize<PartnerEvents.UserData>(OutboxJson.Options)!;
                change = facts => CertificationFactsRules.RemovePerson(facts, user.User.Id, e.OccurredAt);
                break;
            default:
                return;
        }
        try
        {
            if (change is not null) await UpdateAsync(partnerId, change, ct);
            await evaluations.EvaluateAsync(partnerId, e.Type, ct);
        }
        catch (NotFoundException)
        {
            // The partner is gone: nothing to evaluate.
        }
        catch (PreconditionFailedException ex)
        {
            // Contended past the retries: delivered again shortly (the counters apply an event once; an unchanged evaluation writes nothing).
            throw new TransientDeliveryException("The partner's tier rows stayed contended.", TimeSpan.FromSeconds(2), ex);
        }
    }

    private Task UpdateAsync(string partnerId, Func<CertificationFacts, CertificationFacts?> change, CancellationToken ct) =>
        ReadDecideCommit.RunAsync(async _ =>
        {
            var found = await store.GetCertificationsAsync(partnerId, ct);
            var next = change(found?.Value ?? new CertificationFacts());
            if (next is null) return;
            await store.SaveCertificationsAsync(partnerId, next, found?.ETag, ct);
        }, attempts: 10, ReadDecideCommit.Jitter(25), ct: ct);
}
