using Azure;
using Azure.Storage.Blobs.Models;
using Prm.Core.Mdf;
using Prm.Storage.Files;

namespace Prm.Storage.Mdf;

/// <summary>Proof-of-performance files in the "proofs" container, reached only through short-lived SAS URLs of one blob.</summary>
public sealed class BlobProofFiles(BlobFiles files) : IMdfProofFiles
{
    public Task<Uri> UploadUrlAsync(string blobName, TimeSpan lifetime, CancellationToken ct) => files.UploadUrlAsync(Containers.Proofs, blobName, lifetime, ct);

    public Task<Uri> ReadUrlAsync(string blobName, TimeSpan lifetime, CancellationToken ct) => files.ReadUrlAsync(Containers.Proofs, blobName, lifetime, ct);

    public async Task<(long Size, byte[] Head)?> InspectAsync(string blobName, int headBytes, CancellationToken ct)
    {
        var blob = files.Blob(Containers.Proofs, blobName);
        BlobProperties properties;
        try
        {
            properties = (await blob.GetPropertiesAsync(cancellationToken: ct)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
        var size = properties.ContentLength;
        if (size == 0) return (0, []);
        var length = Math.Min(size, headBytes);
        var download = await blob.DownloadContentAsync(new BlobDownloadOptions { Range = new HttpRange(0, length) }, ct);
        return (size, download.Value.Content.ToArray());
    }

    public Task SetContentTypeAsync(string blobName, string contentType, CancellationToken ct) =>
        files.Blob(Containers.Proofs, blobName).SetHttpHeadersAsync(new BlobHttpHeaders { ContentType = contentType, ContentDisposition = "attachment" }, cancellationToken: ct);

    public Task DeleteAsync(string blobName, CancellationToken ct) => files.Blob(Containers.Proofs, blobName).DeleteIfExistsAsync(cancellationToken: ct);
}
