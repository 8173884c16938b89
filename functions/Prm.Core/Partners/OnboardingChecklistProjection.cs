using Prm.Core.Outbox;

namespace Prm.Core.Partners;

/// <summary>
/// The hook through which later capabilities complete onboarding items: a partner's first "deal.submitted" or
/// "certification.earned" event stamps its checklist.
/// </summary>
public sealed class OnboardingChecklistProjection(PartnerDirectory directory) : IOutboxProjection
{
    public const string DealSubmitted = "deal.submitted";
    public const string CertificationEarned = "certification.earned";

    public Task ApplyAsync(IntegrationEvent e, CancellationToken ct) => e switch
    {
        { PartnerId: { } id, Type: DealSubmitted } => directory.CompleteOnboardingItemAsync(id, "firstDealRegistered", e.OccurredAt, ct),
        { PartnerId: { } id, Type: CertificationEarned } => directory.CompleteOnboardingItemAsync(id, "firstCertification", e.OccurredAt, ct),
        _ => Task.CompletedTask,
    };
}
