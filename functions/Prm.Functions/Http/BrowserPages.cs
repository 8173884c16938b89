using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using Prm.Core.Common;
using Prm.Core.Notifications;

namespace Prm.Functions.Http;

/// <summary>
/// Status links from emails that point at the API: a browser (Accept prefers text/html) gets a small branded page, an API client the JSON.
/// A failure becomes a page too, with the status of the one problem map and never a stack trace or raw JSON.
/// </summary>
public static class BrowserPages
{
    /// <summary>True when the request's Accept ranks text/html above JSON (a browser's navigation); false without Accept.</summary>
    public static bool PrefersHtml(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept.Where(a => a is not null).Select(a => a!).ToList(), out var accepted) || accepted.Count == 0) return false;
        double Quality(Func<MediaTypeHeaderValue, bool> matches) => accepted.Where(matches).Select(a => a.Quality ?? 1.0).DefaultIfEmpty(0).Max();
        var html = Quality(a => a.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase));
        var json = Quality(a => a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || a.MediaType.Equals("application/problem+json", StringComparison.OrdinalIgnoreCase)
            || a.MediaType.Equals("application/*", StringComparison.OrdinalIgnoreCase));
        return html > 0 && html > json;
    }

    /// <summary>The JSON of <paramref name="json"/> for API clients, or the page <paramref name="page"/> renders from it for browsers; failures as pages for browsers.</summary>
    public static async Task<IActionResult> JsonOrPageAsync<T>(HttpRequest request, NoticePages pages, Func<Task<T>> json, Func<T, string> page) where T : notnull
    {
        if (!PrefersHtml(request)) return Api.Ok(await json());
        try
        {
            return Html(200, page(await json()));
        }
        catch (PrmException ex)
        {
            var status = Problems.From(ex, request.HttpContext).Status;
            var title = status == 404 ? "Link not valid" : status == 410 ? "Link expired" : "Something went wrong";
            var message = status == 404 ? "This link is not valid. Open the latest email, or sign in to the portal." : ex.Message;
            return Html(status, pages.Render(title, message));
        }
    }

    public static IActionResult Html(int status, string page) => new ContentApiResult(status, page, "text/html; charset=utf-8");
}
