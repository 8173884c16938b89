using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Training;

/// <summary>Reading certifications: a person's own, a partner's (counts, expiring, holders), the public verification, one award.</summary>
public sealed class CertificationQueries(ITrainingStore store, IPartnerStore partners, TrainingCommits commits, TimeProvider clock)
{
    /// <summary>How far ahead a partner's view lists expiring awards.</summary>
    public const int ExpiringWithinDays = 60;

    public async Task<MyCertificationsDto> MineAsync(Caller caller, CancellationToken ct)
    {
        if (!caller.UserId.StartsWith("usr_", StringComparison.Ordinal) || caller.UserId.Length != 36) return new MyCertificationsDto([], []);
        var training = await store.ReadPersonAsync(caller.UserId, ct);
        var now = clock.GetUtcNow();
        var window = await ReminderWindowAsync(ct);
        return new MyCertificationsDto(
            training.Awards.Select(a => a.Value).OrderByDescending(a => a.EarnedAt).Select(a => AwardDto.From(a, a.StatusAt(now, window(a)), withCode: true)).ToList(),
            training.Enrollments.Select(e => EnrollmentDto.From(e.Value)).OrderBy(e => e.CourseId, StringComparer.Ordinal).ToList());
    }

    public async Task<PartnerCertificationsDto> PartnerAsync(Caller caller, string partnerId, CancellationToken ct)
    {
        await TrainingAccess.LoadPartnerAsync(partners, caller, partnerId, ct);
        var users = new List<PartnerUser>();
        string? cursor = null;
        do
        {
            var page = await partners.ListUsersAsync(partnerId, new PageRequest(100, cursor), ct);
            users.AddRange(page.Items);
            cursor = page.NextCursor;
        } while (cursor is not null && users.Count < 5000);
        var people = await Task.WhenAll(users.Select(async u => (User: u, Training: await store.ReadPersonAsync(u.Id, ct))));
        var now = clock.GetUtcNow();
        var window = await ReminderWindowAsync(ct);
        var calendar = await commits.CalendarAsync(ct);
        var awards = people.SelectMany(p => p.Training.Awards.Select(a => a.Value)).ToList();
        var membership = users.ToDictionary(u => u.Id, u => (string?)partnerId, StringComparer.Ordinal);
        var counts = CertifiedCounts.For(partnerId, awards, membership, now);
        var soon = awards.Where(a => a.IsValidAt(now) && a.ExpiresAt <= now + calendar.Days(ExpiringWithinDays)).OrderBy(a => a.ExpiresAt)
            .Select(a => AwardDto.From(a, a.StatusAt(now, window(a)), withCode: false)).ToList();
        var holders = people.Where(p => p.Training.Awards.Any(a => a.Value.IsValidAt(now))).Select(p => new CertificationHolder(p.User.Id, p.User.DisplayName,
            p.Training.Awards.Select(a => a.Value).Where(a => a.IsValidAt(now)).Select(a => new HeldCertification(a.Id, a.CertificationName, Text.Camel(a.Track), Text.Camel(a.Level), a.StatusAt(now, window(a)).ToString(), a.ExpiresAt)).ToList()))
            .OrderBy(h => h.DisplayName, StringComparer.OrdinalIgnoreCase).ToList();
        return new PartnerCertificationsDto(partnerId, counts, soon, holders);
    }

    /// <summary>The public verification; a malformed, guessed or tampered code is 404 (a malformed one without a storage read).</summary>
    public async Task<VerificationDto> VerifyAsync(string code, CancellationToken ct)
    {
        var hash = TrainingIds.CodeHash(code) ?? throw new NotFoundException("Certification");
        var awardId = await store.FindAwardByCodeAsync(hash, ct) ?? throw new NotFoundException("Certification");
        var award = (await store.GetAwardAsync(awardId, ct))?.Value;
        // The stored code must be the one asked for (a look-up row without its award, or pointing elsewhere, finds nothing).
        if (award is null || !System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(award.VerificationCode), System.Text.Encoding.ASCII.GetBytes(code)))
            throw new NotFoundException("Certification");
        var window = await ReminderWindowAsync(ct);
        return new VerificationDto(award.PersonName, award.CertificationName, award.StatusAt(clock.GetUtcNow(), window(award)).ToString(), award.EarnedAt, award.ExpiresAt);
    }

    /// <summary>An award its reader may see (holder, the admins and channel manager of the holder's current partner, admins), or 404.</summary>
    public async Task<(Award Award, AwardStatus Status)> AwardAsync(Caller caller, string awardId, CancellationToken ct)
    {
        var userId = TrainingIds.UserOf(awardId, "crt") ?? throw new NotFoundException("Award");
        if (caller.PartnerId is not null && !caller.IsPartnerAdminOf(caller.PartnerId) && caller.UserId != userId) throw new NotFoundException("Award");
        var award = (await store.GetAwardAsync(awardId, ct))?.Value ?? throw new NotFoundException("Award");
        Partner? holderPartner = null;
        if (!caller.IsAdmin && caller.UserId != userId && award.PartnerId is { } pid && await partners.GetUserAsync(pid, userId, ct) is not null)
            holderPartner = (await partners.GetAsync(pid, ct))?.Value;
        if (!TrainingAccess.MayRead(caller, award, holderPartner)) throw new NotFoundException("Award");
        var window = await ReminderWindowAsync(ct);
        return (award, award.StatusAt(clock.GetUtcNow(), window(award)));
    }

    /// <summary>Per award: how long before its expiry it counts as expiring soon (its definition's earliest reminder).</summary>
    private async Task<Func<Award, TimeSpan>> ReminderWindowAsync(CancellationToken ct)
    {
        var calendar = await commits.CalendarAsync(ct);
        var definitions = (await store.ListDefinitionsAsync(ct)).ToDictionary(d => d.Id, StringComparer.Ordinal);
        return a => calendar.Days(definitions.TryGetValue(a.DefinitionId, out var d) && d.ReminderDaysBefore.Count > 0 ? d.ReminderDaysBefore.Max() : 90);
    }
}
