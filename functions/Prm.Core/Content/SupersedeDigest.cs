using System.Globalization;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Notifications;
using Prm.Core.Outbox;
using Prm.Core.Partners;

namespace Prm.Core.Content;

/// <summary>One line of a user's supersede digest: an asset they downloaded was superseded by a new version.</summary>
public sealed record DigestEntry(string UserId, string Email, string Name, string PartnerId, string AssetId, string Title, int Version, int PreviousVersion, string? ChangeNote, DateTimeOffset At);

/// <summary>A user's pending digest lines, with the storage versions of the rows (sending removes exactly those).</summary>
public sealed record PendingDigest(string UserId, IReadOnlyList<Versioned<DigestEntry>> Entries);

/// <summary>Storage of pending digest lines and of who got a digest on which day.</summary>
public interface IDigestStore
{
    /// <summary>Adds (or replaces) digest lines; idempotent per user, asset and version.</summary>
    Task AddAsync(IReadOnlyList<DigestEntry> entries, CancellationToken ct);

    /// <summary>Pending lines grouped by user.</summary>
    Task<IReadOnlyList<PendingDigest>> PendingAsync(int maxUsers, CancellationToken ct);

    /// <summary>
    /// Marks <paramref name="day"/> as sent for the user, removes the lines and adds the email in one transaction; false when the user got
    /// a digest that day already (the lines wait for the next day) or a line changed meanwhile.
    /// </summary>
    Task<bool> SendAsync(string userId, DateOnly day, IReadOnlyList<Versioned<DigestEntry>> entries, OutboxMessage email, CancellationToken ct);
}

/// <summary>
/// Supersede notices: when a new version of an asset is published, every partner user who downloaded an earlier version in the last
/// <see cref="ContentSettings.SupersedeLookbackDays"/> days (and whose company still sees the asset) gets a line in their digest; the
/// sweep sends each user at most one digest email a day, listing every superseded asset with its change note.
/// </summary>
public sealed class SupersedeDigest(IAssetStore assets, IDigestStore digests, IPartnerStore partners, AssetCommits commits, EmailComposer emails, TimeProvider clock)
    : IOutboxProjection
{
    /// <summary>Users sent to per sweep at most.</summary>
    public const int UsersPerRun = 200;

    /// <summary>Records the digest lines of an <c>asset.superseded</c> event (a redelivered event writes the same rows again).</summary>
    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (e.Type != ContentEvents.Superseded) return;
        var data = System.Text.Json.JsonSerializer.Deserialize<ContentEvents.AssetData>(e.Data, OutboxJson.Options)!;
        if (data.Version is not { } version || data.PreviousVersion is not { } previous) return;
        var found = await assets.GetAsync(data.AssetId, ct);
        if (found is null) return;
        var rules = await commits.SettingsAsync(ct);
        var since = e.OccurredAt - TimeSpan.FromDays(rules.SupersedeLookbackDays);
        var downloaders = (await assets.DownloadsAsync(data.AssetId, since, ct)).Where(d => d.Version < version)
            .GroupBy(d => d.UserId).Select(g => g.First()).ToList();
        var entries = new List<DigestEntry>();
        foreach (var partner in downloaders.GroupBy(d => d.PartnerId))
        {
            // Only a company that still sees the asset hears of it (the role is the downloader's, which may have changed: company view).
            var current = await partners.GetAsync(partner.Key, ct);
            if (current is null || !Visibility.Check(found.Value.Visibility, PartnerFacts.Of(current.Value), role: null).Visible) continue;
            entries.AddRange(partner.Select(d => new DigestEntry(d.UserId, d.UserEmail, d.UserName, d.PartnerId, data.AssetId, data.Title, version, previous, data.ChangeNote, e.OccurredAt)));
        }
        if (entries.Count > 0) await digests.AddAsync(entries, ct);
    }

    /// <summary>Sends every user with pending lines who got no digest today one email; returns how many were sent.</summary>
    public async Task<int> SendAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var sent = 0;
        foreach (var pending in await digests.PendingAsync(UsersPerRun, ct))
        {
            var first = pending.Entries[0].Value;
            var lines = pending.Entries.Select(x => x.Value).OrderBy(x => x.Title, StringComparer.Ordinal).ToList();
            // One line per superseded asset (the templates take plain text; the HTML keeps the line breaks).
            var changes = string.Join("\n", lines.Select(l => $"- {l.Title}: version {l.Version} replaces version {l.PreviousVersion}."
                + (string.IsNullOrWhiteSpace(l.ChangeNote) ? "" : " What changed: " + l.ChangeNote) + " " + emails.PortalUrl($"/assets/{l.AssetId}")));
            var message = emails.Compose("asset-digest", first.Email, first.Name, new
            {
                userName = first.Name,
                count = lines.Count,
                changes,
                libraryUrl = emails.PortalUrl($"/assets"),
            });
            if (await digests.SendAsync(pending.UserId, today, pending.Entries, OutboxMessage.ForEmail(Ids.New("msg"), message, now, first.PartnerId, Correlation.Id), ct)) sent++;
        }
        return sent;
    }
}
