using System.Net;
using System.Text;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;
using Prm.Functions.Http;
using Prm.Storage.Outbox;

namespace Prm.DevHost;

/// <summary>Body of POST /api/dev/token.</summary>
public sealed record DevTokenRequest(string? Email, string? App = null);

/// <summary>Development-only endpoints: sign in as a seeded user, read sent email and published events. Mapped only in Development.</summary>
public static class DevEndpoints
{
    public static void MapDevEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/dev/token", IssueTokenAsync);
        app.MapGet("/api/dev/mail", async (HttpContext context, DevMailbox mailbox) =>
        {
            var mail = await mailbox.ListAsync(context.Request.Query["to"].FirstOrDefault(), Limit(context), context.RequestAborted);
            await new ApiResult(200, new { items = mail }).ExecuteResultAsync(new Microsoft.AspNetCore.Mvc.ActionContext { HttpContext = context });
        });
        app.MapGet("/api/dev/mail/view", async (HttpContext context, DevMailbox mailbox) =>
        {
            var mail = await mailbox.ListAsync(context.Request.Query["to"].FirstOrDefault(), Limit(context), context.RequestAborted);
            context.Response.ContentType = "text/html; charset=utf-8";
            await context.Response.WriteAsync(MailPage(mail), context.RequestAborted);
        });
        app.MapGet("/api/dev/events", async (HttpContext context, DevEventSink sink) =>
        {
            var events = await sink.ListAsync(Limit(context), context.RequestAborted);
            await new ApiResult(200, new { items = events }).ExecuteResultAsync(new Microsoft.AspNetCore.Mvc.ActionContext { HttpContext = context });
        });
        // The same events as the CloudEvents envelopes Service Bus and webhooks carry.
        app.MapGet("/api/dev/cloudevents", async (HttpContext context, DevEventSink sink) =>
        {
            var events = await sink.ListCloudEventsAsync(Limit(context), context.RequestAborted);
            await new ApiResult(200, new { items = events }).ExecuteResultAsync(new Microsoft.AspNetCore.Mvc.ActionContext { HttpContext = context });
        });
    }

    private static int Limit(HttpContext context) =>
        int.TryParse(context.Request.Query["limit"].FirstOrDefault(), out var limit) && limit is > 0 and <= 500 ? limit : 100;

    private static async Task IssueTokenAsync(HttpContext context, DevTokens tokens, IIdentityDirectory identities, IStaffStore staff, IPartnerStore partners)
    {
        try
        {
            var body = await ApiJson.ReadAsync<DevTokenRequest>(context.Request, context.RequestAborted);
            if (body?.App is { } app)
            {
                // {"app": "crm"}: an app-only token of a machine client with the app role Prm.Integration (lead intake).
                if (app.Trim().Length is 0 or > 100) throw new ValidationFailedException("app", "app takes 1 to 100 characters: the client's name.");
                await new ApiResult(200, new { accessToken = tokens.IssueApp(app.Trim()), tokenType = "Bearer", expiresIn = 3600 }).ExecuteResultAsync(new Microsoft.AspNetCore.Mvc.ActionContext { HttpContext = context });
                return;
            }
            var email = Text.NormalizeEmail(body?.Email) ?? throw new ValidationFailedException("email", "email must be the email address of a known user.");
            var registration = await identities.FindEmailAsync(email, context.RequestAborted) ?? throw new NotFoundException($"A user with email {email}");
            string token;
            if (registration.PartnerId is null)
            {
                var member = await staff.GetAsync(registration.UserId, context.RequestAborted) ?? throw new NotFoundException($"A user with email {email}");
                token = tokens.Issue(email, member.DisplayName, member.Roles);
            }
            else
            {
                var user = await partners.GetUserAsync(registration.PartnerId, registration.UserId, context.RequestAborted) ?? throw new NotFoundException($"A user with email {email}");
                token = tokens.Issue(email, user.Value.DisplayName, [], objectId: user.Value.ObjectId);
            }
            await new ApiResult(200, new { accessToken = token, tokenType = "Bearer", expiresIn = 8 * 3600 }).ExecuteResultAsync(new Microsoft.AspNetCore.Mvc.ActionContext { HttpContext = context });
        }
        catch (PrmException ex)
        {
            await Problems.WriteAsync(context, Problems.From(ex, context));
        }
    }

    private static string MailPage(IReadOnlyList<DevMail> mail)
    {
        var html = new StringBuilder("""
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Development mail outbox</title>
            <style>body{font-family:system-ui,sans-serif;margin:0;padding:16px;background:#f6f8fa;color:#1f2328}article{background:#fff;border:1px solid #d0d7de;border-radius:8px;margin:0 0 16px;padding:12px}
            h1{font-size:20px}h2{font-size:16px;margin:0 0 4px}.meta{color:#57606a;font-size:13px}iframe{width:100%;height:320px;border:1px solid #d0d7de;border-radius:4px}</style></head>
            <body><h1>Development mail outbox</h1>
            """);
        if (mail.Count == 0) html.Append("<p>No email has been sent yet.</p>");
        foreach (var m in mail)
        {
            html.Append("<article><h2>").Append(WebUtility.HtmlEncode(m.Subject)).Append("</h2><p class=\"meta\">To ")
                .Append(WebUtility.HtmlEncode(m.To)).Append(" &middot; ").Append(m.SentAt.UtcDateTime.ToString("u", System.Globalization.CultureInfo.InvariantCulture))
                .Append("</p><iframe sandbox srcdoc=\"").Append(WebUtility.HtmlEncode(m.Html)).Append("\" title=\"").Append(WebUtility.HtmlEncode(m.Subject)).Append("\"></iframe>");
            if (m.Links.Count > 0)
            {
                html.Append("<ul>");
                foreach (var link in m.Links) html.Append("<li><a href=\"").Append(WebUtility.HtmlEncode(link)).Append("\">").Append(WebUtility.HtmlEncode(link)).Append("</a></li>");
                html.Append("</ul>");
            }
            html.Append("</article>");
        }
        return html.Append("</body></html>").ToString();
    }
}
