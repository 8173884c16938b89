using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Prm.Functions.Http;

/// <summary>Whether a request is a person's browser following a link (it asks for a page) rather than an API client (it asks for JSON).</summary>
public static class BrowserNavigation
{
    /// <summary>True when Accept ranks text/html above application/json (a browser's navigation); false for API clients and no Accept.</summary>
    public static bool WantsHtml(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted)) return false;
        double Quality(string type) => accepted.Where(a => a.MediaType.Equals(type, StringComparison.OrdinalIgnoreCase)).Select(a => a.Quality ?? 1).DefaultIfEmpty(0).Max();
        return Quality("text/html") > 0 && Quality("text/html") > Quality("application/json");
    }
}
