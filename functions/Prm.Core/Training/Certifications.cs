using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Training;

/// <summary>Certification definitions (admin) and revocation of awards (admin, with a reason).</summary>
public sealed class Certifications(ITrainingStore store, IPartnerStore partners, TrainingCommits commits, TimeProvider clock)
{
    public async Task<CertificationDto> CreateAsync(Caller caller, CertificationRequest? body, CancellationToken ct)
    {
        var courses = (await store.ListCoursesAsync(ct)).Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        var now = clock.GetUtcNow();
        var definition = TrainingInput.Certification(body, courses, now);
        await store.CreateDefinitionAsync(definition, new ChangeSet([new AuditEntry(Ids.New("aud"), now, caller.UserId, caller.DisplayName, "certification.defined", "certification", definition.Id, [], null)], []), ct);
        return CertificationDto.From(definition);
    }

    public async Task<IReadOnlyList<CertificationDto>> ListAsync(CancellationToken ct) =>
        (await store.ListDefinitionsAsync(ct)).OrderBy(d => d.Name, StringComparer.OrdinalIgnoreCase).Select(CertificationDto.From).ToList();

    public async Task<AwardDto> RevokeAsync(Caller caller, string awardId, RevokeAwardRequest? body, CancellationToken ct)
    {
        if (body?.Reason is not { } reason || reason.Trim().Length is 0 or > 1000) throw new ValidationFailedException("reason", "reason is required, at most 1000 characters.");
        var userId = TrainingIds.UserOf(awardId, "crt") ?? throw new NotFoundException("Award");
        var found = await store.GetAwardAsync(awardId, ct) ?? throw new NotFoundException("Award");
        var partnerId = await CurrentPartnerAsync(found.Value, ct);
        var person = new PersonFacts(userId, found.Value.PersonEmail, found.Value.PersonName, partnerId);
        Award? revoked = null;
        await commits.CommitAsync(caller, person, (training, now) =>
        {
            var award = training.Awards.FirstOrDefault(a => a.Value.Id == awardId) ?? throw new NotFoundException("Award");
            var change = award.Value.Revoke(reason.Trim(), now);
            revoked = change.Award;
            return new ProgressChange([], [], [], [], null, [(change, award.ETag)], "certification.revoked", awardId);
        }, ct);
        return AwardDto.From(revoked!, AwardStatus.Revoked, withCode: true);
    }

    /// <summary>The partner the award's holder belongs to now (null when none).</summary>
    public async Task<string?> CurrentPartnerAsync(Award award, CancellationToken ct)
    {
        if (award.PartnerId is { } earnedAt && await partners.GetUserAsync(earnedAt, award.UserId, ct) is not null) return earnedAt;
        return null;
    }
}
