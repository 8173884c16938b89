using System.Globalization;
using System.Text;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using PdfSharp.Drawing;
using Prm.Core.Content;
using Prm.Core.Partners;
using Prm.Storage;
using Prm.Storage.Content;
using Prm.Storage.Files;
using Prm.Testing;
using static Prm.Benchmarks.Measure;

namespace Prm.Benchmarks;

/// <summary>
/// The content library: a partner's first page of GET /api/assets with 5,000 published assets (seeded through the store, rows exactly as
/// the API writes them; three quarters visible to the partner), next to a raw 50-row Azurite query of the same partition in the same run;
/// and the co-branded copy of a 10-page PDF, cold (rendered) and cached.
/// </summary>
public static class AssetBenchmark
{
    public static async Task<string> RunAsync(ApiHost api, string connectionString, bool quick, Func<HttpClient, string, Task<int>> get)
    {
        var tables = api.Services.GetRequiredService<PrmTables>();
        var store = api.Services.GetRequiredService<IAssetStore>();
        var assets = quick ? 500 : 5_000;
        var runs = quick ? 20 : 200;

        Console.WriteLine($"Seeding {assets:N0} published assets...");
        var seedClock = System.Diagnostics.Stopwatch.StartNew();
        var start = DateTimeOffset.UtcNow.AddDays(-30);
        await Parallel.ForEachAsync(Enumerable.Range(0, assets), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var at = start.AddSeconds(i * 10);
            var visibility = (i % 4) switch
            {
                0 or 1 => new VisibilityRule { Everyone = true },
                2 => new VisibilityRule { Tiers = ["gold", "platinum"] },
                _ => new VisibilityRule { Tiers = ["silver"], Regions = ["amer"] }, // not Northwind's
            };
            var id = AssetIds.New(at);
            var version = new AssetVersion(1, AssetVersionStatus.Ready, $"{id}/v1", "file.pdf", null, "bench", "Bench", at, 1000, new string('a', 64), "application/pdf", "pdf", at, at);
            var asset = new Asset
            {
                Id = id,
                Title = $"Bench asset {i:0000} {(i % 10 == 0 ? "Gateway" : "Router")}",
                Type = (AssetType)(i % 7),
                Locale = "en",
                Tags = ["bench", $"t{i % 20}"],
                ProductLines = ["edge"],
                Visibility = visibility,
                Status = AssetStatus.Published,
                OwnerId = "bench",
                OwnerName = "Bench",
                OwnerEmail = "bench@vendor.example",
                Versions = [version],
                CurrentVersion = 1,
                PublishedAt = at,
                CreatedAt = at,
                UpdatedAt = at,
            };
            await store.CreateAsync(asset, new ChangeSet([], []), ct);
        });
        Console.WriteLine($"Seeded in {seedClock.Elapsed.TotalSeconds:0.0} s.");

        // A plain client: the test clients check every response against the OpenAPI document, which would time the checker, not the API.
        using var rep = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = api.Anonymous.BaseAddress };
        rep.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", await api.TokenAsync(Demo.NorthwindRep));
        var raw = new TableClient(connectionString, tables.Assets.Name);
        var rawFilter = TableClient.CreateQueryFilter($"PartitionKey eq {TableAssetStore.CatalogPartition} and RowKey ge {TableAssetStore.ListingPrefix} and RowKey lt {"pub}"}");
        Console.WriteLine("Raw 50-row query, first page, and the partner's first page, interleaved...");
        var rawSamples = new List<Sample>();
        var listSamples = new List<Sample>();
        var searchSamples = new List<Sample>();
        for (var round = 0; round < 3; round++)
        {
            rawSamples.AddRange(await Measure.RunAsync(round == 0 ? 20 : 0, runs / 3, async _ =>
            {
                await foreach (var page in raw.QueryAsync<TableEntity>(rawFilter, maxPerPage: 50).AsPages(null, 50)) { _ = page.Values.Count; break; }
                return 1;
            }));
            listSamples.AddRange(await Measure.RunAsync(round == 0 ? 20 : 0, runs / 3, _ => get(rep, "assets?limit=50")));
            searchSamples.AddRange(await Measure.RunAsync(round == 0 ? 5 : 0, runs / 3, _ => get(rep, "assets?limit=50&search=gateway")));
        }
        var rawResult = new Result("raw 50-row query of the listing partition", rawSamples);
        var list = new Result("partner's first page (GET /api/assets?limit=50)", listSamples);
        var search = new Result("partner's first page of a search matching 10% (search=gateway)", searchSamples);

        Console.WriteLine("Co-branded copy of a 10-page PDF, cold and cached...");
        var admin = await api.ClientAsync(Demo.Admin);
        using var created = await admin.PostAsync("assets", Responses.Json(new
        {
            title = "Bench co-branded deck",
            type = "presentation",
            locale = "en",
            visibility = new { everyone = true },
            coBrand = new { zones = Enumerable.Range(1, 10).Select(p => new { page = p, x = 50, y = 760, width = 450, height = 40, text = "{{partner.name}} · {{user.name}} · {{user.email}}" }).ToArray() },
        }));
        var assetId = (await created.JsonAsync()).Str("id");
        using var slot = await admin.PostAsync($"assets/{assetId}/versions", Responses.Json(new { fileName = "deck.pdf" }));
        var upload = await slot.JsonAsync();
        using (var http = new HttpClient())
        {
            var put = new HttpRequestMessage(HttpMethod.Put, upload.Str("uploadUrl")) { Content = new ByteArrayContent(TenPagePdf()) };
            put.Headers.TryAddWithoutValidation("x-ms-blob-type", "BlockBlob");
            (await http.SendAsync(put)).EnsureSuccessStatusCode();
        }
        (await admin.PostAsync($"assets/{assetId}/versions/1/complete", null)).EnsureSuccessStatusCode();
        (await admin.PostAsync($"assets/{assetId}/publish", null)).EnsureSuccessStatusCode();
        var container = api.Services.GetRequiredService<BlobFiles>().Service.GetBlobContainerClient(Containers.Assets);
        async Task DropCopiesAsync()
        {
            await foreach (var blob in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, $"cobranded/{assetId}/", CancellationToken.None)) await container.DeleteBlobAsync(blob.Name);
        }
        var coldSamples = new List<Sample>();
        for (var i = 0; i < (quick ? 5 : 30); i++)
        {
            await DropCopiesAsync();
            coldSamples.AddRange(await Measure.RunAsync(i == 0 ? 1 : 0, 1, _ => RedirectAsync(rep, $"assets/{assetId}/cobranded")));
            if (i == 0) { await DropCopiesAsync(); }
        }
        var cold = new Result("co-branded 10-page PDF, cold (rendered and stored)", coldSamples);
        var cached = new Result("co-branded 10-page PDF, cached", await Measure.RunAsync(5, quick ? 10 : 100, _ => RedirectAsync(rep, $"assets/{assetId}/cobranded")));

        var md = new StringBuilder();
        md.AppendLine().AppendLine("## Content library").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- {assets:N0} published assets seeded through the store (asset and listing rows as the API writes them); visibility: half everyone, a quarter gold/platinum, a quarter silver in AMER — Northwind (Gold, EMEA) sees three quarters. Caller: a Northwind sales rep; requests over loopback to the in-process local host on Azurite.");
        md.AppendLine("- The API is called with a plain HttpClient (no response checking). Round trips are the storage calls the host counted for the request (the caller's partner read, the listing pages, the settings cache); the raw query is one TableClient page of 50 rows of the same listing partition, interleaved with the API runs.").AppendLine();
        md.AppendLine("| operation | n | storage round trips (median / max) | median ms | p99 ms | median / raw 50-row query |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var r in new[] { rawResult, list, search, cold, cached })
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Operation} | {r.N} | {(r == rawResult ? "1 / 1" : $"{F(r.MedianCalls, "0.#")} / {r.MaxCalls}")} | {F(r.MedianMs)} | {F(r.P99Ms)} | {F(r.MedianMs / rawResult.MedianMs)}x |");
        }
        md.AppendLine().AppendLine("### Targets").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- {(list.MaxCalls <= 4 ? "PASS" : "FAIL")}: a partner's first page takes at most 4 storage round trips — median {F(list.MedianCalls, "0.#")}, max {list.MaxCalls}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- {(list.MedianMs <= 2 * rawResult.MedianMs ? "PASS" : "FAIL")}: its median is at most 2x the raw 50-row query — {F(list.MedianMs)} ms = {F(list.MedianMs / rawResult.MedianMs)}x of {F(rawResult.MedianMs)} ms");
        return md.ToString();
    }

    /// <summary>A GET answered with a 302 (the co-branded copy's link); returns the storage calls the host counted.</summary>
    private static async Task<int> RedirectAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        if (response.StatusCode != System.Net.HttpStatusCode.Found) throw new InvalidOperationException($"GET {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return int.Parse(response.StorageCalls() ?? throw new InvalidOperationException("No storage calls header."), CultureInfo.InvariantCulture);
    }

    private static byte[] TenPagePdf()
    {
        _ = new PdfCoBranding(); // installs the font resolver
        using var document = new PdfSharp.Pdf.PdfDocument();
        var font = new XFont("prm-sans", 12);
        for (var p = 1; p <= 10; p++)
        {
            var page = document.AddPage();
            page.Width = XUnit.FromPoint(595);
            page.Height = XUnit.FromPoint(842);
            using var graphics = XGraphics.FromPdfPage(page);
            for (var line = 0; line < 40; line++) graphics.DrawString($"Page {p}, line {line}: the Edge Gateway sizing guide for partners.", font, XBrushes.Black, new XPoint(50, 60 + line * 17));
        }
        using var output = new MemoryStream();
        document.Save(output, closeStream: false);
        return output.ToArray();
    }
}
