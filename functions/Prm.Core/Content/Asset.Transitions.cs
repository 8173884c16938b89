using Prm.Core.Common;

namespace Prm.Core.Content;

/// <summary>An integration event a transition causes (type from <see cref="ContentEvents"/>), with the versions it speaks of.</summary>
public sealed record AssetRaised(string Type, int? Version = null, int? PreviousVersion = null);

/// <summary>What a transition did: the new state, the timeline action (and its note), its events, and whether the owner gets the expiry notice.</summary>
public sealed record AssetChange(Asset Asset, string Action, IReadOnlyList<AssetRaised> Events, string? Note = null, bool ExpiryNotice = false);

/// <summary>
/// The life of an asset: Draft → Published (now, or at a future publishAt through the sweep) → Expired (at expireAt, through the sweep),
/// or Archived with a reason from any status but Archived. Versions are immutable once checked; publishing a newer checked version of a
/// published asset supersedes the current one. Each transition checks the status here and returns an <see cref="AssetChange"/>.
/// </summary>
public sealed partial record Asset
{
    /// <summary>A new Draft.</summary>
    public static AssetChange Create(Asset draft) => new(draft with { Status = AssetStatus.Draft }, "asset.created", []);

    /// <summary>Edits metadata while Draft or Published; null when nothing changes.</summary>
    public AssetChange? Edit(Asset edited, DateTimeOffset now)
    {
        if (Status is not (AssetStatus.Draft or AssetStatus.Published)) throw new ConflictException($"A {Status} asset cannot be edited.", "status");
        var updated = edited with { UpdatedAt = now };
        if (Audit.Diff.Between(Snapshot(), updated.Snapshot()).Count == 0) return null;
        return new AssetChange(updated, "asset.updated", []);
    }

    /// <summary>Opens a slot for the next version (Pending until its upload is checked).</summary>
    public AssetChange AddVersion(AssetVersion pending, int maxVersions)
    {
        if (Status is AssetStatus.Archived or AssetStatus.Expired) throw new ConflictException($"A {Status} asset takes no new versions.", "status");
        if (Versions.Count >= maxVersions) throw new ConflictException($"An asset holds at most {maxVersions} versions.", "versions");
        if (pending.Number != NextVersionNumber) throw new ArgumentException("Versions are numbered in order.", nameof(pending));
        return new AssetChange(this with { Versions = [.. Versions, pending], UpdatedAt = pending.CreatedAt }, "asset.versionAdded", [], $"Version {pending.Number} upload opened.");
    }

    /// <summary>The number the next version gets.</summary>
    public int NextVersionNumber => Versions.Count == 0 ? 1 : Versions.Max(v => v.Number) + 1;

    /// <summary>Records the checked content of a Pending version; from then on it never changes.</summary>
    public AssetChange CompleteVersion(int number, long size, string sha256, string contentType, string kind, DateTimeOffset now, int? pageCount = null, IReadOnlyList<PageSize>? pageSizes = null)
    {
        var version = Versions.FirstOrDefault(v => v.Number == number) ?? throw new NotFoundException("Version");
        if (version.Status != AssetVersionStatus.Pending) throw new ConflictException($"Version {number} was completed already; versions never change.", "version");
        var ready = version with { Status = AssetVersionStatus.Ready, Size = size, Sha256 = sha256, ContentType = contentType, Kind = kind, CompletedAt = now, PageCount = pageCount, PageSizes = pageSizes };
        return new AssetChange(this with { Versions = [.. Versions.Select(v => v.Number == number ? ready : v)], UpdatedAt = now }, "asset.versionCompleted", [],
            $"Version {number}: {kind}, {size} bytes, SHA-256 {sha256}.");
    }

    /// <summary>Forgets a Pending version whose upload was refused (its blob is deleted by the caller).</summary>
    public AssetChange DropVersion(int number, string reason, DateTimeOffset now)
    {
        var version = Versions.FirstOrDefault(v => v.Number == number) ?? throw new NotFoundException("Version");
        if (version.Status != AssetVersionStatus.Pending) throw new ConflictException($"Version {number} is complete and stays.", "version");
        return new AssetChange(this with { Versions = [.. Versions.Where(v => v.Number != number)], UpdatedAt = now }, "asset.versionRefused", [], reason);
    }

    /// <summary>
    /// Publishes the newest checked version: a Draft is published now, or scheduled when publishAt is in the future; a Published asset with a
    /// newer checked version makes it current and supersedes the previous one.
    /// </summary>
    public AssetChange Publish(DateTimeOffset now)
    {
        var latest = LatestReady ?? throw new ConflictException("Upload and complete a version before publishing.", "versions");
        if (CoBrand is { } template)
        {
            var errors = new Dictionary<string, string[]>();
            CoBranding.CheckFits(template, latest, errors);
            if (errors.Count > 0) throw new ValidationFailedException(errors, string.Join(" ", errors.Select(e => e.Value[0])), unprocessable: true);
        }
        if (ExpireAt is { } expireAt && expireAt <= now) throw new ConflictException("expireAt has passed; move it before publishing.", "expireAt");
        switch (Status)
        {
            case AssetStatus.Draft when PublishAt is { } at && at > now:
                if (PublishScheduled) throw new ConflictException("The asset is scheduled for publication already.", "status");
                return new AssetChange(this with { PublishScheduled = true, UpdatedAt = now }, "asset.scheduled", [], $"Publication scheduled for version {latest.Number}.");
            case AssetStatus.Draft:
                return PublishNow(latest.Number, now);
            case AssetStatus.Published when latest.Number > CurrentVersion:
                var previous = CurrentVersion!.Value;
                var superseding = this with
                {
                    CurrentVersion = latest.Number,
                    UpdatedAt = now,
                    Versions = [.. Versions.Select(v => v.Number == latest.Number ? v with { PublishedAt = now } : v)],
                };
                return new AssetChange(superseding, "asset.superseded", [new(ContentEvents.Superseded, latest.Number, previous)], $"Version {latest.Number} supersedes version {previous}.");
            case AssetStatus.Published:
                throw new ConflictException($"Version {CurrentVersion} is published already; upload a new version to supersede it.", "versions");
            default:
                throw new ConflictException($"A {Status} asset cannot be published.", "status");
        }
    }

    /// <summary>The sweep's publication of a scheduled Draft whose publishAt came; null when it is not (or no longer) due.</summary>
    public AssetChange? PublishDue(DateTimeOffset now) =>
        Status == AssetStatus.Draft && PublishScheduled && PublishAt is { } at && at <= now && LatestReady is { } latest && (ExpireAt is null || ExpireAt > now)
            ? PublishNow(latest.Number, now) : null;

    private AssetChange PublishNow(int number, DateTimeOffset now)
    {
        var published = this with
        {
            Status = AssetStatus.Published,
            PublishScheduled = false,
            CurrentVersion = number,
            PublishedAt = now,
            UpdatedAt = now,
            Versions = [.. Versions.Select(v => v.Number == number ? v with { PublishedAt = now } : v)],
        };
        return new AssetChange(published, "asset.published", [new(ContentEvents.Published, number)]);
    }

    /// <summary>The sweep's expiry of a Published asset whose expireAt came; null when it is not due.</summary>
    public AssetChange? ExpireDue(DateTimeOffset now) =>
        Status == AssetStatus.Published && ExpireAt is { } at && at <= now
            ? new AssetChange(this with { Status = AssetStatus.Expired, ExpiredAt = now, UpdatedAt = now }, "asset.expired", [new(ContentEvents.Expired, CurrentVersion)])
            : null;

    /// <summary>The owner's notice ahead of expiry, once; null when it is not due or was sent.</summary>
    public AssetChange? ExpiryNoticeDue(DateTimeOffset now, TimeSpan noticeBefore) =>
        Status == AssetStatus.Published && ExpiryNoticeSentAt is null && ExpireAt is { } at && at > now && at - noticeBefore <= now
            ? new AssetChange(this with { ExpiryNoticeSentAt = now, UpdatedAt = now }, "asset.expiryNoticeSent", [], null, ExpiryNotice: true)
            : null;

    /// <summary>Archives the asset with a reason: partners no longer see it; final.</summary>
    public AssetChange Archive(string reason, DateTimeOffset now)
    {
        if (Status == AssetStatus.Archived) throw new ConflictException("The asset is archived already.", "status");
        return new AssetChange(this with { Status = AssetStatus.Archived, PublishScheduled = false, ArchivedAt = now, ArchiveReason = reason, UpdatedAt = now }, "asset.archived", [], reason);
    }
}
