using System.Text.Json;
using Microsoft.AspNetCore.StaticFiles;

namespace Prm.DevHost;

/// <summary>Settings of the reference portal as the local host serves it (section "Portal").</summary>
public sealed class PortalOptions
{
    public const string SectionName = "Portal";

    /// <summary>The built single-page app, relative to the repository root (Prm.DevHost.csproj builds it: target BuildPortal).</summary>
    public string Dist { get; set; } = Path.Combine("functions", "Prm.Portal", "dist");

    /// <summary>Sign-in: <c>dev</c> (a picker of the demo users and the development token endpoint) or <c>entra</c> (MSAL.js). Default: dev in Development.</summary>
    public string? Mode { get; set; }

    /// <summary>Entra ID: the portal's app registration (a single-page application platform).</summary>
    public string? ClientId { get; set; }

    /// <summary>Entra ID: e.g. https://login.microsoftonline.com/{tenant}.</summary>
    public string? Authority { get; set; }

    /// <summary>Entra ID: the API's delegated scope, e.g. api://prm-functions/access_as_user.</summary>
    public string? Scope { get; set; }
}

/// <summary>
/// Serves the reference portal (functions/Prm.Portal) at /portal: its files with their content types, <c>/portal/config.json</c> built
/// from settings, and index.html for every other /portal path (the app routes in the browser). Only /portal: no API route is shadowed.
/// </summary>
public static class PortalEndpoints
{
    public const string BasePath = "/portal";

    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    public static void MapPortal(this WebApplication app)
    {
        var options = app.Configuration.GetSection(PortalOptions.SectionName).Get<PortalOptions>() ?? new PortalOptions();
        var dist = Path.GetFullPath(Path.Combine(Azurite.RepositoryRoot(), options.Dist));
        var development = app.Environment.IsDevelopment();
        app.MapGet(BasePath + "/config.json", context => context.Response.WriteAsJsonAsync(Config(options, app.Configuration, development), context.RequestAborted));
        app.MapGet(BasePath + "/{**path}", (HttpContext context, string? path) => ServeAsync(context, dist, path));
    }

    /// <summary>What the app reads before it signs anyone in: how to sign in and where the API is (same origin here).</summary>
    public static object Config(PortalOptions options, IConfiguration configuration, bool development)
    {
        var mode = options.Mode ?? (development ? "dev" : "entra");
        var azureAd = configuration.GetSection(Prm.Functions.AppRegistration.AzureAdSection);
        return new
        {
            mode,
            apiBaseUrl = "/api",
            clientId = options.ClientId ?? azureAd["ClientId"],
            authority = options.Authority ?? $"{(azureAd["Instance"] ?? "https://login.microsoftonline.com/").TrimEnd('/')}/{azureAd["TenantId"]}",
            scope = options.Scope ?? $"{azureAd["Audience"] ?? "api://prm-functions"}/access_as_user",
            demoUsers = mode == "dev" ? DemoSeed.Users.Select(u => new { email = u.Email, name = u.Name, role = u.Role, company = u.Company }) : null,
        };
    }

    private static async Task ServeAsync(HttpContext context, string dist, string? path)
    {
        if (!context.Request.Path.HasValue || !context.Request.Path.Value.StartsWith(BasePath + "/", StringComparison.Ordinal))
        {
            // /portal → /portal/: the app's relative links resolve against the folder.
            context.Response.Redirect(BasePath + "/" + context.Request.QueryString);
            return;
        }
        var index = Path.Combine(dist, "index.html");
        if (!File.Exists(index))
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.ContentType = "text/html; charset=utf-8";
            await context.Response.WriteAsync("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Portal not built</title></head><body>"
                + "<h1>The portal is not built</h1><p>Build it with <code>dotnet build functions/Prm.DevHost</code> (or <code>npm ci &amp;&amp; npm run build</code> in functions/Prm.Portal).</p></body></html>",
                context.RequestAborted);
            return;
        }
        var file = string.IsNullOrEmpty(path) ? null : Path.GetFullPath(Path.Combine(dist, path));
        // A file of the build (never outside it); anything else is a route of the app.
        if (file is not null && file.StartsWith(dist + Path.DirectorySeparatorChar, StringComparison.Ordinal) && File.Exists(file) && !file.EndsWith("index.html", StringComparison.Ordinal))
        {
            context.Response.ContentType = ContentTypes.TryGetContentType(file, out var type) ? type : "application/octet-stream";
            context.Response.Headers.CacheControl = "no-cache";
            await context.Response.SendFileAsync(file, context.RequestAborted);
            return;
        }
        if (Path.HasExtension(path ?? "") && !path!.Contains('@', StringComparison.Ordinal))
        {
            // A missing asset is a 404, not the app (a browser would otherwise parse index.html as a script).
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        var html = await File.ReadAllTextAsync(index, context.RequestAborted);
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        // The app is built for the root of its site (the Static Web App); here it lives under /portal.
        await context.Response.WriteAsync(html.Replace("<base href=\"/\">", $"<base href=\"{BasePath}/\">", StringComparison.Ordinal), context.RequestAborted);
    }
}
