using System.Text.Json;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Core.Identity;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Tiers;

/// <summary>What one evaluation read: the partner, its tier record, the facts from the counters, the settings and the FX table.</summary>
public sealed record TierSnapshot(Versioned<Partner> Partner, Versioned<PartnerTierState>? State, TierFacts Facts, TierSettings Settings, FxTable Fx);

/// <summary>What a decider returns: the decision, or null to write nothing; and the audit entry of a person's action, if any.</summary>
public sealed record TierStep(TierDecision? Decision, AuditEntry? Audit = null);

/// <summary>
/// Evaluates a partner's tier and commits what follows. An evaluation is three reads side by side (the partner, its tier record and
/// certification counters by one query, its deal counters: within an outbox delivery, those its deal projection just committed; the
/// settings and FX months come from per-instance caches), then at most one transaction of the partner's partition: the tier record, the
/// partner's tier field when it changes, the timeline entry and the events and emails. An evaluation whose outcome is the one stored writes nothing. A lost race reads again and decides again.
/// </summary>
public sealed class TierEvaluations(ITierStore store, IPartnerStore partners, IDealStore deals, FxRates fx, ProgramSettings settings, TierNotices notices, TimeProvider clock)
{
    public Task<TierSettings> SettingsAsync(CancellationToken ct) => settings.GetAsync<TierSettings>(TierSettings.SectionName, ct);

    /// <summary>Reads everything an evaluation needs (null when the partner does not exist).</summary>
    /// <param name="known">The partner as the caller just read it (an access check), so it is not read twice.</param>
    public async Task<TierSnapshot?> ReadAsync(string partnerId, DateTimeOffset now, CancellationToken ct, Versioned<Partner>? known = null)
    {
        var partner = known is not null ? Task.FromResult<Versioned<Partner>?>(known) : partners.GetAsync(partnerId, ct);
        var records = store.GetRecordsAsync(partnerId, ct);
        var stats = deals.StatsAsync(partnerId, ct);
        var section = SettingsAsync(ct);
        var rates = fx.TableAsync(TierRules.TrailingMonths(now), ct);
        await Task.WhenAll(partner, records, stats, section, rates);
        if (await partner is not { } p) return null;
        var s = await stats;
        var (state, certs) = await records;
        var facts = new TierFacts(s.WonByMonth ?? new Dictionary<string, IReadOnlyDictionary<string, decimal>>(), s.ApprovedByMonth ?? new Dictionary<string, int>(),
            certs?.Value.Awards.Values.ToList() ?? [], state?.Value.Manual ?? new Dictionary<string, ManualCriterionValue>());
        return new TierSnapshot(p, state, facts, await section, await rates);
    }

    /// <summary>Evaluates one partner (nightly, on an event, by hand) and commits the outcome. Only Active partners are evaluated; returns the decision or null.</summary>
    public async Task<TierDecision?> EvaluateAsync(string partnerId, string trigger, CancellationToken ct) =>
        (await CommitAsync(Caller.System, partnerId, trigger, null, (snap, state, eval, now) =>
            snap.Partner.Value.Status != PartnerStatus.Active || !snap.Settings.Enabled ? new TierStep(null)
            : new TierStep(TierTransitions.AfterEvaluation(state, snap.Partner.Value.Tier, eval, snap.Settings, now, trigger)), ct)).Decision;

    /// <summary>
    /// The read-evaluate-decide-commit loop every tier operation shares. <paramref name="prepare"/> changes the record before the
    /// evaluation (a manual criterion); <paramref name="decide"/> decides from the evaluation.
    /// </summary>
    public Task<TierStep> CommitAsync(Caller actor, string partnerId, string trigger, Func<PartnerTierState, DateTimeOffset, PartnerTierState>? prepare,
        Func<TierSnapshot, PartnerTierState, TierEvaluation, DateTimeOffset, TierStep> decide, CancellationToken ct) =>
        ReadDecideCommit.RunAsync(async _ =>
        {
            var now = clock.GetUtcNow();
            var snap = await ReadAsync(partnerId, now, ct) ?? throw new NotFoundException("Partner");
            var partner = snap.Partner.Value;
            var stored = snap.State?.Value ?? PartnerTierState.New(partnerId);
            var state = prepare?.Invoke(stored, now) ?? stored;
            var facts = snap.Facts with { Manual = state.Manual };
            var evaluation = TierRules.Evaluate(facts, snap.Fx, snap.Settings, partner.Tier, now);
            var step = decide(snap, state, evaluation, now);
            if (step.Decision is not { } decision) return step;
            var after = decision.Tier == partner.Tier ? partner : partner with { Tier = decision.Tier, UpdatedAt = now };
            // The notices name the gaps of the tier held when deciding; the record keeps the evaluation against the tier held after it.
            var kept = after.Tier == partner.Tier ? decision.State : decision.State with { Evaluation = TierRules.Evaluate(facts, snap.Fx, snap.Settings, after.Tier, now) };
            var outcomeChanged = Fingerprint(stored.Evaluation) != Fingerprint(kept.Evaluation);
            if (after == partner && decision.Moves.Count == 0 && step.Audit is null && Fingerprint(stored with { Evaluation = null }) == Fingerprint(kept with { Evaluation = null }) && !outcomeChanged)
                return step; // nothing new: no write
            var outbox = await notices.OutboxAsync(partner, after, stored.Downgrade, decision, now, ct);
            if (outcomeChanged) outbox.Add(OutboxMessage.ForEvent(TierEvaluationEvents.Create(partnerId, Text.Camel(after.Tier), trigger, kept.Evaluation!)));
            var audit = new List<AuditEntry>();
            if (step.Audit is not null) audit.Add(step.Audit);
            if (after.Tier != partner.Tier)
            {
                audit.Add(new AuditEntry(Ids.New("aud"), now, actor.UserId, actor.DisplayName, "partner.tier.changed", "partner", partnerId,
                    [new FieldChange("tier", Text.Camel(partner.Tier), Text.Camel(after.Tier))], decision.Reason));
            }
            await store.CommitAsync(new TierCommit(partnerId, kept, snap.State?.ETag, after == partner ? null : after, after == partner ? null : snap.Partner.ETag,
                new ChangeSet(audit, outbox)), ct);
            return step;
        }, attempts: 10, pause: ReadDecideCommit.Jitter(25), ct: ct);

    /// <summary>The evaluation's outcome without its time: what decides whether anything new was learned.</summary>
    private static string Fingerprint(object? value) => value switch
    {
        null => "",
        TierEvaluation e => JsonSerializer.Serialize(e with { EvaluatedAt = default }, OutboxJson.Options),
        _ => JsonSerializer.Serialize(value, OutboxJson.Options),
    };
}
