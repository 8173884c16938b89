using System.Text;
using Microsoft.AspNetCore.Http;
using Prm.Core.Common;
using Prm.Core.Partners;
using Prm.Functions.Http;

namespace Prm.Functions.Tests;

public sealed class HttpConventionTests
{
    private static HttpRequest Request(string body, string? contentType = "application/json")
    {
        var context = new DefaultHttpContext();
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Request.Body = new MemoryStream(bytes);
        context.Request.ContentLength = bytes.Length;
        context.Request.ContentType = contentType;
        return context.Request;
    }

    [Fact]
    public async Task Unknown_fields_are_ignored_and_known_ones_read()
    {
        var request = await ApiJson.ReadAsync<InviteUserRequest>(Request("""{"email":"a@b.example","displayName":"A","role":"PartnerAdmin","shoeSize":44}"""), CancellationToken.None);
        request!.Email.Should().Be("a@b.example");
        request.Role.Should().Be("PartnerAdmin");
    }

    [Fact]
    public async Task Wrong_content_type_is_415()
    {
        var act = () => ApiJson.ReadAsync<InviteUserRequest>(Request("email=a", "application/x-www-form-urlencoded"), CancellationToken.None);
        await act.Should().ThrowAsync<UnsupportedMediaTypeException>();
    }

    [Fact]
    public async Task Body_over_the_limit_is_413_even_without_content_length()
    {
        var request = Request("{\"email\":\"" + new string('a', 2048) + "\"}");
        request.ContentLength = null;
        var act = () => ApiJson.ReadAsync<InviteUserRequest>(request, CancellationToken.None, maxBytes: 1024);
        await act.Should().ThrowAsync<PayloadTooLargeException>();
    }

    [Fact]
    public async Task Malformed_json_names_the_field()
    {
        var act = () => ApiJson.ReadAsync<CreatePartnerRequest>(Request("""{"name":"Acme","admin":{"email":42}}"""), CancellationToken.None);
        (await act.Should().ThrowAsync<ValidationFailedException>()).Which.Errors.Keys.Should().ContainSingle().Which.Should().Be("admin.email");
    }

    private sealed record Stamped(DateTimeOffset? Until);

    [Theory]
    [InlineData("\"\"")]
    [InlineData("\"tomorrow\"")]
    [InlineData("42")]
    [InlineData("true")]
    public async Task An_instant_that_is_no_date_is_400_naming_the_field(string value)
    {
        var act = () => ApiJson.ReadAsync<Stamped>(Request("{\"until\":" + value + "}"), CancellationToken.None);
        (await act.Should().ThrowAsync<ValidationFailedException>()).Which.Errors.Keys.Should().ContainSingle().Which.Should().Be("until");
    }

    [Fact]
    public async Task An_instant_is_read_in_utc()
    {
        var read = await ApiJson.ReadAsync<Stamped>(Request("""{"until":"2027-03-01T10:00:00+02:00"}"""), CancellationToken.None);
        read!.Until.Should().Be(new DateTimeOffset(2027, 3, 1, 8, 0, 0, TimeSpan.Zero));
    }

    [Theory]
    [InlineData(typeof(NotFoundException), 404)]
    [InlineData(typeof(ForbiddenException), 403)]
    [InlineData(typeof(UnauthenticatedException), 401)]
    [InlineData(typeof(ServiceUnavailableException), 503)]
    [InlineData(typeof(InvalidOperationException), 500)]
    public void Failures_map_to_problem_statuses(Type exceptionType, int status)
    {
        var exception = (Exception)Activator.CreateInstance(exceptionType, "secret-internal-detail")!;
        var problem = Problems.From(exception, new DefaultHttpContext());
        problem.Status.Should().Be(status);
        problem.TraceId.Should().NotBeNullOrEmpty();
        if (status == 500) problem.Detail.Should().NotContain("secret-internal-detail", "internal messages never leak to clients");
    }

    public static TheoryData<Exception> StorageOutages => new()
    {
        new Azure.RequestFailedException(0, "No connection could be made"),
        new Azure.RequestFailedException(503, "Server busy"),
        new Azure.RequestFailedException(500, "Operation could not be completed within the specified time"),
        new Azure.RequestFailedException("Retry failed after 4 tries.", new HttpRequestException("Connection refused")),
        new AggregateException(new HttpRequestException("Connection refused"), new Azure.RequestFailedException(0, "reset")),
        new HttpRequestException("Connection refused", new System.Net.Sockets.SocketException(111)),
        new TaskCanceledException("The operation was cancelled because it exceeded the configured timeout of 0:00:30."),
    };

    [Theory]
    [MemberData(nameof(StorageOutages))]
    public async Task A_storage_outage_is_a_503_with_retry_after_never_a_500(Exception outage)
    {
        var context = new DefaultHttpContext();
        context.Response.Body = new MemoryStream();
        var problem = Problems.From(outage, context);
        problem.Status.Should().Be(503);
        problem.RetryAfterSeconds.Should().Be(Problems.StorageRetryAfterSeconds);
        problem.Detail.Should().NotContain("Connection refused", "internals stay inside");
        await Problems.WriteAsync(context, problem);
        context.Response.Headers.RetryAfter.ToString().Should().Be(Problems.StorageRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        context.Response.ContentType.Should().Be(Problems.ContentType);
    }

    [Fact]
    public void An_operation_interrupted_by_an_outage_says_what_it_kept_and_one_interrupted_by_a_bug_is_a_500()
    {
        var outage = new OperationInterruptedException("The import stopped part way. At least 3 of 10 rows were imported.", new Azure.RequestFailedException(503, "Server busy"));
        var problem = Problems.From(outage, new DefaultHttpContext());
        problem.Status.Should().Be(503);
        problem.Detail.Should().Be(outage.Message, "a partly done import must not claim that nothing was changed");
        problem.RetryAfterSeconds.Should().Be(Problems.StorageRetryAfterSeconds);

        var bug = Problems.From(new OperationInterruptedException("At least 3 of 10 rows were imported.", new InvalidOperationException("secret-internal-detail")), new DefaultHttpContext());
        bug.Status.Should().Be(500);
        bug.Detail.Should().NotContain("secret-internal-detail");
    }

    [Fact]
    public void A_bug_or_a_client_that_hung_up_is_not_an_outage()
    {
        Problems.From(new Azure.RequestFailedException(400, "The property value is invalid"), new DefaultHttpContext()).Status.Should().Be(500);
        Problems.From(new AggregateException(new HttpRequestException("refused"), new InvalidOperationException("bug")), new DefaultHttpContext()).Status.Should().Be(500);
        using var aborted = new CancellationTokenSource();
        aborted.Cancel();
        var context = new DefaultHttpContext { RequestAborted = aborted.Token };
        Problems.From(new OperationCanceledException(aborted.Token), context).Status.Should().Be(499);
    }

    [Fact]
    public void Validation_conflict_and_precondition_carry_fields()
    {
        var context = new DefaultHttpContext();
        Problems.From(new ValidationFailedException("domain", "bad"), context).Should().Match<Problem>(p => p.Status == 400 && p.Errors!.ContainsKey("domain"));
        Problems.From(new ValidationFailedException("tier", "no", unprocessable: true), context).Status.Should().Be(422);
        Problems.From(new ConflictException("taken", "domain"), context).Should().Match<Problem>(p => p.Status == 409 && p.Field == "domain");
        Problems.From(new PreconditionFailedException("stale"), context).Status.Should().Be(412);
        Problems.From(new PreconditionFailedException("missing", required: true), context).Should().Match<Problem>(p => p.Status == 428 && p.Field == "If-Match");
        Problems.From(new PayloadTooLargeException(10), context).Status.Should().Be(413);
        Problems.From(new UnsupportedMediaTypeException("application/json", "text/plain"), context).Status.Should().Be(415);
    }

    [Theory]
    [InlineData("PATCH", "*", true)]
    [InlineData("PUT", "*", true)]
    [InlineData("PUT", "W/\"1\", *", true)]
    [InlineData("PATCH", "W/\"datetime'2026-11-30'\"", false)]
    [InlineData("DELETE", "*", false)]
    [InlineData("POST", "*", false)]
    public void If_match_star_is_refused_on_every_patch_and_put(string method, string ifMatch, bool refused)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Headers.IfMatch = ifMatch;
        var act = () => RequestGate.RefuseWildcardIfMatch(context.Request);
        if (refused) act.Should().Throw<PreconditionFailedException>().Which.Required.Should().BeTrue();
        else act.Should().NotThrow();
    }

    [Theory]
    [InlineData("""{"decision":"reject","decision":"approve","reason":"x"}""")]
    [InlineData("""{"decision":"reject","Decision":"approve","reason":"x"}""")]
    public async Task A_duplicate_field_is_refused_not_last_one_wins(string body)
    {
        var act = () => ApiJson.ReadAsync<Prm.Core.Deals.DealDecisionRequest>(Request(body), CancellationToken.None);
        await act.Should().ThrowAsync<ValidationFailedException>();
    }

    [Fact]
    public async Task A_duplicate_setting_is_refused_too()
    {
        var act = () => ApiJson.ReadAsync<System.Text.Json.Nodes.JsonObject>(Request("""{"maxExtensions":1,"maxExtensions":9}"""), CancellationToken.None);
        await act.Should().ThrowAsync<ValidationFailedException>();
    }

    [Theory]
    [InlineData("""{"email":"a@b.example","displayName":"Ann\u0000ette"}""", "displayName")]
    [InlineData("""{"customer":{"companyName":"Contoso\u202Egnp.exe"}}""", "customer.companyName")]
    [InlineData("""{"products":["ok","bad\u2066"]}""", "products[1]")]
    public async Task Control_and_bidi_override_characters_are_refused_naming_the_field(string body, string field)
    {
        var act = () => ApiJson.ReadAsync<System.Text.Json.Nodes.JsonObject>(Request(body), CancellationToken.None);
        var failure = await act.Should().ThrowAsync<ValidationFailedException>();
        failure.Which.Unprocessable.Should().BeTrue();
        failure.Which.Errors.Keys.Should().Equal(field);
    }

    [Fact]
    public async Task Ordinary_unicode_and_line_breaks_are_kept()
    {
        var read = await ApiJson.ReadAsync<InviteUserRequest>(Request("""{"email":"a@b.example","displayName":"Müller & Söhne 株式会社\nzweite Zeile\tTab"}"""), CancellationToken.None);
        read!.DisplayName.Should().Be("Müller & Söhne 株式会社\nzweite Zeile\tTab");
    }

    [Fact]
    public async Task Json_in_utf16_is_415_not_400()
    {
        var context = new DefaultHttpContext();
        var bytes = Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("""{"email":"a@b.example"}""")).ToArray();
        context.Request.Body = new MemoryStream(bytes);
        context.Request.ContentLength = bytes.Length;
        context.Request.ContentType = "application/json";
        await FluentActions.Awaiting(() => ApiJson.ReadAsync<InviteUserRequest>(context.Request, CancellationToken.None)).Should().ThrowAsync<UnsupportedMediaTypeException>();
        var declared = Request("""{"email":"a@b.example"}""", "application/json; charset=utf-16");
        await FluentActions.Awaiting(() => ApiJson.ReadAsync<InviteUserRequest>(declared, CancellationToken.None)).Should().ThrowAsync<UnsupportedMediaTypeException>();
        (await ApiJson.ReadAsync<InviteUserRequest>(Request("""{"email":"a@b.example"}""", "application/json; charset=utf-8"), CancellationToken.None))!.Email.Should().Be("a@b.example");
    }
}
