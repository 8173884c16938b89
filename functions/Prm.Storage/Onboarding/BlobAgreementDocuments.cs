using System.Security.Cryptography;
using Azure.Storage.Blobs.Models;
using Prm.Core.Common;
using Prm.Core.Onboarding;
using Prm.Storage.Files;

namespace Prm.Storage.Onboarding;

/// <summary>Agreement documents in the agreements container, one blob per version ("program-agreement/{version}.txt").</summary>
public sealed class BlobAgreementDocuments(BlobFiles files) : IAgreementDocuments
{
    public static string BlobName(string version) => $"program-agreement/{version}.txt";

    public async Task<AgreementDocument> GetAsync(string version, CancellationToken ct)
    {
        try
        {
            var content = await files.Blob(Containers.Agreements, BlobName(version)).DownloadContentAsync(ct);
            var bytes = content.Value.Content.ToArray();
            return new AgreementDocument(version, Convert.ToHexStringLower(SHA256.HashData(bytes)), System.Text.Encoding.UTF8.GetString(bytes));
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            throw new NotFoundException($"Agreement version {version}");
        }
    }

    public async Task<bool> ExistsAsync(string version, CancellationToken ct) => await files.Blob(Containers.Agreements, BlobName(version)).ExistsAsync(ct);

    public async Task<AgreementDocument> UploadAsync(string version, byte[] text, CancellationToken ct)
    {
        try
        {
            await files.Blob(Containers.Agreements, BlobName(version)).UploadAsync(new BinaryData(text),
                new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "text/plain; charset=utf-8" }, Conditions = new BlobRequestConditions { IfNoneMatch = Azure.ETag.All } }, ct);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            throw new ConflictException($"Agreement version {version} exists already; versions never change.", "version");
        }
        return new AgreementDocument(version, Convert.ToHexStringLower(SHA256.HashData(text)), System.Text.Encoding.UTF8.GetString(text));
    }

    /// <summary>Uploads the built-in agreement text as this version when no document exists yet (local development, first deployment).</summary>
    public async Task EnsureAsync(string version, CancellationToken ct)
    {
        var blob = files.Blob(Containers.Agreements, BlobName(version));
        if (await blob.ExistsAsync(ct)) return;
        using var stream = typeof(BlobAgreementDocuments).Assembly.GetManifestResourceStream("Prm.Storage.Onboarding.program-agreement.txt")!;
        try
        {
            await blob.UploadAsync(stream, new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "text/plain; charset=utf-8" }, Conditions = new BlobRequestConditions { IfNoneMatch = Azure.ETag.All } }, ct);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Uploaded by another instance meanwhile; versions never change once written.
        }
    }
}
