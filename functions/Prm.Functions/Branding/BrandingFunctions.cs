using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Prm.Core.Branding;
using Prm.Core.Identity;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;

namespace Prm.Functions.Branding;

/// <summary>The program's branding: read by anyone (a portal shows it before sign-in, emails load the logo), the logo uploaded by admins.</summary>
public sealed class BrandingFunctions(BrandSource brand, ProgramLogos logos)
{
    [Function("GetBranding")]
    [Access(AccessPolicy.Anonymous)]
    [ApiOperation("The program's branding", "Program name, primary colour (#RRGGBB, white text on it meets WCAG AA), logo URL (null without a logo), support email, email footer and legal links. Admins change them with PUT /api/settings/branding and the logo with PUT /api/branding/logo.",
        Response = typeof(Brand))]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "branding")] HttpRequest req, CancellationToken ct) =>
        Api.Ok(await brand.GetAsync(ct));

    [Function("GetBrandingLogo")]
    [Access(AccessPolicy.Anonymous)]
    [ApiOperation("The program's logo", "The image as uploaded (PNG or JPEG); 404 without a logo. The ETag is the image's SHA-256; the URL in GET /api/branding changes with the image.",
        ResponseContentType = "image/png,image/jpeg", Errors = [404])]
    public async Task<IActionResult> Logo([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "branding/logo")] HttpRequest req, CancellationToken ct)
    {
        var (image, contentType, sha) = await logos.GetAsync(ct);
        req.HttpContext.Response.Headers.ETag = $"\"{sha}\"";
        req.HttpContext.Response.Headers.CacheControl = "public, max-age=300";
        return new BytesApiResult(StatusCodes.Status200OK, image, contentType);
    }

    [Function("PutBrandingLogo")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Upload the program's logo", "The body is the image: PNG or JPEG (judged by its content), 16 to 4,000 px a side, at most 512 KiB. Returns the branding settings with the new logo; every email and page uses it from then on.",
        RequestContentType = "image/png,image/jpeg", Response = typeof(BrandingSettings))]
    public async Task<IActionResult> PutLogo([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "branding/logo")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var image = await ApiJson.ReadBytesAsync(req, ProgramLogos.MaxBytes, ct, "image/png", "image/jpeg");
        return Api.Versioned(await logos.UploadAsync(req.Caller(), image, ct));
    }
}
