using System.Text;
using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Core.Partners;
using Prm.Core.Pos;

namespace Prm.Core.Tests.Pos;

public class PosMatchingTests
{
    private static readonly DateTimeOffset T = new(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);

    private static Partner P(string id, string name, string domain) => new()
    {
        Id = id,
        Name = name,
        Domain = domain,
        Status = PartnerStatus.Active,
        Tier = PartnerTier.Gold,
        Type = PartnerType.Reseller,
        Country = "DE",
        Region = "emea",
        CreatedAt = T,
        UpdatedAt = T,
    };

    private static readonly string Northwind = "ptn_" + new string('1', 32);
    private static readonly string Fabrikam = "ptn_" + new string('2', 32);
    private static readonly Partner[] Directory = [P(Northwind, "Northwind Traders", "northwind.example"), P(Fabrikam, "Fabrikam Solutions", "fabrikam.example")];

    [Theory]
    [InlineData("ptn_11111111111111111111111111111111", "exact", "Northwind Traders")]
    [InlineData("https://www.fabrikam.example/shop", "exact", "Fabrikam Solutions")]
    [InlineData("fabrikam.example", "exact", "Fabrikam Solutions")]
    [InlineData("Northwind Traders GmbH", "exact", "Northwind Traders")]
    [InlineData("northwind  traders", "exact", "Northwind Traders")]
    [InlineData("Nortwind Traders", "fuzzy", "Northwind Traders")]
    [InlineData("Contoso Ltd", "unmatched", null)]
    [InlineData("unknown.example", "unmatched", null)]
    public void A_reseller_is_matched_by_id_domain_or_name_exactly_then_by_a_similar_name(string reseller, string kind, string? partner)
    {
        var match = PosImport.MatchReseller(reseller, Directory);
        match.Kind.Should().Be(kind);
        match.PartnerName.Should().Be(partner);
        if (kind == "fuzzy") match.Similarity.Should().BeInRange(0.80, 0.999);
    }

    private static IndexedCustomer Deal(string partnerId, string status, string? domain, string nameKey) =>
        new("deal", "deal_" + partnerId[4..10] + status, partnerId, status, domain, nameKey, "DE", ["cloud-backup"], null, null);

    public static TheoryData<string, string?, string, string?> Customers() => new()
    {
        // customer name, domain, expected kind, expected partner of the registration
        { "Acme Industries", "acme.example", "reseller", "own" },
        { "Acme Industries", null, "reseller", "own" },
        { "Globex", "globex.example", "otherPartner", "other" },
        { "Initech", "initech.example", "none", null },
        { "Umbrella Corp", "umbrella.example", "none", null }, // only a rejected registration
    };

    [Theory]
    [MemberData(nameof(Customers))]
    public void An_end_customer_is_matched_to_an_active_or_won_registration_the_resellers_first(string name, string? domain, string kind, string? whose)
    {
        var candidates = new[]
        {
            Deal(Northwind, nameof(DealStatus.Approved), "acme.example", CustomerNormalizer.CompanyNameKey("Acme Industries")!),
            Deal(Fabrikam, nameof(DealStatus.Won), "acme.example", CustomerNormalizer.CompanyNameKey("Acme Industries")!),
            Deal(Fabrikam, nameof(DealStatus.Approved), "globex.example", CustomerNormalizer.CompanyNameKey("Globex")!),
            Deal(Fabrikam, nameof(DealStatus.Rejected), "umbrella.example", CustomerNormalizer.CompanyNameKey("Umbrella Corp")!),
        };
        var match = PosImport.MatchCustomer(CustomerNormalizer.Normalize(name, domain, "DE"), Northwind, candidates);
        match.Kind.Should().Be(kind);
        match.PartnerId.Should().Be(whose switch { "own" => Northwind, "other" => Fabrikam, _ => null });
    }

    private const string Header = "reporter,invoiceNo,line,date,productLine,quantity,unitPrice,currency,customerName,customerDomain,customerCountry,reseller\n";

    [Theory]
    [InlineData("D1,INV-1,1,2026-10-05,cloud-backup,2,100.50,EUR,Acme,acme.example,DE,northwind.example", null)]
    [InlineData("D1,INV-1,1,2026-13-05,cloud-backup,2,100.50,EUR,Acme,acme.example,DE,northwind.example", "date")]
    [InlineData("D1,INV-1,1,05.10.2026,cloud-backup,2,100.50,EUR,Acme,acme.example,DE,northwind.example", "date")]
    [InlineData("D1,INV-1,1,2026-10-05,cloud-backup,-2,100.50,EUR,Acme,acme.example,DE,northwind.example", "quantity")]
    [InlineData("D1,INV-1,1,2026-10-05,cloud-backup,2,abc,EUR,Acme,acme.example,DE,northwind.example", "unitPrice")]
    [InlineData("D1,INV-1,1,2026-10-05,cloud-backup,2,100.50,XYZ,Acme,acme.example,DE,northwind.example", "currency")]
    [InlineData("D1,INV-1,0,2026-10-05,cloud-backup,2,100.50,EUR,Acme,acme.example,DE,northwind.example", "line")]
    [InlineData("D1,,1,2026-10-05,cloud-backup,2,100.50,EUR,Acme,acme.example,DE,northwind.example", "invoiceNo")]
    [InlineData("D1,INV-1,1,2026-10-05,,2,100.50,EUR,Acme,acme.example,DE,northwind.example", "productLine")]
    [InlineData("D1,INV-1,1,2026-10-05,cloud-backup,2,100.50,EUR,Acme,acme.example,XX,northwind.example", "customerCountry")]
    [InlineData("D1,INV-1,1,2026-10-05,cloud-backup,2,100.50,EUR,Acme,acme.example,DE,", "reseller")]
    public void A_line_is_rejected_naming_the_field_that_is_wrong(string line, string? field)
    {
        var row = PosImport.Parse(Encoding.UTF8.GetBytes(Header + line)).Single();
        row.Number.Should().Be(2);
        if (field is null) row.Errors.Should().BeEmpty();
        else row.Errors.Keys.Should().Equal(field);
    }

    [Fact]
    public void A_missing_header_column_names_the_header_and_a_sku_may_stand_for_the_product_line()
    {
        FluentActions.Invoking(() => PosImport.Parse(Encoding.UTF8.GetBytes("reporter,invoiceNo,line,date,quantity,unitPrice,currency\nD1,INV,1,2026-10-01,1,1,EUR")))
            .Should().Throw<ValidationFailedException>().Which.Errors.Keys.Should().Equal("header");
        FluentActions.Invoking(() => PosImport.Parse([])).Should().Throw<ValidationFailedException>().Which.Errors.Keys.Should().Equal("header");
        var rows = PosImport.Parse(Encoding.UTF8.GetBytes("Reporter,Invoice No,Line,Date,SKU,Quantity,Unit Price,Currency,Reseller\nD1,INV,1,2026-10-01,SKU-9,1,1,eur,northwind.example"));
        rows.Single().Errors.Should().BeEmpty();
        rows.Single().ProductLine.Should().Be("SKU-9");
        rows.Single().Currency.Should().Be("EUR");
    }

    [Fact]
    public void More_lines_than_allowed_name_the_body()
    {
        var text = new StringBuilder(Header);
        for (var i = 1; i <= PosImport.MaxLines + 1; i++) text.Append("D1,I,").Append(i).Append(",2026-10-01,x,1,1,EUR,,,,r\n");
        FluentActions.Invoking(() => PosImport.Parse(Encoding.UTF8.GetBytes(text.ToString()))).Should().Throw<ValidationFailedException>()
            .Which.Errors["body"].Single().Should().Contain("100000").And.Contain("line 100002");
    }

    [Theory]
    [InlineData("2026-10-01", "2026-10-31", "2026-10")]
    [InlineData("2026-10-31", "2026-11-01", "2026-10..2026-11")]
    public void A_batch_period_is_the_month_of_its_lines(string first, string last, string period) =>
        PosImport.Period(DateOnly.Parse(first, System.Globalization.CultureInfo.InvariantCulture), DateOnly.Parse(last, System.Globalization.CultureInfo.InvariantCulture)).Should().Be(period);
}
