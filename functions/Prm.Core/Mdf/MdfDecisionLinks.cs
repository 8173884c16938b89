using Prm.Core.Approvals;

namespace Prm.Core.Mdf;

/// <summary>Decision links of MDF: a fund request's review (approve the full amount with the defaults, reject, request info).</summary>
public sealed class MdfDecisionLinks(FundRequests requests, DecisionPages pages) : IDecisionSubject
{
    public IReadOnlyList<string> Kinds => [MdfNotices.DecisionKind];

    public async Task<DecisionView> ViewAsync(DecisionLink link, CancellationToken ct)
    {
        var request = (await requests.GetAsync(DecisionLinks.RecipientOf(link), link.SubjectId, ct)).Value;
        var closed = request.Status is nameof(FundRequestStatus.Submitted) or nameof(FundRequestStatus.AwaitingSecondApproval) ? null : $"This request is {request.Status}.";
        return new DecisionView(closed, (message, decidable) => Render(message, request, decidable), request.Status == nameof(FundRequestStatus.Expired));
    }

    public async Task<DecisionDone> DecideAsync(DecisionLink link, string decision, string? reason, DecisionContext context, CancellationToken ct)
    {
        var result = (await requests.DecideAsync(DecisionLinks.RecipientOf(link), link.SubjectId, new FundRequestDecisionInput(decision, reason, null, null, null), ct)).Value;
        var outcome = decision switch
        {
            "approve" => result.Status == nameof(FundRequestStatus.AwaitingSecondApproval) ? "first approval" : "approved",
            "reject" => "rejected",
            _ => "information requested",
        };
        return new DecisionDone(outcome, Render($"Done: {outcome}. The request is {result.Status}.", result, null));
    }

    private string Render(string? message, FundRequestDto request, DecisionLink? decidable) => pages.Render(new
    {
        title = $"MDF request: {request.Title} ({request.PartnerName})",
        message,
        mdfRequest = request,
        mdfAmount = request.RequestedAmount.ToString(),
        flags = Array.Empty<string>(),
        matches = Array.Empty<string>(),
        canDecide = decidable is not null,
        canRequestInfo = decidable?.Decisions.Contains("requestInfo") == true,
        recipientName = decidable?.RecipientName,
        expiresAt = decidable is { } open ? DecisionPages.Format(open.ExpiresAt) : null,
    });
}
