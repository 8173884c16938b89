using Prm.Core.Deals;

namespace Prm.Core.Tests.Deals;

public class CustomerNormalizerTests
{
    [Theory]
    [InlineData("acme.com", "acme.com")]
    [InlineData("www.acme.com", "acme.com")]
    [InlineData("WWW.ACME.COM.", "acme.com")]
    [InlineData("https://shop.acme.com/path", "acme.com")]
    [InlineData("https://www.acme.com?ref=partner#top", "acme.com")]
    [InlineData("http://portal.eu.acme.com:8443/login", "acme.com")]
    [InlineData("https://user:secret@portal.acme.com/", "acme.com")]
    [InlineData("jane@sales.acme.com", "acme.com")]
    [InlineData("Jane.Doe@ACME.com", "acme.com")]
    [InlineData("mailto:jane@acme.com.au", "acme.com.au")]
    [InlineData("  a.b.c.acme.de  ", "acme.de")]
    [InlineData("acme.uk", "acme.uk")]
    public void RegistrableDomain_strips_scheme_www_subdomains_path_and_mailbox(string input, string expected) =>
        CustomerNormalizer.RegistrableDomain(input).Should().Be(expected);

    [Theory]
    [InlineData("acme.co.uk", "acme.co.uk")]
    [InlineData("https://shop.acme.co.uk/basket", "acme.co.uk")]
    [InlineData("jane@sales.acme.co.uk", "acme.co.uk")]
    [InlineData("www.charity.org.uk", "charity.org.uk")]
    [InlineData("cs.ox.ac.uk", "ox.ac.uk")]
    [InlineData("shop.acme.com.au", "acme.com.au")]
    [InlineData("acme.net.au", "acme.net.au")]
    [InlineData("www.acme.co.nz", "acme.co.nz")]
    [InlineData("jp.acme.co.jp", "acme.co.jp")]
    [InlineData("acme.co.za", "acme.co.za")]
    [InlineData("loja.acme.com.br", "acme.com.br")]
    [InlineData("acme.com.mx", "acme.com.mx")]
    [InlineData("www.acme.com.cn", "acme.com.cn")]
    [InlineData("acme.com.sg", "acme.com.sg")]
    [InlineData("acme.com.hk", "acme.com.hk")]
    [InlineData("in.acme.co.in", "acme.co.in")]
    [InlineData("acme.co.kr", "acme.co.kr")]
    [InlineData("acme.com.tr", "acme.com.tr")]
    public void RegistrableDomain_keeps_the_label_below_a_multi_part_public_suffix(string input, string expected) =>
        CustomerNormalizer.RegistrableDomain(input).Should().Be(expected);

    [Theory]
    [InlineData("https://acme.azurewebsites.net/", "acme.azurewebsites.net")]
    [InlineData("docs.acme.github.io", "acme.github.io")]
    [InlineData("acme.myshopify.com", "acme.myshopify.com")]
    public void RegistrableDomain_keeps_the_tenant_of_a_multi_tenant_host(string input, string expected) =>
        CustomerNormalizer.RegistrableDomain(input).Should().Be(expected);

    [Fact]
    public void RegistrableDomain_returns_an_internationalized_name_in_ascii_form() =>
        CustomerNormalizer.RegistrableDomain("https://www.müller.de/kontakt").Should().Be("xn--mller-kva.de");

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("localhost")]
    [InlineData("not a domain")]
    [InlineData("https://")]
    [InlineData("jane@")]
    [InlineData("http://192.168.0.1/admin")]
    [InlineData("exa_mple.com")]
    [InlineData("com")]
    [InlineData("co.uk")]
    [InlineData("www.co.uk")]
    [InlineData("azurewebsites.net")]
    public void RegistrableDomain_returns_null_for_what_is_not_a_registrable_domain(string? input) =>
        CustomerNormalizer.RegistrableDomain(input).Should().BeNull();

    [Theory]
    [InlineData("jane.doe@gmail.com")]
    [InlineData("gmail.com")]
    [InlineData("boss@hotmail.co.uk")]
    [InlineData("someone@outlook.com")]
    [InlineData("chef@web.de")]
    public void RegistrableDomain_returns_null_for_a_free_mailbox_provider(string input) =>
        CustomerNormalizer.RegistrableDomain(input).Should().BeNull("an address there says nothing about the customer");

    [Theory]
    [InlineData("Acme Corp", "acme")]
    [InlineData("ACME Corporation Inc.", "acme")]
    [InlineData("The Acme Company Ltd", "acme")]
    [InlineData("Acme, Inc.", "acme")]
    [InlineData("Acme LLC", "acme")]
    [InlineData("acme", "acme")]
    [InlineData("ＡＣＭＥ Ｌｔｄ", "acme")]
    [InlineData("Acme Bricks", "acme bricks")]
    [InlineData("Acne Studios AB", "acne studios")]
    [InlineData("Müller GmbH", "muller")]
    [InlineData("Müller GmbH & Co. KG", "muller")]
    [InlineData("Mueller", "mueller")]
    [InlineData("Straße AG", "strasse")]
    [InlineData("Société Générale SA", "societe generale")]
    [InlineData("Société Générale S.A.", "societe generale")]
    [InlineData("Societe Generale", "societe generale")]
    [InlineData("Procter & Gamble", "procter and gamble")]
    [InlineData("Procter and Gamble Co.", "procter and gamble")]
    [InlineData("Fiat S.p.A.", "fiat")]
    [InlineData("Luxottica Srl", "luxottica")]
    [InlineData("Volvo AB", "volvo")]
    [InlineData("Nokia Oyj", "nokia")]
    [InlineData("Equinor ASA", "equinor")]
    [InlineData("Ørsted A/S", "orsted")]
    [InlineData("Philips N.V.", "philips")]
    [InlineData("Heineken BV", "heineken")]
    [InlineData("Capgemini SE", "capgemini")]
    [InlineData("Dassault Systèmes SAS", "dassault systemes")]
    [InlineData("Bouygues SARL", "bouygues")]
    [InlineData("BHP Pty Ltd", "bhp")]
    [InlineData("Orlen Sp. z o.o.", "orlen")]
    [InlineData("Toyota Motor Corporation", "toyota motor")]
    [InlineData("Sony Group KK", "sony group")]
    [InlineData("Barclays plc", "barclays")]
    [InlineData("McDonald's Corporation", "mcdonalds")]
    [InlineData("Coca-Cola Company", "coca cola")]
    [InlineData("  3M  Company ", "3m")]
    [InlineData("The Company", "company")]
    [InlineData("Company Inc", "company")]
    public void CompanyNameKey_ignores_case_accents_punctuation_legal_forms_and_a_leading_the(string input, string expected) =>
        CustomerNormalizer.CompanyNameKey(input).Should().Be(expected);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t\n")]
    [InlineData("!!!")]
    [InlineData("--- / ---")]
    [InlineData("...")]
    public void CompanyNameKey_returns_null_when_no_letter_or_digit_remains(string? input) =>
        CustomerNormalizer.CompanyNameKey(input).Should().BeNull();

    [Fact]
    public void CompanyNameKey_is_capped_in_length()
    {
        var key = CustomerNormalizer.CompanyNameKey(string.Join(' ', Enumerable.Repeat("Verylongword", 40)));
        key.Should().NotBeNull();
        key!.Length.Should().BeLessThanOrEqualTo(CustomerNormalizer.MaxNameKeyLength);
        key.Should().NotEndWith(" ");
    }

    [Fact]
    public void CompanyNameKey_keeps_letters_of_other_scripts() =>
        CustomerNormalizer.CompanyNameKey("Газпром ПАО").Should().Be("газпром пао");

    public static TheoryData<string[]> Duplicates => new()
    {
        new[] { "Acme Corp", "ACME Corporation Inc.", "The Acme Company Ltd", "acme", "Acme Bricks" },
        new[] { "Müller GmbH", "Mueller", "Muller AG" },
        new[] { "Société Générale SA", "Societe Generale" },
        new[] { "Procter & Gamble", "Procter and Gamble", "Procter&Gamble" },
        new[] { "Coca-Cola Company", "CocaCola", "Coca Cola" },
        new[] { "McDonald's", "Mc Donalds", "MCDONALDS CORP" },
        new[] { "Siemens AG", "Siemens Healthineers", "Siemans" },
        new[] { "General Motors", "General Motors Company", "GENERAL MOTORS LLC" },
    };

    [Theory]
    [MemberData(nameof(Duplicates))]
    public void BlockingKeys_are_shared_by_likely_duplicates(string[] names)
    {
        var keySets = names.Select(n => CustomerNormalizer.BlockingKeys(CustomerNormalizer.CompanyNameKey(n))).ToArray();
        for (var i = 0; i < keySets.Length; i++)
        {
            for (var j = i + 1; j < keySets.Length; j++)
            {
                keySets[i].Intersect(keySets[j]).Should().NotBeEmpty($"\"{names[i]}\" and \"{names[j]}\" are likely the same company");
            }
        }
    }

    [Theory]
    [InlineData("Acme Corp")]
    [InlineData("Müller GmbH & Co. KG")]
    [InlineData("Procter & Gamble")]
    [InlineData("A/B \\ C # D ? E")]
    [InlineData("International Business Machines Corporation")]
    [InlineData("Газпром")]
    [InlineData("3M")]
    [InlineData("Supercalifragilisticexpialidocious Holdings")]
    public void BlockingKeys_are_few_short_and_safe_in_table_keys(string name)
    {
        var keys = CustomerNormalizer.BlockingKeys(CustomerNormalizer.CompanyNameKey(name));
        keys.Should().NotBeEmpty().And.HaveCountLessThanOrEqualTo(3).And.OnlyHaveUniqueItems();
        foreach (var key in keys)
        {
            key.Length.Should().BeLessThanOrEqualTo(CustomerNormalizer.MaxBlockingKeyLength);
            key.Should().MatchRegex(@"^[a-z]-[\p{Ll}\p{Lo}\p{Nd}]+$");
            key.Should().NotContainAny("/", "\\", "#", "?", " ");
            key.Any(char.IsControl).Should().BeFalse();
        }
    }

    [Fact]
    public void BlockingKeys_are_deterministic_and_ordered()
    {
        CustomerNormalizer.BlockingKeys("acme").Should().Equal("t-acme", "p-a25", "j-acme");
        CustomerNormalizer.BlockingKeys("procter and gamble").Should().Equal("t-procter", "p-p6236", "j-proctera");
        CustomerNormalizer.BlockingKeys("acme").Should().Equal(CustomerNormalizer.BlockingKeys("acme"));
    }

    [Fact]
    public void BlockingKeys_file_a_name_that_starts_with_a_generic_word_under_its_first_two_words()
    {
        var motors = CustomerNormalizer.BlockingKeys("general motors");
        var mills = CustomerNormalizer.BlockingKeys("general mills");
        motors[0].Should().Be("t-generalmotors");
        mills[0].Should().Be("t-generalmills");
        motors.Should().NotContain("t-general");
    }

    [Fact]
    public void BlockingKeys_phonetic_key_groups_umlaut_transliterations() =>
        CustomerNormalizer.BlockingKeys("mueller").Should().Contain(CustomerNormalizer.BlockingKeys("muller").Where(k => k.StartsWith("p-", StringComparison.Ordinal)));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void BlockingKeys_are_empty_without_a_name(string? nameKey) =>
        CustomerNormalizer.BlockingKeys(nameKey).Should().BeEmpty();

    [Fact]
    public void Normalize_combines_domain_name_country_products_and_keys()
    {
        var customer = CustomerNormalizer.Normalize("The Acme Company Ltd", "jane@sales.acme.co.uk", "gb", [" pl-1 ", "PL-1", "", null, "pl-2"], "partner-7");

        customer.Should().NotBeNull();
        customer!.Domain.Should().Be("acme.co.uk");
        customer.NameKey.Should().Be("acme");
        customer.Country.Should().Be("GB");
        customer.ProductLineIds.Should().Equal("pl-1", "pl-2");
        customer.BlockingKeys.Should().Equal(CustomerNormalizer.BlockingKeys("acme"));
        customer.PartnerId.Should().Be("partner-7");
    }

    [Fact]
    public void Normalize_drops_an_unknown_country_and_keeps_what_is_usable()
    {
        var customer = CustomerNormalizer.Normalize(null, "https://www.acme.com", "UK");
        customer.Should().NotBeNull();
        customer!.Domain.Should().Be("acme.com");
        customer.NameKey.Should().BeNull();
        customer.Country.Should().BeNull();
        customer.BlockingKeys.Should().BeEmpty();
        customer.ProductLineIds.Should().BeEmpty();
        customer.PartnerId.Should().BeNull();
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", "")]
    [InlineData("!!!", "jane@gmail.com")]
    [InlineData("  ", "localhost")]
    public void Normalize_returns_null_when_neither_name_nor_domain_is_usable(string? name, string? domain) =>
        CustomerNormalizer.Normalize(name, domain, "DE").Should().BeNull();
}
