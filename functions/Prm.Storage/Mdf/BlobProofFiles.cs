using Prm.Core.Mdf;
using Prm.Storage.Files;

namespace Prm.Storage.Mdf;

/// <summary>Proof-of-performance files in the "proofs" container, reached only through short-lived SAS URLs of one blob.</summary>
public sealed class BlobProofFiles(BlobFiles files) : IMdfProofFiles
{
    public Task<Uri> UploadUrlAsync(string blobName, TimeSpan lifetime, CancellationToken ct) => files.UploadUrlAsync(Containers.Proofs, blobName, lifetime, ct);

    public Task<Uri> ReadUrlAsync(string blobName, TimeSpan lifetime, CancellationToken ct) => files.ReadUrlAsync(Containers.Proofs, blobName, lifetime, ct);

    public Task<(long Size, byte[] Head)?> InspectAsync(string blobName, int headBytes, CancellationToken ct) => files.InspectAsync(Containers.Proofs, blobName, headBytes, ct);

    public Task SetContentTypeAsync(string blobName, string contentType, CancellationToken ct) => files.SetContentTypeAsync(Containers.Proofs, blobName, contentType, ct);

    public Task DeleteAsync(string blobName, CancellationToken ct) => files.DeleteAsync(Containers.Proofs, blobName, ct);
}
