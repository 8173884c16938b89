using Azure.Core;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Sas;

namespace Prm.Storage.Files;

/// <summary>The blob containers PrmFunctions uses.</summary>
public static class Containers
{
    public const string Assets = "assets";
    public const string Proofs = "proofs";
    public const string Agreements = "agreements";

    public static readonly IReadOnlyList<string> All = [Assets, Proofs, Agreements];
}

/// <summary>
/// Files in Blob Storage with short-lived SAS links: account-key SAS where the client holds a shared key (Azurite),
/// user-delegation SAS with the managed identity in Azure (shared-key access is disabled there).
/// </summary>
public sealed class BlobFiles
{
    private readonly BlobServiceClient service;
    private readonly TimeProvider clock;
    private UserDelegationKey? delegationKey;

    public BlobFiles(StorageOptions options, TimeProvider clock)
    {
        this.clock = clock;
        var clientOptions = new BlobClientOptions();
        clientOptions.AddPolicy(StorageCallCountingPolicy.Instance, HttpPipelinePosition.PerRetry);
        service = !string.IsNullOrWhiteSpace(options.ConnectionString)
            ? new BlobServiceClient(options.ConnectionString, clientOptions)
            : new BlobServiceClient(new Uri(options.BlobServiceUri ?? throw new InvalidOperationException("Storage:BlobServiceUri or Storage:ConnectionString must be set.")),
                Credentials.For(options), clientOptions);
    }

    public BlobServiceClient Service => service;

    public async Task EnsureContainersAsync(CancellationToken ct)
    {
        foreach (var name in Containers.All) await service.GetBlobContainerClient(name).CreateIfNotExistsAsync(cancellationToken: ct);
    }

    public BlobClient Blob(string container, string name) => service.GetBlobContainerClient(container).GetBlobClient(name);

    /// <summary>A write-only URL that creates (or overwrites) one blob until it expires.</summary>
    public Task<Uri> UploadUrlAsync(string container, string name, TimeSpan lifetime, CancellationToken ct) =>
        SasAsync(container, name, BlobSasPermissions.Create | BlobSasPermissions.Write, lifetime, ct);

    /// <summary>A read-only URL of one blob until it expires.</summary>
    public Task<Uri> ReadUrlAsync(string container, string name, TimeSpan lifetime, CancellationToken ct) =>
        SasAsync(container, name, BlobSasPermissions.Read, lifetime, ct);

    private async Task<Uri> SasAsync(string container, string name, BlobSasPermissions permissions, TimeSpan lifetime, CancellationToken ct)
    {
        var blob = Blob(container, name);
        var now = clock.GetUtcNow();
        var builder = new BlobSasBuilder(permissions, now + lifetime)
        {
            BlobContainerName = container,
            BlobName = name,
            Resource = "b",
            StartsOn = now.AddMinutes(-2), // clock skew between us and the storage service
            Protocol = blob.Uri.Scheme == Uri.UriSchemeHttps ? SasProtocol.Https : SasProtocol.HttpsAndHttp,
        };
        if (blob.CanGenerateSasUri) return blob.GenerateSasUri(builder);
        var key = delegationKey;
        if (key is null || key.SignedExpiresOn < now + lifetime + TimeSpan.FromMinutes(5))
        {
            key = delegationKey = (await service.GetUserDelegationKeyAsync(now.AddMinutes(-2), now.AddHours(6), ct)).Value;
        }
        var query = builder.ToSasQueryParameters(key, service.AccountName);
        return new BlobUriBuilder(blob.Uri) { Sas = query }.ToUri();
    }
}
