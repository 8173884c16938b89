using System.Globalization;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Notifications;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Content;

/// <summary>
/// Loads assets as <see cref="ContentAccess"/> allows and commits transitions: the asset, its listing row and date-index entries, its
/// timeline entry, events and emails in one transaction, re-deciding on a fresh copy when someone committed meanwhile.
/// </summary>
public sealed class AssetCommits(IAssetStore store, IPartnerStore partners, ProgramSettings settings, EmailComposer emails, TimeProvider clock)
{
    public Task<ContentSettings> SettingsAsync(CancellationToken ct) => settings.GetAsync<ContentSettings>(ContentSettings.SectionName, ct);

    /// <summary>The caller's company as it is now (partner users), null for vendor staff. Never cached: a tier change counts at once.</summary>
    public async Task<PartnerFacts?> CallerPartnerAsync(Caller caller, CancellationToken ct) =>
        caller.PartnerId is { } id && await partners.GetAsync(id, ct) is { } found ? PartnerFacts.Of(found.Value) : null;

    /// <summary>An asset the caller may read, or 404 (a malformed or guessed id costs no storage read; an invisible asset is a 404 too).</summary>
    public async Task<(Versioned<Asset> Asset, PartnerFacts? Partner)> LoadAsync(Caller caller, string assetId, CancellationToken ct)
    {
        if (!AssetIds.LooksLike(assetId) || (caller.PartnerId is null && !caller.IsVendor)) throw new NotFoundException("Asset");
        var partner = await CallerPartnerAsync(caller, ct);
        var found = await store.GetAsync(assetId, ct) ?? throw new NotFoundException("Asset");
        if (!ContentAccess.MayRead(caller, found.Value, partner, clock.GetUtcNow())) throw new NotFoundException("Asset");
        return (found, partner);
    }

    /// <summary>An asset the caller manages (admins), or 404.</summary>
    public async Task<Versioned<Asset>> LoadManagedAsync(Caller caller, string assetId, CancellationToken ct)
    {
        if (!AssetIds.LooksLike(assetId) || !ContentAccess.MayManage(caller)) throw new NotFoundException("Asset");
        return await store.GetAsync(assetId, ct) ?? throw new NotFoundException("Asset");
    }

    /// <summary>Loads the asset, applies <paramref name="transition"/> (null: nothing to do) and commits it; on a lost race reloads and applies it again.</summary>
    public Task<Versioned<Asset>> TransitionAsync(Caller caller, string assetId, Func<Asset, ContentSettings, DateTimeOffset, AssetChange?> transition, CancellationToken ct, string? ifMatch = null) =>
        ReadDecideCommit.RunAsync(async attempt =>
        {
            var found = caller == Caller.System
                ? await store.GetAsync(assetId, ct) ?? throw new NotFoundException("Asset")
                : await LoadManagedAsync(caller, assetId, ct);
            if (ifMatch is not null && found.ETag != ifMatch) throw new PreconditionFailedException("The asset was changed since you read it; read it again and retry.");
            var rules = await SettingsAsync(ct);
            var now = clock.GetUtcNow();
            var change = transition(found.Value, rules, now);
            if (change is null) return found;
            return await CommitAsync(caller, found, change, rules, now, ct);
        }, retryWhen: ex => ifMatch is null && ex is PreconditionFailedException, ct: ct);

    /// <summary>Commits <paramref name="change"/> of <paramref name="found"/> with its timeline entry, events and emails.</summary>
    public async Task<Versioned<Asset>> CommitAsync(Caller caller, Versioned<Asset> found, AssetChange change, ContentSettings rules, DateTimeOffset now, CancellationToken ct)
    {
        var before = found.Value;
        var after = change.Asset with { Due = AssetSchedule.Of(change.Asset, rules) };
        var changes = new ChangeSet([Entry(caller, now, change.Action, after.Id, Diff.Between(before.Snapshot(), after.Snapshot()), change.Note)], Outbox(change, now));
        var etag = await store.UpdateAsync(before, after, found.ETag, changes, ct);
        return new Versioned<Asset>(after, etag);
    }

    /// <summary>The events and emails of a transition, in commit order.</summary>
    public List<OutboxMessage> Outbox(AssetChange change, DateTimeOffset now)
    {
        var outbox = change.Events.Select(e => OutboxMessage.ForEvent(ContentEvents.Create(e, change.Asset, now))).ToList();
        if (change.ExpiryNotice)
        {
            var a = change.Asset;
            var message = emails.Compose("asset-expiring", a.OwnerEmail, a.OwnerName, new
            {
                userName = a.OwnerName,
                title = a.Title,
                expireAt = a.ExpireAt?.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
                assetUrl = emails.PortalUrl($"/vendor/assets/{a.Id}"),
            });
            outbox.Add(OutboxMessage.ForEmail(Ids.New("msg"), message, now, null, Correlation.Id));
        }
        return outbox;
    }

    public static AuditEntry Entry(Caller caller, DateTimeOffset now, string action, string assetId, IReadOnlyList<FieldChange> changes, string? note = null) =>
        new(Ids.New("aud"), now, caller.UserId, caller.DisplayName, action, "asset", assetId, changes, note);
}
