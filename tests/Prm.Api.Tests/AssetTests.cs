using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Content;
using Prm.Testing;

namespace Prm.Api.Tests;

/// <summary>
/// The content library end to end through the local host on Azurite: SAS upload and content check, publication, visibility enforced as a
/// security rule (Northwind is Gold in EMEA, Fabrikam Silver in AMER), downloads, supersede digests, expiry through the sweep.
/// </summary>
public sealed class AssetTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    internal static readonly byte[] Pdf = System.Text.Encoding.ASCII.GetBytes("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");

    internal static object Body(string title, object visibility, string? expireAt = null, string? publishAt = null, string[]? tags = null) => new
    {
        title,
        description = "For partners.",
        type = "datasheet",
        productLines = new[] { "edge" },
        tags = tags ?? ["pricing"],
        locale = "en",
        folder = "Datasheets",
        publishAt,
        expireAt,
        visibility,
    };

    internal static async Task<HttpResponseMessage> PutBlobAsync(string url, byte[] content)
    {
        using var http = new HttpClient();
        var put = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent(content) };
        put.Headers.TryAddWithoutValidation("x-ms-blob-type", "BlockBlob");
        put.Content.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        return await http.SendAsync(put);
    }

    /// <summary>Uploads a file as the next version through its SAS URL and completes it; returns the completion's response.</summary>
    internal static async Task<HttpResponseMessage> UploadAsync(HttpClient admin, string assetId, byte[] content, string? changeNote = null)
    {
        var slot = await admin.PostJsonAsync($"assets/{assetId}/versions", new { fileName = "datasheet.pdf", changeNote });
        ((int)slot.StatusCode).Should().Be(201, await slot.Content.ReadAsStringAsync());
        var upload = await slot.JsonAsync();
        (await PutBlobAsync(upload.Str("uploadUrl"), content)).StatusCode.Should().Be(HttpStatusCode.Created);
        return await admin.PostAsync($"assets/{assetId}/versions/{upload.GetProperty("version").GetInt32()}/complete", null);
    }

    /// <summary>A published asset with one PDF version; returns its id.</summary>
    internal static async Task<string> PublishedAsync(ApiHost api, string title, object visibility, string? expireAt = null, string[]? tags = null)
    {
        var admin = await api.ClientAsync(Demo.Admin);
        var created = await admin.PostJsonAsync("assets", Body(title, visibility, expireAt, tags: tags));
        ((int)created.StatusCode).Should().Be(201, await created.Content.ReadAsStringAsync());
        var id = (await created.JsonAsync()).Str("id");
        var completed = await UploadAsync(admin, id, Pdf);
        ((int)completed.StatusCode).Should().Be(200, await completed.Content.ReadAsStringAsync());
        var published = await admin.PostAsync($"assets/{id}/publish", null);
        ((int)published.StatusCode).Should().Be(200, await published.Content.ReadAsStringAsync());
        (await published.JsonAsync()).Str("status").Should().Be("Published");
        return id;
    }

    private static async Task<IReadOnlyList<string>> ListedIdsAsync(HttpClient client, string query = "") =>
        (await (await client.GetAsync("assets?limit=200" + query)).JsonAsync()).GetProperty("items").EnumerateArray().Select(a => a.Str("id")).ToList();

    [Fact]
    public async Task An_uploaded_and_published_gold_asset_is_seen_by_gold_emea_and_is_a_404_for_silver_amer()
    {
        var id = await PublishedAsync(Api, "Édge Gateway datasheet " + Guid.NewGuid().ToString("N")[..6], new { tiers = new[] { "gold" } });
        var northwind = await Api.ClientAsync(Demo.NorthwindRep);
        var fabrikam = await Api.ClientAsync(Demo.FabrikamRep);

        var seen = await northwind.GetAsync($"assets/{id}");
        seen.StatusCode.Should().Be(HttpStatusCode.OK);
        var asset = await seen.JsonAsync();
        asset.GetProperty("versions").GetArrayLength().Should().Be(1);
        asset.GetProperty("versions")[0].Str("sha256").Should().Be(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Pdf)));
        asset.GetProperty("visibility").ValueKind.Should().Be(JsonValueKind.Null, "partners do not see the rule");
        (await ListedIdsAsync(northwind)).Should().Contain(id);
        (await ListedIdsAsync(northwind, "&search=EDGE%20gateway")).Should().Contain(id, "search ignores case and accents");
        (await ListedIdsAsync(northwind, "&tag=PRICING&type=datasheet&locale=en&productLine=edge")).Should().Contain(id);
        (await ListedIdsAsync(northwind, "&type=video")).Should().NotContain(id);

        var hidden = await ApiSteps.ProblemAsync(await fabrikam.GetAsync($"assets/{id}"), 404);
        var missing = await ApiSteps.ProblemAsync(await fabrikam.GetAsync($"assets/{AssetIds.New(DateTimeOffset.UtcNow)}"), 404);
        hidden.Str("detail").Should().Be(missing.Str("detail"), "an invisible asset is indistinguishable from a missing one");
        (await fabrikam.GetAsync($"assets/{id}/download")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ListedIdsAsync(fabrikam)).Should().NotContain(id);

        var cm = await Api.ClientAsync(Demo.CmEmea);
        var fabrikamId = await ApiSteps.PartnerIdAsync(Api, "Fabrikam Solutions");
        var why = await (await cm.GetAsync($"assets/{id}/visibility?partnerId={fabrikamId}")).JsonAsync();
        why.GetProperty("visible").GetBoolean().Should().BeFalse();
        why.Str("excludedBy").Should().Be("tiers");
    }

    [Fact]
    public async Task A_tier_change_flips_what_the_partner_sees_at_once()
    {
        var id = await PublishedAsync(Api, "Gold battle card " + Guid.NewGuid().ToString("N")[..6], new { tiers = new[] { "gold" } });
        var admin = await Api.ClientAsync(Demo.Admin);
        var fabrikam = await Api.ClientAsync(Demo.FabrikamRep);
        var fabrikamId = await ApiSteps.PartnerIdAsync(Api, "Fabrikam Solutions");
        (await fabrikam.GetAsync($"assets/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        try
        {
            var (_, etag) = await ApiSteps.GetWithETagAsync(admin, $"partners/{fabrikamId}");
            (await admin.SendAsync(ApiSteps.Patch($"partners/{fabrikamId}", new { tier = "gold" }, etag))).StatusCode.Should().Be(HttpStatusCode.OK);
            (await fabrikam.GetAsync($"assets/{id}")).StatusCode.Should().Be(HttpStatusCode.OK, "the rule is evaluated against the partner as it is now");
            (await ListedIdsAsync(fabrikam)).Should().Contain(id);
        }
        finally
        {
            var (_, etag) = await ApiSteps.GetWithETagAsync(admin, $"partners/{fabrikamId}");
            (await admin.SendAsync(ApiSteps.Patch($"partners/{fabrikamId}", new { tier = "silver" }, etag))).StatusCode.Should().Be(HttpStatusCode.OK);
        }
        (await fabrikam.GetAsync($"assets/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_download_redirects_to_a_five_minute_read_url_and_is_counted_per_partner()
    {
        var id = await PublishedAsync(Api, "Everyone playbook " + Guid.NewGuid().ToString("N")[..6], new { everyone = true });
        var northwind = await Api.ClientAsync(Demo.NorthwindRep);
        var before = DateTimeOffset.UtcNow;
        var download = await northwind.GetAsync($"assets/{id}/download");
        download.StatusCode.Should().Be(HttpStatusCode.Found);
        var url = download.Headers.Location!;
        var expiry = DateTimeOffset.Parse(System.Web.HttpUtility.ParseQueryString(url.Query)["se"]!, System.Globalization.CultureInfo.InvariantCulture);
        expiry.Should().BeOnOrAfter(before.AddMinutes(5).AddSeconds(-2)).And.BeOnOrBefore(DateTimeOffset.UtcNow.AddMinutes(5).AddSeconds(2));
        using (var http = new HttpClient())
        {
            (await http.GetByteArrayAsync(url)).Should().Equal(Pdf);
        }
        (await (await Api.ClientAsync(Demo.FabrikamAdmin)).GetAsync($"assets/{id}/download")).StatusCode.Should().Be(HttpStatusCode.Found);

        var counts = await (await (await Api.ClientAsync(Demo.CmAmer)).GetAsync($"assets/{id}/downloads")).JsonAsync();
        counts.GetProperty("total").GetInt32().Should().Be(2);
        counts.GetProperty("byPartner").EnumerateArray().Select(p => p.GetProperty("downloads").GetInt32()).Should().Equal(1, 1);
        (await northwind.GetAsync($"assets/{id}/downloads")).StatusCode.Should().Be(HttpStatusCode.Forbidden, "counts are for vendor staff");
    }

    [Fact]
    public async Task A_new_version_sends_one_supersede_digest_to_the_earlier_downloader()
    {
        var title = "Pricing deck " + Guid.NewGuid().ToString("N")[..6];
        var id = await PublishedAsync(Api, title, new { regions = new[] { "emea" } });
        var admin = await Api.ClientAsync(Demo.Admin);
        (await (await Api.ClientAsync(Demo.NorthwindAdmin)).GetAsync($"assets/{id}/download")).StatusCode.Should().Be(HttpStatusCode.Found);

        var completed = await UploadAsync(admin, id, Pdf.Concat("% v2\n"u8.ToArray()).ToArray(), "Prices for 2027.");
        completed.StatusCode.Should().Be(HttpStatusCode.OK);
        var superseded = await (await admin.PostAsync($"assets/{id}/publish", null)).JsonAsync();
        superseded.GetProperty("currentVersion").GetInt32().Should().Be(2);

        var sweep = Api.Services.GetRequiredService<ContentSweep>();
        var mail = await Responses.EventuallyAsync(async () =>
        {
            await sweep.RunAsync(CancellationToken.None);
            return await (await Api.Anonymous.GetAsync($"dev/mail?to={Uri.EscapeDataString(Demo.NorthwindAdmin)}&limit=500")).JsonAsync();
        }, m => m.GetProperty("items").EnumerateArray().Any(x => x.GetProperty("text").GetString()!.Contains(title, StringComparison.Ordinal)));
        var digest = mail.GetProperty("items").EnumerateArray().First(x => x.GetProperty("text").GetString()!.Contains(title, StringComparison.Ordinal));
        digest.GetProperty("text").GetString().Should().Contain("version 2 replaces version 1").And.Contain("Prices for 2027.");
        (await (await Api.Anonymous.GetAsync($"dev/mail?to={Uri.EscapeDataString(Demo.NorthwindRep)}&limit=500")).Content.ReadAsStringAsync())
            .Should().NotContain(title, "only who downloaded an earlier version hears of it");
    }

    [Fact]
    public async Task Expiry_hides_the_asset_and_the_sweep_marks_it_expired()
    {
        // Published first and then given an expiry one second ahead: a loaded machine may take longer than any fixed lead time to create,
        // upload and publish, and publishing an asset whose expireAt has passed is refused by rule.
        var id = await PublishedAsync(Api, "Short-lived promo " + Guid.NewGuid().ToString("N")[..6], new { everyone = true });
        var admin = await Api.ClientAsync(Demo.Admin);
        var read = await admin.GetAsync($"assets/{id}");
        var edited = await admin.SendAsync(ApiSteps.Patch($"assets/{id}", new { expireAt = DateTimeOffset.UtcNow.AddSeconds(1).ToString("O") }, read.Headers.ETag!.ToString()));
        ((int)edited.StatusCode).Should().Be(200, await edited.Content.ReadAsStringAsync());
        var sweep = Api.Services.GetRequiredService<ContentSweep>();
        var expired = await Responses.EventuallyAsync(async () =>
        {
            await sweep.RunAsync(CancellationToken.None);
            return await (await admin.GetAsync($"assets/{id}")).JsonAsync();
        }, a => a.Str("status") == "Expired", TimeSpan.FromSeconds(180));
        expired.Str("status").Should().Be("Expired");
        (await (await Api.ClientAsync(Demo.NorthwindRep)).GetAsync($"assets/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ListedIdsAsync(await Api.ClientAsync(Demo.NorthwindRep))).Should().NotContain(id);
        var timeline = await (await admin.GetAsync($"assets/{id}/timeline")).JsonAsync();
        timeline.GetProperty("items").EnumerateArray().Select(e => e.Str("action")).Should().Contain(["asset.created", "asset.published", "asset.expired"]);
    }

    private static byte[] MultiPagePdf(int pages)
    {
        _ = new Prm.Storage.Content.PdfCoBranding(); // the host's font resolver, installed once per process
        using var document = new PdfSharp.Pdf.PdfDocument();
        for (var i = 1; i <= pages; i++)
        {
            var page = document.AddPage();
            page.Width = PdfSharp.Drawing.XUnit.FromPoint(595);
            page.Height = PdfSharp.Drawing.XUnit.FromPoint(842);
            using var graphics = PdfSharp.Drawing.XGraphics.FromPdfPage(page);
            graphics.DrawString($"Battle card page {i}", new PdfSharp.Drawing.XFont("prm-sans", 14), PdfSharp.Drawing.XBrushes.Black, new PdfSharp.Drawing.XPoint(50, 100));
        }
        using var output = new MemoryStream();
        document.Save(output, closeStream: false);
        return output.ToArray();
    }

    private static byte[] Png(int width, int height)
    {
        using var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgba32>(width, height);
        using var output = new MemoryStream();
        SixLabors.ImageSharp.ImageExtensions.SaveAsPng(image, output);
        return output.ToArray();
    }

    private static HttpRequestMessage Logo(string partnerId, byte[] image, string contentType = "image/png")
    {
        var request = new HttpRequestMessage(HttpMethod.Put, $"partners/{partnerId}/logo") { Content = new ByteArrayContent(image) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return request;
    }

    private static object CoBrand(double logoX = 400) => new
    {
        zones = new object[]
        {
            new { page = 1, x = logoX, y = 20, width = 150, height = 60 },
            new { page = 2, x = 50, y = 760, width = 450, height = 40, text = "Presented by {{user.name}}, {{partner.name}} ({{partner.phone}})" },
        },
        font = "sans",
        fontSize = 11,
    };

    [Fact]
    public async Task A_partner_user_downloads_a_co_branded_copy_text_only_until_the_partner_has_a_logo()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var created = await admin.PostJsonAsync("assets", new
        {
            title = "Co-branded battle card",
            type = "battlecard",
            locale = "en",
            visibility = new { regions = new[] { "emea" } },
            coBrand = CoBrand(),
        });
        ((int)created.StatusCode).Should().Be(201, await created.Content.ReadAsStringAsync());
        var id = (await created.JsonAsync()).Str("id");
        (await UploadAsync(admin, id, MultiPagePdf(3))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await admin.PostAsync($"assets/{id}/publish", null)).StatusCode.Should().Be(HttpStatusCode.OK);

        var rep = await Api.ClientAsync(Demo.NorthwindRep);
        var textOnly = await rep.GetAsync($"assets/{id}/cobranded");
        textOnly.StatusCode.Should().Be(HttpStatusCode.Found);
        textOnly.Headers.GetValues(Prm.Functions.Content.AssetFunctions.CoBrandHintHeader).Single().Should().Contain("logo");
        using var http = new HttpClient();
        using (var pdf = UglyToad.PdfPig.PdfDocument.Open(await http.GetByteArrayAsync(textOnly.Headers.Location)))
        {
            pdf.NumberOfPages.Should().Be(3);
            string.Join(" ", pdf.GetPage(2).GetWords().Select(w => w.Text)).Should().Contain("Northwind Traders").And.Contain("Sam Northwind");
            pdf.GetPage(1).GetImages().Should().BeEmpty();
        }

        var northwindId = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var partnerAdmin = await Api.ClientAsync(Demo.NorthwindAdmin);
        (await rep.SendAsync(Logo(northwindId, Png(400, 120)))).StatusCode.Should().Be(HttpStatusCode.Forbidden, "partner admins upload the logo");
        (await ApiSteps.ProblemAsync(await partnerAdmin.SendAsync(Logo(northwindId, Png(120, 40))), 422)).GetProperty("errors").TryGetProperty("logo", out _).Should().BeTrue();
        await ApiSteps.ProblemAsync(await partnerAdmin.SendAsync(Logo(northwindId, Pdf)), 422);
        (await (await Api.ClientAsync(Demo.FabrikamAdmin)).SendAsync(Logo(northwindId, Png(400, 120)))).StatusCode.Should().Be(HttpStatusCode.NotFound);
        var saved = await partnerAdmin.SendAsync(Logo(northwindId, Png(400, 120)));
        ((int)saved.StatusCode).Should().Be(200, await saved.Content.ReadAsStringAsync());

        var withLogo = await rep.GetAsync($"assets/{id}/cobranded");
        withLogo.StatusCode.Should().Be(HttpStatusCode.Found);
        withLogo.Headers.Contains(Prm.Functions.Content.AssetFunctions.CoBrandHintHeader).Should().BeFalse();
        withLogo.Headers.Location!.AbsolutePath.Should().NotBe(textOnly.Headers.Location!.AbsolutePath, "a new logo renders a new copy");
        using (var pdf = UglyToad.PdfPig.PdfDocument.Open(await http.GetByteArrayAsync(withLogo.Headers.Location)))
        {
            pdf.GetPage(1).GetImages().Should().HaveCount(1);
        }
        var again = await rep.GetAsync($"assets/{id}/cobranded");
        again.Headers.Location!.AbsolutePath.Should().Be(withLogo.Headers.Location!.AbsolutePath, "the cached copy is served");
        (await (await Api.ClientAsync(Demo.FabrikamRep)).GetAsync($"assets/{id}/cobranded")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await (await admin.GetAsync($"assets/{id}/downloads")).JsonAsync()).GetProperty("total").GetInt32().Should().Be(3, "each co-branded copy fetched counts as a download");
    }

    [Fact]
    public async Task A_zone_outside_the_page_and_an_unknown_placeholder_are_named()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var bad = await admin.PostJsonAsync("assets", new
        {
            title = "Bad placeholder",
            type = "battlecard",
            locale = "en",
            visibility = new { everyone = true },
            coBrand = new { zones = new object[] { new { page = 1, x = 10, y = 10, width = 100, height = 20, text = "{{partner.fax}}" } } },
        });
        (await ApiSteps.ProblemAsync(bad, 400)).GetProperty("errors").TryGetProperty("coBrand.zones[0].text", out _).Should().BeTrue();

        var created = await admin.PostJsonAsync("assets", new { title = "Zone check", type = "battlecard", locale = "en", visibility = new { everyone = true } });
        var id = (await created.JsonAsync()).Str("id");
        (await UploadAsync(admin, id, MultiPagePdf(2))).StatusCode.Should().Be(HttpStatusCode.OK);
        var (_, etag) = await ApiSteps.GetWithETagAsync(admin, $"assets/{id}");
        var outside = await admin.SendAsync(ApiSteps.Patch($"assets/{id}", new { coBrand = CoBrand(logoX: 500) }, etag));
        (await ApiSteps.ProblemAsync(outside, 400)).GetProperty("errors").TryGetProperty("coBrand.zones[0]", out _).Should().BeTrue("595 points wide, 500 + 150 is outside");
        (await (await admin.GetAsync($"assets/{id}")).JsonAsync()).GetProperty("coBranded").GetBoolean().Should().BeFalse("nothing was written");
    }

    [Fact]
    public async Task A_completed_version_cannot_be_overwritten_through_its_upload_url()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var id = (await (await admin.PostJsonAsync("assets", Body("Immutable " + Guid.NewGuid().ToString("N")[..6], new { everyone = true }))).JsonAsync()).Str("id");
        var slot = await (await admin.PostJsonAsync($"assets/{id}/versions", new { fileName = "datasheet.pdf" })).JsonAsync();
        (await PutBlobAsync(slot.Str("uploadUrl"), Pdf)).StatusCode.Should().Be(HttpStatusCode.Created);
        (await admin.PostAsync($"assets/{id}/versions/1/complete", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        var tampered = Pdf.Concat("% tampered\n"u8.ToArray()).ToArray();
        (await PutBlobAsync(slot.Str("uploadUrl"), tampered)).StatusCode.Should().Be(HttpStatusCode.Created, "the URL still writes its upload blob until it expires");
        (await admin.PostAsync($"assets/{id}/versions/1/complete", null)).StatusCode.Should().Be(HttpStatusCode.OK, "completing again changes nothing");
        (await admin.PostAsync($"assets/{id}/publish", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        var download = await (await Api.ClientAsync(Demo.NorthwindRep)).GetAsync($"assets/{id}/download");
        using var http = new HttpClient();
        (await http.GetByteArrayAsync(download.Headers.Location)).Should().Equal(Pdf, "the checked file is what partners get");
        (await (await admin.GetAsync($"assets/{id}")).JsonAsync()).GetProperty("versions")[0].Str("sha256").Should().Be(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Pdf)));
    }

    [Fact]
    public async Task A_renamed_executable_is_deleted_and_refused()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var id = (await (await admin.PostJsonAsync("assets", Body("Renamed exe", new { everyone = true }))).JsonAsync()).Str("id");
        var executable = new byte[4096];
        executable[0] = (byte)'M';
        executable[1] = (byte)'Z';
        var problem = await ApiSteps.ProblemAsync(await UploadAsync(admin, id, executable), 422);
        problem.GetProperty("errors").TryGetProperty("file", out _).Should().BeTrue();
        var storage = Api.Services.GetRequiredService<Prm.Storage.Files.BlobFiles>();
        (await storage.Blob(Prm.Storage.Files.Containers.Assets, $"{id}/v1").ExistsAsync()).Value.Should().BeFalse();
        (await storage.Blob(Prm.Storage.Files.Containers.Assets, $"uploads/{id}/v1").ExistsAsync()).Value.Should().BeFalse();
        var asset = await (await admin.GetAsync($"assets/{id}")).JsonAsync();
        asset.GetProperty("versions").GetArrayLength().Should().Be(0, "the refused slot is dropped");
        await ApiSteps.ProblemAsync(await admin.PostAsync($"assets/{id}/publish", null), 409);
    }

    public static TheoryData<string, object> BadBodies() => new()
    {
        { "publishAt", Body("Dates", new { everyone = true }, expireAt: "2027-01-01T00:00:00Z", publishAt: "2027-02-01T00:00:00Z") },
        { "visibility.tiers[0]", Body("Tier", new { tiers = new[] { "diamond" } }) },
        { "visibility.allowedPartners[0]", Body("Partner", new { allowedPartners = new[] { "ptn_0123456789abcdef0123456789abcdef" } }) },
        { "visibility", Body("Nobody", new { everyone = false }) },
        { "expireAt", Body("Date", new { everyone = true }, expireAt: "next week") },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Bad_metadata_is_a_problem_naming_the_field_and_writes_nothing(string field, object body)
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var before = await ListedIdsAsync(admin);
        var problem = await ApiSteps.ProblemAsync(await admin.PostJsonAsync("assets", body), 400);
        problem.GetProperty("errors").TryGetProperty(field, out _).Should().BeTrue(problem.GetRawText());
        (await ListedIdsAsync(admin)).Should().Equal(before);
    }

    [Fact]
    public async Task Partners_cannot_create_and_a_stale_edit_is_412()
    {
        (await (await Api.ClientAsync(Demo.NorthwindAdmin)).PostJsonAsync("assets", Body("Mine", new { everyone = true }))).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var admin = await Api.ClientAsync(Demo.Admin);
        var created = await admin.PostJsonAsync("assets", Body("Editable", new { everyone = true }));
        var id = (await created.JsonAsync()).Str("id");
        var etag = created.Headers.ETag!.ToString();
        var edited = await admin.SendAsync(ApiSteps.Patch($"assets/{id}", new { title = "Edited" }, etag));
        edited.StatusCode.Should().Be(HttpStatusCode.OK);
        (await edited.JsonAsync()).Str("title").Should().Be("Edited");
        await ApiSteps.ProblemAsync(await admin.SendAsync(ApiSteps.Patch($"assets/{id}", new { title = "Lost update" }, etag)), 412);
        await ApiSteps.ProblemAsync(await admin.SendAsync(ApiSteps.Patch($"assets/{id}", new { expireAt = "2001-01-01T00:00:00Z", publishAt = "2002-01-01T00:00:00Z" }, edited.Headers.ETag!.ToString())), 400);
    }
}
