using System.Text.Json.Nodes;
using Prm.Core.Outbox;
using Prm.Functions.OpenApi;

namespace Prm.Functions.Tests;

/// <summary>The event catalog is generated from the code: every event type a module declares is in it, with a payload schema.</summary>
public sealed class EventCatalogTests
{
    [Fact]
    public void Every_declared_event_type_names_its_payload()
    {
        var catalog = EventCatalog.All;

        catalog.Should().ContainKeys("deal.submitted", "deal.approved", "deal.won", "lead.offered", "lead.partnerPaused", "partner.created", "partner.activated",
            "partner.user.invited", "application.submitted", "mdf.budget.created", "mdf.claim.paid", "asset.published", "certification.gap", "webhook.ping");
        catalog.Values.Where(i => i.Payload is null).Select(i => i.DeclaredBy).Should().BeEmpty(
            "every event type needs a payload: [EventPayload(typeof(...))] on the constant or its *Events class, or one nested *Data record in the class");
    }

    [Fact]
    public void A_module_declares_an_event_by_a_constant_in_its_Events_class_and_the_catalog_finds_it_without_a_list()
    {
        var found = EventCatalog.Discover([typeof(EventCatalogTests).Assembly]);

        found.Should().ContainKey("sample.happened").WhoseValue.Payload.Should().Be(typeof(SampleEvents.SampleData), "the class's only *Data record is the default payload");
        found["sample.other"].Payload.Should().Be(typeof(SampleEvents.OtherPayload));
        found["sample.other"].Version.Should().Be(2);
        found.Should().NotContainKey("NotAnEvent");
        var doc = AsyncApiDocument.Build("http://localhost/api", found);
        doc["components"]!["schemas"]!["sample.other.v2"]!["properties"]!["count"]!["type"]!.ToJsonString().Should().Contain("integer");
        doc["components"]!["messages"]!["sample.happened"]!["title"]!.GetValue<string>().Should().Be("com.prmfunctions.sample.happened");
    }

    [Fact]
    public void Data_schemas_follow_the_serializer_camel_case_and_nullability()
    {
        var schema = EventCatalog.DataSchema(EventCatalog.Discover([typeof(EventCatalogTests).Assembly])["sample.happened"]);

        var properties = schema["properties"]!.AsObject();
        properties.Select(p => p.Key).Should().BeEquivalentTo(["name", "note"]);
        properties["name"]!["type"]!.GetValue<string>().Should().Be("string");
        properties["note"]!["type"]!.AsArray().Select(t => t!.GetValue<string>()).Should().BeEquivalentTo(["string", "null"]);
        schema["required"]!.AsArray().Select(n => n!.GetValue<string>()).Should().Contain("name");
    }
}

/// <summary>A module's event declarations as the catalog reads them (this test assembly is scanned like a Prm.* one).</summary>
public static class SampleEvents
{
    public const string Happened = "sample.happened";

    [EventPayload(typeof(OtherPayload), Version = 2)]
    public const string Other = "sample.other";

    public const string NotAnEvent = "NotAnEvent";

    public sealed record SampleData(string Name, string? Note);

    public sealed record OtherPayload(int Count);
}
