using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Notifications;
using Prm.Testing;

namespace Prm.Api.Tests;

/// <summary>The program's branding end to end: settings, the logo, and every email and page in the brand (its own host: the brand is program-wide).</summary>
public sealed class BrandingTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    private static byte[] Png(int width, int height)
    {
        using var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgba32>(width, height, new SixLabors.ImageSharp.PixelFormats.Rgba32(92, 45, 145));
        using var output = new MemoryStream();
        SixLabors.ImageSharp.ImageExtensions.SaveAsPng(image, output);
        return output.ToArray();
    }

    private static HttpRequestMessage Logo(byte[] image, string contentType = "image/png")
    {
        var request = new HttpRequestMessage(HttpMethod.Put, "branding/logo") { Content = new ByteArrayContent(image) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return request;
    }

    private static async Task<HttpResponseMessage> PutSettingsAsync(HttpClient admin, object body)
    {
        var (_, etag) = await ApiSteps.GetWithETagAsync(admin, "settings/branding");
        var request = new HttpRequestMessage(HttpMethod.Put, "settings/branding") { Content = Responses.Json(body) };
        request.Headers.TryAddWithoutValidation("If-Match", etag);
        return await admin.SendAsync(request);
    }

    [Fact]
    public async Task A_custom_brand_and_logo_appear_in_the_branding_read_in_every_email_and_on_the_decision_page()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var before = await (await Api.Anonymous.GetAsync("branding")).JsonAsync();
        before.Str("programName").Should().Be("Partner Program");
        before.GetProperty("logoUrl").ValueKind.Should().Be(JsonValueKind.Null);
        (await Api.Anonymous.GetAsync("branding/logo")).StatusCode.Should().Be(HttpStatusCode.NotFound);

        var saved = await PutSettingsAsync(admin, new
        {
            programName = "Contoso Partner Network",
            primaryColor = "#5C2D91",
            supportEmail = "partners@contoso.example",
            emailFooter = "Contoso Ltd, 1 Harbour Street, Dublin.",
            legalLinks = new[] { new { label = "Privacy", url = "https://contoso.example/privacy" } },
        });
        ((int)saved.StatusCode).Should().Be(200, await saved.Content.ReadAsStringAsync());
        var logo = Png(64, 64);
        var uploaded = await admin.SendAsync(Logo(logo));
        ((int)uploaded.StatusCode).Should().Be(200, await uploaded.Content.ReadAsStringAsync());
        (await uploaded.JsonAsync()).GetProperty("logo").Str("contentType").Should().Be("image/png");

        var brand = await (await Api.Anonymous.GetAsync("branding")).JsonAsync();
        brand.Str("programName").Should().Be("Contoso Partner Network");
        brand.Str("primaryColor").Should().Be("#5C2D91");
        var logoUrl = brand.Str("logoUrl");
        logoUrl.Should().Contain("/branding/logo?v=" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(logo))[..16]);
        var served = await Api.Anonymous.GetAsync("branding/logo" + logoUrl[logoUrl.IndexOf('?')..]);
        served.StatusCode.Should().Be(HttpStatusCode.OK);
        served.Content.Headers.ContentType!.MediaType.Should().Be("image/png");
        (await served.Content.ReadAsByteArrayAsync()).Should().Equal(logo);

        // An email sent from now on is in the brand: the invitation of a new Northwind person.
        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var invitee = $"brand-{Guid.NewGuid():N}"[..14] + "@northwind.example";
        (await anna.PostJsonAsync($"partners/{partnerId}/users", new { email = invitee, displayName = "Brand Bea" })).StatusCode.Should().Be(HttpStatusCode.Created);
        var mail = await Mailbox.MessageAsync(Api, invitee, "", TimeSpan.FromSeconds(120));
        var html = mail.Str("html");
        html.Should().Contain("Contoso Partner Network").And.Contain("#5C2D91").And.Contain(logoUrl).And.Contain("Contoso Ltd, 1 Harbour Street, Dublin.")
            .And.Contain("https://contoso.example/privacy").And.Contain("partners@contoso.example").And.NotContain("#0B5CAD");
        mail.Str("text").Should().Contain("Contoso Partner Network").And.Contain("Privacy: https://contoso.example/privacy");

        // A page in the brand: the decision page renders with the name, the colour and the logo.
        var page = Api.Services.GetRequiredService<EmailComposer>().RenderPage("approval", new { title = "Approve the registration", message = "Choose below." });
        page.Should().Contain("Contoso Partner Network").And.Contain("#5C2D91").And.Contain($"src=\"{logoUrl.Replace("&", "&amp;")}\"");

        // Leaving the logo out of a settings PUT removes it; the page and emails go back to the name alone.
        ((int)(await PutSettingsAsync(admin, new { programName = "Contoso Partner Network", primaryColor = "#5C2D91" })).StatusCode).Should().Be(200);
        (await (await Api.Anonymous.GetAsync("branding")).JsonAsync()).GetProperty("logoUrl").ValueKind.Should().Be(JsonValueKind.Null);
        (await Api.Anonymous.GetAsync("branding/logo")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_logo_that_is_no_image_a_colour_that_is_no_colour_or_too_light_and_a_partner_user_are_refused()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var notImage = await ApiSteps.ProblemAsync(await admin.SendAsync(Logo("%PDF-1.4 not an image"u8.ToArray())), 422);
        notImage.GetProperty("errors").GetProperty("logo")[0].GetString().Should().Contain("PNG or JPEG");
        var tiny = await ApiSteps.ProblemAsync(await admin.SendAsync(Logo(Png(8, 8))), 422);
        tiny.GetProperty("errors").GetProperty("logo")[0].GetString().Should().Contain("8×8");
        await ApiSteps.ProblemAsync(await admin.SendAsync(Logo(Png(64, 64), "image/gif")), 415);

        var notColour = await ApiSteps.ProblemAsync(await PutSettingsAsync(admin, new { primaryColor = "blue" }), 422);
        notColour.GetProperty("errors").GetProperty("primaryColor")[0].GetString().Should().Contain("#RRGGBB");
        var light = await ApiSteps.ProblemAsync(await PutSettingsAsync(admin, new { primaryColor = "#FFFF00" }), 422);
        light.GetProperty("errors").GetProperty("primaryColor")[0].GetString().Should().Contain("1.1:1").And.Contain("4.5:1");
        var link = await ApiSteps.ProblemAsync(await PutSettingsAsync(admin, new { legalLinks = new[] { new { label = "Terms", url = "javascript:alert(1)" } } }), 422);
        link.GetProperty("errors").TryGetProperty("legalLinks[0].url", out _).Should().BeTrue();
        var forged = await ApiSteps.ProblemAsync(await PutSettingsAsync(admin, new { logo = new { sha256 = new string('a', 64), contentType = "image/png", width = 64, height = 64 } }), 422);
        forged.GetProperty("errors").TryGetProperty("logo", out _).Should().BeTrue();

        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        await ApiSteps.ProblemAsync(await anna.SendAsync(Logo(Png(64, 64))), 403);
        (await (await Api.Anonymous.GetAsync("branding")).JsonAsync()).GetProperty("logoUrl").ValueKind.Should().Be(JsonValueKind.Null, "nothing refused was stored");
    }
}
