using Microsoft.DurableTask.Client;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Prm.Core.Audit;
using Prm.Core.Identity;
using Prm.Core.Deals;
using Prm.Core.Mdf;
using Prm.Core.Onboarding;
using Prm.Core.Settings;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;

namespace Prm.Functions.Platform;

/// <summary>Program settings (admins): the rules and deadlines of the workflows, and the agreement documents.</summary>
public sealed class SettingsFunctions(ProgramSettings settings, PartnerAgreements agreements)
{
    [Function("GetProgramSettings")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Read a settings section", "Sections: onboarding (fit-score rules, reviewer assignment by country/region, review/info/agreement/checklist deadlines, current agreement version), deals, mdf, content, leads, training, tiers (ordered tiers with criteria and benefits, graceDays, warningDaysBefore, upgradeNeedsConfirmation), plans (reviewLead: how long before a quarter ends its review is due, 1 s to 92 days; reviewReminderAfter: how long after the quarter an unrecorded review reminds the channel manager, 1 s to 90 days), branding (programName, primaryColor with WCAG AA white-text contrast, supportEmail, emailFooter, legalLinks, logo as uploaded through PUT /api/branding/logo). Durations are ISO 8601 strings (e.g. \"PT24H\", \"P90D\"). The ETag is \"defaults\" while the section was never saved.",
        Variants = [typeof(OnboardingSettings), typeof(DealSettings), typeof(MdfSettings), typeof(Prm.Core.Content.ContentSettings), typeof(Prm.Core.Leads.LeadSettings), typeof(Prm.Core.Training.TrainingSettings), typeof(Prm.Core.Tiers.TierSettings), typeof(Prm.Core.Branding.BrandingSettings), typeof(Prm.Core.Plans.PlanSettings)])]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "settings/{section}")] HttpRequest req, string section, CancellationToken ct) =>
        Api.Versioned(await settings.ReadAsync(req.Caller(), section, ct));

    [Function("UpdateProgramSettings")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Replace a settings section", "The whole section; properties left out take their defaults. If-Match is required (\"defaults\" for a section never saved). Invalid values are 422 naming the field; the change is in the settings timeline. Durations are ISO 8601 (\"PT24H\", \"P90D\"); the older \"d.hh:mm:ss\" is accepted too.",
        Variants = [typeof(OnboardingSettings), typeof(DealSettings), typeof(MdfSettings), typeof(Prm.Core.Content.ContentSettings), typeof(Prm.Core.Leads.LeadSettings), typeof(Prm.Core.Training.TrainingSettings), typeof(Prm.Core.Tiers.TierSettings), typeof(Prm.Core.Branding.BrandingSettings), typeof(Prm.Core.Plans.PlanSettings)], IfMatch = true)]
    public async Task<IActionResult> Update([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "settings/{section}")] HttpRequest req, [DurableClient] DurableTaskClient durable, string section, CancellationToken ct) =>
        Api.Versioned(await settings.SaveAsync(req.Caller(), section, req.IfMatch(), await ApiJson.ReadAsync<JsonObject>(req, ct), ct));

    [Function("GetSettingsTimeline")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("The settings timeline", "Every change of the program settings: who, when, each setting before and after.", Response = typeof(ListResponse<AuditEntry>), Query = ["limit", "cursor"])]
    public async Task<IActionResult> Timeline([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "settings-timeline")] HttpRequest req, CancellationToken ct) =>
        Api.Page(await settings.TimelineAsync(req.Caller(), req.Paging(), ct));

    [Function("UploadAgreementDocument")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Upload an agreement version", "The agreement text (text/plain, UTF-8, at most 256 KiB) as a new version; versions never change (409 when it exists). It becomes the one new partners accept when the onboarding settings name it (agreementVersion).",
        Response = typeof(AgreementDocument), Status = 201, RequestContentType = "text/plain")]
    public async Task<IActionResult> Upload([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "settings/agreements/{version}")] HttpRequest req, [DurableClient] DurableTaskClient durable, string version, CancellationToken ct)
    {
        var bytes = await ApiJson.ReadBytesAsync(req, 256 * 1024, ct, "text/plain", "text/markdown");
        var document = await agreements.UploadAsync(req.Caller(), version, bytes, ct);
        return Api.Created(document with { Text = "" }, $"/api/settings/agreements/{version}");
    }

    [Function("GetAgreementDocument")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Read an agreement version", "The text and its SHA-256 (what acceptances record).", Response = typeof(AgreementDocument))]
    public async Task<IActionResult> GetAgreement([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "settings/agreements/{version}")] HttpRequest req, string version, CancellationToken ct) =>
        Api.Ok(await agreements.GetVersionAsync(req.Caller(), version, ct));
}
