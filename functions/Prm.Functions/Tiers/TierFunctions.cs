using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Prm.Core.Identity;
using Prm.Core.Tiers;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;
using Prm.Workflows.Tiers;

namespace Prm.Functions.Tiers;

/// <summary>A partner's tier (read, manual criteria, confirm, override, evaluate) and the FX rates table.</summary>
public sealed class TierFunctions(TierCommands tiers, FxRates fx)
{
    [Function("GetPartnerTier")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("A partner's tier", "The current tier and its benefits, a fresh evaluation (values over the trailing 12 months, the tier they qualify for, each criterion of the current and next tier with target, actual and gap; a missing FX rate is named, never guessed), the gaps to the next tier, a pending downgrade (date, warnings sent) or upgrade, an override, the manual criteria and the history. The partner's members, its channel manager, admins.",
        Response = typeof(PartnerTierDto))]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partners/{partnerId}/tier")] HttpRequest req, string partnerId, CancellationToken ct) =>
        Api.Ok(await tiers.GetAsync(req.Caller(), partnerId, ct));

    [Function("SetTierCriterion")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Set a manual tier criterion", "met (true/false) and evidence (required when met, at most 2000 characters) for a manual criterion of the program (its key, e.g. businessPlan). The owning channel manager and admins; partner users get 403. The tier is evaluated at once (an upgrade is effective at once).",
        Request = typeof(ManualCriterionRequest), Response = typeof(PartnerTierDto))]
    public async Task<IActionResult> SetCriterion([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "partners/{partnerId}/tier/criteria/{key}")] HttpRequest req, [DurableClient] DurableTaskClient durable, string partnerId, string key, CancellationToken ct) =>
        Api.Ok(await tiers.SetManualAsync(req.Caller(), partnerId, key, await ApiJson.ReadAsync<ManualCriterionRequest>(req, ct), ct));

    [Function("EvaluatePartnerTier")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Evaluate a partner's tier now", "Evaluates and commits what follows (upgrade at once, downgrade scheduled after graceDays, a pending downgrade cancelled). The owning channel manager and admins.",
        Response = typeof(PartnerTierDto))]
    public async Task<IActionResult> Evaluate([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "partners/{partnerId}/tier/evaluate")] HttpRequest req, [DurableClient] DurableTaskClient durable, string partnerId, CancellationToken ct) =>
        Api.Ok(await tiers.EvaluateAsync(req.Caller(), partnerId, ct));

    [Function("ConfirmTierUpgrade")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Confirm a pending upgrade", "When the program's upgradeNeedsConfirmation is on, an upgrade waits for the channel manager; this makes it effective. 409 when none waits.",
        Response = typeof(PartnerTierDto))]
    public async Task<IActionResult> Confirm([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "partners/{partnerId}/tier/confirm-upgrade")] HttpRequest req, [DurableClient] DurableTaskClient durable, string partnerId, CancellationToken ct) =>
        Api.Ok(await tiers.ConfirmUpgradeAsync(req.Caller(), partnerId, ct));

    [Function("OverridePartnerTier")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Override a partner's tier", "tier, reason (required) and until (after now, within a year): the tier is set at once and evaluations do not move it until then; a pending downgrade is cancelled. Admins.",
        Request = typeof(TierOverrideRequest), Response = typeof(PartnerTierDto))]
    public async Task<IActionResult> Override([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "partners/{partnerId}/tier/override")] HttpRequest req, [DurableClient] DurableTaskClient durable, string partnerId, CancellationToken ct) =>
        Api.Ok(await tiers.OverrideAsync(req.Caller(), partnerId, await ApiJson.ReadAsync<TierOverrideRequest>(req, ct), ct));

    [Function("GetFxRates")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("FX rates of a month", "The rates of the month (yyyy-MM): units of the program currency per unit of each currency. The ETag header is the version for If-Match.", Response = typeof(FxMonthDto))]
    public async Task<IActionResult> GetFx([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "fx-rates/{month}")] HttpRequest req, string month, CancellationToken ct) =>
        Api.Versioned(await fx.GetAsync(month, ct));

    [Function("PutFxRates")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Set the FX rates of a month", "rates: { \"USD\": 0.92, ... } — units of the program currency per unit of each ISO 4217 currency (above 0, at most 10 decimals, not the program currency). Creates the month; replacing it needs If-Match with the ETag from GET (428 without). Won deals of that close month count through these rates; a currency without a rate is reported as a gap.",
        Request = typeof(FxRatesRequest), Response = typeof(FxMonthDto), OptionalIfMatch = true)]
    public async Task<IActionResult> PutFx([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "fx-rates/{month}")] HttpRequest req, [DurableClient] DurableTaskClient durable, string month, CancellationToken ct) =>
        Api.Versioned(await fx.PutAsync(req.Caller(), month, req.IfMatch(), await ApiJson.ReadAsync<FxRatesRequest>(req, ct), ct));
}

/// <summary>The nightly evaluation: a timer function that starts the fan-out workflow (one instance per night).</summary>
public sealed class TierNightlyFunction(TimeProvider clock)
{
    /// <summary>02:00 UTC every day (NCRONTAB with seconds).</summary>
    public const string Schedule = "0 0 2 * * *";

    [Function("TierNightlyEvaluation")]
    public async Task Run([TimerTrigger(Schedule)] TimerInfo timer, [DurableClient] DurableTaskClient client, CancellationToken ct)
    {
        var instanceId = TierNightly.InstanceId(clock.GetUtcNow());
        if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct) is not null) return;
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(TierNightlyOrchestrator), new TierNightly(), new StartOrchestrationOptions(instanceId), ct);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct) is null) throw;
        }
    }
}
