using System.Net;
using System.Text.Json;
using Prm.Testing;

namespace Prm.Api.Tests.Integration;

/// <summary>
/// The event catalog against what the application really emits: the demo seed and a deal's and a lead's life are run, and every CloudEvent the
/// local sink received (the envelope Service Bus carries) must be a type of /api/asyncapi.json with data matching its schema.
/// </summary>
public sealed class EventCatalogTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task Every_emitted_event_is_in_the_catalog_and_its_data_matches_its_schema()
    {
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var deal = await Deals.RegisterAsync(sam, Deals.Body("Catalog Check Ltd", "catalog-check.example"));
        var dealId = deal.Str("id");
        (await sam.PostJsonAsync($"deals/{dealId}/outcome", new { result = "won", amount = new { amount = 1200m, currency = "EUR" }, closeDate = DateTime.UtcNow.ToString("yyyy-MM-dd") }))
            .StatusCode.Should().Be(HttpStatusCode.OK);
        var app = Api.WithToken((await (await Api.Anonymous.PostJsonAsync("dev/token", new { app = "crm" })).JsonAsync()).Str("accessToken"));
        (await app.PostJsonAsync("leads", new
        {
            company = new { name = "Catalog Lead Corp", domain = "catalog-lead.example", country = "DE", industry = "software", size = "50-199" },
            contact = new { name = "Lee Lead", email = "lee@catalog-lead.example" },
            consentToShare = true,
            productLines = new[] { "cloud-backup" },
        })).StatusCode.Should().BeOneOf(HttpStatusCode.Created, HttpStatusCode.OK, HttpStatusCode.BadRequest);
        await Deals.DeliveredAsync(Api, dealId, "deal.won");

        var check = await EventCatalogCheck.LoadAsync(Api.Anonymous);
        var events = (await (await Api.Anonymous.GetAsync("dev/cloudevents?limit=500")).JsonAsync()).GetProperty("items").EnumerateArray().ToList();

        events.Select(e => e.Str("type")).Should().Contain(["com.prmfunctions.deal.submitted", "com.prmfunctions.deal.won", "com.prmfunctions.partner.created"]);
        events.SelectMany(check.Violations).Should().BeEmpty();
        var won = events.First(e => e.Str("type") == "com.prmfunctions.deal.won");
        won.Str("id").Should().StartWith("evt_");
        won.Str("subject").Should().Be($"deals/{dealId}");
        won.Str("datacontenttype").Should().Be("application/json");
        won.Str("dataschema").Should().EndWith("/asyncapi.json#/components/schemas/deal.won.v1");
        won.GetProperty("data").GetProperty("deal").Str("id").Should().Be(dealId);
    }

    [Fact]
    public async Task The_check_fails_on_an_event_type_missing_from_the_catalog_and_on_data_that_breaks_its_schema()
    {
        var check = await EventCatalogCheck.LoadAsync(Api.Anonymous);
        JsonElement Event(string type, string data) => JsonDocument.Parse($$"""
            {"specversion":"1.0","id":"evt_1","source":"http://x/api","type":"com.prmfunctions.{{type}}","subject":"deals/d1","time":"2026-01-01T00:00:00Z",
             "datacontenttype":"application/json","dataschema":"http://x/api/asyncapi.json#/components/schemas/{{type}}.v1","data":{{data}}}
            """).RootElement;

        check.Violations(Event("deal.teleported", "{}")).Should().ContainSingle().Which.Should().Contain("missing from the catalog");
        check.Violations(Event("asset.downloaded", """{"assetId":"a","title":"t","version":"one","userId":"u","partnerId":"p"}""")).Should().ContainSingle()
            .Which.Should().Contain("does not match its schema");
        check.Violations(Event("asset.downloaded", """{"assetId":"a","title":"t","version":1,"userId":"u","partnerId":"p"}""")).Should().BeEmpty();
    }

    [Fact]
    public async Task The_catalog_is_served_anonymously_as_an_AsyncAPI_3_document_with_a_schema_per_event()
    {
        var response = await Api.Anonymous.GetAsync("asyncapi.json");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var doc = await response.JsonAsync();
        doc.Str("asyncapi").Should().Be("3.0.0");
        var messages = doc.GetProperty("components").GetProperty("messages").EnumerateObject().ToList();
        messages.Select(m => m.Name).Should().Contain(["deal.approved", "deal.won", "lead.offered", "partner.created", "mdf.claim.paid", "certification.earned", "webhook.ping"]);
        var schemas = doc.GetProperty("components").GetProperty("schemas");
        foreach (var message in messages)
        {
            var version = message.Value.GetProperty("x-prm-schema-version").GetInt32();
            schemas.TryGetProperty($"{message.Name}.v{version}", out var schema).Should().BeTrue(message.Name);
            schema.TryGetProperty("type", out _).Should().BeTrue($"{message.Name} has a payload schema ({schema})");
        }
    }
}
