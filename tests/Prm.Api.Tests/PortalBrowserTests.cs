using System.Net;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Prm.Testing;

namespace Prm.Api.Tests;

/// <summary>
/// The local host with emailed links at recognisable addresses, so a test can send them to this host's random port: the portal at
/// http://portal.invalid/portal, the API at http://api.invalid/api.
/// </summary>
public sealed class PortalFixture : ApiHostFixture
{
    public const string PortalBase = "http://portal.invalid/portal";
    public const string ApiBase = "http://api.invalid/api";

    public override async Task InitializeAsync() => Api = await ApiHost.StartAsync(new Dictionary<string, string?>
    {
        ["Prm:PortalBaseUrl"] = PortalBase,
        ["Prm:ApiBaseUrl"] = ApiBase,
    });

    /// <summary>Where this host serves what a link names (http://localhost:PORT/portal/... or /api/...).</summary>
    public Uri Local(string link)
    {
        var origin = new Uri(Api.Anonymous.BaseAddress!, "/").ToString().TrimEnd('/');
        if (link.StartsWith(PortalBase, StringComparison.Ordinal)) return new Uri(origin + "/portal" + link[PortalBase.Length..]);
        if (link.StartsWith(ApiBase, StringComparison.Ordinal)) return new Uri(origin + "/api" + link[ApiBase.Length..]);
        return new Uri(link);
    }

    public Uri Portal(string route = "") => Local(PortalBase + "/" + route);
}

/// <summary>
/// The reference portal (functions/Prm.Portal) in a real browser — Debian's headless Chromium driven by Playwright — on the local host:
/// a sales rep registers a deal and sees the conflict check and the deal on the home page, the channel manager approves it from the
/// review inbox, the rep requests MDF funds that the channel manager approves and claims them with a proof uploaded from the browser,
/// accepts a masked lead offer and converts it, passes an exam and sees the certification, a partner admin accepts a proposed plan from
/// the home inbox, the rep downloads an asset, a bad input shows its field error, and every link of every demo email opens a page.
/// Screenshots of each screen go to the test output folder (screenshots/). CI installs chromium (.ci/run).
/// </summary>
public sealed class PortalBrowserTests(PortalFixture fixture) : IClassFixture<PortalFixture>, IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";

    private const string MissingChromium =
        "SKIPPED: the portal's browser tests need Debian's Chromium at /usr/bin/chromium. Install it with `apt-get install -y chromium` "
        + "(CI's .ci/run does); Playwright drives it and downloads no browser.";

    private static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");

    private IPlaywright? playwright;
    private IBrowser? browser;

    private ApiHost Api => fixture.Api;

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium)) return;
        // A loaded machine: every wait is on a condition, with a generous deadline.
        Assertions.SetDefaultExpectTimeout(120_000); // a screen waited 30 s for its API calls with two suite copies running (load 29)
        playwright = await Playwright.CreateAsync();
        browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    public async Task DisposeAsync()
    {
        if (browser is not null) await browser.DisposeAsync();
        playwright?.Dispose();
    }

    private static void RequireChromium() =>
        Skip.IfNot(File.Exists(Chromium) || Environment.GetEnvironmentVariable("CI") == "true", MissingChromium);

    /// <summary>A page of a fresh browser context (its own session storage: its own signed-in user), signed in through the user picker.</summary>
    private async Task<IPage> SignedInAsync(string email)
    {
        var context = await browser!.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1100, Height = 900 }, AcceptDownloads = true });
        context.SetDefaultTimeout(120_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync(fixture.Portal().ToString());
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Sign in");
        await ShotAsync(page, "sign-in");
        await page.Locator("button.user", new() { HasText = email }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Main" })).ToBeVisibleAsync();
        return page;
    }

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    private static async Task ShotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(Screenshots);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });
    }

    [SkippableFact]
    public async Task A_rep_registers_a_deal_sees_the_conflict_check_and_the_deal_at_home_and_the_channel_manager_approves_it_from_the_review_inbox()
    {
        RequireChromium();
        var customer = "Contoso Pharma " + Guid.NewGuid().ToString("N")[..6];
        var sam = await SignedInAsync(Demo.NorthwindRep);
        await Expect(sam.GetByRole(AriaRole.Heading, new() { Name = "Home" })).ToBeVisibleAsync();
        await ShotAsync(sam, "home-partner");

        await sam.GetByRole(AriaRole.Link, new() { Name = "Deals", Exact = true }).ClickAsync();
        await sam.GetByRole(AriaRole.Link, new() { Name = "Register a deal" }).ClickAsync();
        await sam.GetByLabel("Company name").FillAsync(customer);
        await sam.GetByLabel("Web domain").FillAsync(customer.Replace(' ', '-').ToLowerInvariant() + ".example");
        await sam.GetByLabel("Country (ISO code)").FillAsync("DE");
        await sam.GetByLabel("Contact email").FillAsync("buyer@contoso-pharma.example");
        await sam.GetByLabel("Product line").SelectOptionAsync("cloud-backup");
        // Above the auto-approval limit (50,000): the channel manager reviews it.
        await sam.GetByLabel("Estimated value").FillAsync("75000");
        await sam.GetByLabel("Expected close date").FillAsync(DateTime.UtcNow.AddDays(60).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        await ShotAsync(sam, "deal-register");
        await sam.GetByRole(AriaRole.Button, new() { Name = "Register" }).ClickAsync();

        var conflict = sam.Locator(".conflict");
        await Expect(conflict).ToContainTextAsync("Conflict check: none");
        await Expect(sam.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Registration DR-");
        await Expect(sam.Locator("main")).ToContainTextAsync("Under Review");
        await ShotAsync(sam, "deal-registered");

        await sam.GetByRole(AriaRole.Link, new() { Name = "Open the registration" }).ClickAsync();
        await Expect(sam.GetByRole(AriaRole.Heading, new() { Name = "Timeline" })).ToBeVisibleAsync();
        await Expect(sam.Locator(".timeline")).ToContainTextAsync("deal.submitted");
        await ShotAsync(sam, "deal-detail");

        await sam.GetByRole(AriaRole.Link, new() { Name = "Home" }).First.ClickAsync();
        await Expect(sam.Locator(".recent")).ToContainTextAsync(customer);

        // The channel manager of Northwind: the review is in the inbox once the registration's projections ran (the outbox).
        var elena = await SignedInAsync(Demo.CmEmea);
        await Expect(elena.GetByRole(AriaRole.Heading, new() { Name = "Your reviews" })).ToBeVisibleAsync();
        await elena.GetByRole(AriaRole.Link, new() { Name = "Reviews", Exact = true }).ClickAsync();
        var review = elena.GetByRole(AriaRole.Link, new() { NameString = customer });
        await Responses.EventuallyAsync(async () =>
        {
            if (await review.CountAsync() > 0) return true;
            await elena.ReloadAsync();
            await Expect(elena.GetByRole(AriaRole.Heading, new() { Name = "Review inbox" })).ToBeVisibleAsync();
            await elena.Locator(".inbox, main p").First.WaitForAsync();
            return await review.CountAsync() > 0;
        }, seen => seen, TimeSpan.FromSeconds(120));
        await ShotAsync(elena, "review-inbox");
        await review.First.ClickAsync();
        await Expect(elena.GetByRole(AriaRole.Heading, new() { Name = "Your decision on this deal" })).ToBeVisibleAsync();
        await elena.GetByLabel("Reason").FillAsync("Strategic account, approved.");
        await elena.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await Expect(elena.Locator(".done")).ToContainTextAsync("Decision recorded: approve");
        await Expect(elena.Locator("main")).ToContainTextAsync("Approved");
        await ShotAsync(elena, "review-decided");

        var deals = await (await (await Api.ClientAsync(Demo.NorthwindRep)).GetAsync("deals?limit=50")).JsonAsync();
        var deal = deals.GetProperty("items").EnumerateArray().Single(d => d.GetProperty("customer").Str("companyName") == customer);
        deal.Str("status").Should().Be("Approved");
        deal.GetProperty("decisions").EnumerateArray().Last().Str("decidedByName").Should().Be("Elena Emea");
    }

    [SkippableFact]
    public async Task A_rep_requests_funds_the_channel_manager_approves_and_the_rep_claims_them_with_a_proof_uploaded_from_the_browser()
    {
        RequireChromium();
        // A budget for next year (the program admin allocates it through the API; budgets are not a portal screen), and an activity in it
        // whose default claim deadline (its end plus 60 days) lies ahead whatever day the suite runs.
        var year = (DateTime.UtcNow.Year + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var allocated = await (await Api.ClientAsync(Demo.Admin)).PostJsonAsync("mdf/budgets", new { partnerId, period = year, amount = new { amount = 20000m, currency = "EUR" } });
        ((int)allocated.StatusCode).Should().Be(201, await allocated.Content.ReadAsStringAsync());
        var title = "Spring summit " + Guid.NewGuid().ToString("N")[..6];

        var sam = await SignedInAsync(Demo.NorthwindRep);
        await sam.GetByRole(AriaRole.Link, new() { Name = "MDF", Exact = true }).ClickAsync();
        await Expect(sam.GetByRole(AriaRole.Heading, new() { Name = "Budgets" })).ToBeVisibleAsync();
        await Expect(sam.Locator("main table")).ToContainTextAsync(year);
        await sam.GetByRole(AriaRole.Link, new() { Name = "Request funds" }).ClickAsync();
        await sam.GetByLabel("Title").FillAsync(title);
        await sam.GetByLabel("Description").FillAsync("A half-day event for customers.");
        await sam.GetByLabel("Start date").FillAsync(year + "-03-01");
        await sam.GetByLabel("End date").FillAsync(year + "-03-02");
        await sam.GetByLabel("Requested amount").FillAsync("5000");
        await sam.GetByLabel("Your contribution (%)").FillAsync("25");
        await ShotAsync(sam, "mdf-request");
        await sam.GetByRole(AriaRole.Button, new() { Name = "Send the request" }).ClickAsync();
        await Expect(sam.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync(title);
        await Expect(sam.Locator("main")).ToContainTextAsync("Submitted");
        var requestId = sam.Url[(sam.Url.LastIndexOf('/') + 1)..];

        // The channel manager decides on the request's page.
        var elena = await SignedInAsync(Demo.CmEmea);
        await elena.GetByRole(AriaRole.Link, new() { Name = "MDF", Exact = true }).ClickAsync();
        await elena.GetByRole(AriaRole.Link, new() { Name = title }).ClickAsync();
        await Expect(elena.GetByRole(AriaRole.Heading, new() { Name = "Your decision on this request" })).ToBeVisibleAsync();
        await elena.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        // The request reloads as approved (its decision form, with the confirmation in it, goes away with the decision: not waited for).
        await Expect(elena.Locator("main section > p").First).ToContainTextAsync("Approved"); // the status line (the details always label "Approved")
        await Expect(elena.Locator(".timeline")).ToContainTextAsync("mdf.request.approved");
        await Expect(elena.GetByRole(AriaRole.Heading, new() { Name = "Your decision on this request" })).ToHaveCountAsync(0);
        await ShotAsync(elena, "mdf-request-approved");

        // The rep claims: the claim, the proof straight to Blob storage through its SAS URL, then the submission.
        await sam.ReloadAsync();
        await Expect(sam.GetByRole(AriaRole.Heading, new() { Name = "Claim the funds" })).ToBeVisibleAsync();
        await sam.GetByLabel("Claimed amount").FillAsync("2500");
        await sam.GetByLabel("Leads generated").FillAsync("12");
        await sam.GetByRole(AriaRole.Button, new() { Name = "Create the claim" }).ClickAsync();
        await Expect(sam.GetByRole(AriaRole.Heading, new() { Name = "Proof of performance" })).ToBeVisibleAsync();
        await Expect(sam.Locator("main")).ToContainTextAsync("No proof yet.");
        await sam.GetByLabel("Proof file (PDF, PNG, JPEG, XLSX or CSV)").SetInputFilesAsync(new FilePayload
        {
            Name = "invoice.pdf", MimeType = "application/pdf",
            Buffer = System.Text.Encoding.ASCII.GetBytes("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"),
        });
        await sam.GetByRole(AriaRole.Button, new() { Name = "Upload" }).ClickAsync();
        await Expect(sam.Locator("main")).ToContainTextAsync("invoice.pdf · Verified");
        await sam.GetByRole(AriaRole.Button, new() { Name = "Submit the claim" }).ClickAsync();
        await Expect(sam.Locator("section[aria-labelledby=claim]")).ToContainTextAsync("Submitted");
        await ShotAsync(sam, "mdf-claim-submitted");

        // What the browser did is what the API holds.
        var request = await (await (await Api.ClientAsync(Demo.NorthwindRep)).GetAsync($"mdf/requests/{requestId}")).JsonAsync();
        request.Str("title").Should().Be(title);
        request.Str("status").Should().Be("Approved");
        request.GetProperty("requestedAmount").GetProperty("amount").GetDecimal().Should().Be(5000m);
        var claim = await (await (await Api.ClientAsync(Demo.NorthwindRep)).GetAsync($"mdf/claims/{request.GetProperty("claim").Str("id")}")).JsonAsync();
        claim.Str("status").Should().Be("Submitted");
        claim.GetProperty("claimedAmount").GetProperty("amount").GetDecimal().Should().Be(2500m);
        claim.GetProperty("proofs").EnumerateArray().Single().Str("status").Should().Be("Verified");
    }

    [SkippableFact]
    public async Task A_rep_opens_a_masked_lead_offer_accepts_it_sees_the_customer_and_converts_it_into_a_deal_registration()
    {
        RequireChromium();
        var company = "Contoso Browser Leads " + Guid.NewGuid().ToString("N")[..6];
        var domain = Leads.Unique("browser") + ".example";
        var created = await Leads.CreateAsync(await Api.ClientAsync(Demo.Admin), Leads.Body(company, domain, "chris@" + domain));
        created.Str("outcome").Should().Be("offered"); // the demo rule offers EMEA leads to Northwind
        var leadId = created.GetProperty("lead").Str("id");

        // The partner's lead list is a projection (the outbox): wait until the API lists the offer, then open the screen once.
        var rep = await Api.ClientAsync(Demo.NorthwindRep);
        await Responses.EventuallyAsync(async () => await (await rep.GetAsync("leads?limit=100")).Content.ReadAsStringAsync(), text => text.Contains(leadId, StringComparison.Ordinal));
        var sam = await SignedInAsync(Demo.NorthwindRep);
        await sam.GetByRole(AriaRole.Link, new() { Name = "Leads", Exact = true }).ClickAsync();
        var offer = sam.Locator($"a[href='leads/{leadId}']");
        await Expect(offer).ToHaveTextAsync("Manufacturing in DE (200-999)");
        await ShotAsync(sam, "leads");
        await offer.ClickAsync();
        await Expect(sam.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Manufacturing in DE (200-999)");
        await Expect(sam.Locator("main")).ToContainTextAsync("accept by");
        await Expect(sam.Locator("main")).Not.ToContainTextAsync(company); // masked until accepted
        await ShotAsync(sam, "lead-offer");

        await sam.GetByRole(AriaRole.Button, new() { Name = "Accept the lead" }).ClickAsync();
        await Expect(sam.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(company);
        await Expect(sam.Locator("main")).ToContainTextAsync("chris@" + domain);
        await Expect(sam.GetByRole(AriaRole.Heading, new() { Name = "Convert to a deal registration" })).ToBeVisibleAsync();
        await ShotAsync(sam, "lead-accepted");

        await sam.GetByLabel("Expected close date").FillAsync(DateTime.UtcNow.AddDays(45).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        await sam.GetByRole(AriaRole.Button, new() { Name = "Convert" }).ClickAsync();
        await Expect(sam.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Registration DR-");
        await ShotAsync(sam, "lead-converted");

        var lead = await Leads.GetAsync(rep, leadId);
        lead.Str("status").Should().Be("Converted");
        lead.Str("assignedToName").Should().Be("Sam Northwind");
        var deal = await (await rep.GetAsync($"deals/{lead.Str("dealId")}")).JsonAsync();
        deal.Str("leadId").Should().Be(leadId);
        deal.GetProperty("customer").Str("companyName").Should().Be(company);
        sam.Url.Should().EndWith("deals/" + lead.Str("dealId"));
    }

    [SkippableFact]
    public async Task A_rep_takes_an_exam_in_the_browser_passes_it_and_sees_the_certification_it_awards()
    {
        RequireChromium();
        var admin = await Api.ClientAsync(Demo.Admin);
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var title = "Browser Backup Basics " + suffix;
        var courseId = await Training.CourseAsync(admin, Training.CourseBody(title, questions: 3));
        var certification = "Browser Backup Associate " + suffix;
        await Training.CertificationAsync(admin, certification, [courseId]);

        var sam = await SignedInAsync(Demo.NorthwindRep);
        await sam.GetByRole(AriaRole.Link, new() { Name = "Training", Exact = true }).ClickAsync();
        await sam.GetByRole(AriaRole.Link, new() { Name = title }).ClickAsync();
        await Expect(sam.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(title);
        await sam.GetByRole(AriaRole.Button, new() { Name = "Take the exam" }).ClickAsync();
        await Expect(sam.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Exam");
        var questions = sam.Locator("fieldset.question");
        await Expect(questions).ToHaveCountAsync(3);
        for (var i = 0; i < 3; i++) await questions.Nth(i).GetByLabel("Right").CheckAsync();
        await ShotAsync(sam, "exam");
        await sam.GetByRole(AriaRole.Button, new() { Name = "Submit answers" }).ClickAsync();
        await Expect(sam.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Exam result");
        await Expect(sam.Locator("main [role=status]")).ToContainTextAsync("Passed: 100%");
        await ShotAsync(sam, "exam-result");

        // The award follows from the passed course (the outbox): wait until the API shows it, then the training home lists it.
        var rep = await Api.ClientAsync(Demo.NorthwindRep);
        await Responses.EventuallyAsync(async () => await (await rep.GetAsync("people/me/certifications")).Content.ReadAsStringAsync(), text => text.Contains(certification, StringComparison.Ordinal));
        await sam.GetByRole(AriaRole.Link, new() { Name = "Back to training" }).ClickAsync();
        await Expect(sam.Locator("main table")).ToContainTextAsync(certification);
        await ShotAsync(sam, "training-certified");

        var mine = await (await rep.GetAsync("people/me/certifications")).JsonAsync();
        mine.GetProperty("awards").EnumerateArray().Single(a => a.Str("certificationName") == certification).Str("status").Should().Be("Active");
    }

    [SkippableFact]
    public async Task A_partner_admin_opens_a_proposed_plan_from_the_home_inbox_and_accepts_it()
    {
        RequireChromium();
        var cm = await Api.ClientAsync(Demo.CmEmea);
        var northwind = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var year = DateTime.UtcNow.Year + 2; // the only plan of this host (one plan per partner and fiscal year)
        var created = await cm.PostJsonAsync("plans", new
        {
            partnerId = northwind, fiscalYear = year, title = $"FY{year} browser plan",
            objectives = new object[] { new { kind = "wonDeals", targets = new[] { 2, 3, 3, 4 }, weight = 50 }, new { kind = "custom", name = "Case studies published", targets = new[] { 1, 1, 1, 1 }, weight = 50 } },
        });
        created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var planId = (await created.JsonAsync()).Str("id");
        using (var propose = new HttpRequestMessage(HttpMethod.Post, $"plans/{planId}/propose") { Content = Responses.Json(new { }) })
        {
            propose.Headers.TryAddWithoutValidation("If-Match", created.Headers.ETag!.ToString());
            var proposed = await cm.SendAsync(propose);
            proposed.StatusCode.Should().Be(HttpStatusCode.OK, await proposed.Content.ReadAsStringAsync());
        }

        // The partner admin's home asks for the acceptance (once the proposal's projections ran).
        var anna = await SignedInAsync(Demo.NorthwindAdmin);
        var item = anna.Locator($"ul.inbox a[href='plans/{planId}']");
        await Responses.EventuallyAsync(async () =>
        {
            await Expect(anna.GetByRole(AriaRole.Heading, new() { Name = "To do" })).ToBeVisibleAsync();
            if (await item.CountAsync() > 0) return true;
            await anna.ReloadAsync();
            return false;
        }, seen => seen, TimeSpan.FromSeconds(120));
        await item.ClickAsync();
        await Expect(anna.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync($"FY{year} browser plan");
        await Expect(anna.Locator("main")).ToContainTextAsync("Proposed");
        await Expect(anna.Locator("main table")).ToContainTextAsync("Case studies published");
        await ShotAsync(anna, "plan-proposed");
        await anna.GetByRole(AriaRole.Button, new() { Name = "Accept the plan" }).ClickAsync();
        await Expect(anna.Locator("main p").First).ToContainTextAsync("Accepted");
        await Expect(anna.GetByRole(AriaRole.Button, new() { Name = "Accept the plan" })).ToHaveCountAsync(0);
        await ShotAsync(anna, "plan-accepted");

        var plan = await (await (await Api.ClientAsync(Demo.NorthwindAdmin)).GetAsync($"plans/{planId}")).JsonAsync();
        plan.GetProperty("plan").Str("status").Should().Be("Accepted");
    }

    [SkippableFact]
    public async Task A_bad_input_shows_the_field_error_next_to_the_field_and_no_raw_json()
    {
        RequireChromium();
        var sam = await SignedInAsync(Demo.NorthwindRep);
        await sam.GotoAsync(fixture.Portal("deals/new").ToString());
        await sam.GetByLabel("Company name").FillAsync("Fourth Coffee");
        await sam.GetByLabel("Web domain").FillAsync("gmail.com");
        await sam.GetByLabel("Country (ISO code)").FillAsync("DE");
        await sam.GetByLabel("Product line").SelectOptionAsync("cloud-backup");
        await sam.GetByLabel("Estimated value").FillAsync("1000");
        await sam.GetByRole(AriaRole.Button, new() { Name = "Register" }).ClickAsync();

        var domainError = sam.Locator("#f-customer-domain-error");
        await Expect(domainError).ToContainTextAsync("customer.domain must be the customer's own domain");
        await Expect(sam.GetByLabel("Web domain")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(sam.Locator("#f-expectedCloseDate-error")).ToContainTextAsync("expectedCloseDate is required");
        await Expect(sam.Locator(".problem")).ToContainTextAsync("One or more fields are invalid.");
        (await sam.Locator("main").InnerTextAsync()).Should().NotContain("{\"").And.NotContain("traceId").And.NotContain("   at ");
        await ShotAsync(sam, "deal-register-field-error");
    }

    [SkippableFact]
    public async Task A_rep_finds_an_asset_in_the_library_and_downloads_it()
    {
        RequireChromium();
        var title = "Edge Gateway datasheet " + Guid.NewGuid().ToString("N")[..6];
        var assetId = await AssetTests.PublishedAsync(Api, title, new { everyone = true });
        var sam = await SignedInAsync(Demo.NorthwindRep);
        await sam.GetByRole(AriaRole.Link, new() { Name = "Content", Exact = true }).ClickAsync();
        await sam.GetByLabel("Search titles and tags").FillAsync(title);
        await sam.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await sam.GetByRole(AriaRole.Link, new() { Name = title }).ClickAsync();
        await Expect(sam.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(title);
        await ShotAsync(sam, "asset");

        var download = await sam.RunAndWaitForDownloadAsync(() => sam.GetByRole(AriaRole.Button, new() { Name = "Download" }).ClickAsync());
        var file = Path.Combine(Path.GetTempPath(), "prm-download-" + Guid.NewGuid().ToString("N") + ".pdf");
        await download.SaveAsAsync(file);
        try
        {
            (await File.ReadAllBytesAsync(file)).Should().Equal(AssetTests.Pdf);
        }
        finally
        {
            File.Delete(file);
        }
        await Expect(sam.Locator(".done")).ToContainTextAsync("Downloaded.");

        // The download is recorded for the rep's company.
        var counts = await Responses.EventuallyAsync(async () => await (await (await Api.ClientAsync(Demo.Admin)).GetAsync($"assets/{assetId}/downloads")).JsonAsync(),
            c => c.GetProperty("total").GetInt32() >= 1);
        counts.GetProperty("total").GetInt32().Should().Be(1);
    }

    /// <summary>axe-core's WCAG 2 A and AA rules on the page as it is (labels, contrast of the default brand, names, landmarks).</summary>
    private static async Task<IEnumerable<string>> AccessibilityViolationsAsync(IPage page, string screen) =>
        (await page.RunAxe(new AxeRunOptions { RunOnly = new RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }))
            .Violations.Select(v => $"{screen}: {v.Id} ({v.Impact}) {v.Help} — {string.Join("; ", v.Nodes.Take(3).Select(n => n.Html))}");

    [SkippableFact]
    public async Task Every_screen_of_the_navigation_opens_for_each_kind_of_user_and_passes_the_wcag_aa_checks()
    {
        RequireChromium();
        var violations = new List<string>();
        var anonymous = await (await browser!.NewContextAsync()).NewPageAsync();
        await anonymous.GotoAsync(fixture.Portal().ToString());
        await Expect(anonymous.Locator("button.user").First).ToBeVisibleAsync();
        violations.AddRange(await AccessibilityViolationsAsync(anonymous, "sign-in"));
        foreach (var (email, prefix) in new[] { (Demo.NorthwindAdmin, "partner-admin"), (Demo.CmEmea, "channel-manager") })
        {
            var page = await SignedInAsync(email);
            foreach (var link in await page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link).AllInnerTextsAsync())
            {
                // Checked once the screen of this link is the one shown (not the previous one still on the page while it renders).
                var target = page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = link, Exact = true });
                var route = "/portal/" + (await target.GetAttributeAsync("href") ?? "");
                var moves = !new Uri(page.Url).AbsolutePath.Equals(route, StringComparison.Ordinal);
                var previous = moves ? await page.GetByRole(AriaRole.Heading, new() { Level = 1 }).First.InnerTextAsync() : null;
                await target.ClickAsync();
                await page.WaitForURLAsync(url => new Uri(url).AbsolutePath.Equals(route, StringComparison.Ordinal));
                if (previous is not null) await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).Not.ToHaveTextAsync(previous);
                await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToBeVisibleAsync();
                await Expect(page.Locator("main .loading")).ToHaveCountAsync(0);
                (await page.Locator("main .problem").AllInnerTextsAsync()).Should().BeEmpty($"{email}'s {link} screen opens without a problem");
                await ShotAsync(page, $"{prefix}-{link.ToLowerInvariant()}");
                violations.AddRange(await AccessibilityViolationsAsync(page, $"{prefix} {link}"));
            }
        }
        var sam = await SignedInAsync(Demo.NorthwindRep);
        await sam.GotoAsync(fixture.Portal("deals/new").ToString());
        await sam.GetByRole(AriaRole.Button, new() { Name = "Register" }).ClickAsync();
        await Expect(sam.Locator(".field .error").First).ToBeVisibleAsync();
        violations.AddRange(await AccessibilityViolationsAsync(sam, "register with field errors"));
        violations.Should().BeEmpty("every control has a label and the default brand's colours meet WCAG AA");
    }

    [SkippableFact]
    public async Task An_invited_person_opens_the_emailed_link_and_joins_the_partner_on_the_accept_screen()
    {
        RequireChromium();
        var email = "newcolleague@northwind.example";
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        (await (await Api.ClientAsync(Demo.NorthwindAdmin)).PostJsonAsync($"partners/{partnerId}/users", new { email, displayName = "New Colleague" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        var mail = await Responses.EventuallyAsync(async () => await (await Api.Anonymous.GetAsync($"dev/mail?to={Uri.EscapeDataString(email)}")).JsonAsync(),
            m => m.GetProperty("items").GetArrayLength() > 0);
        var link = mail.GetProperty("items")[0].GetProperty("links").EnumerateArray().Select(l => l.GetString()!).First(l => l.Contains("/invitations/accept?code="));
        link.Should().StartWith(PortalFixture.PortalBase + "/invitations/accept?code=", "the invitation opens the portal's accept screen");

        // The person signs in with their own (Entra) account: here a token of the development key in the portal's session.
        var objectId = Guid.NewGuid().ToString();
        var token = Api.IssueUnverifiedToken(email, "New Colleague", objectId);
        var context = await browser!.NewContextAsync();
        await context.AddInitScriptAsync($"sessionStorage.setItem('prm.portal.session', JSON.stringify({{ email: '{email}', accessToken: '{token}', expiresAt: Date.now() + 3600000 }}));");
        var page = await context.NewPageAsync();
        await page.GotoAsync(fixture.Local(link).ToString());
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Join your company's partner account");
        await ShotAsync(page, "invitation-accept");
        await page.GetByRole(AriaRole.Button, new() { Name = "Accept the invitation" }).ClickAsync();
        await Expect(page.Locator(".done")).ToContainTextAsync("you joined the partner account");

        var me = await (await Api.WithToken(token).GetAsync("me")).JsonAsync();
        me.Str("partnerId").Should().Be(partnerId);
    }

    [Fact]
    public async Task Every_link_in_every_demo_email_opens_an_html_page()
    {
        // Mail goes out through the outbox: a deal for review (decision links, the portal's deal pages) and an application (status link).
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        await Deals.RegisterAsync(sam, Deals.Body("Link Check Industries", "linkcheck.example", amount: 80_000m));
        await Applications.SubmitAsync(Api.Anonymous, Applications.Form("Link Check Partners", "linkcheckpartners.example", "lc@linkcheckpartners.example"));
        var mail = await Responses.EventuallyAsync(async () => await (await Api.Anonymous.GetAsync("dev/mail?limit=500")).JsonAsync(),
            m => m.GetProperty("items").EnumerateArray().Select(x => x.Str("subject")).Count(s => s.Contains("Link Check")) >= 3, TimeSpan.FromSeconds(120));
        var links = mail.GetProperty("items").EnumerateArray().SelectMany(m => m.GetProperty("links").EnumerateArray().Select(l => l.GetString()!)).Distinct().ToList();
        links.Should().Contain(l => l.StartsWith(PortalFixture.PortalBase, StringComparison.Ordinal), "emails link to the portal");

        // As a browser asks (Accept: text/html first); redirects are followed by hand, since they name the configured public addresses.
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        http.DefaultRequestHeaders.Accept.ParseAdd("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
        var failures = new List<string>();
        foreach (var link in links.Where(l => !l.StartsWith("mailto:", StringComparison.Ordinal)))
        {
            var target = fixture.Local(link);
            var response = await http.GetAsync(target);
            for (var hops = 0; hops < 5 && (int)response.StatusCode is 301 or 302 or 303 or 307 or 308; hops++)
            {
                var location = new Uri(target, response.Headers.Location!);
                response.Dispose();
                target = fixture.Local(location.ToString());
                response = await http.GetAsync(target);
            }
            var type = response.Content.Headers.ContentType?.MediaType;
            if (response.StatusCode != HttpStatusCode.OK || type != "text/html") failures.Add($"{link}: {(int)response.StatusCode} {type}");
            response.Dispose();
        }
        failures.Should().BeEmpty("a person who clicks a link in an email gets a page, never JSON or an error");
    }
}
