using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Content;
using Prm.Testing;

namespace Prm.Api.Tests;

/// <summary>A host whose content settings are small enough to test their edges: 10-second download links, 64 KiB files.</summary>
public sealed class ShortContentLimitsFixture : ApiHostFixture
{
    public override async Task InitializeAsync() => Api = await ApiHost.StartAsync(new Dictionary<string, string?>
    {
        ["Content:DownloadLinkValidFor"] = "00:00:10",
        ["Content:MaxFileBytes"] = "65536",
    });
}

/// <summary>The content library's limits: a download link stops working when it expires (storage says 403), an oversized file is deleted and refused.</summary>
public sealed class AssetLimitTests(ShortContentLimitsFixture fixture) : IClassFixture<ShortContentLimitsFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task A_download_link_reused_after_it_expired_is_refused_by_storage()
    {
        var id = await AssetTests.PublishedAsync(Api, "Expiring link " + Guid.NewGuid().ToString("N")[..6], new { everyone = true });
        var download = await (await Api.ClientAsync(Demo.NorthwindRep)).GetAsync($"assets/{id}/download");
        download.StatusCode.Should().Be(HttpStatusCode.Found);
        using var http = new HttpClient();
        (await http.GetAsync(download.Headers.Location)).StatusCode.Should().Be(HttpStatusCode.OK, "the link works while it is valid");
        var refused = await Responses.EventuallyAsync(() => http.GetAsync(download.Headers.Location), r => r.StatusCode != HttpStatusCode.OK, TimeSpan.FromSeconds(180));
        refused.StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task An_oversized_file_is_deleted_and_refused()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var id = (await (await admin.PostJsonAsync("assets", AssetTests.Body("Too big", new { everyone = true }))).JsonAsync()).Str("id");
        var oversized = new byte[65537];
        AssetTests.Pdf.CopyTo(oversized, 0);
        var problem = await ApiSteps.ProblemAsync(await AssetTests.UploadAsync(admin, id, oversized), 422);
        problem.Str("detail").Should().Contain("65536");
        (await Api.Services.GetRequiredService<Prm.Storage.Files.BlobFiles>().Blob(Prm.Storage.Files.Containers.Assets, $"{id}/v1").ExistsAsync()).Value.Should().BeFalse();
        (await Api.Services.GetRequiredService<Prm.Storage.Files.BlobFiles>().Blob(Prm.Storage.Files.Containers.Assets, $"uploads/{id}/v1").ExistsAsync()).Value.Should().BeFalse();
        (await (await admin.GetAsync($"assets/{id}")).JsonAsync()).GetProperty("versions").GetArrayLength().Should().Be(0);
    }

    [Fact]
    public async Task The_owner_gets_the_expiry_notice_fourteen_days_ahead()
    {
        var title = "Expiring soon " + Guid.NewGuid().ToString("N")[..6];
        await AssetTests.PublishedAsync(Api, title, new { everyone = true }, expireAt: DateTimeOffset.UtcNow.AddDays(14).AddMinutes(-5).ToString("O"));
        var sweep = Api.Services.GetRequiredService<ContentSweep>();
        var mail = await Responses.EventuallyAsync(async () =>
        {
            await sweep.RunAsync(CancellationToken.None);
            return await (await Api.Anonymous.GetAsync($"dev/mail?to={Uri.EscapeDataString(Demo.Admin)}&limit=500")).JsonAsync();
        }, m => m.GetProperty("items").EnumerateArray().Any(x => x.Str("subject").Contains(title, StringComparison.Ordinal)));
        mail.GetProperty("items").EnumerateArray().Count(x => x.Str("subject").Contains(title, StringComparison.Ordinal)).Should().Be(1);
        await sweep.RunAsync(CancellationToken.None);
        var again = await (await Api.Anonymous.GetAsync($"dev/mail?to={Uri.EscapeDataString(Demo.Admin)}&limit=500")).JsonAsync();
        again.GetProperty("items").EnumerateArray().Count(x => x.Str("subject").Contains(title, StringComparison.Ordinal)).Should().Be(1, "the notice goes once");
    }
}
