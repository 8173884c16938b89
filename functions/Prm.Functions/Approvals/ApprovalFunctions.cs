using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Azure.Functions.Worker;
using Prm.Core.Approvals;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Notifications;
using Prm.Core.Onboarding;
using Prm.Core.Partners;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;

namespace Prm.Functions.Approvals;

/// <summary>
/// Decision links from emails: GET shows what is being decided (never changes anything: mail scanners open links), POST decides.
/// No sign-in: the token is the credential, bound to one step, one subject and the person it was sent to.
/// </summary>
public sealed class ApprovalFunctions(DecisionLinks links, PartnerApplications applications, PartnerAgreements agreements, IPartnerStore partners, EmailComposer pages, Prm.Core.Deals.DealQueries deals, Prm.Core.Deals.DecideDeal decideDeal, Prm.Core.Deals.DealExtensions dealExtensions, Prm.Core.Mdf.MdfService mdf)
{
    [Function("ShowDecisionLink")]
    [Access(AccessPolicy.Anonymous)]
    [ApiOperation("The decision page of a link", "An HTML page with what is being decided and Approve / Reject buttons. Never changes state. 404 for an unknown or tampered link, 410 when expired; a used link shows who decided when.",
        ResponseContentType = "text/html")]
    public async Task<IActionResult> Show([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "approvals/{token}")] HttpRequest req, string token, CancellationToken ct)
    {
        var (status, page) = await PageAsync(req, token, null, ct);
        return new ContentApiResult(status, page, "text/html; charset=utf-8");
    }

    [Function("UseDecisionLink")]
    [Access(AccessPolicy.Anonymous)]
    [ApiOperation("Decide through a link", "Form post from the page (fields decision and reason) or the same as JSON. Performs the decision once and shows the outcome page.",
        Request = typeof(DecisionForm), RequestContentType = "application/x-www-form-urlencoded", ResponseContentType = "text/html")]
    public async Task<IActionResult> Use([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "approvals/{token}")] HttpRequest req, string token, CancellationToken ct)
    {
        var bytes = await ApiJson.ReadBytesAsync(req, ApiJson.DefaultMaxBody, ct, "application/x-www-form-urlencoded", "application/json");
        DecisionForm form;
        if (req.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true)
        {
            try { form = JsonSerializer.Deserialize<DecisionForm>(bytes, ApiJson.Options) ?? new DecisionForm(null, null); }
            catch (JsonException) { throw new ValidationFailedException("body", "The JSON is malformed."); }
        }
        else
        {
            var fields = QueryHelpers.ParseQuery(Encoding.UTF8.GetString(bytes));
            form = new DecisionForm(fields.TryGetValue("decision", out var d) ? d.ToString() : null, fields.TryGetValue("reason", out var r) ? r.ToString() : null);
        }
        var (status, page) = await PageAsync(req, token, form, ct);
        return new ContentApiResult(status, page, "text/html; charset=utf-8");
    }

    private async Task<(int Status, string Page)> PageAsync(HttpRequest req, string token, DecisionForm? form, CancellationToken ct)
    {
        Versioned<DecisionLink> link;
        try
        {
            link = await links.ResolveAsync(token, ct);
        }
        catch (NotFoundException)
        {
            return (404, Render("Link not valid", "This link is not valid. Open the latest email, or sign in to the portal.", null, null));
        }
        catch (LinkExpiredException ex)
        {
            return (410, Render("Link expired", ex.Message + " Sign in to the portal to see where things stand.", null, null));
        }
        if (link.Value.Kind == PartnerAgreements.DecisionKind) return await AgreementPageAsync(req, link, form, ct);
        if (link.Value.Kind is Prm.Core.Deals.DealLink.ReviewKind or Prm.Core.Deals.DealLink.ExtensionKind) return await DealPageAsync(link, form, ct);
        if (link.Value.Kind == Prm.Core.Mdf.MdfService.DecisionKind) return await MdfRequestPageAsync(link, form, ct);
        if (link.Value.Kind != PartnerApplications.DecisionKind) return (404, Render("Link not valid", "This link is not valid.", null, null));
        var recipient = DecisionLinks.RecipientOf(link.Value);
        ApplicationDto application;
        try
        {
            application = (await applications.GetAsync(recipient, link.Value.SubjectId, ct)).Value;
        }
        catch (NotFoundException)
        {
            return (404, Render("Link not valid", "What this link was for no longer exists.", null, null));
        }
        var title = $"Partner application: {application.Company.LegalName}";
        if (link.Value.UsedAt is { } usedAt)
        {
            return (form is null ? 200 : 409, Render(title, $"Already decided by {link.Value.UsedByName} at {Format(usedAt)}: {link.Value.Outcome}.", application, null));
        }
        var decided = application.Decisions.LastOrDefault(d => d.Decision is "approve" or "reject");
        if (decided is not null || application.Status is not ("UnderReview" or "InfoRequested"))
        {
            var message = decided is null ? $"This application is {application.Status}." : $"Already decided by {decided.DecidedByName} at {Format(decided.DecidedAt)}: {decided.Decision}.";
            return (form is null ? 200 : 409, Render(title, message, application, null));
        }
        if (form is null) return (200, Render(title, null, application, link.Value));
        try
        {
            if (form.Decision is not { } chosen || !link.Value.Decisions.Contains(chosen)) throw new ValidationFailedException("decision", "decision must be one of: " + string.Join(", ", link.Value.Decisions) + ".");
            var result = await applications.DecideAsync(recipient, application.Id, new ApplicationDecisionRequest(form.Decision, form.Reason, null), ct);
            var outcome = form.Decision switch { "approve" => "approved", "reject" => "rejected", _ => "information requested" };
            await links.MarkUsedAsync(link, outcome, ct);
            return (200, Render(title, form.Decision switch
            {
                "approve" => $"Approved. {application.Company.LegalName} becomes a partner; {application.Applicant.Name} is invited as its partner admin.",
                "reject" => $"Rejected. {application.Applicant.Name} is told the reason.",
                _ => $"Information requested. {application.Applicant.Name} gets your question by email; you get the answer with a new link.",
            }, result.Value, null));
        }
        catch (ValidationFailedException ex)
        {
            return (400, Render(title, ex.Message, application, link.Value));
        }
        catch (ConflictException ex)
        {
            return (409, Render(title, ex.Message, application, null));
        }
    }

    /// <summary>The agreement link: the current agreement with an Accept button; accepting activates the partner.</summary>
    private async Task<(int Status, string Page)> AgreementPageAsync(HttpRequest req, Versioned<DecisionLink> link, DecisionForm? form, CancellationToken ct)
    {
        var partner = (await partners.GetAsync(link.Value.SubjectId, ct))?.Value;
        if (partner is null) return (404, Render("Link not valid", "What this link was for no longer exists.", null, null));
        var title = $"Partner program agreement: {partner.Name}";
        if (link.Value.UsedAt is { } usedAt) return (form is null ? 200 : 409, Render(title, $"Already accepted by {link.Value.UsedByName} at {Format(usedAt)}.", null, null));
        if (partner.Status != PartnerStatus.AgreementPending)
        {
            var message = partner.AgreementAcceptedAt is { } at ? $"Already accepted at {Format(at)}." : $"The partner is {partner.Status}; this agreement offer has ended.";
            return (form is null ? 200 : 409, Render(title, message, null, null));
        }
        var document = await agreements.CurrentAsync(ct);
        if (form is null) return (200, Render(title, null, null, null, document, link.Value));
        if (form.Decision != "accept") return (400, Render(title, "decision must be accept.", null, null, document, link.Value));
        try
        {
            var ip = req.Headers["X-Forwarded-For"].ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).LastOrDefault()
                ?? req.HttpContext.Connection.RemoteIpAddress?.ToString();
            await agreements.AcceptAsync(link.Value, ip, req.Headers.UserAgent.ToString(), ct);
            await links.MarkUsedAsync(link, "accepted", ct);
            return (200, Render(title, $"Accepted. {partner.Name} is now an active partner; welcome to the program.", null, null));
        }
        catch (ConflictException ex)
        {
            return (409, Render(title, ex.Message, null, null));
        }
    }

    /// <summary>A deal review or extension link: the registration with its conflict evidence and the decisions the link allows.</summary>
    private async Task<(int Status, string Page)> DealPageAsync(Versioned<DecisionLink> link, DecisionForm? form, CancellationToken ct)
    {
        Prm.Core.Deals.DealDto deal;
        try
        {
            deal = (await deals.ForLinkAsync(link.Value, ct)).Value;
        }
        catch (NotFoundException)
        {
            return (404, Render("Link not valid", "What this link was for no longer exists.", null, null));
        }
        var extensionId = link.Value.Kind == Prm.Core.Deals.DealLink.ExtensionKind ? link.Value.SubjectId.Split('|').ElementAtOrDefault(1) : null;
        var extension = extensionId is null ? null : deal.Extensions.FirstOrDefault(e => e.Id == extensionId);
        var title = extension is null ? $"Deal registration {deal.RegistrationNumber}: {deal.Customer.CompanyName}" : $"Extension request for {deal.RegistrationNumber}: {deal.Customer.CompanyName}";
        string Page(string? message, bool decidable) => RenderDeal(title, message, deal, extension, decidable ? link.Value : null);
        if (link.Value.UsedAt is { } usedAt) return (form is null ? 200 : 409, Page($"Already decided by {link.Value.UsedByName} at {Format(usedAt)}: {link.Value.Outcome}.", false));
        if (extension is not null && extension.Status != "Pending")
            return (form is null ? 200 : 409, Page($"Already decided by {extension.DecidedByName} at {(extension.DecidedAt is { } at ? Format(at) : "")}: {extension.Status.ToLowerInvariant()}.", false));
        if (extension is null && deal.Status != "UnderReview")
        {
            var last = deal.Decisions.LastOrDefault(d => d.Decision is "approve" or "reject" or "return");
            return (form is null ? 200 : 409, Page(last is null ? $"This registration is {deal.Status}." : $"Already decided by {last.DecidedByName} at {Format(last.DecidedAt)}: {last.Decision}.", false));
        }
        if (form is null) return (200, Page(null, true));
        var recipient = DecisionLinks.RecipientOf(link.Value);
        try
        {
            if (form.Decision is not { } chosen || !link.Value.Decisions.Contains(chosen)) throw new ValidationFailedException("decision", "decision must be one of: " + string.Join(", ", link.Value.Decisions) + ".");
            var result = extension is null
                ? await decideDeal.DecideAsync(recipient, deal.Id, new Prm.Core.Deals.DealDecisionRequest(chosen, form.Reason, null), ct)
                : await dealExtensions.DecideAsync(recipient, deal.Id, extension.Id, new Prm.Core.Deals.ExtensionDecisionRequest(chosen, form.Reason), ct);
            var outcome = chosen switch { "approve" => "approved", "reject" => "rejected", _ => "returned" };
            await links.MarkUsedAsync(link, outcome, ct);
            deal = result.Value;
            extension = extension is null ? null : deal.Extensions.First(e => e.Id == extension.Id);
            return (200, Page(chosen switch
            {
                "approve" when extension is not null => $"Approved. The protection now ends at {(deal.ProtectedUntil is { } until ? Format(until) : "")}.",
                "approve" => $"Approved. {deal.PartnerName} is protected for {deal.Customer.CompanyName} until {(deal.ProtectedUntil is { } until ? Format(until) : "")}.",
                "reject" => $"Rejected. {deal.SubmittedByName} is told the reason.",
                _ => $"Returned. {deal.SubmittedByName} completes it and submits it again.",
            }, false));
        }
        catch (ValidationFailedException ex)
        {
            return (400, Page(ex.Message, true));
        }
        catch (ConflictException ex)
        {
            return (409, Page(ex.Message, false));
        }
        catch (ForbiddenException ex)
        {
            return (403, Page(ex.Message, false));
        }
    }

    /// <summary>The MDF fund request link: the request with Approve (the full amount, defaults) / Reject / Request info.</summary>
    private async Task<(int Status, string Page)> MdfRequestPageAsync(Versioned<DecisionLink> link, DecisionForm? form, CancellationToken ct)
    {
        var recipient = DecisionLinks.RecipientOf(link.Value);
        Prm.Core.Mdf.FundRequestDto request;
        try
        {
            request = (await mdf.GetRequestAsync(recipient, link.Value.SubjectId, ct)).Value;
        }
        catch (NotFoundException)
        {
            return (404, Render("Link not valid", "What this link was for no longer exists.", null, null));
        }
        var title = $"MDF request: {request.Title} ({request.PartnerName})";
        if (link.Value.UsedAt is { } usedAt) return (form is null ? 200 : 409, Render(title, $"Already decided by {link.Value.UsedByName} at {Format(usedAt)}: {link.Value.Outcome}.", null, null, mdfRequest: request));
        if (request.Status is not ("Submitted" or "AwaitingSecondApproval"))
            return (form is null ? 200 : 409, Render(title, $"This request is {request.Status}.", null, null, mdfRequest: request));
        if (form is null) return (200, Render(title, null, null, link.Value, mdfRequest: request));
        try
        {
            if (form.Decision is not { } chosen || !link.Value.Decisions.Contains(chosen)) throw new ValidationFailedException("decision", "decision must be one of: " + string.Join(", ", link.Value.Decisions) + ".");
            var result = await mdf.DecideRequestAsync(recipient, request.Id, new Prm.Core.Mdf.FundRequestDecisionInput(form.Decision, string.IsNullOrWhiteSpace(form.Reason) ? null : form.Reason, null, null, null), ct);
            var outcome = form.Decision switch { "approve" => result.Value.Status == "AwaitingSecondApproval" ? "first approval" : "approved", "reject" => "rejected", _ => "information requested" };
            await links.MarkUsedAsync(link, outcome, ct);
            return (200, Render(title, $"Done: {outcome}. The request is {result.Value.Status}.", null, null, mdfRequest: result.Value));
        }
        catch (ValidationFailedException ex)
        {
            return (400, Render(title, ex.Message, null, link.Value, mdfRequest: request));
        }
        catch (Exception ex) when (ex is ConflictException or ForbiddenException)
        {
            return (409, Render(title, ex.Message, null, null, mdfRequest: request));
        }
    }

    private string RenderDeal(string title, string? message, Prm.Core.Deals.DealDto deal, Prm.Core.Deals.DealExtension? extension, DecisionLink? decidable) => pages.RenderPage("approval", new
    {
        title,
        message,
        deal,
        dealValue = deal.EstimatedValue.ToString(),
        dealCloseDate = deal.ExpectedCloseDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        dealSubmittedAt = deal.SubmittedAt is { } s ? Format(s) : null,
        dealProtectedUntil = deal.ProtectedUntil is { } p ? Format(p) : null,
        dealProducts = string.Join(", ", deal.Products),
        evidence = deal.Conflict.Evidence,
        extension,
        flags = Array.Empty<string>(),
        matches = Array.Empty<string>(),
        canDecideDeal = decidable is not null,
        canReturn = decidable?.Decisions.Contains("return") == true,
        recipientName = decidable?.RecipientName,
        expiresAt = decidable is { } open ? Format(open.ExpiresAt) : null,
    });

    private string Render(string title, string? message, ApplicationDto? application, DecisionLink? decidable, AgreementDocument? agreement = null, DecisionLink? acceptable = null, Prm.Core.Mdf.FundRequestDto? mdfRequest = null) => pages.RenderPage("approval", new
    {
        title,
        mdfRequest,
        mdfAmount = mdfRequest?.RequestedAmount.ToString(),
        message,
        application,
        submittedAt = application is null ? null : Format(application.SubmittedAt),
        fitReasons = application is null ? null : string.Join("; ", application.Screening.FitReasons),
        flags = application?.Screening.Flags ?? [],
        matches = application?.Screening.DuplicateMatches ?? [],
        canDecide = decidable is not null,
        canRequestInfo = decidable?.Decisions.Contains("requestInfo") == true && (application?.Status == "UnderReview" || mdfRequest is not null),
        agreement,
        canAccept = acceptable is not null,
        recipientName = (decidable ?? acceptable)?.RecipientName,
        expiresAt = (decidable ?? acceptable) is { } open ? Format(open.ExpiresAt) : null,
    });

    private static string Format(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}

/// <summary>The fields of the decision form.</summary>
public sealed record DecisionForm(string? Decision, string? Reason);
