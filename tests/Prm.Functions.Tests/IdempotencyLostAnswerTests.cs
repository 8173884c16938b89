using System.Text;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http;
using Prm.Core.Identity;
using Prm.Functions.Http;
using Prm.Storage;
using Prm.Testing;

namespace Prm.Functions.Tests;

/// <summary>
/// An Idempotency-Key whose claim (or answer) write lost its answer after it went through: the storage client resends it and the resend
/// meets this request's own row. The request must go on (and complete), not answer "still running" to its own key for a minute.
/// </summary>
public sealed class IdempotencyLostAnswerTests
{
    private static readonly Caller Admin = new("usr_admin_idem", "ada@vendor.example", "Ada Admin", [AppRoles.Admin], null, null);

    private static HttpFunction ACreate() => FunctionCatalog.HttpFunctions.First(IdempotentCreates.Applies);

    private static DefaultHttpContext Request(string key, string body)
    {
        var http = new DefaultHttpContext();
        http.Request.Method = "POST";
        http.Request.Headers[IdempotentCreates.Header] = key;
        http.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        http.Request.ContentLength = Encoding.UTF8.GetByteCount(body);
        http.Response.Body = new MemoryStream();
        return http;
    }

    private static async Task<(PrmTables Tables, LostAnswerPolicy Lose)> TablesAsync()
    {
        var lose = new LostAnswerPolicy();
        var tables = new PrmTables(await TestAzurite.FreshStorageAsync(), lose);
        await tables.EnsureCreatedAsync(CancellationToken.None);
        return (tables, lose);
    }

    private static Func<Azure.Core.HttpMessage, bool> Write(TableClient table, Azure.Core.RequestMethod method) =>
        m => m.Request.Method == method && m.Request.Uri.Path.Contains("/" + table.Name, StringComparison.Ordinal);

    [Fact]
    public async Task A_claim_whose_insert_answer_is_lost_is_this_requests_and_its_answer_is_replayed_to_a_retry()
    {
        var (tables, lose) = await TablesAsync();
        var gate = new IdempotentCreates(tables, TimeProvider.System);
        var function = ACreate();
        var key = Guid.NewGuid().ToString("N");
        lose.LoseNext(Write(tables.Keys, Azure.Core.RequestMethod.Post));

        var first = Request(key, """{"name":"x"}""");
        (await gate.BeginAsync(first, function, Admin)).Should().BeTrue("the key row the resend met is this request's own claim");
        lose.Lost.Should().Be(1);
        var claim = (IdempotencyClaim)first.Items.Values.OfType<IdempotencyClaim>().Single();
        // Its answer, whose write loses its answer too.
        lose.LoseNext(Write(tables.Keys, Azure.Core.RequestMethod.Put));
        await claim.CompleteAsync(201, "\"etag-1\"", "/api/things/1", "application/json", """{"id":"1"}""", CancellationToken.None);
        lose.Lost.Should().Be(2);

        var retry = Request(key, """{"name":"x"}""");
        (await gate.BeginAsync(retry, function, Admin)).Should().BeFalse("a retry gets the stored answer");
        retry.Response.StatusCode.Should().Be(201);
        retry.Response.Headers[IdempotentCreates.ReplayedHeader].ToString().Should().Be("true");
        retry.Response.Body.Position = 0;
        (await new StreamReader(retry.Response.Body).ReadToEndAsync()).Should().Be("""{"id":"1"}""");
    }
}
