using System.Net;
using Prm.Functions.Http;
using Prm.Testing;

namespace Prm.Api.Tests;

/// <summary>Idempotency-Key on every create the gate handles: a retry gets the first answer, another body 422, a failed create frees the key.</summary>
public sealed class IdempotencyKeyTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    private static async Task<HttpResponseMessage> CreateAsync(HttpClient client, object body, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "courses") { Content = Responses.Json(body) };
        request.Headers.TryAddWithoutValidation(IdempotentCreates.Header, key);
        return await client.SendAsync(request);
    }

    private async Task<int> CoursesTitledAsync(HttpClient admin, string title) =>
        (await (await admin.GetAsync("courses")).JsonAsync()).GetProperty("items").EnumerateArray().Count(c => c.Str("title") == title);

    [Fact]
    public void Every_json_create_without_its_own_key_handling_is_covered_and_the_document_says_so()
    {
        var covered = FunctionCatalog.HttpFunctions.Where(IdempotentCreates.Applies).Select(f => f.Name).ToList();
        covered.Should().Contain(["CreateCourse", "CreatePartner"]).And.NotContain(["RegisterDeal", "SubmitMdfRequest"], "those derive their ids from the key themselves");
        var document = Prm.Functions.OpenApi.OpenApiDocumentBuilder.Build("http://localhost");
        foreach (var function in FunctionCatalog.HttpFunctions.Where(IdempotentCreates.Applies))
        {
            var operation = document.Paths["/" + function.Route].Operations![HttpMethod.Post];
            operation.Parameters!.Should().Contain(p => p.Name == IdempotentCreates.Header, function.Name);
        }
    }

    [Fact]
    public async Task A_retry_with_the_same_key_gets_the_first_answer_and_creates_nothing_more()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var title = "Idempotent course " + Guid.NewGuid().ToString("N")[..8];
        var key = Guid.NewGuid().ToString();
        var first = await CreateAsync(admin, Training.CourseBody(title), key);
        first.StatusCode.Should().Be(HttpStatusCode.Created, await first.Content.ReadAsStringAsync());
        var created = await first.JsonAsync();
        first.Headers.Contains(IdempotentCreates.ReplayedHeader).Should().BeFalse();

        var again = await CreateAsync(admin, Training.CourseBody(title), key);
        again.StatusCode.Should().Be(HttpStatusCode.Created);
        again.Headers.GetValues(IdempotentCreates.ReplayedHeader).Should().Equal("true");
        again.Headers.Location.Should().Be(first.Headers.Location);
        again.Headers.ETag.Should().Be(first.Headers.ETag);
        (await again.JsonAsync()).Str("id").Should().Be(created.Str("id"));
        (await CoursesTitledAsync(admin, title)).Should().Be(1);

        // Another body under the same key is refused, naming the header; the key of another caller is another key.
        var other = await CreateAsync(admin, Training.CourseBody(title + " changed"), key);
        (await ApiSteps.ProblemAsync(other, 422)).GetProperty("errors").TryGetProperty(IdempotentCreates.Header, out _).Should().BeTrue();
        (await ApiSteps.ProblemAsync(await CreateAsync(admin, Training.CourseBody(title), ""), 400)).GetProperty("errors").TryGetProperty(IdempotentCreates.Header, out _).Should().BeTrue();
    }

    [Fact]
    public async Task A_failed_create_gives_the_key_back_and_concurrent_retries_create_once()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var key = Guid.NewGuid().ToString();
        var title = "Retried course " + Guid.NewGuid().ToString("N")[..8];
        // Invalid: the create fails, so the key is free again — but only for the same body (the key remembers nothing of a failure).
        var bad = await CreateAsync(admin, new { title }, key);
        ((int)bad.StatusCode).Should().BeOneOf(400, 422);
        var good = await CreateAsync(admin, Training.CourseBody(title), key);
        good.StatusCode.Should().Be(HttpStatusCode.Created, await good.Content.ReadAsStringAsync());

        var raceKey = Guid.NewGuid().ToString();
        var raceTitle = "Raced course " + Guid.NewGuid().ToString("N")[..8];
        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => CreateAsync(admin, Training.CourseBody(raceTitle), raceKey)));
        answers.Select(a => (int)a.StatusCode).Should().OnlyContain(s => s == 201 || s == 409, "a retry while the first runs is told so");
        var ids = new List<string>();
        foreach (var a in answers.Where(a => a.StatusCode == HttpStatusCode.Created)) ids.Add((await a.JsonAsync()).Str("id"));
        ids.Should().NotBeEmpty().And.OnlyContain(id => id == ids[0]);
        (await CoursesTitledAsync(admin, raceTitle)).Should().Be(1, "six concurrent requests with one key create one course");
    }
}
