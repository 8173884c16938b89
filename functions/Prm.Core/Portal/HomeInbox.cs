using Prm.Core.Common;

namespace Prm.Core.Portal;

/// <summary>The kinds of action inbox items (camelCase in the API).</summary>
public static class InboxKinds
{
    // A partner user's inbox.
    public const string LeadOffer = "leadOffer";
    public const string DealReturned = "dealReturned";
    public const string ProtectionEnding = "protectionEnding";
    public const string MdfInfoRequested = "mdfInfoRequested";
    public const string MdfClaimDue = "mdfClaimDue";
    public const string MdfClaimInfoRequested = "mdfClaimInfoRequested";
    public const string CertificationExpiring = "certificationExpiring";
    public const string InvitationPending = "invitationPending";
    public const string OnboardingItem = "onboardingItem";

    /// <summary>Reserved for the plans module (joint business plans awaiting the partner's acceptance); not produced until that module exists.</summary>
    public const string PlanAwaitingAcceptance = "planAwaitingAcceptance";

    // Vendor staff's review inbox.
    public const string ApplicationReview = "applicationReview";
    public const string DealReview = "dealReview";
    public const string ExtensionReview = "extensionReview";
    public const string MdfRequestReview = "mdfRequestReview";
    public const string MdfClaimReview = "mdfClaimReview";

    /// <summary>Every kind, in documentation order.</summary>
    public static readonly IReadOnlyList<string> All =
    [
        LeadOffer, DealReturned, ProtectionEnding, MdfInfoRequested, MdfClaimDue, MdfClaimInfoRequested, CertificationExpiring, InvitationPending,
        OnboardingItem, PlanAwaitingAcceptance, ApplicationReview, DealReview, ExtensionReview, MdfRequestReview, MdfClaimReview,
    ];
}

/// <summary>
/// One thing to do on the home page: its kind, a title, the deadline (null when the record has none), the money at stake (null when
/// none) and the API path of the record.
/// </summary>
public sealed record InboxItem(string Kind, string Title, DateTimeOffset? Deadline, Money? Amount, string Link);

/// <summary>The order of the action inbox — the one place for it.</summary>
public static class HomeInbox
{
    /// <summary>
    /// Sorts by deadline (earliest first; items without a deadline after every dated one), then by money at stake (largest amount first,
    /// compared as numbers whatever the currency; items without an amount after those with one), then by kind and link (ordinal), so
    /// equal items always come in the same order. Pure.
    /// </summary>
    public static IReadOnlyList<InboxItem> Order(IEnumerable<InboxItem> items) =>
        items.OrderBy(i => i.Deadline is null ? 1 : 0)
            .ThenBy(i => i.Deadline ?? DateTimeOffset.MaxValue)
            .ThenBy(i => i.Amount is null ? 1 : 0)
            .ThenByDescending(i => i.Amount?.Amount ?? 0m)
            .ThenBy(i => i.Kind, StringComparer.Ordinal)
            .ThenBy(i => i.Link, StringComparer.Ordinal)
            .ToList();
}
