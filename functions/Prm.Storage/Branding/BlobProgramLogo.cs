using Azure.Storage.Blobs.Models;
using Prm.Core.Branding;
using Prm.Core.Content;

namespace Prm.Storage.Branding;

/// <summary>The program logo: one blob in the assets container, its SHA-256 in the blob's metadata.</summary>
public sealed class BlobProgramLogo(Files.BlobFiles files, IPartnerLogos images) : IProgramLogo
{
    private const string BlobName = "branding/logo";
    private const string HashKey = "sha256";

    public ImageFacts? Identify(byte[] image) => images.Identify(image);

    public async Task SaveAsync(byte[] image, string contentType, string sha256, CancellationToken ct) =>
        await files.Blob(Files.Containers.Assets, BlobName).UploadAsync(new BinaryData(image), new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = contentType },
            Metadata = new Dictionary<string, string> { [HashKey] = sha256 },
        }, ct);

    public async Task<(byte[] Image, string ContentType, string Sha256)?> GetAsync(CancellationToken ct)
    {
        try
        {
            var download = await files.Blob(Files.Containers.Assets, BlobName).DownloadContentAsync(ct);
            var details = download.Value.Details;
            return (download.Value.Content.ToArray(), details.ContentType, details.Metadata.TryGetValue(HashKey, out var sha) ? sha : "");
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }
}
