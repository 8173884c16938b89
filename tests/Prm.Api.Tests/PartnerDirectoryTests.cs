using System.Net;
using System.Text;
using Prm.Testing;

namespace Prm.Api.Tests;

public sealed class PartnerDirectoryTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    private static object NewPartner(string name, string domain, string region = "emea", string? adminEmail = null) => new
    {
        name, domain, country = "FR", region, tier = "silver", partnerType = "msp", website = "https://www.example.com",
        admin = new { email = adminEmail ?? $"boss@{domain}", displayName = "Boss" },
    };

    [Fact]
    public async Task Admin_lists_all_partners_and_channel_managers_their_own()
    {
        var all = await (await (await Api.ClientAsync(Demo.Admin)).GetAsync("partners?scope=all")).JsonAsync();
        all.GetProperty("items").EnumerateArray().Select(p => p.Str("name")).Should().Contain(["Northwind Traders", "Fabrikam Solutions"]);

        var emea = await (await (await Api.ClientAsync(Demo.CmEmea)).GetAsync("partners")).JsonAsync();
        emea.GetProperty("items").EnumerateArray().Select(p => p.Str("name")).Should().Contain("Northwind Traders").And.NotContain("Fabrikam Solutions");
        emea.GetProperty("items").EnumerateArray().Should().OnlyContain(p => p.Str("region") == "emea");
    }

    [Fact]
    public async Task Channel_managers_may_not_list_all_or_other_owners()
    {
        var cm = await Api.ClientAsync(Demo.CmAmer);
        await ApiSteps.ProblemAsync(await cm.GetAsync("partners?scope=all"), 403);
        var admin = await (await (await Api.ClientAsync(Demo.Admin)).GetAsync("partners")).JsonAsync();
        var emeaOwner = admin.GetProperty("items").EnumerateArray().First(p => p.Str("name") == "Northwind Traders").Str("channelManagerId");
        await ApiSteps.ProblemAsync(await cm.GetAsync($"partners?channelManagerId={emeaOwner}"), 403);
        await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.NorthwindAdmin)).GetAsync("partners"), 403);
    }

    [Fact]
    public async Task Search_is_a_case_insensitive_name_prefix_and_filters_combine()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var found = await (await admin.GetAsync("partners?search=NORTH")).JsonAsync();
        found.GetProperty("items").EnumerateArray().Select(p => p.Str("name")).Should().Equal("Northwind Traders");
        var gold = await (await admin.GetAsync("partners?tier=gold&status=Active&region=emea")).JsonAsync();
        gold.GetProperty("items").EnumerateArray().Select(p => p.Str("name")).Should().Contain("Northwind Traders").And.NotContain("Fabrikam Solutions");
        var none = await (await admin.GetAsync("partners?search=zzz")).JsonAsync();
        none.GetProperty("items").GetArrayLength().Should().Be(0);
        none.GetProperty("nextCursor").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
    }

    [Fact]
    public async Task Bad_filters_name_the_parameter()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        (await ApiSteps.ProblemAsync(await admin.GetAsync("partners?tier=diamond"), 400)).GetProperty("errors").TryGetProperty("tier", out _).Should().BeTrue();
        (await ApiSteps.ProblemAsync(await admin.GetAsync("partners?limit=500"), 400)).GetProperty("errors").TryGetProperty("limit", out _).Should().BeTrue();
        (await ApiSteps.ProblemAsync(await admin.GetAsync("partners?cursor=%21%21garbage"), 400)).GetProperty("errors").TryGetProperty("cursor", out _).Should().BeTrue();
    }

    [Fact]
    public async Task Lists_page_with_opaque_cursors()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        for (var i = 0; i < 4; i++) (await admin.PostJsonAsync("partners", NewPartner($"Paging Partner {i}", $"paging{i}.example"))).StatusCode.Should().Be(HttpStatusCode.Created);
        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await (await admin.GetAsync("partners?search=paging&limit=3" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)))).JsonAsync();
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(p => p.Str("name")));
            cursor = page.GetProperty("nextCursor").GetString();
            pages++;
        }
        while (cursor is not null && pages < 10);
        seen.Should().BeEquivalentTo(Enumerable.Range(0, 4).Select(i => $"Paging Partner {i}"));
        pages.Should().BeGreaterThan(1);
    }

    [Fact]
    public async Task Admin_creates_a_partner_with_its_first_admin_invited()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var response = await admin.PostJsonAsync("partners", NewPartner("Contoso Partners", "https://www.contoso-partners.example/about", adminEmail: "boss@contoso-partners.example"));
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var partner = await response.JsonAsync();
        partner.Str("domain").Should().Be("contoso-partners.example");
        partner.Str("status").Should().Be("Active");
        partner.Str("tier").Should().Be("silver");
        partner.Str("partnerType").Should().Be("msp");
        partner.Str("channelManagerId").Should().NotBeNullOrEmpty("partners are assigned to the channel manager of their region");
        partner.GetProperty("userCount").GetInt32().Should().Be(1);
        response.Headers.Location!.ToString().Should().Be($"/api/partners/{partner.Str("id")}");
        response.Headers.ETag.Should().NotBeNull();

        var mail = await Responses.EventuallyAsync(
            async () => await (await Api.Anonymous.GetAsync("dev/mail?to=boss@contoso-partners.example")).JsonAsync(),
            m => m.GetProperty("items").GetArrayLength() > 0);
        var invitation = mail.GetProperty("items")[0];
        invitation.Str("subject").Should().Contain("Contoso Partners");
        invitation.GetProperty("links").EnumerateArray().Should().Contain(l => l.GetString()!.Contains("invitations/accept"));
    }

    [Fact]
    public async Task A_second_partner_with_the_same_domain_is_409_naming_the_domain()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        (await admin.PostJsonAsync("partners", NewPartner("Dup One", "dup.example"))).StatusCode.Should().Be(HttpStatusCode.Created);
        var problem = await ApiSteps.ProblemAsync(await admin.PostJsonAsync("partners", NewPartner("Dup Two", "www.DUP.example")), 409);
        problem.Str("field").Should().Be("domain");
        var list = await (await admin.GetAsync("partners?search=dup")).JsonAsync();
        list.GetProperty("items").EnumerateArray().Select(p => p.Str("name")).Should().Equal("Dup One");
    }

    [Fact]
    public async Task Invalid_partner_input_lists_every_bad_field_and_writes_nothing()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var problem = await ApiSteps.ProblemAsync(await admin.PostJsonAsync("partners", new { name = "", domain = "not a domain", country = "XX", region = "mars", tier = "diamond" }), 400);
        problem.GetProperty("errors").EnumerateObject().Select(e => e.Name).Should().Contain(["name", "domain", "country", "region", "tier"]);
        (await ApiSteps.ProblemAsync(await admin.PostAsync("partners", new StringContent("{\"name\":", Encoding.UTF8, "application/json")), 400)).Str("detail").Should().Contain("malformed");
        await ApiSteps.ProblemAsync(await admin.PostAsync("partners", new StringContent("name=x", Encoding.UTF8, "text/plain")), 415);
        var huge = new string('x', 1024 * 1024 + 10);
        await ApiSteps.ProblemAsync(await admin.PostAsync("partners", new StringContent($"{{\"description\":\"{huge}\"}}", Encoding.UTF8, "application/json")), 413);
        await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.CmEmea)).PostJsonAsync("partners", NewPartner("Nope", "nope.example")), 403);
    }

    [Fact]
    public async Task Patch_requires_a_current_if_match()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var created = await (await admin.PostJsonAsync("partners", NewPartner("Etag Partner", "etag.example"))).JsonAsync();
        var url = $"partners/{created.Str("id")}";
        var (_, etag) = await ApiSteps.GetWithETagAsync(admin, url);

        await ApiSteps.ProblemAsync(await admin.SendAsync(ApiSteps.Patch(url, new { tier = "gold" }, null)), 428);
        var first = await admin.SendAsync(ApiSteps.Patch(url, new { tier = "gold" }, etag));
        first.StatusCode.Should().Be(HttpStatusCode.OK);
        first.Headers.ETag!.ToString().Should().NotBe(etag);
        await ApiSteps.ProblemAsync(await admin.SendAsync(ApiSteps.Patch(url, new { tier = "platinum" }, etag)), 412);
        (await (await admin.GetAsync(url)).JsonAsync()).Str("tier").Should().Be("gold");
    }

    [Fact]
    public async Task Partner_admins_edit_the_profile_but_not_vendor_fields_and_the_timeline_records_both()
    {
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var url = $"partners/{partnerId}";
        var partnerAdmin = await Api.ClientAsync(Demo.NorthwindAdmin);
        var (_, etag) = await ApiSteps.GetWithETagAsync(partnerAdmin, url);
        var denied = await ApiSteps.ProblemAsync(await partnerAdmin.SendAsync(ApiSteps.Patch(url, new { tier = "platinum", status = "Active" }, etag)), 422);
        denied.GetProperty("errors").EnumerateObject().Select(e => e.Name).Should().BeEquivalentTo(["tier", "status"]);

        var edited = await partnerAdmin.SendAsync(ApiSteps.Patch(url, new { phone = "+49 30 1234567", city = "Berlin", unknownField = 1 }, etag));
        edited.StatusCode.Should().Be(HttpStatusCode.OK, await edited.Content.ReadAsStringAsync());
        (await edited.JsonAsync()).Str("city").Should().Be("Berlin");

        var rep = await Api.ClientAsync(Demo.NorthwindRep);
        await ApiSteps.ProblemAsync(await rep.SendAsync(ApiSteps.Patch(url, new { city = "Hamburg" }, edited.Headers.ETag!.ToString())), 403);

        var cm = await Api.ClientAsync(Demo.CmEmea);
        var (_, cmEtag) = await ApiSteps.GetWithETagAsync(cm, url);
        (await cm.SendAsync(ApiSteps.Patch(url, new { partnerType = "distributor" }, cmEtag))).StatusCode.Should().Be(HttpStatusCode.OK);

        var timeline = await (await partnerAdmin.GetAsync($"{url}/timeline")).JsonAsync();
        var entries = timeline.GetProperty("items").EnumerateArray().ToList();
        entries[0].Str("action").Should().Be("partner.updated");
        entries[0].GetProperty("changes").EnumerateArray().Should().ContainSingle(c => c.Str("field") == "partnerType" && c.Str("before") == "reseller" && c.Str("after") == "distributor");
        var profileEdit = entries.Single(e => e.Str("action") == "partner.updated" && e.GetProperty("changes").EnumerateArray().Any(c => c.Str("field") == "city"));
        profileEdit.GetProperty("changes").EnumerateArray().Should().Contain(c => c.Str("field") == "city" && c.Str("before") == null && c.Str("after") == "Berlin");
        profileEdit.Str("actorName").Should().Be("Anna Northwind");
        entries.Should().Contain(e => e.Str("action") == "partner.created");
    }
}
