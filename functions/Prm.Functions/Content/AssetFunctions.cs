using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Prm.Core.Audit;
using Prm.Core.Content;
using Prm.Core.Identity;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;

namespace Prm.Functions.Content;

/// <summary>The content library: assets with versions uploaded through SAS, visibility enforced where they are read, downloads, the sweep.</summary>
public sealed class AssetFunctions(ManageAssets manage, AssetQueries queries, AssetDownloads downloads, CoBrandedCopies coBranded, PartnerLogos logos, ContentSweep sweep)
{
    /// <summary>Every 15 minutes: publication and expiry take effect within an hour of their time.</summary>
    public const string SweepSchedule = "0 */15 * * * *";

    [Function("CreateAsset")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Create an asset", "A Draft with its metadata and visibility rule (dimensions everyone, tiers, regions, partnerTypes, allowedPartners, deniedPartners, partnerRoles: AND across dimensions, OR within, a denied partner never sees it). publishAt must come before expireAt; named partners and tiers must exist.",
        Request = typeof(AssetInput), Response = typeof(AssetDto), Status = 201)]
    public async Task<IActionResult> Create([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "assets")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var created = await manage.CreateAsync(req.Caller(), await ApiJson.ReadAsync<AssetInput>(req, ct), ct);
        return Api.Created(created.Value, $"/api/assets/{created.Value.Id}", created.ETag);
    }

    [Function("ListAssets")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("List assets", "Newest first. Partner users see the published assets their company sees now by each asset's visibility rule; vendor staff see all. search: every word in the title or tags, case- and accent-insensitive; type, productLine, tag, locale: exact. A page may hold fewer items than limit while nextCursor is set.",
        Response = typeof(ListResponse<AssetDto>), Query = ["search", "type", "productLine", "tag", "locale", "limit", "cursor"])]
    public async Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "assets")] HttpRequest req, CancellationToken ct) =>
        Api.Page(await queries.ListAsync(req.Caller(), AssetFilter.From(req.Query("search"), req.Query("type"), req.Query("productLine"), req.Query("tag"), req.Query("locale")), req.Paging(), ct));

    [Function("GetAsset")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Read an asset", "Partner users: only a published asset their company sees (404 otherwise, as for a missing one), with its current version. Vendor staff: any, with every version and the rule. The ETag header is the version for If-Match.", Response = typeof(AssetDto))]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "assets/{assetId}")] HttpRequest req, string assetId, CancellationToken ct) =>
        Api.Versioned(await queries.GetAsync(req.Caller(), assetId, ct));

    [Function("UpdateAsset")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Edit an asset", "While Draft or Published; only present fields change (\"\" clears a date). If-Match is required.", Request = typeof(AssetInput), Response = typeof(AssetDto), IfMatch = true, PartialRequest = true)]
    public async Task<IActionResult> Update([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "assets/{assetId}")] HttpRequest req, [DurableClient] DurableTaskClient durable, string assetId, CancellationToken ct) =>
        Api.Versioned(await manage.EditAsync(req.Caller(), assetId, req.IfMatch(), await ApiJson.ReadAsync<AssetInput>(req, ct), ct));

    [Function("AddAssetVersion")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Upload a version", "Returns the version number and a write-only SAS URL for one blob: PUT the file there (x-ms-blob-type: BlockBlob), then complete the version.",
        Request = typeof(VersionUploadInput), Response = typeof(VersionUpload), Status = 201)]
    public async Task<IActionResult> AddVersion([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "assets/{assetId}/versions")] HttpRequest req, [DurableClient] DurableTaskClient durable, string assetId, CancellationToken ct)
    {
        var upload = await manage.AddVersionAsync(req.Caller(), assetId, await ApiJson.ReadAsync<VersionUploadInput>(req, ct), ct);
        return Api.Created(upload, $"/api/assets/{assetId}");
    }

    [Function("CompleteAssetVersion")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Check an uploaded version", "At most maxFileBytes (500 MiB) and, judged by its first bytes, a PDF, PNG, JPEG, PPTX, DOCX, XLSX, MP4 or ZIP file; anything else is deleted and refused (422). Records size, SHA-256 and content type; the version never changes after.",
        Response = typeof(AssetDto))]
    public async Task<IActionResult> CompleteVersion([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "assets/{assetId}/versions/{version}/complete")] HttpRequest req, [DurableClient] DurableTaskClient durable, string assetId, string version, CancellationToken ct) =>
        Api.Versioned(await manage.CompleteVersionAsync(req.Caller(), assetId, version, ct));

    [Function("PublishAsset")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Publish an asset", "Publishes the newest checked version: a Draft now, or at its future publishAt (the sweep publishes it within an hour); a Published asset with a newer version supersedes the current one (asset.superseded).",
        Response = typeof(AssetDto))]
    public async Task<IActionResult> Publish([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "assets/{assetId}/publish")] HttpRequest req, [DurableClient] DurableTaskClient durable, string assetId, CancellationToken ct) =>
        Api.Versioned(await manage.PublishAsync(req.Caller(), assetId, ct));

    [Function("ArchiveAsset")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Archive an asset", "With a reason; partners no longer see it. Final.", Request = typeof(ArchiveInput), Response = typeof(AssetDto))]
    public async Task<IActionResult> Archive([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "assets/{assetId}/archive")] HttpRequest req, [DurableClient] DurableTaskClient durable, string assetId, CancellationToken ct) =>
        Api.Versioned(await manage.ArchiveAsync(req.Caller(), assetId, await ApiJson.ReadAsync<ArchiveInput>(req, ct), ct));

    [Function("DownloadAsset")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Download an asset", "302 to a read-only SAS URL of the current published version, valid 5 minutes (downloadLinkValidFor). A partner user's download is recorded (user, partner, version) and counted (asset.downloaded).",
        Status = 302, Headers = [])]
    public async Task<IActionResult> Download([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "assets/{assetId}/download")] HttpRequest req, string assetId, CancellationToken ct) =>
        new FoundResult(await downloads.DownloadAsync(req.Caller(), assetId, ct));

    /// <summary>The response header that tells a partner without a logo how to get one into its copies.</summary>
    public const string CoBrandHintHeader = "X-Prm-CoBrand-Hint";

    [Function("GetCoBrandedAsset")]
    [Access(AccessPolicy.PartnerMember)]
    [ApiOperation("Download a co-branded copy", "302 to a read-only SAS URL (5 minutes) of the caller's own copy of a co-branded PDF asset: the partner's logo in the logo zones, partner and user details in the text zones. Cached per version, partner profile and user. A partner without a logo gets a text-only copy and the X-Prm-CoBrand-Hint header. 409 when the asset has no co-brand template.",
        Status = 302)]
    public async Task<IActionResult> CoBranded([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "assets/{assetId}/cobranded")] HttpRequest req, string assetId, CancellationToken ct)
    {
        var copy = await coBranded.GetAsync(req.Caller(), assetId, ct);
        return new FoundResult(copy.Url, copy.WithLogo ? null : "The partner has no logo yet: a partner admin uploads one with PUT /api/partners/{partnerId}/logo (PNG or JPEG, at least 300 px wide).");
    }

    [Function("PutPartnerLogo")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Upload the partner's logo", "Partner admins (and the owning channel manager, admins); another partner is a 404. The body is the image: PNG or JPEG (judged by its content), at least 300 px wide, at most 2 MiB. Co-branded copies use it from then on.",
        RequestContentType = "image/png,image/jpeg", Response = typeof(PartnerLogo))]
    public async Task<IActionResult> PutLogo([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "partners/{partnerId}/logo")] HttpRequest req, [DurableClient] DurableTaskClient durable, string partnerId, CancellationToken ct)
    {
        // Who may upload is decided before the body is read: another company's id is a 404 however the body looks.
        await logos.EnsureMayUploadAsync(req.Caller(), partnerId, ct);
        var image = await ApiJson.ReadBytesAsync(req, PartnerLogos.MaxBytes, ct, "image/png", "image/jpeg");
        return Api.Ok(await logos.SaveAsync(req.Caller(), partnerId, image, ct));
    }

    [Function("GetAssetVisibility")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("A partner's view of an asset", "Whether the partner sees the asset now and, if not, which dimension (or the status) excludes it. The role dimension is not checked for a company as a whole.",
        Response = typeof(VisibilityAnswer), Query = ["partnerId"])]
    public async Task<IActionResult> Visibility([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "assets/{assetId}/visibility")] HttpRequest req, string assetId, CancellationToken ct) =>
        Api.Ok(await queries.VisibilityAsync(req.Caller(), assetId, req.Query("partnerId"), ct));

    [Function("GetAssetTimeline")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("An asset's timeline", "Every transition: who, what, when, the changed fields.", Response = typeof(ListResponse<AuditEntry>), Query = ["limit", "cursor"])]
    public async Task<IActionResult> Timeline([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "assets/{assetId}/timeline")] HttpRequest req, string assetId, CancellationToken ct) =>
        Api.Page(await queries.TimelineAsync(req.Caller(), assetId, req.Paging(), ct));

    [Function("GetAssetDownloads")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("An asset's download counts", "Downloads by partner users in all, and per partner.", Response = typeof(DownloadCounts))]
    public async Task<IActionResult> Downloads([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "assets/{assetId}/downloads")] HttpRequest req, string assetId, CancellationToken ct) =>
        Api.Ok(await queries.DownloadCountsAsync(req.Caller(), assetId, ct));

    [Function("ContentSweep")]
    public async Task Sweep([TimerTrigger(SweepSchedule)] TimerInfo timer, CancellationToken ct) => await sweep.RunAsync(ct);
}

/// <summary>A 302 to a short-lived URL, never cached, with an optional hint header.</summary>
public sealed class FoundResult(Uri location, string? hint = null) : IActionResult
{
    public Task ExecuteResultAsync(ActionContext context)
    {
        var response = context.HttpContext.Response;
        response.StatusCode = StatusCodes.Status302Found;
        response.Headers.Location = location.ToString();
        response.Headers.CacheControl = "no-store";
        if (hint is not null) response.Headers[AssetFunctions.CoBrandHintHeader] = hint;
        return Task.CompletedTask;
    }
}
