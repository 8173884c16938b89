using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Time.Testing;
using Prm.Storage.Files;
using Prm.Testing;

namespace Prm.Storage.Tests;

public sealed class BlobFilesTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly HttpClient http = new();

    public void Dispose() => http.Dispose();

    private static async Task<BlobFiles> FilesAsync(TimeProvider? clock = null)
    {
        var files = new BlobFiles(await TestAzurite.FreshStorageAsync(), clock ?? TimeProvider.System);
        await files.EnsureContainersAsync(None);
        return files;
    }

    private static string NewName() => $"partners/{Guid.NewGuid():N}/logo file.png";

    private async Task<HttpResponseMessage> PutAsync(Uri url, byte[] bytes)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent(bytes) };
        request.Headers.Add("x-ms-blob-type", "BlockBlob");
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        return await http.SendAsync(request);
    }

    [Fact]
    public async Task EnsureContainers_creates_every_container_and_is_idempotent()
    {
        var files = await FilesAsync();

        await files.EnsureContainersAsync(None);

        foreach (var name in Containers.All)
        {
            (await files.Service.GetBlobContainerClient(name).ExistsAsync(None)).Value.Should().BeTrue(name);
        }
        Containers.All.Should().BeEquivalentTo(["assets", "proofs", "agreements"]);
    }

    [Fact]
    public async Task An_upload_url_accepts_a_put_and_a_read_url_returns_the_same_bytes()
    {
        var files = await FilesAsync();
        var name = NewName();
        var bytes = Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray();

        var upload = await files.UploadUrlAsync(Containers.Assets, name, TimeSpan.FromMinutes(10), None);
        using var put = await PutAsync(upload, bytes);

        put.StatusCode.Should().Be(HttpStatusCode.Created, await put.Content.ReadAsStringAsync());
        var read = await files.ReadUrlAsync(Containers.Assets, name, TimeSpan.FromMinutes(10), None);
        using var get = await http.GetAsync(read);
        get.StatusCode.Should().Be(HttpStatusCode.OK);
        (await get.Content.ReadAsByteArrayAsync()).Should().Equal(bytes);
        get.Content.Headers.ContentType!.MediaType.Should().Be("image/png");
        (await files.Blob(Containers.Assets, name).ExistsAsync(None)).Value.Should().BeTrue();
    }

    [Fact]
    public async Task An_upload_url_may_overwrite_its_blob()
    {
        var files = await FilesAsync();
        var name = NewName();
        var upload = await files.UploadUrlAsync(Containers.Proofs, name, TimeSpan.FromMinutes(10), None);

        (await PutAsync(upload, [1, 2, 3])).StatusCode.Should().Be(HttpStatusCode.Created);
        (await PutAsync(upload, [4, 5])).StatusCode.Should().Be(HttpStatusCode.Created);

        var content = (await files.Blob(Containers.Proofs, name).DownloadContentAsync(None)).Value.Content.ToArray();
        content.Should().Equal(4, 5);
    }

    [Fact]
    public async Task An_upload_url_cannot_read()
    {
        var files = await FilesAsync();
        var name = NewName();
        var upload = await files.UploadUrlAsync(Containers.Assets, name, TimeSpan.FromMinutes(10), None);
        (await PutAsync(upload, [1, 2, 3])).StatusCode.Should().Be(HttpStatusCode.Created);

        using var get = await http.GetAsync(upload);

        get.StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task A_read_url_cannot_write()
    {
        var files = await FilesAsync();
        var name = NewName();
        var read = await files.ReadUrlAsync(Containers.Assets, name, TimeSpan.FromMinutes(10), None);

        using var put = await PutAsync(read, [1, 2, 3]);

        put.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await files.Blob(Containers.Assets, name).ExistsAsync(None)).Value.Should().BeFalse();
    }

    [Fact]
    public async Task A_url_for_one_blob_does_not_open_another()
    {
        var files = await FilesAsync();
        var name = $"partners/{Guid.NewGuid():N}/mine.png";
        var other = $"partners/{Guid.NewGuid():N}/theirs.png";
        await files.Blob(Containers.Assets, other).UploadAsync(BinaryData.FromBytes([9, 9, 9]), None);
        var read = await files.ReadUrlAsync(Containers.Assets, name, TimeSpan.FromMinutes(10), None);
        var forOther = new UriBuilder(read) { Path = files.Blob(Containers.Assets, other).Uri.AbsolutePath }.Uri;

        using var get = await http.GetAsync(forOther);

        get.StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task An_expired_read_url_is_refused()
    {
        var files = await FilesAsync();
        var name = NewName();
        await files.Blob(Containers.Agreements, name).UploadAsync(BinaryData.FromBytes([1, 2, 3]), None);

        var expired = await files.ReadUrlAsync(Containers.Agreements, name, TimeSpan.FromMinutes(-1), None);
        using var get = await http.GetAsync(expired);

        get.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var fresh = await files.ReadUrlAsync(Containers.Agreements, name, TimeSpan.FromMinutes(1), None);
        using var ok = await http.GetAsync(fresh);
        ok.StatusCode.Should().Be(HttpStatusCode.OK, "the same blob is readable with a valid URL");
    }

    [Fact]
    public async Task A_read_url_issued_by_a_clock_in_the_past_has_expired()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(-3));
        var files = await FilesAsync(clock);
        var name = NewName();
        await files.Blob(Containers.Assets, name).UploadAsync(BinaryData.FromBytes([1, 2, 3]), None);

        var read = await files.ReadUrlAsync(Containers.Assets, name, TimeSpan.FromHours(1), None);
        using var get = await http.GetAsync(read);

        get.StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task An_expired_upload_url_is_refused()
    {
        var files = await FilesAsync();
        var name = NewName();

        var upload = await files.UploadUrlAsync(Containers.Assets, name, TimeSpan.FromSeconds(-30), None);
        using var put = await PutAsync(upload, [1, 2, 3]);

        put.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await files.Blob(Containers.Assets, name).ExistsAsync(None)).Value.Should().BeFalse();
    }
}
