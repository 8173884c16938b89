using System.Globalization;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Notifications;
using Prm.Core.Outbox;
using Prm.Core.Partners;

namespace Prm.Core.Training;

/// <summary>
/// Turns an award change into outbox messages: its events (for the partner the person belongs to now) and its emails — the person
/// always, the partner's admins for reminders, grace and expiry.
/// </summary>
public sealed class TrainingNotices(IPartnerStore partners, EmailComposer emails, ProgramOptions program)
{
    public string VerifyUrl(Award a) => $"{program.ApiBaseUrl.TrimEnd('/')}/certifications/verify/{a.VerificationCode}";

    public async Task<List<OutboxMessage>> OutboxAsync(AwardChange change, string? currentPartnerId, DateTimeOffset now, CancellationToken ct)
    {
        var a = change.Award;
        var outbox = change.Events.Select(type => OutboxMessage.ForEvent(TrainingEvents.ForAward(type, a, currentPartnerId, now, change.Note))).ToList();
        if (change.EmailTemplate is not { } kind) return outbox;
        var recipients = new List<(string Email, string Name)> { (a.PersonEmail, a.PersonName) };
        if (kind is "certification-reminder" or "certification-grace" or "certification-expired" or "certification-invalidated" && currentPartnerId is not null)
        {
            var page = await partners.ListUsersAsync(currentPartnerId, new PageRequest(100, null), ct);
            recipients.AddRange(page.Items.Where(u => u.Role == PartnerRole.PartnerAdmin && u.Id != a.UserId).Select(u => (u.Email, u.DisplayName)));
        }
        var headline = kind switch
        {
            "certification-earned" => "earned",
            "certification-renewed" => "renewed",
            "certification-revoked" => "revoked",
            "certification-reminder" => "expires soon",
            "certification-grace" => "expired, in its grace period",
            "certification-invalidated" => "must be requalified on the new course version",
            "certification-requalified" => "requalified on the new course version",
            _ => "expired",
        };
        static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        foreach (var (email, name) in recipients)
        {
            var message = emails.Compose("certification-notice", email, name, new
            {
                userName = name, personName = a.PersonName, certificationName = a.CertificationName, number = a.Number, headline, detail = change.Note ?? "",
                expiresAt = Day(a.ExpiresAt), graceEndsAt = Day(a.GraceEndsAt), verifyUrl = VerifyUrl(a),
            });
            outbox.Add(OutboxMessage.ForEmail(Ids.New("msg"), message, now, currentPartnerId, null));
        }
        return outbox;
    }
}
