using Prm.ClientTests.Generated;
using Prm.Testing;

namespace Prm.ClientTests;

/// <summary>
/// The demo flows through the client NSwag generates from the OpenAPI document (Generated/PrmClient.cs), against the local host. The
/// host's clients also check every response against the served document, so a flow passes only when the contract holds both ways.
/// </summary>
public sealed class DemoFlowTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    private async Task<PrmClient> ClientAsync(string email) => new(await Api.ClientAsync(email));

    private static string CloseDate() => DateOnly.FromDateTime(DateTime.UtcNow.AddDays(60)).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    private static RegisterDealRequest Deal(string company, string domain) => new()
    {
        Customer = new DealCustomerInput { CompanyName = company, Domain = domain, Country = "DE", ContactName = "Chris Buyer", ContactEmail = $"chris@{domain}" },
        Products = ["cloud-backup"],
        EstimatedValue = new MoneyInput { Amount = 20000m, Currency = "EUR" },
        ExpectedCloseDate = CloseDate(),
        Notes = "Registered through the generated client.",
    };

    [Fact]
    public async Task A_partner_rep_registers_a_clean_deal_and_reads_it_back()
    {
        var sam = await ClientAsync(Demo.NorthwindRep);
        var deal = await sam.RegisterDealAsync(null, Deal("Generated Clean GmbH", "generated-clean.example"));
        deal.Status.Should().Be("Approved");
        deal.Outcome.Should().BeNull();
        deal.EstimatedValue.Amount.Should().Be(20000m);
        (await sam.GetDealAsync(deal.Id)).RegistrationNumber.Should().Be(deal.RegistrationNumber);
    }

    [Fact]
    public async Task A_house_account_registration_goes_to_review_and_the_channel_manager_approves_it()
    {
        var admin = await ClientAsync(Demo.Admin);
        await admin.CreateHouseAccountAsync(null, new HouseAccountRequest { Name = "Generated House AG", Domain = "generated-house.example" });
        var sam = await ClientAsync(Demo.NorthwindRep);
        var deal = await sam.RegisterDealAsync(null, Deal("Generated House AG", "generated-house.example"));
        deal.Status.Should().NotBe("Approved", "a house account is never auto-approved");
        deal.Conflict.Level.Should().Be("certain");

        var cm = await ClientAsync(Demo.CmEmea);
        var approved = await cm.DecideDealAsync(deal.Id, new DealDecisionRequest { Decision = "approve", Reason = "Agreed with direct sales.", ProtectionDays = 60 });
        approved.Status.Should().Be("Approved");
        approved.ProtectedUntil.Should().NotBeNull();
    }

    [Fact]
    public async Task A_partner_requests_mdf_funds_and_the_channel_manager_approves()
    {
        var admin = await ClientAsync(Demo.Admin);
        var northwind = (await admin.ListPartnersAsync("all", null, null, null, null, "Northwind", null, null)).Items.Single(p => p.Name == "Northwind Traders");
        var budget = await admin.CreateMdfBudgetAsync(Guid.NewGuid().ToString(), new CreateBudgetRequest { PartnerId = northwind.Id, Period = "2027", Amount = new MoneyInput { Amount = 20000m, Currency = "EUR" } });
        budget.Available.Amount.Should().Be(20000m);

        var rep = await ClientAsync(Demo.NorthwindRep);
        var request = await rep.SubmitMdfRequestAsync(null, new FundRequestInput
        {
            ActivityType = "event", Title = "Generated client summit", Description = "A half-day event for customers.", StartDate = "2027-03-01", EndDate = "2027-03-02",
            RequestedAmount = new MoneyInput { Amount = 5000m, Currency = "EUR" }, PartnerContributionPercent = 25, TargetAudience = "IT leads", ExpectedLeads = 40,
            ExpectedPipeline = new MoneyInput { Amount = 150000m, Currency = "EUR" },
        });
        request.Claim.Should().BeNull();
        request.FirstApproval.Should().BeNull();

        var cm = await ClientAsync(Demo.CmEmea);
        var approved = await cm.DecideMdfRequestAsync(request.Id, new FundRequestDecisionInput { Decision = "approve", ClaimDeadline = "2030-01-31" });
        approved.Status.Should().Be("Approved");
        approved.ApprovedAmount!.Amount.Should().Be(5000m);
        (await admin.GetMdfBudgetAsync(budget.Id)).Approved.Amount.Should().Be(5000m);
    }

    [Fact]
    public async Task An_admin_reads_the_settings_with_iso_durations()
    {
        var admin = await ClientAsync(Demo.Admin);
        var onboarding = await admin.GetProgramSettingsAsync(Section.Onboarding);
        onboarding.ReviewReminderAfter.Should().Be("P1D");
        System.Xml.XmlConvert.ToTimeSpan(onboarding.ReviewExpiresAfter).Should().BePositive();
        (await admin.MeAsync()).Email.Should().Be(Demo.Admin);
    }
}
