using Prm.Core.Branding;

namespace Prm.Core.Tests.Branding;

public sealed class BrandingSettingsTests
{
    [Theory]
    [InlineData("#000000", 21.0)]
    [InlineData("#FFFFFF", 1.0)]
    [InlineData("#0B5CAD", 6.7)]
    [InlineData("#5c2d91", 9.4)]
    [InlineData("#767676", 4.5)]
    [InlineData("#FFFF00", 1.1)]
    public void The_contrast_with_white_follows_wcag(string colour, double ratio)
    {
        BrandingSettings.TryParseColor(colour, out var rgb).Should().BeTrue();
        Math.Round(BrandingSettings.ContrastWithWhite(rgb), 1).Should().Be(ratio);
    }

    [Theory]
    [InlineData("#0B5CAD", true)]
    [InlineData("#767676", true)]
    [InlineData("#777777", false)]
    [InlineData("#FFFF00", false)]
    [InlineData("blue", false)]
    [InlineData("#0B5CA", false)]
    [InlineData("#0B5CADFF", false)]
    [InlineData("0B5CAD", false)]
    public void A_primary_colour_is_accepted_only_as_rrggbb_with_white_text_at_aa(string colour, bool accepted) =>
        BrandingSettings.Check(new BrandingSettings { PrimaryColor = colour }).ContainsKey("primaryColor").Should().Be(!accepted);

    [Fact]
    public void The_defaults_are_acceptable_and_every_field_is_named_when_not()
    {
        BrandingSettings.Check(new BrandingSettings()).Should().BeEmpty();
        var errors = BrandingSettings.Check(new BrandingSettings
        {
            ProgramName = "",
            SupportEmail = "not an email",
            EmailFooter = new string('x', 501),
            LegalLinks = [new LegalLink("Terms", "http://example.com/terms"), new LegalLink("", "https://example.com")],
            Logo = new BrandLogo("ABC", "image/gif", 0, 10),
        });
        errors.Keys.Should().BeEquivalentTo(["programName", "supportEmail", "emailFooter", "legalLinks[0].url", "legalLinks[1].label", "logo"]);
    }
}

public sealed class PortalBaseUrlTests
{
    [Theory]
    [InlineData("https://partners.example.com/portal", true)]
    [InlineData("http://localhost:7071/portal", true)]
    [InlineData("ftp://partners.example.com", false)]
    [InlineData("partners.example.com", false)]
    [InlineData("/portal", false)]
    [InlineData("https://partners.example.com/portal?x=1", false)]
    [InlineData("https://user:pw@partners.example.com", false)]
    [InlineData("", false)]
    public void A_portal_base_url_is_an_absolute_http_address(string url, bool accepted) =>
        BrandingSettings.Check(new BrandingSettings { PortalBaseUrl = url }).ContainsKey("portalBaseUrl").Should().Be(!accepted);

    [Fact]
    public void Without_a_portal_base_url_in_the_branding_links_use_the_configured_one()
    {
        var program = new Prm.Core.Configuration.ProgramOptions { PortalBaseUrl = "https://configured.example.com" };

        Brand.From(new BrandingSettings(), program).PortalBaseUrl.Should().Be("https://configured.example.com");
        Brand.From(new BrandingSettings { PortalBaseUrl = "https://brand.example.com/portal" }, program).PortalBaseUrl.Should().Be("https://brand.example.com/portal");
    }

    [Fact]
    public void Portal_links_in_emails_start_with_the_brand_portal_address()
    {
        var composer = new Prm.Core.Notifications.EmailComposer(null, new Prm.Core.Configuration.ProgramOptions { PortalBaseUrl = "https://portal.example.com/" });

        composer.PortalUrl("/deals/d1").Should().Be("https://portal.example.com/deals/d1");
    }
}
