using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Tiers;

/// <summary>
/// What people do with a partner's tier: read it (the partner's members, its channel manager, admins), set a manual criterion (the
/// owning channel manager and admins; partner users 403), confirm a pending upgrade, override the tier (admins, with a reason), and
/// evaluate now. A partner that the caller may not see does not exist for them (404).
/// </summary>
public sealed class TierCommands(IPartnerStore partners, TierEvaluations evaluations, TimeProvider clock)
{
    /// <summary>The partner's tier with a fresh evaluation (not written: reading never changes anything).</summary>
    public async Task<PartnerTierDto> GetAsync(Caller caller, string partnerId, CancellationToken ct)
    {
        var visible = await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct);
        var now = clock.GetUtcNow();
        var snap = await evaluations.ReadAsync(partnerId, now, ct, visible) ?? throw new NotFoundException("Partner");
        var state = snap.State?.Value ?? PartnerTierState.New(partnerId);
        return View(snap.Partner.Value, state, TierRules.Evaluate(snap.Facts, snap.Fx, snap.Settings, snap.Partner.Value.Tier, now), snap.Settings, now);
    }

    public static PartnerTierDto View(Partner partner, PartnerTierState state, TierEvaluation evaluation, TierSettings settings, DateTimeOffset now)
    {
        var manual = settings.Tiers.SelectMany(t => t.Criteria.Manual).GroupBy(m => m.Key, StringComparer.Ordinal).Select(g => g.First())
            .Select(m => state.Manual.TryGetValue(m.Key, out var v) ? new ManualCriterionDto(m.Key, m.Title, v.Met, v.Evidence, v.SetByName, v.SetAt) : new ManualCriterionDto(m.Key, m.Title, false, null, null, null))
            .ToList();
        return new PartnerTierDto(partner.Id, Text.Camel(partner.Tier), settings.Find(partner.Tier) is { } d ? TierBenefitsDto.From(d.Benefits) : null,
            settings.Above(partner.Tier)?.Tier, evaluation, evaluation.Next?.Gaps.ToList() ?? [], state.Downgrade, state.Upgrade,
            state.OverrideActiveAt(now) ? state.Override : null, manual, state.History);
    }

    /// <summary>Sets a manual criterion (met with evidence, or not met) and evaluates at once.</summary>
    public async Task<PartnerTierDto> SetManualAsync(Caller caller, string partnerId, string key, ManualCriterionRequest? body, CancellationToken ct)
    {
        var partner = (await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct)).Value;
        if (caller.PartnerId is not null || !PartnerAccess.CanManageProgram(caller, partner))
            throw new ForbiddenException("Manual tier criteria are set by the partner's channel manager or an admin.");
        var settings = await evaluations.SettingsAsync(ct);
        var criterion = settings.Tiers.SelectMany(t => t.Criteria.Manual).FirstOrDefault(m => m.Key == key)
            ?? throw new NotFoundException($"Manual criterion '{key}'");
        if (body?.Met is not { } met) throw new ValidationFailedException("met", "met is true or false.");
        var evidence = body.Evidence?.Trim();
        if (met && string.IsNullOrEmpty(evidence)) throw new ValidationFailedException("evidence", "evidence is required when the criterion is met (e.g. where the signed plan is).");
        if (evidence?.Length > 2000) throw new ValidationFailedException("evidence", "evidence takes at most 2000 characters.");
        var step = await evaluations.CommitAsync(caller, partnerId, $"manual criterion {key}",
            (state, now) => state with { Manual = new Dictionary<string, ManualCriterionValue>(state.Manual, StringComparer.Ordinal) { [key] = new ManualCriterionValue(met, string.IsNullOrEmpty(evidence) ? null : evidence, caller.UserId, caller.DisplayName, now) } },
            (snap, state, eval, now) =>
            {
                var before = snap.State?.Value.Manual.GetValueOrDefault(key);
                var decision = snap.Settings.Enabled && snap.Partner.Value.Status == PartnerStatus.Active
                    ? TierTransitions.AfterEvaluation(state, snap.Partner.Value.Tier, eval, snap.Settings, now, $"manual criterion {key}")
                    : new TierDecision(state with { Evaluation = eval }, snap.Partner.Value.Tier, [], $"manual criterion {key}");
                var audit = new AuditEntry(Ids.New("aud"), now, caller.UserId, caller.DisplayName, "partner.tier.criterion", "partner", partnerId,
                    [new FieldChange("manual." + key, before is null ? null : before.Met ? "met" : "not met", met ? "met" : "not met")], evidence);
                return new TierStep(decision, audit);
            }, ct);
        return await GetAsync(caller, partnerId, ct);
    }

    /// <summary>An admin fixes the tier until a date, with a reason (a pending downgrade is cancelled).</summary>
    public async Task<PartnerTierDto> OverrideAsync(Caller caller, string partnerId, TierOverrideRequest? body, CancellationToken ct)
    {
        await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct);
        if (!caller.IsAdmin) throw new ForbiddenException("Only program admins override a tier.");
        var errors = new Dictionary<string, string[]>();
        var tier = Text.ParseEnum<PartnerTier>(body?.Tier);
        if (tier is null) errors["tier"] = ["tier is one of: " + TierNames.List + "."];
        var reason = body?.Reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > 2000) errors["reason"] = ["reason is required (at most 2000 characters)."];
        var now = clock.GetUtcNow();
        if (body?.Until is not { } until || until <= now || until > now.AddDays(366)) errors["until"] = ["until is a date and time after now and within a year."];
        if (errors.Count > 0) throw new ValidationFailedException(errors);
        await evaluations.CommitAsync(caller, partnerId, "override", null, (snap, state, eval, at) =>
        {
            var decision = TierTransitions.Override(state with { Evaluation = eval }, snap.Partner.Value.Tier, tier!.Value, reason!, caller.UserId, caller.DisplayName, body!.Until!.Value, at);
            var audit = new AuditEntry(Ids.New("aud"), at, caller.UserId, caller.DisplayName, "partner.tier.overridden", "partner", partnerId,
                [new FieldChange("tierOverride", snap.State?.Value.Override?.Tier, Text.Camel(tier.Value))], reason);
            return new TierStep(decision, audit);
        }, ct);
        return await GetAsync(caller, partnerId, ct);
    }

    /// <summary>The channel manager confirms an upgrade that waits for confirmation (409 when none waits).</summary>
    public async Task<PartnerTierDto> ConfirmUpgradeAsync(Caller caller, string partnerId, CancellationToken ct)
    {
        await RequireManagerAsync(caller, partnerId, ct);
        await evaluations.CommitAsync(caller, partnerId, "upgrade confirmed", null, (snap, state, eval, now) =>
            new TierStep(TierTransitions.ConfirmUpgrade(state with { Evaluation = eval }, snap.Partner.Value.Tier, caller.DisplayName, now)), ct);
        return await GetAsync(caller, partnerId, ct);
    }

    /// <summary>Evaluates now (the owning channel manager, admins) and commits what follows.</summary>
    public async Task<PartnerTierDto> EvaluateAsync(Caller caller, string partnerId, CancellationToken ct)
    {
        await RequireManagerAsync(caller, partnerId, ct);
        await evaluations.EvaluateAsync(partnerId, "on request", ct);
        return await GetAsync(caller, partnerId, ct);
    }

    private async Task RequireManagerAsync(Caller caller, string partnerId, CancellationToken ct)
    {
        var partner = (await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct)).Value;
        if (!PartnerAccess.CanManageProgram(caller, partner)) throw new ForbiddenException("Only the partner's channel manager and admins act on its tier.");
    }
}
