using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Prm.Testing;
using Xunit.Abstractions;

namespace Prm.Api.Tests;

/// <summary>
/// Property-based fuzzing of every operation of the OpenAPI document: requests generated (CsCheck, one fixed seed) from each operation's
/// parameters and request-body schema with edge values, sent with every kind of identity. Whatever arrives, the API answers below 500
/// and every error is application/problem+json. Replay a failure with PRM_FUZZ_SEED=&lt;seed&gt; (and PRM_FUZZ_REQUESTS=&lt;count&gt;).
/// </summary>
public sealed class ApiFuzzTests(ApiHostFixture fixture, ITestOutputHelper output) : IClassFixture<ApiHostFixture>
{
    private const ulong DefaultSeed = 20261130;
    private const int DefaultRequests = 2000;
    private const int Parallelism = 4;

    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task No_generated_request_gets_a_server_error_and_every_error_is_a_problem()
    {
        var seed = ulong.TryParse(Environment.GetEnvironmentVariable("PRM_FUZZ_SEED"), out var s) ? s : DefaultSeed;
        var count = int.TryParse(Environment.GetEnvironmentVariable("PRM_FUZZ_REQUESTS"), out var n) ? n : DefaultRequests;

        var document = await (await Api.Anonymous.GetAsync("openapi.json")).JsonAsync();
        var operations = FuzzOperation.All(document);
        operations.Should().NotBeEmpty();

        var identities = new List<(string Name, HttpClient Client)>
        {
            ("anonymous", Api.Anonymous),
            ("garbage-token", Api.WithToken("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")),
            ("partner-rep", await Api.ClientAsync(Demo.NorthwindRep)),
            ("partner-admin", await Api.ClientAsync(Demo.NorthwindAdmin)),
            ("channel-manager", await Api.ClientAsync(Demo.CmEmea)),
            ("admin", await Api.ClientAsync(Demo.Admin)),
        };
        var ids = await KnownIdsAsync(identities[^1].Client);
        var values = new FuzzValues(ids);

        // Every request is generated before any is sent: the same seed gives the same requests, whatever the order of answers.
        var gen = Gen.Int[0, operations.Count - 1].SelectMany(op => Gen.Int[0, identities.Count - 1].SelectMany(who => values.Request(operations[op]).Select(r => r with { Identity = who })));
        var pcg = new PCG(1, seed);
        var requests = new List<FuzzRequest>(count);
        // Every operation at least once with every identity, then the rest at random.
        for (var i = 0; i < operations.Count; i++)
        {
            for (var who = 0; who < identities.Count; who++) requests.Add(values.Request(operations[i]).Generate(pcg, null, out _) with { Identity = who });
        }
        while (requests.Count < count) requests.Add(gen.Generate(pcg, null, out _));

        var verbose = Environment.GetEnvironmentVariable("PRM_FUZZ_VERBOSE") == "1";
        var failures = new ConcurrentBag<string>();
        var statuses = new ConcurrentDictionary<int, int>();
        var covered = new ConcurrentDictionary<string, bool>();
        var started = DateTime.UtcNow;
        await Parallel.ForEachAsync(requests.Select((r, i) => (r, i)), new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (item, ct) =>
        {
            var (request, index) = item;
            using var message = request.ToMessage();
            HttpResponseMessage response;
            try
            {
                response = await identities[request.Identity].Client.SendAsync(message, ct);
            }
            catch (HttpRequestException) when (request.Url.Length > 8000)
            {
                // Kestrel refuses a request line over its limit (414) before reading the body and closes the connection: a client still
                // sending a large body sees the reset instead of the 414, depending on timing. No application code ran.
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                failures.Add($"#{index} {request.Describe(identities[request.Identity].Name)} -> no response: {ex.Message}");
                return;
            }
            using (response)
            {
                var status = (int)response.StatusCode;
                statuses.AddOrUpdate(status, 1, (_, c) => c + 1);
                covered[request.Operation.Key] = true;
                var body = await response.Content.ReadAsStringAsync(ct);
                var mediaType = response.Content.Headers.ContentType?.MediaType;
                if (verbose) output.WriteLine($"#{index} {request.Describe(identities[request.Identity].Name)} -> {status} {Cut(body, 300)}");
                // The health probe answers 503 (a problem, with Retry-After) when storage does not answer in time: that is its contract
                // (docs/api.md), and a suite copy beside this one made storage that slow once. Every other 5xx is a failure.
                var declaredUnavailable = status == 503 && request.Operation.Path.TrimStart('/').EndsWith("health", StringComparison.Ordinal) && mediaType == "application/problem+json";
                if (status >= 500 && !declaredUnavailable)
                {
                    failures.Add($"#{index} {request.Describe(identities[request.Identity].Name)} -> {status} {Cut(body, 600)}");
                }
                else if (status >= 400 && mediaType != "application/problem+json" && !(request.Operation.Html && mediaType == "text/html") && !KestrelRejects(request, status))
                {
                    failures.Add($"#{index} {request.Describe(identities[request.Identity].Name)} -> {status} as {mediaType ?? "no content type"}: {Cut(body, 300)}");
                }
            }
        });

        var elapsed = DateTime.UtcNow - started;
        output.WriteLine($"Fuzzed with seed {seed}: {requests.Count} requests, {covered.Count} of {operations.Count} operations answered, {elapsed.TotalSeconds:0.0} s.");
        output.WriteLine("Statuses: " + string.Join(", ", statuses.OrderBy(p => p.Key).Select(p => $"{p.Key}×{p.Value}")));
        failures.Should().BeEmpty($"the API must never answer 5xx or a non-problem error (replay with PRM_FUZZ_SEED={seed} PRM_FUZZ_REQUESTS={count}); {failures.Count} failed:\n{string.Join("\n", failures.OrderBy(f => f).Take(40))}");
        covered.Count.Should().Be(operations.Count);
    }

    /// <summary>
    /// Requests Kestrel refuses before any application code runs, with its own empty response: a path holding %00 (400) and a request
    /// line over its limit (414). Known gap: these are not problem+json yet (see the report of this branch).
    /// </summary>
    private static bool KestrelRejects(FuzzRequest request, int status) =>
        (status == 400 && request.Url.Split('?')[0].Contains("%00", StringComparison.Ordinal)) || (status == 414 && request.Url.Length > 8000);

    private static string Cut(string text, int length) => text.Length <= length ? text : text[..length] + "…";

    /// <summary>Ids of real records (by the path parameter that names them), so generated requests reach past the look-up sometimes.</summary>
    private static async Task<Dictionary<string, List<string>>> KnownIdsAsync(HttpClient admin)
    {
        var lists = new Dictionary<string, string>
        {
            ["partnerId"] = "partners?limit=20",
            ["dealId"] = "deals?limit=20",
            ["budgetId"] = "mdf/budgets?limit=20",
            ["requestId"] = "mdf/requests?limit=20",
            ["applicationId"] = "partner-applications?limit=20",
            ["productLineId"] = "product-lines",
            ["houseAccountId"] = "house-accounts",
            ["assetId"] = "assets?limit=20",
        };
        var ids = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (name, url) in lists)
        {
            var response = await admin.GetAsync(url);
            if (!response.IsSuccessStatusCode) continue;
            var json = await response.JsonAsync();
            var items = json.ValueKind == JsonValueKind.Array ? json : json.TryGetProperty("items", out var i) ? i : default;
            if (items.ValueKind != JsonValueKind.Array) continue;
            ids[name] = items.EnumerateArray().Where(e => e.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String).Select(e => e.Str("id")).ToList();
        }
        if (ids.TryGetValue("partnerId", out var partners) && partners.Count > 0)
        {
            var users = await (await admin.GetAsync($"partners/{partners[0]}/users")).JsonAsync();
            if (users.ValueKind == JsonValueKind.Object && users.TryGetProperty("items", out var u))
                ids["userId"] = u.EnumerateArray().Where(e => e.TryGetProperty("id", out _)).Select(e => e.Str("id")).ToList();
        }
        ids["section"] = ["onboarding", "deals", "mdf", "program"];
        return ids;
    }
}

/// <summary>One operation of the document.</summary>
internal sealed record FuzzOperation(string Method, string Path, IReadOnlyList<FuzzParameter> Parameters, string? BodyContentType, JsonElement? BodySchema, JsonElement Document, bool Html)
{
    public string Key => Method + " " + Path;

    public static List<FuzzOperation> All(JsonElement document)
    {
        var list = new List<FuzzOperation>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var op in path.Value.EnumerateObject())
            {
                if (op.Name is "parameters" or "summary" or "description") continue;
                var parameters = new List<FuzzParameter>();
                if (op.Value.TryGetProperty("parameters", out var ps))
                {
                    foreach (var p in ps.EnumerateArray())
                    {
                        var resolved = Resolve(document, p);
                        parameters.Add(new FuzzParameter(resolved.Str("name"), resolved.Str("in"),
                            resolved.TryGetProperty("required", out var r) && r.ValueKind == JsonValueKind.True,
                            resolved.TryGetProperty("schema", out var sc) ? sc : null));
                    }
                }
                string? contentType = null;
                JsonElement? schema = null;
                if (op.Value.TryGetProperty("requestBody", out var body) && Resolve(document, body).TryGetProperty("content", out var content))
                {
                    var first = content.EnumerateObject().First();
                    contentType = first.Name;
                    schema = first.Value.TryGetProperty("schema", out var bs) ? bs : null;
                }
                var html = op.Value.TryGetProperty("responses", out var responses) && responses.EnumerateObject()
                    .Any(resp => Resolve(document, resp.Value).TryGetProperty("content", out var c) && c.EnumerateObject().Any(m => m.Name.StartsWith("text/html", StringComparison.Ordinal)));
                // Decision links are pages for a browser: they answer HTML, errors included.
                html |= path.Name.StartsWith("/approvals/", StringComparison.Ordinal);
                list.Add(new FuzzOperation(op.Name.ToUpperInvariant(), path.Name, parameters, contentType, schema, document, html));
            }
        }
        return list;
    }

    public static JsonElement Resolve(JsonElement document, JsonElement element)
    {
        for (var depth = 0; depth < 10 && element.ValueKind == JsonValueKind.Object && element.TryGetProperty("$ref", out var reference); depth++)
        {
            var target = document;
            foreach (var part in reference.GetString()!.TrimStart('#', '/').Split('/')) target = target.GetProperty(part.Replace("~1", "/").Replace("~0", "~"));
            element = target;
        }
        return element;
    }
}

internal sealed record FuzzParameter(string Name, string In, bool Required, JsonElement? Schema);

/// <summary>A generated request.</summary>
internal sealed record FuzzRequest(FuzzOperation Operation, string Url, IReadOnlyList<(string Name, string Value)> Headers, string? Body, string? ContentType, int Identity)
{
    public HttpRequestMessage ToMessage()
    {
        var message = new HttpRequestMessage(new HttpMethod(Operation.Method), Url);
        foreach (var (name, value) in Headers) message.Headers.TryAddWithoutValidation(name, value);
        if (Body is not null)
        {
            message.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(Body));
            if (ContentType is not null) message.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
        }
        return message;
    }

    public string Describe(string identity) =>
        $"[{identity}] {Operation.Method} {(Url.Length > 300 ? Url[..300] + "…" : Url)}"
        + string.Concat(Headers.Select(h => $" {h.Name}: {(h.Value.Length > 60 ? h.Value[..60] + "…" : h.Value)}"))
        + (Body is null ? "" : $" body({Body.Length}) {(Body.Length > 300 ? Body[..300] + "…" : Body)}");
}

/// <summary>The generators: edge values for every JSON type, wrong types, missing fields, foreign ids.</summary>
internal sealed class FuzzValues(Dictionary<string, List<string>> knownIds)
{
    private static readonly string Huge = new('x', 100_000);

    private static readonly string[] EdgeStrings =
    [
        "", " ", "a", Huge, "\u0000", "a\u0001b", "line\nbreak", "\u202Eevil", "\u200F", "😀🎉", "ß", "İ", "' OR 1=1 --", "<script>alert(1)</script>",
        "../../etc/passwd", "%00", "%", "a/b", "a?b", "a#b", "null", "true", "-1", "0", "1e309", "NaN", "Infinity", "-0",
        "0001-01-01", "9999-12-31", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.9999999Z", "2026-02-30", "2026-13-01", "24:00", "1970-01-01T00:00:00+14:00",
        "someone@example.com", "a@b", "@", "ptn_00000000000000000000000000", "deal_x", "00000000-0000-0000-0000-000000000000", "W/\"x\"", "*",
        "approve", "reject", "requestInfo", "won", "lost", "active", "Gold", "EMEA", "USD", "EUR", "JPY", "BHD", "XXX", "usd",
        new string('9', 40), "\uFEFF", "\uD800", "a\tb",
    ];

    private static readonly decimal[] EdgeDecimals =
    [
        0m, -0.0m, 1m, -1m, 0.001m, 0.005m, 0.01m, 0.015m, 1.999m, 12.5m, 100m, 999_999_999.99m, 1_000_000_000_000m, -1_000_000_000_000m,
        decimal.MaxValue, decimal.MinValue, 0.0000000000000000000000000001m, 79228162514264337593543950.335m, int.MaxValue, (decimal)int.MaxValue + 1, long.MaxValue, long.MinValue,
    ];

    private static readonly string[] RawNumbers = ["1e308", "-1e308", "1e-308", "1E400", "123456789012345678901234567890", "-0", "0.1e1", "1.0"];

    private Gen<string> Strings => Gen.Frequency(
        (6, Pick(EdgeStrings)),
        (2, Gen.String[Gen.Char.AlphaNumeric, 0, 40]),
        (1, Gen.String[Gen.Char[(char)0, (char)0x3000], 0, 20]),
        (2, KnownIdsAny));

    private Gen<string> KnownIdsAny
    {
        get
        {
            var all = knownIds.Values.SelectMany(v => v).Distinct().ToArray();
            return all.Length == 0 ? Gen.Const("unknown") : Pick(all);
        }
    }

    private Gen<string> IdFor(string name) =>
        knownIds.TryGetValue(name, out var list) && list.Count > 0
            ? Gen.Frequency((5, Pick(list.ToArray())), (3, KnownIdsAny), (4, Strings))
            : Gen.Frequency((2, KnownIdsAny), (4, Strings));

    private static JsonNode? Num(decimal d) => JsonValue.Create(d);

    /// <summary>One of the items, uniformly.</summary>
    public static Gen<T> Pick<T>(params T[] items) => Gen.Int[0, items.Length - 1].Select(i => items[i]);

    /// <summary>A JSON value of the schema, an edge of it, or a value of another type.</summary>
    public Gen<JsonNode?> Value(JsonElement document, JsonElement? schemaOrNull, int depth, string name, bool plausible = false)
    {
        if (schemaOrNull is not { } raw) return Any(depth);
        var schema = FuzzOperation.Resolve(document, raw);
        var types = TypesOf(schema);
        var format = schema.TryGetProperty("format", out var f) ? f.GetString() : null;
        var enums = schema.TryGetProperty("enum", out var e) ? e.EnumerateArray().Select(x => x.ToString()).ToArray() : [];
        if (plausible)
        {
            // A value a real client would send, and now and then one edge in it, so requests reach past the first validation.
            if (types.Contains("object") || schema.TryGetProperty("properties", out _))
                return depth > 4 ? Gen.Const(0).Select(_ => (JsonNode?)new JsonObject()) : Object(document, schema, depth, plausible: true);
            if (types.Contains("array") || schema.TryGetProperty("items", out _))
            {
                var item = schema.TryGetProperty("items", out var its) ? its : (JsonElement?)null;
                return Value(document, item, depth + 1, name.TrimEnd('s'), plausible: true).Array[1, 2]
                    .Select(values => (JsonNode?)new JsonArray(values.Select(v => v?.DeepClone()).ToArray()));
            }
            return Weighted([(12, Plausible(types, format, enums, name)), (1, Value(document, schemaOrNull, depth, name))]);
        }
        var options = new List<(int, Gen<JsonNode?>)>();
        if (types.Contains("null")) options.Add((1, Gen.Const(0).Select(_ => (JsonNode?)null)));
        if (types.Contains("string"))
        {
            if (enums.Length > 0) options.Add((4, Pick(enums).Select(v => (JsonNode?)JsonValue.Create(v))));
            var text = format is "date-time" or "date"
                ? Gen.Frequency((5, Pick("0001-01-01", "9999-12-31", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-12-31", "2027-06-30T12:00:00Z", "2026-02-29", "not a date", "", "2026-12-31T25:00:00Z", "+275760-09-13T00:00:00Z")), (2, Strings))
                : name.EndsWith("Id", StringComparison.Ordinal) ? IdFor(name) : Strings;
            options.Add((8, text.Select(v => (JsonNode?)JsonValue.Create(v))));
        }
        if (types.Contains("integer"))
        {
            options.Add((8, Gen.Frequency(
                (4, Pick(0L, 1L, -1L, 2L, 5L, 10L, 50L, 200L, 201L, 1000L, 100_000L, int.MaxValue, int.MinValue, long.MaxValue, long.MinValue).Select(v => (JsonNode?)JsonValue.Create(v))),
                (1, Gen.Int.Select(v => (JsonNode?)JsonValue.Create(v))),
                (1, Pick(RawNumbers).Select(v => JsonNode.Parse(v))))));
        }
        if (types.Contains("number"))
        {
            options.Add((8, Gen.Frequency(
                (5, Pick(EdgeDecimals).Select(Num)),
                (2, Gen.Int[-1_000_000, 1_000_000].SelectMany(i => Gen.Int[0, 3].Select(scale => Num(new decimal(Math.Abs(i), 0, 0, i < 0, (byte)scale))))),
                (1, Pick(RawNumbers).Select(v => JsonNode.Parse(v))))));
        }
        if (types.Contains("boolean")) options.Add((4, Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b))));
        if (types.Contains("array") || schema.TryGetProperty("items", out _))
        {
            var item = schema.TryGetProperty("items", out var items) ? items : (JsonElement?)null;
            var itemGen = depth > 4 ? Gen.Const(0).Select(_ => (JsonNode?)JsonValue.Create("x")) : Value(document, item, depth + 1, name);
            Gen<JsonNode?> Sized(int size) => size > 10
                ? itemGen.Select(one => (JsonNode?)new JsonArray(Enumerable.Range(0, size).Select(_ => one?.DeepClone()).ToArray()))
                : itemGen.Array[size].Select(values => (JsonNode?)new JsonArray(values.Select(v => v?.DeepClone()).ToArray()));
            options.Add((8, Gen.Frequency((8, Gen.Int[0, 4]), (1, Pick(50, 1000, 20_000))).SelectMany<int, JsonNode?>(Sized)));
        }
        if (types.Contains("object") || schema.TryGetProperty("properties", out _))
        {
            options.Add((8, depth > 4 ? Gen.Const(0).Select(_ => (JsonNode?)new JsonObject()) : Object(document, schema, depth)));
        }
        if (options.Count == 0) return Any(depth);
        // A value of another type, now and then.
        options.Add((1, Any(depth)));
        return Weighted(options.ToArray());
    }

    /// <summary>One of the generators, chosen by weight.</summary>
    private static Gen<T> Weighted<T>((int Weight, Gen<T> Gen)[] options) =>
        Gen.Int[0, options.Sum(o => o.Weight) - 1].SelectMany<int, T>(roll =>
        {
            foreach (var (weight, gen) in options)
            {
                if (roll < weight) return gen;
                roll -= weight;
            }
            return options[^1].Gen;
        });

    private Gen<JsonNode?> Plausible(HashSet<string> types, string? format, string[] enums, string name)
    {
        var lower = name.ToLowerInvariant();
        if (enums.Length > 0) return Pick(enums).Select(v => (JsonNode?)JsonValue.Create(v));
        if (types.Contains("boolean")) return Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b));
        if (types.Contains("integer")) return Gen.Int[1, 100].Select(i => (JsonNode?)JsonValue.Create(i));
        if (types.Contains("number")) return Gen.Int[1, 5_000_000].Select(i => (JsonNode?)JsonValue.Create(i / 100m));
        Gen<string> text = lower switch
        {
            _ when format is "date-time" => Gen.Int[1, 400].Select(d => DateTimeOffset.UtcNow.Date.AddDays(d).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'")),
            _ when format is "date" => Gen.Int[1, 400].Select(d => DateTimeOffset.UtcNow.Date.AddDays(d).ToString("yyyy-MM-dd")),
            "decision" => Pick("approve", "reject", "return", "requestInfo"),
            "result" => Pick("won", "lost"),
            "role" => Pick("PartnerAdmin", "PartnerUser"),
            "status" => Pick("Active", "Suspended", "Submitted"),
            "partnertype" => Pick("Reseller", "Distributor", "Agent", "Msp", "Referral"),
            "expectedannualrevenueband" => Pick("<100k", "100k-1m", "1m-10m", ">10m"),
            "period" => Pick("2026", "2026-Q4", "2027-Q1", "0001-Q1", "9999-Q4"),
            "domain" => Gen.Int[1, 1_000_000].Select(i => $"fuzz{i}.example"),
            "sizeband" => Pick("1-10", "11-50", "51-200", "201-1000", ">1000"),
            "acceptedtermsversion" or "acceptedprivacyversion" => Pick("2026-01", "v1", "1"),
            _ when lower.Contains("email") => Gen.Int[1, 1_000_000].Select(i => $"fuzz{i}@northwind.example"),
            _ when lower.Contains("currency") => Pick("USD", "EUR", "JPY", "GBP"),
            _ when lower.Contains("country") => Pick("US", "DE", "GB", "JP"),
            _ when lower.Contains("region") => Pick("emea", "amer", "apac"),
            _ when lower.Contains("website") || lower.Contains("url") || lower.Contains("domain") => Gen.Int[1, 1_000_000].Select(i => $"https://fuzz{i}.example"),
            _ when lower.Contains("tier") => Pick("Registered", "Silver", "Gold", "Platinum"),
            _ when lower.EndsWith("id", StringComparison.Ordinal) || lower.EndsWith("ids", StringComparison.Ordinal) => IdFor(lower.EndsWith("ids", StringComparison.Ordinal) ? name[..^1] : name),
            _ => Gen.String[Gen.Char.AlphaNumeric, 3, 20].Select(t => "Fuzz " + t),
        };
        return text.Select(v => (JsonNode?)JsonValue.Create(v));
    }

    private Gen<JsonNode?> Object(JsonElement document, JsonElement schema, int depth, bool plausible = false)
    {
        var required = schema.TryGetProperty("required", out var r) ? r.EnumerateArray().Select(x => x.GetString()!).ToHashSet() : [];
        var gen = Gen.Const(0).Select(_ => new List<(string, JsonNode?)>());
        if (schema.TryGetProperty("properties", out var properties))
        {
            foreach (var property in properties.EnumerateObject())
            {
                var name = property.Name;
                var valueGen = Value(document, property.Value, depth + 1, name, plausible);
                var keep = required.Contains(name) ? Gen.Frequency((plausible ? 40 : 12, Gen.Const(true)), (1, Gen.Const(false))) : Gen.Frequency((plausible ? 1 : 3, Gen.Const(true)), (1, Gen.Const(false)));
                gen = gen.SelectMany(list => keep.SelectMany(k => valueGen.Select(v =>
                {
                    if (k) list.Add((name, v));
                    return list;
                })));
            }
        }
        else if (schema.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind == JsonValueKind.Object)
        {
            var valueGen = Value(document, additional, depth + 1, "value");
            gen = gen.SelectMany(list => Pick("a", "", Huge[..300], "\u0000").SelectMany(key => valueGen.Select(v =>
            {
                list.Add((key, v));
                return list;
            })));
        }
        return gen.Select(list =>
        {
            var o = new JsonObject();
            foreach (var (name, value) in list) o[name] = value?.DeepClone();
            return (JsonNode?)o;
        });
    }

    private Gen<JsonNode?> Any(int depth) => Gen.Frequency(
        (3, Strings.Select(v => (JsonNode?)JsonValue.Create(v))),
        (2, Pick(EdgeDecimals).Select(Num)),
        (1, Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b))),
        (1, Gen.Const(0).Select(_ => (JsonNode?)null)),
        (1, Gen.Const(0).Select(_ => (JsonNode?)new JsonArray())),
        (1, Gen.Const(0).Select(_ => (JsonNode?)new JsonObject { ["a"] = 1 })));

    private static HashSet<string> TypesOf(JsonElement schema)
    {
        if (!schema.TryGetProperty("type", out var type)) return [];
        return type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToHashSet() : [type.GetString()!];
    }

    /// <summary>A request for the operation: path, query and header parameters, and a body.</summary>
    public Gen<FuzzRequest> Request(FuzzOperation operation)
    {
        var gen = Gen.Const(0).Select(_ => (Path: operation.Path, Query: new List<string>(), Headers: new List<(string, string)>()));
        foreach (var parameter in operation.Parameters)
        {
            var p = parameter;
            switch (p.In)
            {
                case "path":
                    var segment = Gen.Frequency((10, IdFor(p.Name).Select(Uri.EscapeDataString)), (1, Pick("%00", "a%00b", "%2e%2e", "%ZZ", "%C0%80", new string('a', 2000))));
                    gen = gen.SelectMany(state => segment.Select(v => state with { Path = state.Path.Replace("{" + p.Name + "}", v.Length == 0 ? "%20" : v, StringComparison.Ordinal) }));
                    break;
                case "query":
                    var query = p.Name switch
                    {
                        "limit" => Pick("1", "50", "200", "0", "-1", "201", "2147483648", "99999999999999999999", "abc", "1.5", "", " 5"),
                        "cursor" => Pick("garbage", "AAAA", "!!!", "eyJ4IjoxfQ", "bm90IGEgY3Vyc29y", "%00", "", Huge[..2000], "MXwy", "="),
                        _ when p.Schema is { } sc && TypesOf(FuzzOperation.Resolve(operation.Document, sc)).Contains("boolean") => Pick("true", "false", "1", "yes", ""),
                        _ => Strings.Select(v => v.Length > 3000 ? v[..3000] : v),
                    };
                    var present = Gen.Frequency((2, Gen.Const(true)), (1, Gen.Const(false)));
                    gen = gen.SelectMany(state => present.SelectMany(include => query.Select(v =>
                    {
                        if (include) state.Query.Add(p.Name + "=" + Uri.EscapeDataString(v));
                        return state;
                    })));
                    break;
                case "header":
                    var header = p.Name.Equals("If-Match", StringComparison.OrdinalIgnoreCase)
                        ? Pick("*", "W/\"datetime'2026-01-01T00%3A00%3A00.0000000Z'\"", "\"x\"", "garbage", "", "W/\"\"")
                        : Strings.Select(v => v.Length > 200 ? v[..200] : v);
                    var send = p.Required ? Gen.Frequency((6, Gen.Const(true)), (1, Gen.Const(false))) : Gen.Frequency((1, Gen.Const(true)), (1, Gen.Const(false)));
                    gen = gen.SelectMany(state => send.SelectMany(include => header.Select(v =>
                    {
                        if (include && v.All(c => c >= 0x20 && c < 0x7F)) state.Headers.Add((p.Name, v));
                        return state;
                    })));
                    break;
            }
        }
        var body = Body(operation);
        return gen.SelectMany(state => body.Select(b => new FuzzRequest(operation,
            state.Path.TrimStart('/') + (state.Query.Count == 0 ? "" : "?" + string.Join("&", state.Query)),
            state.Headers, b.Body, b.ContentType, 0)));
    }

    private Gen<(string? Body, string? ContentType)> Body(FuzzOperation operation)
    {
        if (operation.BodyContentType is null)
        {
            return Gen.Frequency((8, Gen.Const(((string?)null, (string?)null))), (1, Gen.Const(((string?)"{}", (string?)"application/json"))));
        }
        var contentType = operation.BodyContentType;
        if (!contentType.Contains("json", StringComparison.Ordinal))
        {
            return Gen.Frequency(
                (4, Pick("", "a,b,c\n1,2,3", "name,website\n\"unterminated", "%PDF-1.4\n", Huge, "\u0000\u0001").Select(b => ((string?)b, (string?)contentType))),
                (1, Gen.Const(((string?)"{}", (string?)"application/json"))));
        }
        var value = Value(operation.Document, operation.BodySchema, 0, "body");
        var plausible = Value(operation.Document, operation.BodySchema, 0, "body", plausible: true);
        return Gen.Frequency(
            (20, plausible.Select(v => ((string?)(v?.ToJsonString() ?? "null"), (string?)"application/json"))),
            (20, value.Select(v => ((string?)(v?.ToJsonString() ?? "null"), (string?)"application/json"))),
            (1, Pick("", "{", "[]", "null", "\"x\"", "{\"a\":1,\"a\":2}", "{\"amount\":1e999999}", Huge).Select(b => ((string?)b, (string?)"application/json"))),
            (1, value.Select(v => ((string?)(v?.ToJsonString() ?? "null"), (string?)"text/plain"))),
            (1, Gen.Const(((string?)null, (string?)null))));
    }
}
