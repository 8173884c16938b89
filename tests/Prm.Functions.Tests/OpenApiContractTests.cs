using System.Net;
using System.Text;
using System.Text.Json;
using Prm.Core.Common;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;
using Prm.Testing;

namespace Prm.Functions.Tests;

/// <summary>What the contract declares (nullability, durations, per-section settings, errors, security), and that the response checker catches breaks.</summary>
public sealed class OpenApiContractTests
{
    private static async Task<string> JsonAsync() => await OpenApiDocumentBuilder.ToJsonAsync("http://localhost:7071/api", CancellationToken.None);

    private static async Task<JsonElement> DocumentAsync() => JsonDocument.Parse(await JsonAsync()).RootElement.Clone();

    private static JsonElement Schema(JsonElement doc, string name) => doc.GetProperty("components").GetProperty("schemas").GetProperty(name);

    [Theory]
    [InlineData("DealDto", "outcome")]
    [InlineData("FundRequestDto", "claim")]
    [InlineData("FundRequestDto", "firstApproval")]
    [InlineData("FundRequestDto", "approvedAmount")]
    public async Task Reference_fields_that_can_be_null_are_declared_nullable(string schema, string property)
    {
        var field = Schema(await DocumentAsync(), schema).GetProperty("properties").GetProperty(property);
        field.GetProperty("nullable").GetBoolean().Should().BeTrue();
        field.GetProperty("type").GetString().Should().Be("object", "OpenAPI 3.0 allows nullable only beside a type");
        field.GetProperty("oneOf").EnumerateArray().Single().GetProperty("$ref").GetString().Should().StartWith("#/components/schemas/");
    }

    [Fact]
    public async Task Durations_are_iso_8601_strings()
    {
        var doc = await DocumentAsync();
        foreach (var (schema, property) in new[] { ("OnboardingSettings", "reviewReminderAfter"), ("DealSettings", "protectionPeriod"), ("MdfSettings", "requestReminderAfter"), ("LeadSettings", "acceptWindow") })
        {
            var field = Schema(doc, schema).GetProperty("properties").GetProperty(property);
            field.GetProperty("type").GetString().Should().Be("string");
            field.GetProperty("format").GetString().Should().Be("duration");
        }
        JsonSerializer.Serialize(TimeSpan.FromDays(90), ApiJson.Options).Should().Be("\"P90D\"");
        JsonSerializer.Serialize(TimeSpan.FromHours(36), ApiJson.Options).Should().Be("\"P1DT12H\"");
        JsonSerializer.Deserialize<TimeSpan>("\"PT24H\"", ApiJson.Options).Should().Be(TimeSpan.FromHours(24));
        JsonSerializer.Deserialize<TimeSpan>("\"1.00:00:00\"", ApiJson.Options).Should().Be(TimeSpan.FromDays(1), "the older input form keeps working");
        JsonSerializer.Deserialize<TimeSpan>("\"00:00:05\"", Prm.Core.Settings.SettingsJson.Options).Should().Be(TimeSpan.FromSeconds(5));
        var bad = () => JsonSerializer.Deserialize<TimeSpan>("\"soon\"", ApiJson.Options);
        bad.Should().Throw<JsonException>();
        IsoDurationConverter.Format(TimeSpan.FromHours(24)).Should().Be("P1D");
    }

    [Fact]
    public async Task Each_settings_section_has_its_own_schema()
    {
        var doc = await DocumentAsync();
        var path = doc.GetProperty("paths").GetProperty("/settings/{section}");
        var get = path.GetProperty("get");
        get.GetProperty("parameters")[0].GetProperty("schema").GetProperty("enum").EnumerateArray().Select(e => e.GetString()).Should().Equal("onboarding", "deals", "mdf", "content", "leads", "training", "tiers", "branding", "plans");
        get.GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("oneOf")
            .EnumerateArray().Select(s => s.GetProperty("$ref").GetString()).Should().Equal(
                "#/components/schemas/OnboardingSettings", "#/components/schemas/DealSettings", "#/components/schemas/MdfSettings", "#/components/schemas/ContentSettings", "#/components/schemas/LeadSettings",
                "#/components/schemas/TrainingSettings", "#/components/schemas/TierSettings", "#/components/schemas/BrandingSettings", "#/components/schemas/PlanSettings");
    }

    [Fact]
    public async Task Errors_security_and_decision_pages_are_documented()
    {
        var doc = await DocumentAsync();
        var paths = doc.GetProperty("paths");
        foreach (var path in paths.EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var responses = operation.Value.GetProperty("responses");
                var name = $"{operation.Name} {path.Name}";
                responses.TryGetProperty("503", out var unavailable).Should().BeTrue(name);
                unavailable.GetProperty("headers").GetProperty("Retry-After").GetProperty("required").GetBoolean().Should().BeTrue(name);
                if (responses.TryGetProperty("429", out var limited)) limited.GetProperty("headers").TryGetProperty("Retry-After", out _).Should().BeTrue(name);
                var security = operation.Value.GetProperty("security");
                if (operation.Value.GetProperty("x-access-policy").GetString() == "Anonymous") security.GetArrayLength().Should().Be(0, name);
                else security[0].TryGetProperty("bearer", out _).Should().BeTrue(name);
                if (operation.Name is "put" or "patch") responses.TryGetProperty("428", out _).Should().BeTrue(name);
            }
        }
        paths.GetProperty("/partner-applications").GetProperty("post").GetProperty("responses").TryGetProperty("202", out _).Should().BeTrue();
        paths.GetProperty("/partner-applications").GetProperty("post").GetProperty("responses").TryGetProperty("429", out _).Should().BeTrue();
        foreach (var method in new[] { "get", "post" })
        {
            var responses = paths.GetProperty("/approvals/{token}").GetProperty(method).GetProperty("responses");
            responses.GetProperty("200").GetProperty("content").TryGetProperty("text/html", out _).Should().BeTrue();
            responses.GetProperty("410").GetProperty("content").TryGetProperty("text/html", out _).Should().BeTrue();
        }
    }

    [Fact]
    public async Task Request_schemas_carry_the_validators_rules()
    {
        var register = Schema(await DocumentAsync(), "RegisterDealRequest");
        register.GetProperty("required").EnumerateArray().Select(r => r.GetString()).Should().Contain(["customer", "products", "estimatedValue", "expectedCloseDate"]);
        register.GetProperty("properties").GetProperty("notes").GetProperty("maxLength").GetInt32().Should().Be(4000);
        var edit = await DocumentAsync();
        var patch = Schema(edit, "RegisterDealRequestPatch");
        patch.TryGetProperty("required", out var required).Should().Be(false, "an edit changes only the fields present: {0}", required);
        patch.GetProperty("properties").GetProperty("notes").GetProperty("maxLength").GetInt32().Should().Be(4000);
        edit.GetProperty("paths").GetProperty("/deals/{dealId}").GetProperty("patch").GetProperty("requestBody").GetProperty("content").GetProperty("application/json")
            .GetProperty("schema").GetProperty("$ref").GetString().Should().Be("#/components/schemas/RegisterDealRequestPatch");
    }

    private static HttpResponseMessage Response(HttpStatusCode status, string body, string contentType = "application/json") =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, contentType) };

    private static HttpRequestMessage Get(string path) => new(HttpMethod.Get, "http://localhost:7071/api/" + path);

    [Fact]
    public async Task The_response_checker_catches_what_breaks_the_contract()
    {
        var contract = new OpenApiContract(await JsonAsync());
        var health = """{"status":"Healthy","checkedAt":"2026-11-30T18:00:00.000Z","problems":[]}""";
        var ok = () => contract.Check(Get("health"), Response(HttpStatusCode.OK, health), health);
        ok.Should().NotThrow();

        var teapot = () => contract.Check(Get("health"), Response((HttpStatusCode)418, "{}"), "{}");
        teapot.Should().Throw<ContractViolationException>().WithMessage("*Health (GET /health)*418*not documented*");

        var html = () => contract.Check(Get("health"), Response(HttpStatusCode.OK, "<p>hi</p>", "text/html"), "<p>hi</p>");
        html.Should().Throw<ContractViolationException>().WithMessage("*content type text/html is not documented*");

        var noRetryAfter = () => contract.Check(Get("health"), Response(HttpStatusCode.ServiceUnavailable, "{}", Problems.ContentType), "{}");
        noRetryAfter.Should().Throw<ContractViolationException>().WithMessage("*Retry-After*");

        var wrongType = """{"status":"Healthy","checkedAt":5,"problems":[]}""";
        var bad = () => contract.Check(Get("health"), Response(HttpStatusCode.OK, wrongType), wrongType);
        bad.Should().Throw<ContractViolationException>().WithMessage("*does not match the declared schema*");

        var dev = () => contract.Check(Get("dev/token"), Response((HttpStatusCode)418, "x", "text/plain"), "x");
        dev.Should().NotThrow("paths under /api/dev/ are outside the contract");
    }
}
