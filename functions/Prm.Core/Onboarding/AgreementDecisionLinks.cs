using Prm.Core.Approvals;
using Prm.Core.Partners;

namespace Prm.Core.Onboarding;

/// <summary>The agreement link: the current program agreement with an Accept button; accepting activates the partner.</summary>
public sealed class AgreementDecisionLinks(IPartnerStore partners, PartnerAgreements agreements, DecisionPages pages) : IDecisionSubject
{
    public IReadOnlyList<string> Kinds => [PartnerAgreements.DecisionKind];

    public string UsedMessage(DecisionLink link) => $"Already accepted by {link.UsedByName} at {DecisionPages.Format(link.UsedAt)}.";

    public async Task<DecisionView> ViewAsync(DecisionLink link, CancellationToken ct)
    {
        var partner = (await partners.GetAsync(link.SubjectId, ct))?.Value ?? throw new Common.NotFoundException("Partner");
        var title = $"Partner program agreement: {partner.Name}";
        if (partner.Status != PartnerStatus.AgreementPending)
        {
            var closed = partner.AgreementAcceptedAt is { } at ? $"Already accepted at {DecisionPages.Format(at)}." : $"The partner is {partner.Status}; this agreement offer has ended.";
            return new DecisionView(closed, (message, _) => Render(title, message, null, null), partner.Status == PartnerStatus.AgreementExpired);
        }
        var document = await agreements.CurrentAsync(ct);
        return new DecisionView(null, (message, acceptable) => acceptable is null ? Render(title, message, null, null) : Render(title, message, document, acceptable));
    }

    public async Task<DecisionDone> DecideAsync(DecisionLink link, string decision, string? reason, DecisionContext context, CancellationToken ct)
    {
        var partner = await agreements.AcceptAsync(link, context.ClientIp, context.UserAgent, ct);
        return new DecisionDone("accepted", Render($"Partner program agreement: {partner.Name}", $"Accepted. {partner.Name} is now an active partner; welcome to the program.", null, null));
    }

    private string Render(string title, string? message, AgreementDocument? agreement, DecisionLink? acceptable) => pages.Render(new
    {
        title,
        message,
        agreement,
        flags = Array.Empty<string>(),
        matches = Array.Empty<string>(),
        canAccept = acceptable is not null,
        recipientName = acceptable?.RecipientName,
        expiresAt = acceptable is { } open ? DecisionPages.Format(open.ExpiresAt) : null,
    });
}
