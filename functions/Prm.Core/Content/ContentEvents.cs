using Prm.Core.Common;
using Prm.Core.Outbox;

namespace Prm.Core.Content;

/// <summary>Integration events of the content library.</summary>
public static class ContentEvents
{
    [EventPayload(typeof(AssetData))]
    public const string Published = "asset.published";
    [EventPayload(typeof(AssetData))]
    public const string Superseded = "asset.superseded";
    [EventPayload(typeof(AssetData))]
    public const string Expired = "asset.expired";
    [EventPayload(typeof(DownloadData))]
    public const string Downloaded = "asset.downloaded";

    /// <summary>Event data of an asset's transition: the asset, the version it speaks of and the one it replaced (supersede), with that version's change note.</summary>
    public sealed record AssetData(string AssetId, string Title, string Type, string Status, int? Version, int? PreviousVersion, string? ChangeNote);

    /// <summary>Event data of a download: who, of which partner, which version.</summary>
    public sealed record DownloadData(string AssetId, string Title, int Version, string UserId, string PartnerId);

    public static IntegrationEvent Create(AssetRaised raised, Asset a, DateTimeOffset at) =>
        IntegrationEvent.Create(Ids.New("evt"), raised.Type, at, $"assets/{a.Id}", null, Correlation.Id,
            new AssetData(a.Id, a.Title, Text.Camel(a.Type), a.Status.ToString(), raised.Version, raised.PreviousVersion,
                a.Versions.FirstOrDefault(v => v.Number == raised.Version)?.ChangeNote));

    public static IntegrationEvent Download(Asset a, int version, string userId, string partnerId, DateTimeOffset at) =>
        IntegrationEvent.Create(Ids.New("evt"), Downloaded, at, $"assets/{a.Id}", partnerId, Correlation.Id, new DownloadData(a.Id, a.Title, version, userId, partnerId));
}
