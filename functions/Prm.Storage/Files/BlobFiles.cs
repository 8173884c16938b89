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

    /// <summary>A read-only URL of one blob until it expires; with <paramref name="fileName"/> the download is saved under that name.</summary>
    public Task<Uri> ReadUrlAsync(string container, string name, TimeSpan lifetime, CancellationToken ct, string? fileName = null) =>
        SasAsync(container, name, BlobSasPermissions.Read, lifetime, ct, fileName);

    /// <summary>The size and first bytes of an uploaded blob; null when there is none.</summary>
    public async Task<(long Size, byte[] Head)?> InspectAsync(string container, string name, int headBytes, CancellationToken ct)
    {
        var blob = Blob(container, name);
        BlobProperties properties;
        try
        {
            properties = (await blob.GetPropertiesAsync(cancellationToken: ct)).Value;
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
        var size = properties.ContentLength;
        if (size == 0) return (0, []);
        var length = Math.Min(size, headBytes);
        var download = await blob.DownloadContentAsync(new BlobDownloadOptions { Range = new Azure.HttpRange(0, length) }, ct);
        return (size, download.Value.Content.ToArray());
    }

    /// <summary>SHA-256 (lower-case hex) of a whole blob, read as a stream (never held in memory).</summary>
    public async Task<string> Sha256Async(string container, string name, CancellationToken ct)
    {
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        await using var stream = await Blob(container, name).OpenReadAsync(cancellationToken: ct);
        var buffer = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(buffer, ct)) > 0) sha.AppendData(buffer, 0, read);
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>Serves the blob as an attachment of the checked content type (never the type the uploader declared).</summary>
    public Task SetContentTypeAsync(string container, string name, string contentType, CancellationToken ct) =>
        Blob(container, name).SetHttpHeadersAsync(new BlobHttpHeaders { ContentType = contentType, ContentDisposition = "attachment" }, cancellationToken: ct);

    public Task DeleteAsync(string container, string name, CancellationToken ct) => Blob(container, name).DeleteIfExistsAsync(cancellationToken: ct);

    /// <summary>
    /// Copies an uploaded blob to a name no upload URL ever granted, then deletes the upload: what was copied can no longer be
    /// overwritten through the upload URL. False when nothing was uploaded.
    /// </summary>
    public async Task<bool> SealAsync(string container, string uploadName, string finalName, CancellationToken ct)
    {
        if (!(await Blob(container, uploadName).ExistsAsync(ct)).Value) return false;
        var source = await ReadUrlAsync(container, uploadName, TimeSpan.FromMinutes(30), ct);
        var copy = await Blob(container, finalName).StartCopyFromUriAsync(source, cancellationToken: ct);
        await copy.WaitForCompletionAsync(ct);
        await Blob(container, uploadName).DeleteIfExistsAsync(cancellationToken: ct);
        return true;
    }

    private async Task<Uri> SasAsync(string container, string name, BlobSasPermissions permissions, TimeSpan lifetime, CancellationToken ct, string? fileName = null)
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
        if (fileName is not null) builder.ContentDisposition = new System.Net.Mime.ContentDisposition { FileName = fileName, DispositionType = "attachment" }.ToString();
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
