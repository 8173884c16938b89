using Microsoft.Playwright;
using Prm.Testing;

namespace Prm.Api.Tests;

/// <summary>
/// A reviewer opens the decision link from the mail outbox in a real browser (Debian's headless Chromium, driven by Playwright)
/// and clicks Approve. CI installs chromium (.ci/run); elsewhere the test is skipped unless /usr/bin/chromium exists.
/// </summary>
public sealed class BrowserDecisionTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private const string Chromium = "/usr/bin/chromium";

    [SkippableFact]
    public async Task A_reviewer_approves_from_the_emailed_link_in_a_browser()
    {
        Skip.IfNot(File.Exists(Chromium) || Environment.GetEnvironmentVariable("CI") == "true", "Debian's chromium is not installed (apt-get install -y chromium); CI installs it.");
        var api = fixture.Api;
        var (id, _) = await Applications.SubmitAsync(api.Anonymous, Applications.Form("Blue Yonder Airlines", "blueyonder.example", "b@blueyonder.example"));
        var mail = await Responses.EventuallyAsync(
            async () => await (await api.Anonymous.GetAsync($"dev/mail?to={Demo.CmEmea}")).JsonAsync(),
            m => m.GetProperty("items").EnumerateArray().Any(x => x.Str("subject").EndsWith("Blue Yonder Airlines")));
        var link = mail.GetProperty("items").EnumerateArray().First(x => x.Str("subject").EndsWith("Blue Yonder Airlines"))
            .GetProperty("links").EnumerateArray().Select(l => l.GetString()!).First(l => l.Contains("/approvals/"));
        // The mail carries the configured public URL; the test host listens on its own port.
        var local = new Uri(api.Anonymous.BaseAddress!, "approvals/" + link[(link.IndexOf("/approvals/", StringComparison.Ordinal) + 11)..]);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 390, Height = 844 } });
        await page.GotoAsync(local.ToString());
        (await page.TextContentAsync("h1")).Should().Be("Partner application: Blue Yonder Airlines");
        await page.FillAsync("#reason", "Great fit for EMEA");
        await page.ClickAsync("button[value=approve]");
        await page.WaitForSelectorAsync("text=Approved.");

        var application = await (await (await api.ClientAsync(Demo.Admin)).GetAsync($"partner-applications/{id}")).JsonAsync();
        application.Str("status").Should().Be("Approved");
        application.GetProperty("decisions").EnumerateArray().Last().Str("reason").Should().Be("Great fit for EMEA");
        application.GetProperty("decisions").EnumerateArray().Last().Str("decidedByName").Should().Be("Elena Emea");
    }
}
