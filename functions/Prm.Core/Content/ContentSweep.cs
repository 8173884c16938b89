using Prm.Core.Common;
using Prm.Core.Identity;

namespace Prm.Core.Content;

/// <summary>
/// The timer-driven sweep of the content library: reads the date index up to now (never the assets) and applies what is due —
/// scheduled publications, expiries and the owner's expiry notice — each through the asset's own transition and commit. An entry whose
/// asset moved on (archived, dates changed) is dropped; then the day's supersede digests go out. Runs every 15 minutes, so dates take effect within an hour.
/// </summary>
public sealed class ContentSweep(IAssetStore store, AssetCommits commits, SupersedeDigest digest, TimeProvider clock)
{
    /// <summary>Entries handled per run at most (the rest wait for the next run).</summary>
    public const int BatchSize = 500;

    /// <summary>Applies every date-index entry due now, then sends the supersede digests; returns how many transitions were committed.</summary>
    public async Task<int> RunAsync(CancellationToken ct)
    {
        var applied = await ApplyDueAsync(ct);
        await digest.SendAsync(ct);
        return applied;
    }

    private async Task<int> ApplyDueAsync(CancellationToken ct)
    {
        var applied = 0;
        foreach (var entry in await store.DueAsync(clock.GetUtcNow(), BatchSize, ct))
        {
            try
            {
                var changed = false;
                await commits.TransitionAsync(Caller.System, entry.AssetId, (a, s, now) =>
                {
                    var change = entry.Kind switch
                    {
                        DueKind.Publish => a.PublishDue(now),
                        DueKind.Expire => a.ExpireDue(now),
                        _ => a.ExpiryNoticeDue(now, s.ExpiryNoticeBefore),
                    };
                    changed = change is not null;
                    return change;
                }, ct);
                if (changed) applied++;
                else await DropIfStaleAsync(entry, ct);
            }
            catch (NotFoundException)
            {
                await store.ForgetDueAsync(entry, ct);
            }
        }
        return applied;
    }

    /// <summary>Removes an entry the asset's current state no longer holds (its commit removes the ones it does).</summary>
    private async Task DropIfStaleAsync(DueEntry entry, CancellationToken ct)
    {
        var current = await store.GetAsync(entry.AssetId, ct);
        if (current is null || !current.Value.Due.Contains(entry)) await store.ForgetDueAsync(entry, ct);
    }
}
