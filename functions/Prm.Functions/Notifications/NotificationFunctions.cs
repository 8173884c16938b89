using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Notifications;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;

namespace Prm.Functions.Notifications;

/// <summary>Body of the one-click unsubscribe POST (RFC 8058: List-Unsubscribe=One-Click); the body is not needed and not read.</summary>
public sealed record UnsubscribeForm(string? ListUnsubscribe);

/// <summary>The signed-in person's notification preferences, and the one-click unsubscribe links of emails.</summary>
public sealed class NotificationFunctions(MyNotifications preferences, Unsubscribes unsubscribes, NoticePages pages)
{
    [Function("GetMyNotificationPreferences")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("My notification preferences", "The signed-in person's own: the time zone digests follow (theirs, else the program's) and per kind of notification the mode (immediate, dailyDigest, weeklyDigest, off), the program default, whether they chose it, whether it is locked (decisions with deadlines, access: always immediate) and its email templates. Nobody reads another's. The ETag guards PUT.",
        Response = typeof(NotificationPreferencesDto))]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "me/notifications")] HttpRequest req, CancellationToken ct) =>
        Api.Versioned(await preferences.GetAsync(req.Caller(), ct));

    [Function("PutMyNotificationPreferences")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Change my notification preferences", "Replaces the signed-in person's choices: timeZone (an IANA id such as Europe/Berlin; null takes the program's) and preferences (kind to immediate, dailyDigest, weeklyDigest or off; kinds left out take the program default). A kind that carries decisions with deadlines or access (invitations, agreements, reviewRequests, infoRequests, leadOffers, applicantMessages) only takes immediate: 422 naming preferences.{kind}. An unknown time zone is 422 naming timeZone. Emits notification.preferencesChanged.",
        Request = typeof(NotificationPreferencesRequest), Response = typeof(NotificationPreferencesDto), OptionalIfMatch = true)]
    public async Task<IActionResult> Put([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "me/notifications")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct) =>
        Api.Versioned(await preferences.SaveAsync(req.Caller(), await ApiJson.ReadAsync<NotificationPreferencesRequest>(req, ct), req.IfMatch(), ct));

    [Function("ShowUnsubscribeLink")]
    [Access(AccessPolicy.Anonymous)]
    [ApiOperation("The unsubscribe page of an email's link", "An HTML page naming the kind of email the link turns off, with one button. Never changes anything (mail scanners open links). An unknown, forged, expired or used link is 404.",
        ResponseContentType = "text/html", ErrorContentType = "text/html", Errors = [404])]
    public Task<IActionResult> Show([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "notifications/unsubscribe/{token}")] HttpRequest req, string token, CancellationToken ct) =>
        PageAsync(() => unsubscribes.ShowAsync(token, ct));

    [Function("UseUnsubscribeLink")]
    [Access(AccessPolicy.Anonymous)]
    [ApiOperation("Unsubscribe in one click", "RFC 8058 one-click unsubscribe (the List-Unsubscribe-Post target, body List-Unsubscribe=One-Click) and the page's button: sets the link's kind to off for the person it was sent to, once, without sign-in, and emits notification.unsubscribed. An unknown, forged, expired or already used link does nothing and is 404.",
        Request = typeof(UnsubscribeForm), RequestContentType = "application/x-www-form-urlencoded", ResponseContentType = "text/html", ErrorContentType = "text/html", Errors = [404])]
    public Task<IActionResult> Use([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "notifications/unsubscribe/{token}")] HttpRequest req, [DurableClient] DurableTaskClient durable, string token, CancellationToken ct) =>
        PageAsync(() => unsubscribes.UnsubscribeAsync(token, ct));

    private async Task<IActionResult> PageAsync(Func<Task<string>> page)
    {
        try
        {
            return BrowserPages.Html(200, await page());
        }
        catch (NotFoundException)
        {
            return BrowserPages.Html(404, pages.Render("Link not valid", "This link is not valid or was used already. You can change which emails you get in the portal under notification preferences."));
        }
    }
}
