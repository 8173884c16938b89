using System.Globalization;
using Prm.Core.Approvals;

namespace Prm.Core.Deals;

/// <summary>Decision links of deal registration: the review of a registration and the decision on an extension request.</summary>
public sealed class DealDecisionLinks(DealQueries queries, DecideDeal decide, DealExtensions extensions, DecisionPages pages) : IDecisionSubject
{
    public IReadOnlyList<string> Kinds => [DealLink.ReviewKind, DealLink.ExtensionKind];

    public async Task<DecisionView> ViewAsync(DecisionLink link, CancellationToken ct)
    {
        var deal = (await queries.ForLinkAsync(link, ct)).Value;
        var extension = ExtensionOf(link, deal);
        string? closed = null;
        if (extension is not null && extension.Status != "Pending")
        {
            closed = $"Already decided by {extension.DecidedByName} at {DecisionPages.Format(extension.DecidedAt)}: {extension.Status.ToLowerInvariant()}.";
        }
        else if (extension is null && deal.Status != nameof(DealStatus.UnderReview))
        {
            var last = deal.Decisions.LastOrDefault(d => d.Decision is "approve" or "reject" or "return");
            closed = last is null ? $"This registration is {deal.Status}." : $"Already decided by {last.DecidedByName} at {DecisionPages.Format(last.DecidedAt)}: {last.Decision}.";
        }
        return new DecisionView(closed, (message, decidable) => Render(message, deal, extension, decidable));
    }

    public async Task<DecisionDone> DecideAsync(DecisionLink link, string decision, string? reason, DecisionContext context, CancellationToken ct)
    {
        var recipient = DecisionLinks.RecipientOf(link);
        var dealId = link.SubjectId.Split('|')[0];
        DealDto deal;
        DealExtension? extension = null;
        if (link.Kind == DealLink.ExtensionKind)
        {
            var extensionId = link.SubjectId.Split('|').ElementAtOrDefault(1) ?? "";
            deal = (await extensions.DecideAsync(recipient, dealId, extensionId, new ExtensionDecisionRequest(decision, reason), ct)).Value;
            extension = deal.Extensions.First(e => e.Id == extensionId);
        }
        else
        {
            deal = (await decide.DecideAsync(recipient, dealId, new DealDecisionRequest(decision, reason, null), ct)).Value;
        }
        var until = DecisionPages.Format(deal.ProtectedUntil);
        var message = decision switch
        {
            "approve" when extension is not null => $"Approved. The protection now ends at {until}.",
            "approve" => $"Approved. {deal.PartnerName} is protected for {deal.Customer.CompanyName} until {until}.",
            "reject" => $"Rejected. {deal.SubmittedByName} is told the reason.",
            _ => $"Returned. {deal.SubmittedByName} completes it and submits it again.",
        };
        return new DecisionDone(decision switch { "approve" => "approved", "reject" => "rejected", _ => "returned" }, Render(message, deal, extension, null));
    }

    /// <summary>The extension request an extension link is about (404 when it is gone); null for a review link.</summary>
    private static DealExtension? ExtensionOf(DecisionLink link, DealDto deal)
    {
        if (link.Kind != DealLink.ExtensionKind) return null;
        var extensionId = link.SubjectId.Split('|').ElementAtOrDefault(1);
        return deal.Extensions.FirstOrDefault(e => e.Id == extensionId) ?? throw new Common.NotFoundException("Extension request");
    }

    private string Render(string? message, DealDto deal, DealExtension? extension, DecisionLink? decidable) => pages.Render(new
    {
        title = extension is null ? $"Deal registration {deal.RegistrationNumber}: {deal.Customer.CompanyName}" : $"Extension request for {deal.RegistrationNumber}: {deal.Customer.CompanyName}",
        message,
        deal,
        dealValue = deal.EstimatedValue.ToString(),
        dealCloseDate = deal.ExpectedCloseDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        dealSubmittedAt = deal.SubmittedAt is { } s ? DecisionPages.Format(s) : null,
        dealProtectedUntil = deal.ProtectedUntil is { } p ? DecisionPages.Format(p) : null,
        dealProducts = string.Join(", ", deal.Products),
        evidence = deal.Conflict.Evidence,
        extension,
        flags = Array.Empty<string>(),
        matches = Array.Empty<string>(),
        canDecideDeal = decidable is not null,
        canReturn = decidable?.Decisions.Contains("return") == true,
        recipientName = decidable?.RecipientName,
        expiresAt = decidable is { } open ? DecisionPages.Format(open.ExpiresAt) : null,
    });
}
